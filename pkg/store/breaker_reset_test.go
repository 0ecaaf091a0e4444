package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/destination/destinationtest"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// Defect 7 of issue 7, against the real table: a destination suspended by
// its breaker, PATCHed inactive and then active again through the service
// kept its consecutive failure count (and open circuit), so its first
// failure suspended it again. Becoming Active through the API must clear
// the breaker (failures, openUntil, cooldown, probeUntil) of the state item
// and leave its leases and held flag alone.
func TestServiceSuspendedInactiveActiveResetsTheStoredBreaker(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tenant := destinationtest.NewTenant(t, conformance{s})
	d := destinationtest.NewDestination(tenant, time.Now(), func(d *destination.Destination) { d.Status = destination.Suspended })
	if err := s.CreateDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pk, sk := store.DestinationStateKey(d.ID)
	lease := fmt.Sprintf("2:%d", now.Add(time.Minute).UnixMilli())
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
		"failures":   &types.AttributeValueMemberN{Value: "10"},
		"cooldownMs": &types.AttributeValueMemberN{Value: "120000"},
		"openUntil":  &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(time.Hour).UnixMilli())},
		"probeUntil": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(time.Minute).UnixMilli())},
		"leases":     &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"lease-1": &types.AttributeValueMemberS{Value: lease}}},
		"lver":       &types.AttributeValueMemberN{Value: "7"},
		"gsi2pk":     &types.AttributeValueMemberS{Value: "HELD"},
		"gsi2sk":     &types.AttributeValueMemberS{Value: d.ID},
	}})
	if err != nil {
		t.Fatal(err)
	}

	svc := &destination.Service{Store: s}
	if _, err := svc.Update(ctx, tenant, d.ID, []byte(`{"status":"inactive"}`)); err != nil {
		t.Fatalf("PATCH inactive: %v", err)
	}
	got, err := svc.Update(ctx, tenant, d.ID, []byte(`{"status":"active"}`))
	if err != nil {
		t.Fatalf("PATCH active: %v", err)
	}
	if got.Status != destination.Active {
		t.Fatalf("status %q, want Active", got.Status)
	}

	st, err := s.LoadState(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Failures != 0 || !st.OpenUntil.IsZero() || st.Cooldown != 0 || !st.ProbeUntil.IsZero() {
		t.Errorf("breaker after Suspended -> inactive -> active: failures %d, openUntil %v, cooldown %s, probeUntil %v; want all cleared",
			st.Failures, st.OpenUntil, st.Cooldown, st.ProbeUntil)
	}
	if l, ok := st.Leases["lease-1"]; !ok || l.Slots != 2 || st.LeaseVersion != 7 {
		t.Errorf("leases %v (version %d) after the reset, want lease-1 with 2 slots at version 7 untouched", st.Leases, st.LeaseVersion)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
	}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := out.Item["gsi2pk"].(*types.AttributeValueMemberS); v == nil || v.Value != "HELD" {
		t.Errorf("held flag after the reset: %v, want it kept (the drain clears it)", out.Item["gsi2pk"])
	}
}

// failingPutDB fails every PutItem, as a throttled table would.
type failingPutDB struct{ store.DynamoDB }

func (failingPutDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, fmt.Errorf("throttled")
}

// TestUpdateDestinationResetsTheBreakerEvenIfThePutFails: the reset comes
// first, so a failed activation that the caller retries never leaves an
// Active destination behind an open breaker.
func TestUpdateDestinationResetsTheBreakerEvenIfThePutFails(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	tenant := destinationtest.NewTenant(t, conformance{s})
	d := destinationtest.NewDestination(tenant, time.Now(), func(d *destination.Destination) { d.Status = destination.Active })
	if err := s.CreateDestination(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := s.LoadTarget(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Suspend(ctx, d.ID, time.Now().Add(time.Hour), time.Hour); !ok || err != nil {
		t.Fatalf("Suspend: %v, %v", ok, err)
	}
	cur, err := s.GetDestination(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Status = destination.Active
	flaky := store.New(failingPutDB{db}, table)
	if _, err := flaky.UpdateDestination(ctx, cur, true); err == nil {
		t.Fatal("UpdateDestination with a failing put: got nil, want the error")
	}
	st, err := s.LoadState(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !st.OpenUntil.IsZero() || st.Cooldown != 0 {
		t.Errorf("breaker after a failed activation: openUntil %v, cooldown %s; want reset", st.OpenUntil, st.Cooldown)
	}
}
