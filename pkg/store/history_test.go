package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/history/historytest"
	"github.com/hooksentry/hooksentry/pkg/store"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// capacityDB asks DynamoDB for the write units of every BatchWriteItem and
// keeps them with the items written.
type capacityDB struct {
	store.DynamoDB

	mu    sync.Mutex
	units float64
	items []map[string]types.AttributeValue
}

func (c *capacityDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.DynamoDB.BatchWriteItem(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cc := range out.ConsumedCapacity {
		c.units += aws.ToFloat64(cc.CapacityUnits)
	}
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			c.items = append(c.items, r.PutRequest.Item)
		}
	}
	return out, nil
}

// TestHistoryRecordIsOneWriteUnit pins the reason for the record's layout:
// the success path of a typical webhook (bench's 1 KiB JSON order event,
// typical headers, one delivered attempt) is one write of one unit. The
// size is computed by DynamoDB's rules and checked against dynalite's
// consumed capacity, which follows the same rules.
func TestHistoryRecordIsOneWriteUnit(t *testing.T) {
	newStore(t)
	tests := []struct {
		name string
		body []byte
		max  int // bytes
	}{
		{"bench order event", testkit.OrderWebhook(1024, 1, nil), 1024},
		{"order event padded with prose", testkit.OrderWebhook(1024, 1, prose), 1024},
		// Random hex compresses to about half: the worst realistic case
		// (ids, hashes, tokens).
		{"order event padded with random hex", testkit.OrderWebhook(1024, 1, randomHex), 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdb := &capacityDB{DynamoDB: db}
			s := store.New(cdb, table)
			h := http.Header{
				"Content-Type":     {"application/json"},
				"User-Agent":       {"Acme-Webhooks/2.3"},
				"X-Acme-Signature": {"t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"},
			}
			dest, received := uuid.NewString(), time.Now()
			m := event.Message{
				Version: 1, EventID: event.NewID(dest, received), DestinationID: dest, TenantID: uuid.NewString(),
				ReceivedAt: received.UnixMilli(), ContentType: h.Get("Content-Type"), Headers: event.Forwardable(h), Body: tt.body,
			}
			a := history.Attempt{Number: 1, StartedAt: received.Add(42 * time.Millisecond), Duration: 187 * time.Millisecond,
				Trigger: history.Automatic, Delivered: true, StatusCode: 200}
			err := s.Record(context.Background(), []history.Change{{Event: m, Status: history.Delivered, Attempt: &a, DeliveredAt: a.StartedAt.Add(a.Duration)}})
			if err != nil {
				t.Fatalf("Record: %v", err)
			}
			if len(cdb.items) != 1 {
				t.Fatalf("Record wrote %d items, want 1", len(cdb.items))
			}
			size := itemSize(cdb.items[0])
			t.Logf("body %d bytes: item %d bytes (z %d bytes), %.1f write units", len(tt.body), size,
				len(cdb.items[0]["z"].(*types.AttributeValueMemberB).Value), cdb.units)
			if size > tt.max {
				t.Errorf("item size: got %d bytes, want at most %d", size, tt.max)
			}
			if cdb.units != 1 {
				t.Errorf("consumed capacity: got %.1f write units, want 1", cdb.units)
			}
		})
	}
}

// itemSize is an item's size by DynamoDB's rules: attribute names plus
// values; a number takes 1 byte per two significant digits plus 1; a list
// 3 bytes plus 1 per element.
func itemSize(item map[string]types.AttributeValue) int {
	size := 0
	for name, v := range item {
		size += len(name) + valueSize(v)
	}
	return size
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		digits := strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0")
		return 1 + (len(digits)+1)/2
	case *types.AttributeValueMemberL:
		size := 3
		for _, e := range v.Value {
			size += 1 + valueSize(e)
		}
		return size
	}
	panic(fmt.Sprintf("itemSize: unexpected %T", v))
}

func prose(n int) string {
	s := strings.Repeat("Thank you for your order. Your beans ship within two business days from our Lyon roastery; track the parcel in your account. ", 1+n/100)
	return s[:n]
}

func randomHex(n int) string {
	r := make([]byte, n)
	_, _ = rand.Read(r)
	return hex.EncodeToString(r)[:n]
}

// TestHistoryStoreConformancePaged runs the suite with every Query cut to
// pages of 3 items, so that lists, counts and the answers of a record span
// several DynamoDB pages.
func TestHistoryStoreConformancePaged(t *testing.T) {
	newStore(t)
	historytest.Run(t, historytest.Harness{
		New: func(t *testing.T) historytest.Store {
			return &store.Store{DB: &limitedDB{DynamoDB: db, limit: 3}, Table: table, Retention: store.DefaultRetention}
		},
		Retention: store.DefaultRetention,
	})
}

