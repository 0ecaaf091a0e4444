package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/delivery/deliverytest"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
	"github.com/hooksentry/hooksentry/pkg/history/historytest"
	"github.com/hooksentry/hooksentry/pkg/local/emulator/emulatortest"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// db and table are shared by every test of this binary; tests use fresh
// random tenant and destination ids.
var (
	db    *dynamodb.Client
	table string
)

func TestMain(m *testing.M) {
	os.Exit(emulatortest.Run(m, nil))
}

// setup lazily creates the table once per binary, on the emulators that
// emulatortest started.
var setup = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db = dynamodb.NewFromConfig(cfg)
	table = "store-test-" + uuid.NewString()[:8]
	return store.EnsureTable(ctx, db, table)
})

func newStore(t *testing.T) *store.Store {
	t.Helper()
	if err := setup(); err != nil {
		t.Fatalf("set up table: %v", err)
	}
	return store.New(db, table)
}

// conformance adapts *store.Store to the conformance suite's interface.
type conformance struct{ *store.Store }

func (c conformance) AddTenant(ctx context.Context, id string) error {
	return c.CreateTenant(ctx, store.Tenant{ID: id, Name: "tenant " + id, CreatedAt: store.NewTenantTime(time.Now())})
}

func TestDestinationStoreConformance(t *testing.T) {
	destinationtest.RunStoreConformance(t, conformance{newStore(t)})
}

