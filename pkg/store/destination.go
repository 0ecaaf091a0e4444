package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/destination"
)

var _ destination.Store = (*Store)(nil)

const timeLayout = "2006-01-02T15:04:05.000Z"

func destinationItem(d destination.Destination) map[string]types.AttributeValue {
	pk, sk := DestinationKey(d.ID)
	item := key(pk, sk)
	item["type"] = s("Destination")
	gpk, gsk := TenantDestinationsIndexEntry(d.TenantID, d.CreatedAt, d.ID)
	item["gsi1pk"], item["gsi1sk"] = s(gpk), s(gsk)
	item["id"] = s(d.ID)
	item["tenantId"] = s(d.TenantID)
	item["url"] = s(d.URL)
	item["status"] = s(string(d.Status))
	item["serverRateLimit"] = n(strconv.Itoa(d.ServerRateLimit))
	item["createdAt"] = s(d.CreatedAt.UTC().Format(timeLayout))
	item["updatedAt"] = s(d.UpdatedAt.UTC().Format(timeLayout))
	item["tokenHash"] = s(d.TokenHash)
	item["version"] = n(strconv.FormatInt(d.Version, 10))
	if d.AuthType != destination.AuthNone && d.Sealed != nil {
		item["authType"] = s(string(d.AuthType))
		item["credCiphertext"] = b(d.Sealed.Ciphertext)
		item["credKey"] = b(d.Sealed.EncryptedKey)
	}
	for k, v := range signingAttributes(d) {
		item[k] = v
	}
	for k, v := range checkAttributes(d) {
		item[k] = v
	}
	return item
}

// signingAttributes are the stored form of d's signing secrets: only
// ciphertexts, and the previous secret's expiry.
func signingAttributes(d destination.Destination) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{}
	if d.Signing != nil {
		item["sigCiphertext"] = b(d.Signing.Ciphertext)
		item["sigKey"] = b(d.Signing.EncryptedKey)
	}
	if d.PrevSigning != nil {
		item["prevSigCiphertext"] = b(d.PrevSigning.Ciphertext)
		item["prevSigKey"] = b(d.PrevSigning.EncryptedKey)
		item["prevSigUntil"] = s(d.PrevSigningUntil.UTC().Format(timeLayout))
	}
	return item
}

// signingAttributeNames are every attribute signingAttributes may write.
var signingAttributeNames = []string{"sigCiphertext", "sigKey", "prevSigCiphertext", "prevSigKey", "prevSigUntil"}

