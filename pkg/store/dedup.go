package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A deduplication claim is one small item per destination and key
// fingerprint (docs/DATA_MODEL.md): the first event's id and when it was
// accepted. A claim older than the window no longer counts and is
// overwritten by the next event with the key; TTL removes the rest.

// ClaimDedupKey records eventID, accepted at at, as the first event with
// fingerprint for destinationID, unless an event accepted within window
// before at holds the claim: then it returns that event's id and true. One
// conditional write; a duplicate also costs one read when the table does
// not return the item that failed the condition.
func (st *Store) ClaimDedupKey(ctx context.Context, destinationID, fingerprint, eventID string, at time.Time, window time.Duration) (string, bool, error) {
	pk, sk := DedupKey(destinationID, fingerprint)
	item := key(pk, sk)
	item["ev"] = s(eventID)
	item["at"] = n(strconv.FormatInt(at.UnixMilli(), 10))
	item["expiresAt"] = n(strconv.FormatInt(at.Add(window).Unix()+1, 10))
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           st.table(),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR #at <= :cutoff"),
		ExpressionAttributeNames:            map[string]string{"#at": "at"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":cutoff": n(strconv.FormatInt(at.Add(-window).UnixMilli(), 10))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return eventID, false, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return "", false, fmt.Errorf("claim deduplication key of destination %s: %w", destinationID, err)
	}
	if first := getS(ccf.Item, "ev"); first != "" {
		return first, true, nil
	}
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", false, fmt.Errorf("read deduplication claim of destination %s: %w", destinationID, err)
	}
	first := getS(out.Item, "ev")
	if first == "" {
		// Released between the two calls: the first event was never
		// stored, so this one is no duplicate. Claim again.
		return st.ClaimDedupKey(ctx, destinationID, fingerprint, eventID, at, window)
	}
	return first, true, nil
}

// ReleaseDedupKey removes eventID's claim, for an event that could not be
// stored: the sender's retry must be accepted, not answered as a
// duplicate of an event that does not exist. Another event's claim is kept.
func (st *Store) ReleaseDedupKey(ctx context.Context, destinationID, fingerprint, eventID string) error {
	pk, sk := DedupKey(destinationID, fingerprint)
	_, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		ConditionExpression:       aws.String("ev = :ev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":ev": s(eventID)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("release deduplication key of destination %s: %w", destinationID, err)
	}
	return nil
}