func TestDeliveryStoreConformance(t *testing.T) {
	ctx := context.Background()
	deliverytest.Run(t, deliverytest.Harness{
		New: func(t *testing.T) delivery.Store { return newStore(t) },
		AddDestination: func(t *testing.T, s delivery.Store, d destination.Destination) {
			t.Helper()
			if err := s.(*store.Store).CreateDestination(ctx, d); err != nil {
				t.Fatal(err)
			}
		},
		DeleteDestination: func(t *testing.T, s delivery.Store, d destination.Destination) {
			t.Helper()
			if err := s.(*store.Store).DeleteDestination(ctx, d); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// TestHistoryStoreConformance runs with a retention other than the default,
// so the suite sees that Store.Retention is honoured.
func TestHistoryStoreConformance(t *testing.T) {
	const retention = 72 * time.Hour
	historytest.Run(t, historytest.Harness{
		New: func(t *testing.T) historytest.Store {
			s := newStore(t)
			s.Retention = retention
			return s
		},
		Retention: retention,
	})
}

func TestEnsureTableIsIdempotent(t *testing.T) {
	newStore(t)
	ctx := context.Background()
	if err := store.EnsureTable(ctx, db, table); err != nil {
		t.Fatalf("EnsureTable on an existing table: %v", err)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var indexes []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		indexes = append(indexes, aws.ToString(g.IndexName))
	}
	if got := strings.Join(indexes, ","); got != "gsi1,gsi2" && got != "gsi2,gsi1" {
		t.Errorf("indexes: got %q, want gsi1 and gsi2", got)
	}
}

func TestCreateTenant(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tenant := store.Tenant{ID: uuid.NewString(), Name: "Acme", CreatedAt: store.NewTenantTime(time.Now())}
	if err := s.CreateTenant(ctx, tenant); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if err := s.CreateTenant(ctx, tenant); err == nil {
		t.Errorf("CreateTenant with a taken id: got nil error, want one")
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{tenant.ID, true},
		{strings.ToUpper(tenant.ID), false},
		{uuid.NewString(), false},
		{"", false},
		{strings.Repeat("x", 257), false},
		{strings.Repeat("é", 2000), false},
	} {
		got, err := s.TenantExists(ctx, tc.id)
		if err != nil {
			t.Errorf("TenantExists(%.20q): got error %v, want nil", tc.id, err)
		}
		if got != tc.want {
			t.Errorf("TenantExists(%.20q): got %v, want %v", tc.id, got, tc.want)
		}
	}
}

// TestListDestinationsOddTenants covers tenant ids that no tenant can have:
// listing them is an empty page. Ids too long for a DynamoDB key are not
// even queried, since AWS refuses keys over 2048 bytes with a validation
// error (dynalite does not).
func TestListDestinationsOddTenants(t *testing.T) {
	newStore(t)
	for _, tc := range []struct {
		id        string
		wantQuery bool
	}{
		{"", false},
		{strings.Repeat("t", 257), false},
		{strings.Repeat("t", 3000), false},
		{"TENANT#x", true},
		{"a#DEST#b", true},
	} {
		ldb := &limitedDB{DynamoDB: db, limit: 100}
		got, err := store.New(ldb, table).ListDestinations(context.Background(), tc.id)
		if err != nil || len(got) != 0 {
			t.Errorf("ListDestinations(%.20q): got %d items, %v, want none and nil", tc.id, len(got), err)
		}
		if queried := len(ldb.queries) > 0; queried != tc.wantQuery {
			t.Errorf("ListDestinations(%.20q): queried DynamoDB %v, want %v", tc.id, queried, tc.wantQuery)
		}
	}
}

// limitedDB forces every Query to return at most limit items, so that a
// handful of destinations spans several DynamoDB pages, and records the
// queries sent.
type limitedDB struct {
	store.DynamoDB
	limit int32

	mu      sync.Mutex
	queries []*dynamodb.QueryInput
}

func (l *limitedDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.Limit = aws.Int32(l.limit)
	l.mu.Lock()
	l.queries = append(l.queries, in)
	l.mu.Unlock()
	return l.DynamoDB.Query(ctx, in, opts...)
}

func TestListDestinationsAcrossPages(t *testing.T) {
	newStore(t)
	ctx := context.Background()
	ldb := &limitedDB{DynamoDB: db, limit: 2}
	s := store.New(ldb, table)
	c := conformance{s}
	tenant := destinationtest.NewTenant(t, c)
	other := destinationtest.NewTenant(t, c)
	want := map[string]bool{}
	base := time.Now().Add(-time.Hour)
	for i := range 7 {
		d := destinationtest.NewDestination(tenant, base.Add(time.Duration(i)*time.Millisecond), nil)
		if err := s.CreateDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
		want[d.ID] = true
	}
	if err := s.CreateDestination(ctx, destinationtest.NewDestination(other, base, nil)); err != nil {
		t.Fatal(err)
	}

	got, err := s.ListDestinations(ctx, tenant)
	if err != nil {
		t.Fatalf("ListDestinations: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListDestinations: got %d destinations, want %d", len(got), len(want))
	}
	for _, d := range got {
		if !want[d.ID] {
			t.Errorf("ListDestinations: unexpected destination %s of tenant %s", d.ID, d.TenantID)
		}
		delete(want, d.ID)
	}
	ldb.mu.Lock()
	defer ldb.mu.Unlock()
	if n := len(ldb.queries); n < 4 {
		t.Errorf("queries: got %d, want at least 4 pages of 2", n)
	}
	for _, q := range ldb.queries {
		if aws.ToString(q.IndexName) != "gsi1" || aws.ToBool(q.ConsistentRead) {
			t.Errorf("query: got index %q consistent %v, want gsi1, eventually consistent", aws.ToString(q.IndexName), aws.ToBool(q.ConsistentRead))
		}
	}
}

// TestDestinationItemLayout pins the key layout and attribute encoding that
// other components (ingest, delivery) and docs/DATA_MODEL.md rely on.
func TestDestinationItemLayout(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tenant := destinationtest.NewTenant(t, conformance{s})
	d := destinationtest.NewDestination(tenant, time.Date(2026, 7, 3, 14, 32, 0, 5e6, time.UTC), func(d *destination.Destination) {
		d.AuthType = destination.AuthBasic
		d.Sealed = &destination.Sealed{Ciphertext: []byte("ct"), EncryptedKey: []byte("ek")}
	})
	if err := s.CreateDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	pk, sk := store.DestinationKey(d.ID)
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"pk":        "DEST#" + d.ID,
		"sk":        "DEST",
		"gsi1pk":    "TENANT#" + tenant,
		"gsi1sk":    "DEST#2026-07-03T14:32:00.005Z#" + d.ID,
		"createdAt": "2026-07-03T14:32:00.005Z",
		"authType":  "BasicAuth",
		"tokenHash": d.TokenHash,
	} {
		got, ok := out.Item[name].(*types.AttributeValueMemberS)
		if !ok || got.Value != want {
			t.Errorf("attribute %s: got %v, want S %q", name, out.Item[name], want)
		}
	}
	if got, ok := out.Item["credCiphertext"].(*types.AttributeValueMemberB); !ok || string(got.Value) != "ct" {
		t.Errorf("credCiphertext: got %v, want B \"ct\"", out.Item["credCiphertext"])
	}

	tpk, tsk := store.IngestTokenKey(d.TokenHash)
	if tpk != "TOKEN#"+d.TokenHash || tsk != "TOKEN" {
		t.Errorf("IngestTokenKey: got %q %q", tpk, tsk)
	}
}

// TestUpdateDestinationResetsBreaker checks that resetBreaker clears the
// failure count and open circuit in the destination's state item.
func TestUpdateDestinationResetsBreaker(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tenant := destinationtest.NewTenant(t, conformance{s})
	d := destinationtest.NewDestination(tenant, time.Now(), func(d *destination.Destination) { d.Status = destination.Suspended })
	if err := s.CreateDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	pk, sk := store.DestinationStateKey(d.ID)
	stateKey := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": stateKey["pk"], "sk": stateKey["sk"],
		"failures":   &types.AttributeValueMemberN{Value: "10"},
		"cooldownMs": &types.AttributeValueMemberN{Value: "60000"},
		"openUntil":  &types.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.Status = destination.Active
	if _, err := s.UpdateDestination(ctx, d, true); err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: stateKey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := out.Item["failures"].(*types.AttributeValueMemberN); !ok || f.Value != "0" {
		t.Errorf("failures: got %v, want N 0", out.Item["failures"])
	}
	if _, ok := out.Item["openUntil"]; ok {
		t.Errorf("openUntil: still set after reset")
	}

	// Deleting the destination removes its state item too.
	cur, err := s.GetDestination(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDestination(ctx, cur); err != nil {
		t.Fatal(err)
	}
	out, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: stateKey, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Item) != 0 {
		t.Errorf("state item after delete: got %v, want none", out.Item)
	}
}
