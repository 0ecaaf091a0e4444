package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
)

// Hold parks an event in its destination's partition under a key of its
// own (see HeldEventKey), ordered by heldAt, and returns the key. Parking
// costs one write once instead of an SQS round trip every 15 minutes. The
// caller flags the destination with FlagHeld after its holds.
func (st *Store) Hold(ctx context.Context, m event.Message, heldAt time.Time) (string, error) {
	body, err := m.Encode()
	if err != nil {
		return "", err
	}
	var nonce [4]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", fmt.Errorf("hold event %s: %w", m.EventID, err)
	}
	pk, sk := HeldEventKey(m.DestinationID, heldAt, m.EventID, hex.EncodeToString(nonce[:]))
	item := key(pk, sk)
	item["type"] = s("HeldEvent")
	item["msg"] = s(body)
	if _, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table(), Item: item}); err != nil {
		return "", fmt.Errorf("hold event %s: %w", m.EventID, err)
	}
	return sk, nil
}

// FlagHeld puts the destination in the sweeper's held index (gsi2 on its
// state item). It never re-creates the state of a deleted destination: it
// returns an apperror NotFound then, and the caller drops its holds.
func (st *Store) FlagHeld(ctx context.Context, destinationID string) error {
	pk, sk := DestinationStateKey(destinationID)
	gpk, gsk := HeldIndexKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET gsi2pk = :h, gsi2sk = :d"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(gpk), ":d": s(gsk)},
	})
	if isConditionFailed(err) {
		return apperror.New(apperror.NotFound, "destination %s has no delivery state", destinationID)
	}
	if err != nil {
		return fmt.Errorf("flag held events of %s: %w", destinationID, err)
	}
	return nil
}

// ListHeld returns up to limit of the oldest holds of a destination.
func (st *Store) ListHeld(ctx context.Context, destinationID string, limit int) ([]event.Held, error) {
	pk, prefix := HeldEventsPrefix(destinationID)
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              st.table(),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :held)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(pk), ":held": s(prefix),
		},
		ConsistentRead: aws.Bool(true),
		Limit:          aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("list held events of %s: %w", destinationID, err)
	}
	held := make([]event.Held, 0, len(out.Items))
	for _, item := range out.Items {
		m, err := event.Decode(getS(item, "msg"))
		if err != nil {
			return nil, fmt.Errorf("held event %s: %w", getS(item, "sk"), err)
		}
		held = append(held, event.Held{SortKey: getS(item, "sk"), Message: m})
	}
	return held, nil
}

// DeleteHeld removes held events once they are back on the queue.
func (st *Store) DeleteHeld(ctx context.Context, destinationID string, sortKeys []string) error {
	pk, _ := HeldEventsPrefix(destinationID)
	keys := make([]map[string]types.AttributeValue, len(sortKeys))
	for i, sk := range sortKeys {
		keys[i] = key(pk, sk)
	}
	return st.batchDelete(ctx, keys)
}

// batchDelete deletes keys 25 per request, retrying unprocessed ones.
func (st *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	return st.batchWrite(ctx, "batch delete", reqs)
}

// DeleteState removes the delivery state of a deleted destination, once the
// sweeper has dropped its held events and cleared the flag. A state item
// flagged again meanwhile (a worker holding for the destination as it was
// deleted) stays, for the next sweep.
func (st *Store) DeleteState(ctx context.Context, destinationID string) error {
	pk, sk := DestinationStateKey(destinationID)
	_, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: st.table(), Key: key(pk, sk), ConditionExpression: aws.String("attribute_not_exists(gsi2pk)"),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("delete state of %s: %w", destinationID, err)
	}
	return nil
}

// ClearHeldFlag removes a destination from the sweeper's held index. A
// drainer calls it before its final ListHeld.
func (st *Store) ClearHeldFlag(ctx context.Context, destinationID string) error {
	pk, sk := DestinationStateKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table(),
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("REMOVE gsi2pk, gsi2sk"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("clear held flag of %s: %w", destinationID, err)
	}
	return nil
}

// HeldDestinations lists destinations flagged as having held events.
func (st *Store) HeldDestinations(ctx context.Context) ([]string, error) {
	var ids []string
	in := &dynamodb.QueryInput{
		TableName:                 st.table(),
		IndexName:                 aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :h"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":h": s(heldIndexPK)}, // HeldIndexKey's partition
	}
	for {
		out, err := st.DB.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query held destinations: %w", err)
		}
		for _, item := range out.Items {
			ids = append(ids, getS(item, "gsi2sk"))
		}
		if len(out.LastEvaluatedKey) == 0 {
			return ids, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ClaimDrain lets one chain of drain rounds run at a time (see
// delivery.HeldStore); the claim lives on the state item.
func (st *Store) ClaimDrain(ctx context.Context, destinationID, chain string, now, until time.Time) (bool, error) {
	pk, sk := DestinationStateKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table(),
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET drainChain = :c, drainUntil = :until"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(drainUntil) OR drainUntil <= :now OR drainChain = :c)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": s(chain), ":until": n(ms(until)), ":now": n(ms(now)),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim drain of %s: %w", destinationID, err)
	}
	return true, nil
}

// ReleaseDrain ends chain's drain claim, if it still holds it.
func (st *Store) ReleaseDrain(ctx context.Context, destinationID, chain string) error {
	pk, sk := DestinationStateKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("REMOVE drainChain, drainUntil"),
		ConditionExpression:       aws.String("drainChain = :c"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": s(chain)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release drain of %s: %w", destinationID, err)
	}
	return nil
}
