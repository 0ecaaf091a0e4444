package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// A destination's checks at ingest (verification, deduplication), and its
// alert subscriptions, are attributes of its item; the token item carries only a flag, so ingest
// reads the destination only for a destination that has checks (docs/DATA_MODEL.md).
//
// checksVersion, on a token item, is the destination version from which its
// checks may exist. It is set before a destination with checks is written
// and only raised, and removed only by the writer of a later version
// without checks: so whenever the destination has checks, its token is
// flagged (a stale flag costs ingest one read, never a skipped check).
const checksVersion = "cv"

// checkAttributes are the stored form of d's checks: the verification
// settings with its sealed secret, and the deduplication key and window.
func checkAttributes(d destination.Destination) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{}
	if v := d.Verification; v != nil {
		item["verType"] = s(string(v.Config.Scheme))
		for name, value := range map[string]string{"verHeader": v.Config.Header, "verAlgorithm": v.Config.Algorithm, "verEncoding": v.Config.Encoding, "verPrefix": v.Config.Prefix} {
			if value != "" {
				item[name] = s(value)
			}
		}
		item["verCiphertext"] = b(v.Secret.Ciphertext)
		item["verKey"] = b(v.Secret.EncryptedKey)
	}
	if dd := d.Deduplication; dd != nil {
		item["dedupKey"] = s(dd.Key.String())
		item["dedupWindowMs"] = n(strconv.FormatInt(dd.Window.Milliseconds(), 10))
	}
	if len(d.Alerts) > 0 {
		names := make([]types.AttributeValue, len(d.Alerts))
		for i, a := range d.Alerts {
			names[i] = s(string(a))
		}
		item["alerts"] = &types.AttributeValueMemberL{Value: names}
	}
	return item
}

func decodeChecks(item map[string]types.AttributeValue, d *destination.Destination) error {
	if t := getS(item, "verType"); t != "" {
		scheme, ok := verify.ParseScheme(t)
		if !ok {
			return fmt.Errorf("decode destination %q: unknown verification type", d.ID)
		}
		d.Verification = &destination.Verification{
			Config: verify.Config{
				Scheme: scheme, Header: getS(item, "verHeader"), Algorithm: getS(item, "verAlgorithm"),
				Encoding: getS(item, "verEncoding"), Prefix: getS(item, "verPrefix"),
			},
			Secret: destination.Sealed{Ciphertext: getB(item, "verCiphertext"), EncryptedKey: getB(item, "verKey")},
		}
	}
	if spec := getS(item, "dedupKey"); spec != "" {
		k, err1 := dedup.ParseKey(spec)
		ms, err2 := strconv.ParseInt(getN(item, "dedupWindowMs"), 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("decode destination %q: corrupt deduplication", d.ID)
		}
		d.Deduplication = &destination.Deduplication{Key: k, Window: time.Duration(ms) * time.Millisecond}
	}
	if l, ok := item["alerts"].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			sv, _ := v.(*types.AttributeValueMemberS)
			if sv == nil {
				continue
			}
			if t, ok := alert.ParseType(sv.Value); ok {
				d.Alerts = append(d.Alerts, t)
			}
		}
	}
	return nil
}

// flagChecks raises the token's checksVersion to version. A token that is
// gone (replaced or deleted meanwhile) needs no flag: the destination's
// version condition then fails and the caller retries with its new token.
func (st *Store) flagChecks(ctx context.Context, tokenHash string, version int64) error {
	pk, sk := IngestTokenKey(tokenHash)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET #cv = :v"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND (attribute_not_exists(#cv) OR #cv < :v)"),
		ExpressionAttributeNames:  map[string]string{"#cv": checksVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(strconv.FormatInt(version, 10))},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("flag ingest checks on the token: %w", err)
	}
	return nil
}

// unflagChecks removes the flag set for a version before version, after
// the destination was written without checks at version. Failing only
// costs ingest a read per event, so it is best effort.
func (st *Store) unflagChecks(ctx context.Context, tokenHash string, version int64) {
	pk, sk := IngestTokenKey(tokenHash)
	_, _ = st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("REMOVE #cv"),
		ConditionExpression:       aws.String("#cv < :v"),
		ExpressionAttributeNames:  map[string]string{"#cv": checksVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(strconv.FormatInt(version, 10))},
	})
}
