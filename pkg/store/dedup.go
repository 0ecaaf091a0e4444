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

	"github.com/hooksentry/hooksentry/pkg/ingest"
)

// A deduplication claim is one small item per destination and key
// fingerprint (docs/DATA_MODEL.md): the first event's id, when it was
// accepted, and whether its event is stored yet (`st`: pending until the
// ingest request confirms it after the publish, `lu` bounding how long a
// pending claim holds the key). A confirmed claim older than the window no
// longer counts and is overwritten by the next event with the key; TTL
// removes the rest.

const (
	claimPending   = "p"
	claimConfirmed = "c"
)

var _ ingest.Claims = (*Store)(nil)

// ClaimDedupKey implements ingest.Claims with one conditional PutItem; a
// request that finds the key taken also costs one read when the table does
// not return the item that failed the condition.
func (st *Store) ClaimDedupKey(ctx context.Context, destinationID, fingerprint, eventID string, at time.Time, window, lease time.Duration) (string, ingest.ClaimState, error) {
	pk, sk := DedupKey(destinationID, fingerprint)
	item := key(pk, sk)
	item["ev"] = s(eventID)
	item["at"] = n(strconv.FormatInt(at.UnixMilli(), 10))
	item["st"] = s(claimPending)
	item["lu"] = n(strconv.FormatInt(at.Add(lease).UnixMilli(), 10))
	item["expiresAt"] = n(strconv.FormatInt(at.Add(max(window, lease)).Unix()+1, 10))
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table(),
		Item:      item,
		// Free, past its window, or pending past its lease.
		ConditionExpression:      aws.String("attribute_not_exists(pk) OR (#st = :c AND #at <= :cutoff) OR (#st = :p AND lu < :now)"),
		ExpressionAttributeNames: map[string]string{"#at": "at", "#st": "st"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":cutoff": n(strconv.FormatInt(at.Add(-window).UnixMilli(), 10)),
			":now":    n(strconv.FormatInt(at.UnixMilli(), 10)),
			":c":      s(claimConfirmed), ":p": s(claimPending),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return eventID, ingest.Claimed, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return "", 0, fmt.Errorf("claim deduplication key of destination %s: %w", destinationID, err)
	}
	held := ccf.Item
	if getS(held, "ev") == "" {
		out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", 0, fmt.Errorf("read deduplication claim of destination %s: %w", destinationID, err)
		}
		held = out.Item
	}
	switch {
	case getS(held, "ev") == "":
		// Released between the two calls: its event was never stored.
		// The sender retries (InFlight), and the key is free then.
		return "", ingest.InFlight, nil
	case getS(held, "st") == claimConfirmed:
		return getS(held, "ev"), ingest.Duplicate, nil
	default:
		return getS(held, "ev"), ingest.InFlight, nil
	}
}

// ConfirmDedupKey implements ingest.Claims. A claim taken over meanwhile
// (its lease ran out first) is left to its new owner.
func (st *Store) ConfirmDedupKey(ctx context.Context, destinationID, fingerprint, eventID string) error {
	pk, sk := DedupKey(destinationID, fingerprint)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET #st = :c REMOVE lu"),
		ConditionExpression:       aws.String("ev = :ev"),
		ExpressionAttributeNames:  map[string]string{"#st": "st"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ev": s(eventID), ":c": s(claimConfirmed)},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("confirm deduplication key of destination %s: %w", destinationID, err)
	}
	return nil
}

// ReleaseDedupKey implements ingest.Claims: for an event that could not be
// stored, so the sender's retry is accepted at once. Another event's
// claim is kept.
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