// DecodeDestination turns a destination item back into the domain type.
func DecodeDestination(item map[string]types.AttributeValue) (destination.Destination, error) {
	created, err1 := time.Parse(timeLayout, getS(item, "createdAt"))
	updated, err2 := time.Parse(timeLayout, getS(item, "updatedAt"))
	limit, err3 := strconv.Atoi(getN(item, "serverRateLimit"))
	version, err4 := strconv.ParseInt(getN(item, "version"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return destination.Destination{}, fmt.Errorf("decode destination %q: corrupt item", getS(item, "id"))
	}
	d := destination.Destination{
		ID:              getS(item, "id"),
		TenantID:        getS(item, "tenantId"),
		URL:             getS(item, "url"),
		Status:          destination.Status(getS(item, "status")),
		ServerRateLimit: limit,
		AuthType:        destination.AuthType(getS(item, "authType")),
		CreatedAt:       created,
		UpdatedAt:       updated,
		TokenHash:       getS(item, "tokenHash"),
		Version:         version,
	}
	if d.AuthType != destination.AuthNone {
		d.Sealed = &destination.Sealed{Ciphertext: getB(item, "credCiphertext"), EncryptedKey: getB(item, "credKey")}
	}
	// Destinations created before signing existed have no sigCiphertext.
	if _, ok := item["sigCiphertext"]; ok {
		d.Signing = &destination.Sealed{Ciphertext: getB(item, "sigCiphertext"), EncryptedKey: getB(item, "sigKey")}
	}
	if err := decodeChecks(item, &d); err != nil {
		return destination.Destination{}, err
	}
	if _, ok := item["prevSigCiphertext"]; ok {
		until, err := time.Parse(timeLayout, getS(item, "prevSigUntil"))
		if err != nil {
			return destination.Destination{}, fmt.Errorf("decode destination %q: corrupt previous signing secret", d.ID)
		}
		d.PrevSigning = &destination.Sealed{Ciphertext: getB(item, "prevSigCiphertext"), EncryptedKey: getB(item, "prevSigKey")}
		d.PrevSigningUntil = until
	}
	return d, nil
}

// tokenItem is the lookup item of an ingest token of d, as d will be at
// version: flagged (checksVersion) when d has checks at ingest.
func tokenItem(hash string, d destination.Destination, version int64) map[string]types.AttributeValue {
	pk, sk := IngestTokenKey(hash)
	item := key(pk, sk)
	item["type"] = s("IngestToken")
	item["destinationId"] = s(d.ID)
	item["tenantId"] = s(d.TenantID)
	if d.ChecksAtIngest() {
		item[checksVersion] = n(strconv.FormatInt(version, 10))
	}
	return item
}

// CreateDestination writes the token lookup first, then the destination: a
// crash in between leaves only a token nobody was ever shown.
func (st *Store) CreateDestination(ctx context.Context, d destination.Destination) error {
	if err := st.putNew(ctx, tokenItem(d.TokenHash, d, d.Version)); err != nil {
		return fmt.Errorf("put ingest token of %s: %w", d.ID, err)
	}
	if err := st.putNew(ctx, destinationItem(d)); err != nil {
		_ = st.deleteToken(ctx, d.TokenHash)
		return fmt.Errorf("put destination %s: %w", d.ID, err)
	}
	return nil
}

func (st *Store) putNew(ctx context.Context, item map[string]types.AttributeValue) error {
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           st.table(),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return err
}

// GetDestination reads a destination with a strongly consistent read.
func (st *Store) GetDestination(ctx context.Context, id string) (destination.Destination, error) {
	pk, sk := DestinationKey(id)
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return destination.Destination{}, fmt.Errorf("get destination %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return destination.Destination{}, apperror.New(apperror.NotFound, "Destination %q was not found.", id)
	}
	return DecodeDestination(out.Item)
}

// ListDestinations reads every destination of a tenant through gsi1. The API
// sorts and filters in memory because total must count all matches anyway.
func (st *Store) ListDestinations(ctx context.Context, tenantID string) ([]destination.Destination, error) {
	var all []destination.Destination
	if !validTenantID(tenantID) {
		// No such tenant can exist, and DynamoDB would refuse the key with a
		// 5xx-mapped error.
		return all, nil
	}
	in := &dynamodb.QueryInput{
		TableName:              st.table(),
		IndexName:              aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :dest)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(TenantDestinationsIndexKey(tenantID)), ":dest": s(tenantDestinationsPrefix),
		},
	}
	for {
		out, err := st.DB.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query destinations of tenant %s: %w", tenantID, err)
		}
		for _, item := range out.Items {
			d, err := DecodeDestination(item)
			if err != nil {
				return nil, err
			}
			all = append(all, d)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return all, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// UpdateDestination replaces the destination item if nobody changed it since
// d was read, and returns it with its new version. resetBreaker also clears
// the circuit breaker, for a destination its owner sets Active again.
func (st *Store) UpdateDestination(ctx context.Context, d destination.Destination, resetBreaker bool) (destination.Destination, error) {
	// The breaker is reset first: if the put then fails, the caller's retry
	// resets it again, and a breaker reset under a destination that stays
	// Suspended only makes its probe due at once. The other order could
	// leave an Active destination with an open breaker.
	if resetBreaker {
		if err := st.ResetBreaker(ctx, d.ID); err != nil {
			return destination.Destination{}, err
		}
	}
	expected := d.Version
	d.Version++
	if d.ChecksAtIngest() {
		// Flagged before the destination has its checks: ingest never
		// sees checks configured yet skips them.
		if err := st.flagChecks(ctx, d.TokenHash, d.Version); err != nil {
			return destination.Destination{}, err
		}
	}
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 st.table(),
		Item:                      destinationItem(d),
		ConditionExpression:       aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": n(strconv.FormatInt(expected, 10))},
	})
	if isConditionFailed(err) {
		return destination.Destination{}, st.conflictOrGone(ctx, d.ID)
	}
	if err != nil {
		return destination.Destination{}, fmt.Errorf("put destination %s: %w", d.ID, err)
	}
	if !d.ChecksAtIngest() {
		st.unflagChecks(ctx, d.TokenHash, d.Version)
	}
	return d, nil
}

// DeleteDestination removes the token lookup first so ingest stops at once,
// then the destination and its delivery state. A state item that flags held
// events is kept: the flag is how the sweeper finds the held events left
// behind, drops them and clears it.
func (st *Store) DeleteDestination(ctx context.Context, d destination.Destination) error {
	if err := st.deleteToken(ctx, d.TokenHash); err != nil {
		return err
	}
	pk, sk := DestinationKey(d.ID)
	if _, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: st.table(), Key: key(pk, sk)}); err != nil {
		return fmt.Errorf("delete destination %s: %w", d.ID, err)
	}
	spk, ssk := DestinationStateKey(d.ID)
	_, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: st.table(), Key: key(spk, ssk), ConditionExpression: aws.String("attribute_not_exists(gsi2pk)"),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("delete destination %s: %w", d.ID, err)
	}
	return nil
}

