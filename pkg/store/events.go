package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// PutEvent stores an event with its body. A Pending event is indexed in
// gsi2 by due time, so the sweeper re-enqueues it if its message is lost.
// Storing an event Failed that is Failed already at the same or a higher
// attempt count is an apperror Conflict.
func (st *Store) PutEvent(ctx context.Context, m event.Message, status string, due time.Time) error {
	body, err := m.Encode()
	if err != nil {
		return err
	}
	pk, sk := EventKey(m.EventID)
	item := key(pk, sk)
	item["type"] = s("Event")
	item["status"] = s(status)
	item["destinationId"] = s(m.DestinationID)
	item["tenantId"] = s(m.TenantID)
	item["msg"] = s(body)
	in := &dynamodb.PutItemInput{TableName: st.table(), Item: item}
	if status == event.StatusFailed {
		item["expiresAt"] = n(st.expiresAt(time.UnixMilli(m.ReceivedAt), due))
		// Failing is decided once per attempt count: a duplicate message
		// or a second worker finds it Failed already (and raises no
		// second alert); a replay that fails again has a higher count.
		total := strconv.Itoa(m.Prior + m.Attempts)
		item[attrFailedAt] = n(total)
		in.ConditionExpression = aws.String("attribute_not_exists(pk) OR #st <> :failed OR attribute_not_exists(#fa) OR #fa < :fa")
		in.ExpressionAttributeNames = map[string]string{"#st": "status", "#fa": attrFailedAt}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":failed": s(event.StatusFailed), ":fa": n(total)}
	}
	if status == event.StatusPending {
		gpk, gsk := DueIndexKey(due, m.EventID)
		item["gsi2pk"], item["gsi2sk"] = s(gpk), s(gsk)
	}
	_, err = st.DB.PutItem(ctx, in)
	if isConditionFailed(err) {
		return apperror.New(apperror.Conflict, "event %s is Failed already at %d attempts", m.EventID, m.Prior+m.Attempts)
	}
	if err != nil {
		return fmt.Errorf("put event %s: %w", m.EventID, err)
	}
	return nil
}

// attrFailedAt, on a Failed stored event, is the attempt count (replays
// included) at which it failed.
const attrFailedAt = "fa"

// DefaultRetention is how long stored events are kept when Store.Retention
// is not set (HOOKSENTRY_EVENT_RETENTION's default, CONTRACT §4).
const DefaultRetention = 168 * time.Hour

// expiresAt is the TTL of a Failed event, in Unix seconds: its retention
// counted from when it was received, but never less than the retention
// from when it failed (an event that waited long, held or retried, is not
// removed the moment it fails). DynamoDB deletes it some time after. A
// Pending stored event has none: its body is what a live reference points
// to, however long the event waits.
func (st *Store) expiresAt(received, failedAt time.Time) string {
	r := st.retention()
	from := received
	if failedAt.After(from) {
		from = failedAt
	}
	return strconv.FormatInt(from.Add(r).Unix(), 10)
}

// FailStoredEvent marks a Pending stored event Failed, keeping its body,
// and takes it out of the sweeper's due index. It returns an apperror
// NotFound when the event is gone (delivered, or expired).
func (st *Store) FailStoredEvent(ctx context.Context, eventID string, attempts int, failedAt time.Time) error {
	pk, sk := EventKey(eventID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                st.table(),
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("SET #st = :failed, attempts = :a, expiresAt = :exp REMOVE gsi2pk, gsi2sk"),
		ConditionExpression:      aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": s(event.StatusFailed), ":a": n(strconv.Itoa(attempts)),
			// the receipt is before the failure: count from the failure
			":exp": n(st.expiresAt(time.Time{}, failedAt)),
		},
	})
	if isConditionFailed(err) {
		return apperror.New(apperror.NotFound, "stored event %s not found", eventID)
	}
	if err != nil {
		return fmt.Errorf("mark event %s failed: %w", eventID, err)
	}
	return nil
}

// GetEvent reads a stored event.
func (st *Store) GetEvent(ctx context.Context, eventID string) (event.Message, string, bool, error) {
	pk, sk := EventKey(eventID)
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return event.Message{}, "", false, fmt.Errorf("get event %s: %w", eventID, err)
	}
	if len(out.Item) == 0 {
		return event.Message{}, "", false, nil
	}
	m, err := event.Decode(getS(out.Item, "msg"))
	if err != nil {
		return event.Message{}, "", false, fmt.Errorf("stored event %s: %w", eventID, err)
	}
	if a, err := strconv.Atoi(getN(out.Item, "attempts")); err == nil && a > m.Attempts {
		m.Attempts = a
	}
	return m, getS(out.Item, "status"), true, nil
}

// DeleteEvent removes a stored event after delivery.
func (st *Store) DeleteEvent(ctx context.Context, eventID string) error {
	pk, sk := EventKey(eventID)
	if _, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: st.table(), Key: key(pk, sk)}); err != nil {
		return fmt.Errorf("delete event %s: %w", eventID, err)
	}
	return nil
}

// RescheduleEvent moves a pending stored event's due time, so the sweeper
// does not re-drive an event whose retry is merely delayed.
func (st *Store) RescheduleEvent(ctx context.Context, eventID string, due time.Time) error {
	pk, sk := EventKey(eventID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET gsi2sk = :due"),
		ConditionExpression:       aws.String("attribute_exists(gsi2pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": s(dueSortKey(due, eventID))},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("reschedule event %s: %w", eventID, err)
	}
	return nil
}

// RetryStoredEvent records a failed attempt of a pending stored event: its
// new due time, and the attempt count, so that a sweeper re-driving it
// after a lost message does not start the count again.
func (st *Store) RetryStoredEvent(ctx context.Context, eventID string, due time.Time, attempts int) error {
	pk, sk := EventKey(eventID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table(),
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET gsi2sk = :due, attempts = :a"),
		ConditionExpression: aws.String("attribute_exists(gsi2pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":due": s(dueSortKey(due, eventID)), ":a": n(strconv.Itoa(attempts)),
		},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("record retry of event %s: %w", eventID, err)
	}
	return nil
}

// DueEvents returns ids of pending stored events due before t.
func (st *Store) DueEvents(ctx context.Context, before time.Time, limit int) ([]string, error) {
	gpk, bound := DueIndexBefore(before)
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:                 st.table(),
		IndexName:                 aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :p AND gsi2sk < :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": s(gpk), ":t": s(bound)},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("query due events: %w", err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, item := range out.Items {
		if id, ok := EventIDOfKey(getS(item, "pk")); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func dueSortKey(due time.Time, eventID string) string {
	_, sk := DueIndexKey(due, eventID)
	return sk
}
