package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// TestStoredEventsExpire: defect 9. A Failed event carries the TTL the
// table declares: its retention from when it was received, or from when it
// failed if that was later. A Pending stored event carries none: a live
// reference points to its body, however long it waits (held, retried).
func TestStoredEventsExpire(t *testing.T) {
	ctx := context.Background()
	received := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		retention time.Duration
		status    string
		failedAt  time.Time
		want      time.Time // zero: no expiresAt
	}{
		{"Failed at once, default retention", 0, event.StatusFailed, received, received.Add(store.DefaultRetention)},
		{"Failed after ten days held", 48 * time.Hour, event.StatusFailed, received.Add(240 * time.Hour), received.Add(240*time.Hour + 48*time.Hour)},
		{"Pending: no TTL", 48 * time.Hour, event.StatusPending, received, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			s.Retention = tc.retention
			m := event.Message{Version: 1, EventID: uuid.NewString(), DestinationID: "d", TenantID: "t", ReceivedAt: received.UnixMilli(), Body: []byte("x")}
			if err := s.PutEvent(ctx, m, tc.status, tc.failedAt); err != nil {
				t.Fatal(err)
			}
			checkExpiresAt(t, m.EventID, tc.want)
		})
	}
	t.Run("FailStoredEvent counts from the failure", func(t *testing.T) {
		s := newStore(t)
		s.Retention = time.Hour
		m := event.Message{Version: 1, EventID: uuid.NewString(), DestinationID: "d", TenantID: "t", ReceivedAt: received.UnixMilli(), Body: []byte("x")}
		if err := s.PutEvent(ctx, m, event.StatusPending, received); err != nil {
			t.Fatal(err)
		}
		failedAt := received.Add(30 * time.Hour)
		if err := s.FailStoredEvent(ctx, m.EventID, 3, failedAt); err != nil {
			t.Fatal(err)
		}
		checkExpiresAt(t, m.EventID, failedAt.Add(time.Hour))
	})
}

func checkExpiresAt(t *testing.T, eventID string, want time.Time) {
	t.Helper()
	pk, sk := store.EventKey(eventID)
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	switch {
	case want.IsZero() && ok:
		t.Errorf("expiresAt: got %s, want none", v.Value)
	case want.IsZero():
	case !ok:
		t.Errorf("expiresAt: missing or not a number in %v", out.Item)
	case v.Value != strconv.FormatInt(want.Unix(), 10):
		t.Errorf("expiresAt: got %s, want %d (Unix seconds)", v.Value, want.Unix())
	}
}

// TestDeleteStateKeepsAFlaggedState: the sweeper deletes a deleted
// destination's state after clearing its flag; a worker that flagged new
// holds in between keeps it, for the next sweep to find.
func TestDeleteStateKeepsAFlaggedState(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	d := newDestination(t, s, destination.Inactive)
	if err := s.FlagHeld(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteState(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if item := stateItem(t, d.ID); len(item) == 0 {
		t.Errorf("flagged state item deleted")
	}
	if err := s.ClearHeldFlag(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteState(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if item := stateItem(t, d.ID); len(item) != 0 {
		t.Errorf("unflagged state item kept: %v", item)
	}
}