// TestListRecordsReadsOnlyWhatItNeeds checks the cost side of ListRecords
// and CountByHour: they stop reading once they have the page and one match
// beyond the count limit, read eventually consistent, and project neither
// the content nor the attempts.
func TestListRecordsReadsOnlyWhatItNeeds(t *testing.T) {
	newStore(t)
	ctx := context.Background()
	dest, tenant := uuid.NewString(), uuid.NewString()
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var changes []history.Change
	for i := range 20 {
		at := start.Add(time.Duration(i) * time.Second)
		m := event.Message{Version: 1, EventID: event.NewID(dest, at), DestinationID: dest, TenantID: tenant,
			ReceivedAt: at.UnixMilli(), Body: []byte(`{"n":1}`)}
		changes = append(changes, history.Change{Event: m, Status: history.Held})
	}
	if err := store.New(db, table).Record(ctx, changes); err != nil {
		t.Fatal(err)
	}
	ldb := &limitedDB{DynamoDB: db, limit: 2}
	s := store.New(ldb, table)
	p, err := s.ListRecords(ctx, history.Query{DestinationID: dest, Offset: 1, Limit: 2, CountLimit: 4, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || p.Total != 4 || !p.TotalCapped {
		t.Errorf("page: got %d items, total %d (capped %v); want 2, 4, capped", len(p.Items), p.Total, p.TotalCapped)
	}
	if _, err := s.CountByHour(ctx, dest, time.Time{}, time.Time{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	ldb.mu.Lock()
	defer ldb.mu.Unlock()
	// 5 matches (count limit + 1) in pages of 2: 3 queries; the count
	// reads all 20: 10 pages, and an 11th to learn that the 10th, full,
	// was the last.
	if got, want := len(ldb.queries), 3+11; got != want {
		t.Errorf("queries: got %d, want %d", got, want)
	}
	for _, q := range ldb.queries {
		proj := aws.ToString(q.ProjectionExpression)
		for placeholder, name := range q.ExpressionAttributeNames {
			if (name == "z" || name == "at") && strings.Contains(proj, placeholder) {
				t.Errorf("projection %q reads %s", proj, name)
			}
		}
		if aws.ToBool(q.ConsistentRead) {
			t.Errorf("query %q: strongly consistent, want eventually consistent", aws.ToString(q.KeyConditionExpression))
		}
	}
}

// TestBroadReadsAreRefused: a list or count that would read more than
// MaxScanned records is a 400 asking to narrow it, not a timeout.
func TestBroadReadsAreRefused(t *testing.T) {
	newStore(t)
	ctx := context.Background()
	dest := uuid.NewString()
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var changes []history.Change
	for i := range 30 {
		at := start.Add(time.Duration(i) * time.Second)
		m := event.Message{Version: 1, EventID: event.NewID(dest, at), DestinationID: dest, TenantID: "t", ReceivedAt: at.UnixMilli()}
		changes = append(changes, history.Change{Event: m, Status: history.Held})
	}
	s := store.New(&limitedDB{DynamoDB: db, limit: 10}, table)
	if err := s.Record(ctx, changes); err != nil {
		t.Fatal(err)
	}
	s.MaxScanned = 20
	_, err := s.ListRecords(ctx, history.Query{DestinationID: dest, Status: history.Failed, Limit: 10, CountLimit: 100, Now: time.Now()})
	if apperror.CodeOf(err) != apperror.Invalid || !strings.Contains(err.Error(), "narrow it") {
		t.Errorf("list of 30 records with MaxScanned 20: got %v, want an Invalid error asking to narrow it", err)
	}
	if _, err := s.CountByHour(ctx, dest, time.Time{}, time.Time{}, time.Now()); apperror.CodeOf(err) != apperror.Invalid {
		t.Errorf("count: got %v, want Invalid", err)
	}
	s.MaxScanned = 30
	if p, err := s.ListRecords(ctx, history.Query{DestinationID: dest, Limit: 10, CountLimit: 100, Now: time.Now()}); err != nil || p.Total != 30 {
		t.Errorf("list within the bound: got %+v, %v; want total 30", p, err)
	}
}

func TestEventRecordRange(t *testing.T) {
	const dest = "3f2b8c1d-9a4e-4b7f-8c2d-1e0f9a8b7c6d"
	at := time.Date(2026, 7, 3, 14, 32, 0, 5e6, time.UTC)
	prefix := func(t time.Time) string { return "E#" + event.IDPrefix(t) }
	tests := []struct {
		name     string
		from, to time.Time
		lo, hi   string
		ok       bool
	}{
		{"open", time.Time{}, time.Time{}, "E#", "E#~", true},
		{"closed, to the millisecond", at, at.Add(time.Second), prefix(at), prefix(at.Add(time.Second)) + "~", true},
		{"bounds between milliseconds round inwards", at.Add(-time.Microsecond), at.Add(time.Millisecond + 999*time.Microsecond), prefix(at), prefix(at.Add(time.Millisecond)) + "~", true},
		{"inside one millisecond: empty", at.Add(time.Microsecond), at.Add(999 * time.Microsecond), "", "", false},
		{"one millisecond", at, at.Add(999 * time.Microsecond), prefix(at), prefix(at) + "~", true},
		{"from after to", at.Add(time.Millisecond), at, "", "", false},
		{"from before 1970", time.Unix(-10, 0), at, "E#", prefix(at) + "~", true},
		{"to before 1970", time.Time{}, time.Unix(-10, 0), "", "", false},
		{"to beyond what an id holds", at, at.AddDate(20000, 0, 0), prefix(at), "E#~", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk, lo, hi, ok := store.EventRecordRange(dest, tt.from, tt.to)
			if ok != tt.ok || (ok && (pk != "EVT#3f2b8c1d9a" || lo != tt.lo || hi != tt.hi)) {
				t.Errorf("got %q %q %q %v, want EVT#3f2b8c1d9a %q %q %v", pk, lo, hi, ok, tt.lo, tt.hi, tt.ok)
			}
		})
	}
}
