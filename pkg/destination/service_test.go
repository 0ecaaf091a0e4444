package destination_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
)

type fixture struct {
	store  *destinationtest.Store
	sealer *destinationtest.Sealer
	svc    *destination.Service
	tenant string
	now    time.Time
	// activated records the destinations passed to Service.Activated.
	activated []destination.Destination
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		store:  destinationtest.NewStore(),
		sealer: &destinationtest.Sealer{},
		tenant: uuid.NewString(),
		now:    time.Date(2026, 7, 3, 14, 32, 0, 123456789, time.UTC),
	}
	f.svc = &destination.Service{
		Store: f.store, Sealer: f.sealer,
		Now: func() time.Time { return f.now },
		Activated: func(_ context.Context, d destination.Destination) error {
			f.activated = append(f.activated, d)
			return nil
		},
	}
	if err := f.store.AddTenant(context.Background(), f.tenant); err != nil {
		t.Fatal(err)
	}
	return f
}

// create makes a destination of the fixture's tenant from a create body.
func (f *fixture) create(t *testing.T, body string) (destination.Destination, string) {
	t.Helper()
	in, err := destination.ParseCreate([]byte(body), nil)
	if err != nil {
		t.Fatalf("ParseCreate(%s): %v", body, err)
	}
	d, issued, err := f.svc.Create(context.Background(), f.tenant, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return d, issued.IngestToken
}

func (f *fixture) credentials(t *testing.T, id string) destination.Credentials {
	t.Helper()
	d, err := f.store.GetDestination(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := destination.OpenCredentials(context.Background(), f.sealer, d)
	if err != nil {
		t.Fatalf("OpenCredentials: %v", err)
	}
	return c
}

func TestServiceCreate(t *testing.T) {
	f := newFixture(t)
	d, token := f.create(t, `{"url":"https://example.com/h","serverRateLimit":9,"authType":"bearertoken","credentials":{"token":"tok-1"}}`)

	id, err := uuid.Parse(d.ID)
	if err != nil || id.Version() != 4 || id.String() != d.ID {
		t.Errorf("id %q: want a canonical UUID v4 (parse error %v)", d.ID, err)
	}
	want := destination.Destination{
		ID: d.ID, TenantID: f.tenant, URL: "https://example.com/h", Status: destination.Active, ServerRateLimit: 9,
		AuthType: destination.AuthBearerToken, CreatedAt: destination.Timestamp(f.now), UpdatedAt: destination.Timestamp(f.now),
		Sealed: d.Sealed, TokenHash: destination.HashIngestToken(token), Signing: d.Signing, Version: 1,
	}
	if d.Sealed == nil || d.Signing == nil || !equalDest(d, want) {
		t.Errorf("Create:\n got %+v\nwant %+v", d, want)
	}
	if got := d.CreatedAt.Nanosecond() % int(time.Millisecond); got != 0 {
		t.Errorf("createdAt %v has sub-millisecond digits", d.CreatedAt)
	}
	if !destination.WellFormedIngestToken(token) {
		t.Errorf("token %q is not well-formed", token)
	}
	stored, err := f.store.GetDestination(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !equalDest(stored, d) {
		t.Errorf("stored:\n got %+v\nwant %+v", stored, d)
	}
	if got := f.credentials(t, d.ID); got != (destination.Credentials{Token: "tok-1"}) {
		t.Errorf("credentials: got %+v, want token tok-1", got)
	}
	destID, tenantID, found, _ := f.store.ResolveIngestToken(context.Background(), destination.HashIngestToken(token))
	if !found || destID != d.ID || tenantID != f.tenant {
		t.Errorf("token lookup: got (%q, %q, %v), want (%q, %q, true)", destID, tenantID, found, d.ID, f.tenant)
	}
}

// equalDest compares destinations, their sealed values by content.
func equalDest(a, b destination.Destination) bool {
	sealed := func(x, y *destination.Sealed) bool {
		if (x == nil) != (y == nil) {
			return false
		}
		return x == nil || string(x.Ciphertext) == string(y.Ciphertext) && string(x.EncryptedKey) == string(y.EncryptedKey)
	}
	if !sealed(a.Sealed, b.Sealed) || !sealed(a.Signing, b.Signing) || !sealed(a.PrevSigning, b.PrevSigning) {
		return false
	}
	if !slices.Equal(a.Alerts, b.Alerts) {
		return false
	}
	a.Sealed, b.Sealed, a.Signing, b.Signing, a.PrevSigning, b.PrevSigning = nil, nil, nil, nil, nil, nil
	a.Alerts, b.Alerts = nil, nil
	return reflect.DeepEqual(a, b)
}

func TestServiceCreateWithoutAuth(t *testing.T) {
	f := newFixture(t)
	d, _ := f.create(t, `{"url":"https://example.com/h"}`)
	if d.AuthType != destination.AuthNone || d.Sealed != nil || d.ServerRateLimit != 5 {
		t.Errorf("got authType %q sealed %v rate %d, want none, nil, 5", d.AuthType, d.Sealed, d.ServerRateLimit)
	}
	// Only the signing secret is sealed.
	if seals, _ := f.sealer.Calls(); seals != 1 {
		t.Errorf("Seal calls: got %d, want 1", seals)
	}
}

func TestServiceCreateUnknownTenant(t *testing.T) {
	f := newFixture(t)
	in, _ := destination.ParseCreate([]byte(`{"url":"https://example.com"}`), nil)
	_, _, err := f.svc.Create(context.Background(), uuid.NewString(), in)
	wantCode(t, err, apperror.NotFound)
	list, _ := f.store.ListDestinations(context.Background(), f.tenant)
	if len(list) != 0 {
		t.Errorf("destinations after refused create: got %d, want 0", len(list))
	}
}

func TestServiceDependencyFailuresAreInternal(t *testing.T) {
	f := newFixture(t)
	d, _ := f.create(t, `{"url":"https://example.com"}`)
	in, _ := destination.ParseCreate([]byte(`{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"x"}}`), nil)

	f.sealer.Err = errors.New("kms down")
	_, _, err := f.svc.Create(context.Background(), f.tenant, in)
	wantCode(t, err, apperror.Internal)
	f.sealer.Err = nil

	f.store.Err = errors.New("dynamodb down")
	ctx := context.Background()
	_, _, err = f.svc.Create(ctx, f.tenant, in)
	wantCode(t, err, apperror.Internal)
	_, err = f.svc.Get(ctx, f.tenant, d.ID)
	wantCode(t, err, apperror.Internal)
	_, err = f.svc.List(ctx, f.tenant, destination.ListQuery{PageSize: 10, Page: 1})
	wantCode(t, err, apperror.Internal)
	_, err = f.svc.Update(ctx, f.tenant, d.ID, []byte(`{}`))
	wantCode(t, err, apperror.Internal)
	err = f.svc.Delete(ctx, f.tenant, d.ID)
	wantCode(t, err, apperror.Internal)
	_, err = f.svc.RegenerateIngestToken(ctx, f.tenant, d.ID)
	wantCode(t, err, apperror.Internal)
	_, err = f.svc.RotateSigningSecret(ctx, f.tenant, d.ID)
	wantCode(t, err, apperror.Internal)
}

// TestServiceAccess covers who may reach a destination, for every
// operation that takes an id. An id in upper case is the same UUID.
func TestServiceAccess(t *testing.T) {
	f := newFixture(t)
	mine, _ := f.create(t, `{"url":"https://example.com"}`)
	other := uuid.NewString()
	if err := f.store.AddTenant(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func(tenant, id string) error{
		"Get": func(tenant, id string) error {
			_, err := f.svc.Get(context.Background(), tenant, id)
			return err
		},
		"Update": func(tenant, id string) error {
			_, err := f.svc.Update(context.Background(), tenant, id, []byte(`{"serverRateLimit":7}`))
			return err
		},
		"Delete": func(tenant, id string) error { return f.svc.Delete(context.Background(), tenant, id) },
		"RegenerateIngestToken": func(tenant, id string) error {
			_, err := f.svc.RegenerateIngestToken(context.Background(), tenant, id)
			return err
		},
		"RotateSigningSecret": func(tenant, id string) error {
			_, err := f.svc.RotateSigningSecret(context.Background(), tenant, id)
			return err
		},
	}
	for _, tc := range []struct {
		name   string
		tenant string
		id     string
		want   apperror.Code
	}{
		{"another tenant's destination", other, mine.ID, apperror.Forbidden},
		{"unknown tenant", uuid.NewString(), mine.ID, apperror.NotFound},
		{"unknown id", f.tenant, uuid.NewString(), apperror.NotFound},
		{"non-UUID id", f.tenant, "not-a-uuid", apperror.NotFound},
		{"UUID in braces", f.tenant, "{" + mine.ID + "}", apperror.NotFound},
		{"UUID as URN", f.tenant, "urn:uuid:" + mine.ID, apperror.NotFound},
		{"UUID without dashes", f.tenant, strings.ReplaceAll(mine.ID, "-", ""), apperror.NotFound},
		{"empty id", f.tenant, "", apperror.NotFound},
	} {
		for name, op := range ops {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				wantCode(t, op(tc.tenant, tc.id), tc.want)
			})
		}
	}
	got, err := f.svc.Get(context.Background(), f.tenant, strings.ToUpper(mine.ID))
	if err != nil || got.ServerRateLimit != 5 || got.TokenHash != mine.TokenHash {
		t.Errorf("after refused operations: got %+v, %v, want the destination unchanged", got, err)
	}
}

func TestServiceList(t *testing.T) {
	f := newFixture(t)
	for range 3 {
		f.create(t, `{"url":"https://example.com"}`)
		f.now = f.now.Add(time.Second)
	}
	q := destination.ListQuery{PageSize: 2, Page: 1, SortField: "createdAt", Descending: true}
	page, err := f.svc.List(context.Background(), f.tenant, q)
	if err != nil || page.Total != 3 || len(page.Items) != 2 {
		t.Errorf("List: got total %d, %d items, %v, want 3, 2, nil", page.Total, len(page.Items), err)
	}
	page, err = f.svc.List(context.Background(), uuid.NewString(), q)
	if err != nil || page.Total != 0 || page.Items == nil || len(page.Items) != 0 {
		t.Errorf("List(unknown tenant): got %+v, %v, want total 0, empty items, nil", page, err)
	}
}

func TestServiceUpdate(t *testing.T) {
	f := newFixture(t)
	created, _ := f.create(t, `{"url":"https://example.com","authType":"BearerToken","credentials":{"token":"old"}}`)
	f.now = f.now.Add(90 * time.Second)

	got, err := f.svc.Update(context.Background(), f.tenant, created.ID, []byte(`{"URL":"https://new.example","serverRateLimit":50,"status":"INACTIVE","credentials":{"token":"new"}}`))
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got.URL != "https://new.example" || got.ServerRateLimit != 50 || got.Status != destination.Inactive ||
		got.AuthType != destination.AuthBearerToken || !got.CreatedAt.Equal(created.CreatedAt) ||
		!got.UpdatedAt.Equal(destination.Timestamp(f.now)) || got.Version != created.Version+1 || got.TokenHash != created.TokenHash {
		t.Errorf("Update: got %+v", got)
	}
	if c := f.credentials(t, created.ID); c.Token != "new" {
		t.Errorf("credentials after update: got %+v, want token new", c)
	}

	got, err = f.svc.Update(context.Background(), f.tenant, created.ID, []byte(`{"removeAuth":true}`))
	if err != nil {
		t.Fatalf("Update(removeAuth): %v", err)
	}
	if got.AuthType != destination.AuthNone || got.Sealed != nil {
		t.Errorf("after removeAuth: got authType %q sealed %v, want none", got.AuthType, got.Sealed)
	}

	_, err = f.svc.Update(context.Background(), f.tenant, created.ID, []byte(`{"credentials":{"token":"x"}}`))
	wantFields(t, err, "credentials")

	_, err = f.svc.Update(context.Background(), f.tenant, created.ID, []byte(`{"status":"suspended"}`))
	wantFields(t, err, "status")
}

func TestServiceUpdateStatusTransitions(t *testing.T) {
	for _, tc := range []struct {
		from, to      destination.Status
		wantReset     bool
		wantActivated bool
	}{
		{destination.Suspended, destination.Active, true, true},
		{destination.Suspended, destination.Inactive, false, false},
		{destination.Inactive, destination.Active, true, true},
		{destination.Active, destination.Active, false, false},
		{destination.Active, destination.Inactive, false, false},
	} {
		t.Run(string(tc.from)+"->"+string(tc.to), func(t *testing.T) {
			f := newFixture(t)
			d, _ := f.create(t, `{"url":"https://example.com"}`)
			f.store.Modify(d.ID, func(d *destination.Destination) { d.Status = tc.from })

			got, err := f.svc.Update(context.Background(), f.tenant, d.ID, []byte(`{"status":"`+string(tc.to)+`"}`))
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if got.Status != tc.to {
				t.Errorf("status: got %q, want %q", got.Status, tc.to)
			}
			if resets := f.store.BreakerResets(d.ID); (resets > 0) != tc.wantReset {
				t.Errorf("breaker resets: got %d, want reset %v", resets, tc.wantReset)
			}
			if (len(f.activated) > 0) != tc.wantActivated {
				t.Errorf("Activated calls: got %d, want called %v", len(f.activated), tc.wantActivated)
			}
		})
	}
}

// conflictingStore makes the first n writes of each kind fail with Conflict,
// after letting a concurrent writer change the stored destination.
type conflictingStore struct {
	*destinationtest.Store
	n          int32
	updates    atomic.Int32
	replaces   atomic.Int32
	rotations  atomic.Int32
	concurrent func(id string)
}

func (s *conflictingStore) ReplaceSigningSecret(ctx context.Context, d destination.Destination) error {
	if s.rotations.Add(1) <= s.n {
		s.concurrent(d.ID)
	}
	return s.Store.ReplaceSigningSecret(ctx, d)
}

func (s *conflictingStore) UpdateDestination(ctx context.Context, d destination.Destination, reset bool) (destination.Destination, error) {
	if s.updates.Add(1) <= s.n {
		s.concurrent(d.ID)
	}
	return s.Store.UpdateDestination(ctx, d, reset)
}

func (s *conflictingStore) ReplaceIngestToken(ctx context.Context, d destination.Destination, hash string) error {
	if s.replaces.Add(1) <= s.n {
		s.concurrent(d.ID)
	}
	return s.Store.ReplaceIngestToken(ctx, d, hash)
}

func TestServiceUpdateRetriesConflicts(t *testing.T) {
	f := newFixture(t)
	d, _ := f.create(t, `{"url":"https://example.com"}`)
	cs := &conflictingStore{Store: f.store, n: 2, concurrent: func(id string) {
		// The circuit breaker suspends the destination meanwhile.
		f.store.Modify(id, func(d *destination.Destination) { d.Status = destination.Suspended })
	}}
	f.svc.Store = cs

	got, err := f.svc.Update(context.Background(), f.tenant, d.ID, []byte(`{"serverRateLimit":10}`))
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got.ServerRateLimit != 10 || got.Status != destination.Suspended {
		t.Errorf("Update: got rate %d status %q, want the patch applied on top of the concurrent change: 10, Suspended", got.ServerRateLimit, got.Status)
	}
	if n := cs.updates.Load(); n != 3 {
		t.Errorf("UpdateDestination calls: got %d, want 3", n)
	}
}

func TestServiceUpdateGivesUpOnPersistentConflict(t *testing.T) {
	f := newFixture(t)
	d, _ := f.create(t, `{"url":"https://example.com"}`)
	cs := &conflictingStore{Store: f.store, n: 1000, concurrent: func(id string) {
		f.store.Modify(id, func(*destination.Destination) {})
	}}
	f.svc.Store = cs
	_, err := f.svc.Update(context.Background(), f.tenant, d.ID, []byte(`{"serverRateLimit":10}`))
	wantCode(t, err, apperror.Conflict)
	if n := cs.updates.Load(); n < 2 || n > 10 {
		t.Errorf("UpdateDestination calls: got %d, want a few retries", n)
	}
}

func TestServiceRegenerateIngestToken(t *testing.T) {
	f := newFixture(t)
	d, oldToken := f.create(t, `{"url":"https://example.com"}`)
	cs := &conflictingStore{Store: f.store, n: 1, concurrent: func(id string) {
		f.store.Modify(id, func(d *destination.Destination) { d.ServerRateLimit = 99 })
	}}
	f.svc.Store = cs

	token, err := f.svc.RegenerateIngestToken(context.Background(), f.tenant, d.ID)
	if err != nil {
		t.Fatalf("RegenerateIngestToken: %v", err)
	}
	if !destination.WellFormedIngestToken(token) || token == oldToken {
		t.Errorf("new token %q: want a well-formed token different from %q", token, oldToken)
	}
	ctx := context.Background()
	if _, _, found, _ := f.store.ResolveIngestToken(ctx, destination.HashIngestToken(oldToken)); found {
		t.Errorf("old token still resolves")
	}
	if id, _, found, _ := f.store.ResolveIngestToken(ctx, destination.HashIngestToken(token)); !found || id != d.ID {
		t.Errorf("new token: got (%q, %v), want (%q, true)", id, found, d.ID)
	}
	if n := cs.replaces.Load(); n != 2 {
		t.Errorf("ReplaceIngestToken calls: got %d, want 2 (one conflict, one success)", n)
	}
}

func TestServiceDelete(t *testing.T) {
	f := newFixture(t)
	d, token := f.create(t, `{"url":"https://example.com","authType":"ApiKey","credentials":{"headerName":"X-K","value":"v"}}`)
	if err := f.svc.Delete(context.Background(), f.tenant, d.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := f.svc.Get(context.Background(), f.tenant, d.ID)
	wantCode(t, err, apperror.NotFound)
	err = f.svc.Delete(context.Background(), f.tenant, d.ID)
	wantCode(t, err, apperror.NotFound)
	if _, _, found, _ := f.store.ResolveIngestToken(context.Background(), destination.HashIngestToken(token)); found {
		t.Errorf("token of a deleted destination still resolves")
	}
}

func TestOpenCredentials(t *testing.T) {
	f := newFixture(t)
	d, _ := f.create(t, `{"url":"https://example.com","authType":"JwtBearer","credentials":{"tokenEndpoint":"https://idp.example/t","clientId":"id","clientSecret":"sec","scope":"s"}}`)
	want := destination.Credentials{TokenEndpoint: "https://idp.example/t", ClientID: "id", ClientSecret: "sec", Scope: "s"}
	if got := f.credentials(t, d.ID); got != want {
		t.Errorf("OpenCredentials: got %+v, want %+v", got, want)
	}
	// Sealed credentials copied onto another destination do not open.
	moved := d
	moved.ID = uuid.NewString()
	if _, err := destination.OpenCredentials(context.Background(), f.sealer, moved); err == nil {
		t.Errorf("OpenCredentials of credentials moved to another destination: got nil error")
	}
	noAuth := d
	noAuth.AuthType, noAuth.Sealed = destination.AuthNone, nil
	if _, err := destination.OpenCredentials(context.Background(), f.sealer, noAuth); err == nil {
		t.Errorf("OpenCredentials without credentials: got nil error")
	}
	// The sealed form is the JSON of the credentials, without empty fields.
	plain, err := f.sealer.Open(context.Background(), *d.Sealed, destination.EncryptionContext(d.TenantID, d.ID))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(plain, &m); err != nil || len(m) != 4 {
		t.Errorf("sealed plaintext: got %s, want a JSON object with 4 properties", plain)
	}
}