// conflictOrGone explains a failed version condition as destination.Store
// documents it: NotFound if the destination was deleted, else Conflict.
func (st *Store) conflictOrGone(ctx context.Context, id string) error {
	if _, err := st.GetDestination(ctx, id); apperror.CodeOf(err) == apperror.NotFound {
		return err
	}
	return apperror.New(apperror.Conflict, "Destination %q was changed concurrently.", id)
}

func (st *Store) deleteToken(ctx context.Context, hash string) error {
	if hash == "" {
		return nil
	}
	pk, sk := IngestTokenKey(hash)
	if _, err := st.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: st.table(), Key: key(pk, sk)}); err != nil {
		return fmt.Errorf("delete ingest token: %w", err)
	}
	return nil
}

// ReplaceIngestToken retires the old token before the new one exists, so the
// old one is unusable even if a later step fails.
func (st *Store) ReplaceIngestToken(ctx context.Context, d destination.Destination, newHash string) error {
	if err := st.deleteToken(ctx, d.TokenHash); err != nil {
		return err
	}
	if err := st.putNew(ctx, tokenItem(newHash, d, d.Version+1)); err != nil {
		return fmt.Errorf("put ingest token of %s: %w", d.ID, err)
	}
	pk, sk := DestinationKey(d.ID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table(),
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET tokenHash = :h, version = version + :one"),
		ConditionExpression: aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":h": s(newHash), ":one": n("1"), ":v": n(strconv.FormatInt(d.Version, 10)),
		},
	})
	if err != nil {
		// Never leave a working token that no destination records.
		_ = st.deleteToken(ctx, newHash)
		if isConditionFailed(err) {
			return st.conflictOrGone(ctx, d.ID)
		}
		return fmt.Errorf("record new ingest token of %s: %w", d.ID, err)
	}
	return nil
}

// ReplaceSigningSecret writes d's signing secrets in one conditional update
// (nothing else of the item changes, so the function needs UpdateItem
// only), removing the previous-secret attributes when d has none.
func (st *Store) ReplaceSigningSecret(ctx context.Context, d destination.Destination) error {
	values := map[string]types.AttributeValue{":one": n("1"), ":v": n(strconv.FormatInt(d.Version, 10))}
	set := []string{"version = version + :one"}
	attrs := signingAttributes(d)
	var remove []string
	for _, name := range signingAttributeNames {
		if v, ok := attrs[name]; ok {
			set = append(set, name+" = :"+name)
			values[":"+name] = v
		} else {
			remove = append(remove, name)
		}
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	pk, sk := DestinationKey(d.ID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return st.conflictOrGone(ctx, d.ID)
	}
	if err != nil {
		return fmt.Errorf("record new signing secret of %s: %w", d.ID, err)
	}
	return nil
}

// ResolveIngestToken returns the destination and tenant a token belongs to
// (LookupIngestToken without the checks flag).
func (st *Store) ResolveIngestToken(ctx context.Context, hash string) (destinationID, tenantID string, found bool, err error) {
	o, found, err := st.LookupIngestToken(ctx, hash)
	return o.DestinationID, o.TenantID, found, err
}

// LookupIngestToken returns what a token belongs to, with a strongly
// consistent read so a replaced token fails at once.
func (st *Store) LookupIngestToken(ctx context.Context, hash string) (destination.TokenOwner, bool, error) {
	pk, sk := IngestTokenKey(hash)
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return destination.TokenOwner{}, false, fmt.Errorf("get ingest token: %w", err)
	}
	if len(out.Item) == 0 {
		return destination.TokenOwner{}, false, nil
	}
	o := destination.TokenOwner{DestinationID: getS(out.Item, "destinationId"), TenantID: getS(out.Item, "tenantId")}
	if _, ok := out.Item[checksVersion]; ok {
		v, err := strconv.ParseInt(getN(out.Item, checksVersion), 10, 64)
		if err != nil || v < 1 {
			v = 1 // corrupt: still a flag, so the checks are read
		}
		o.ChecksVersion = v
	}
	return o, true, nil
}

// ResetBreaker clears the circuit breaker of a destination.
func (st *Store) ResetBreaker(ctx context.Context, destinationID string) error {
	pk, sk := DestinationStateKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET failures = :zero, cooldownMs = :zero REMOVE openUntil, probeUntil, lastProbe"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":zero": n("0")},
	})
	if isConditionFailed(err) {
		return nil // no state (never delivered to, or deleted): nothing to reset
	}
	if err != nil {
		return fmt.Errorf("reset breaker of %s: %w", destinationID, err)
	}
	return nil
}
