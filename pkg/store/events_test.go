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

	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// TestStoredEventsExpire: defect 9. Every stored event carries the TTL the
// table declares, its retention counted from when it was received.
func TestStoredEventsExpire(t *testing.T) {
	ctx := context.Background()
	received := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		retention time.Duration
		status    string
		want      time.Time
	}{
		{"default retention, Failed", 0, event.StatusFailed, received.Add(store.DefaultRetention)},
		{"configured retention, Pending", 48 * time.Hour, event.StatusPending, received.Add(48 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			s.Retention = tc.retention
			m := event.Message{Version: 1, EventID: uuid.NewString(), DestinationID: "d", TenantID: "t", ReceivedAt: received.UnixMilli(), Body: []byte("x")}
			if err := s.PutEvent(ctx, m, tc.status, received); err != nil {
				t.Fatal(err)
			}
			pk, sk := store.EventKey(m.EventID)
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk},
			}})
			if err != nil {
				t.Fatal(err)
			}
			v, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
			if !ok {
				t.Fatalf("expiresAt: missing or not a number in %v", out.Item)
			}
			if got, want := v.Value, strconv.FormatInt(tc.want.Unix(), 10); got != want {
				t.Errorf("expiresAt: got %s, want %s (Unix seconds)", got, want)
			}
		})
	}
}
