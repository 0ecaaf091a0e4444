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
	"github.com/hooksentry/hooksentry/pkg/delivery"
	"github.com/hooksentry/hooksentry/pkg/destination"
)

// The delivery state item (DEST#<id> / DEST#STATE) holds:
//   leases      M  leaseId -> "slots:expiresUnixMs"
//   lver        N  lease version, bumped by every lease change
//   failures    N  consecutive failed attempts
//   openUntil   N  Unix ms; cooldownMs N; probeUntil N
//   gsi2pk/sk      "HELD" / destination id while events are parked

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func decodeState(item map[string]types.AttributeValue) delivery.State {
	st := delivery.State{Leases: map[string]delivery.Lease{}}
	if m, ok := item["leases"].(*types.AttributeValueMemberM); ok {
		for id, v := range m.Value {
			sv, ok := v.(*types.AttributeValueMemberS)
			if !ok {
				continue
			}
			slots, exp, _ := strings.Cut(sv.Value, ":")
			n, err1 := strconv.Atoi(slots)
			e, err2 := strconv.ParseInt(exp, 10, 64)
			if err1 == nil && err2 == nil {
				st.Leases[id] = delivery.Lease{Slots: n, Expires: time.UnixMilli(e)}
			}
		}
	}
	num := func(name string) int64 {
		v, _ := strconv.ParseInt(getN(item, name), 10, 64)
		return v
	}
	st.LeaseVersion = num("lver")
	st.Failures = int(num("failures"))
	if v := num("openUntil"); v > 0 {
		st.OpenUntil = time.UnixMilli(v)
	}
	if v := num("probeUntil"); v > 0 {
		st.ProbeUntil = time.UnixMilli(v)
	}
	st.Cooldown = time.Duration(num("cooldownMs")) * time.Millisecond
	st.LastProbe = getS(item, "lastProbe")
	return st
}

// LoadTarget reads a destination and its delivery state with one strongly
// consistent Query of their shared partition (one read unit for both).
func (st *Store) LoadTarget(ctx context.Context, destinationID string) (destination.Destination, delivery.State, bool, error) {
	pk, _ := DestinationKey(destinationID)
	out, err := st.DB.Query(ctx, &dynamodb.QueryInput{
		TableName:              st.table(),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :dest)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": s(pk), ":dest": s(skDestination),
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return destination.Destination{}, delivery.State{}, false, fmt.Errorf("load destination %s: %w", destinationID, err)
	}
	var d destination.Destination
	state := delivery.State{Leases: map[string]delivery.Lease{}}
	found, hasState := false, false
	for _, item := range out.Items {
		switch getS(item, "sk") {
		case skDestination:
			if d, err = DecodeDestination(item); err != nil {
				return destination.Destination{}, delivery.State{}, false, err
			}
			found = true
		case skDestState:
			state, hasState = decodeState(item), true
		}
	}
	if found && !hasState {
		if err := st.createState(ctx, destinationID); err != nil {
			return destination.Destination{}, delivery.State{}, false, err
		}
	}
	return d, state, found, nil
}

// createState writes the empty delivery state of a destination the first
// time a worker reads it. Every later state write is conditional on the
// item existing, so none re-creates the state of a deleted destination.
func (st *Store) createState(ctx context.Context, destinationID string) error {
	pk, sk := DestinationStateKey(destinationID)
	item := key(pk, sk)
	item["type"] = s("DeliveryState")
	item["lver"] = n("0")
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table(), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("create delivery state of %s: %w", destinationID, err)
	}
	return nil
}

// LoadState reads only the delivery state, for a worker waiting for slots.
func (st *Store) LoadState(ctx context.Context, destinationID string) (delivery.State, error) {
	pk, sk := DestinationStateKey(destinationID)
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table(), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return delivery.State{}, fmt.Errorf("load state of %s: %w", destinationID, err)
	}
	if len(out.Item) == 0 {
		return delivery.State{}, apperror.New(apperror.NotFound, "destination %s has no delivery state", destinationID)
	}
	return decodeState(out.Item), nil
}

// leaseCondition guards a lease write: the version read, on an existing
// item (never re-creating a deleted destination's state). A state item
// written before it ever held a lease (by an older version that flagged
// held events or reset the breaker with an upsert) has no lver: version 0
// matches it.
func leaseCondition(version int64) string {
	if version == 0 {
		return "attribute_exists(pk) AND (attribute_not_exists(lver) OR lver = :v)"
	}
	return "lver = :v"
}

// WriteLeases replaces the lease map if no other worker changed it since
// version was read; otherwise it returns an apperror Conflict.
func (st *Store) WriteLeases(ctx context.Context, destinationID string, leases map[string]delivery.Lease, version int64) error {
	pk, sk := DestinationStateKey(destinationID)
	m := make(map[string]types.AttributeValue, len(leases))
	for id, l := range leases {
		m[id] = s(strconv.Itoa(l.Slots) + ":" + ms(l.Expires))
	}
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table(),
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET leases = :m, lver = :next"),
		ConditionExpression: aws.String(leaseCondition(version)),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":m": &types.AttributeValueMemberM{Value: m}, ":v": n(strconv.FormatInt(version, 10)),
			":next": n(strconv.FormatInt(version+1, 10)),
		},
	})
	if isConditionFailed(err) {
		// Or the item is gone: the caller's LoadState tells (NotFound), at
		// no extra read on the contended path.
		return apperror.New(apperror.Conflict, "leases of %s changed concurrently", destinationID)
	}
	if err != nil {
		return fmt.Errorf("write leases of %s: %w", destinationID, err)
	}
	return nil
}

// ReleaseLease gives back a lease and records the batch's outcome for the
// circuit breaker in the same write. It returns the consecutive failures
// after the update.
func (st *Store) ReleaseLease(ctx context.Context, destinationID, leaseID string, o delivery.Outcome) (int, error) {
	pk, sk := DestinationStateKey(destinationID)
	expr := "REMOVE leases.#id SET lver = lver + :one"
	values := map[string]types.AttributeValue{":one": n("1")}
	switch {
	case o.Succeeded:
		expr += ", failures = :f"
		values[":f"] = n(strconv.Itoa(o.TrailingFailures))
	case o.TrailingFailures > 0:
		expr += " ADD failures :f"
		values[":f"] = n(strconv.Itoa(o.TrailingFailures))
	}
	out, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(leases)"),
		ExpressionAttributeNames:  map[string]string{"#id": leaseID},
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return 0, nil // the state was reset or deleted; nothing to release
	}
	if err != nil {
		return 0, fmt.Errorf("release lease of %s: %w", destinationID, err)
	}
	f, _ := strconv.Atoi(getN(out.Attributes, "failures"))
	return f, nil
}

// Suspend opens the circuit breaker: the destination becomes Suspended (if
// it is still Active) and no probe happens before openUntil.
func (st *Store) Suspend(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration) (bool, error) {
	dpk, dsk := DestinationKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(dpk, dsk),
		UpdateExpression:          aws.String("SET #st = :susp, version = version + :one"),
		ConditionExpression:       aws.String("#st = :active"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":susp": s(string(destination.Suspended)), ":active": s(string(destination.Active)), ":one": n("1")},
	})
	if isConditionFailed(err) {
		return false, nil // already Suspended, or made Inactive, or deleted
	}
	if err != nil {
		return false, fmt.Errorf("suspend %s: %w", destinationID, err)
	}
	return true, st.setOpen(ctx, destinationID, openUntil, cooldown, "")
}

// setOpen keeps the breaker open; lastProbe is the event of the probe that
// just failed ("" when the breaker opens).
func (st *Store) setOpen(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration, lastProbe string) error {
	pk, sk := DestinationStateKey(destinationID)
	expr := "SET openUntil = :o, cooldownMs = :c REMOVE probeUntil, lastProbe"
	values := map[string]types.AttributeValue{
		":o": n(ms(openUntil)), ":c": n(strconv.FormatInt(cooldown.Milliseconds(), 10)),
	}
	if lastProbe != "" {
		expr = "SET openUntil = :o, cooldownMs = :c, lastProbe = :p REMOVE probeUntil"
		values[":p"] = s(lastProbe)
	}
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return nil // deleted meanwhile: nothing to keep open
	}
	if err != nil {
		return fmt.Errorf("open breaker of %s: %w", destinationID, err)
	}
	return nil
}

// ClaimProbe lets exactly one worker probe a Suspended destination whose
// cooldown has passed.
func (st *Store) ClaimProbe(ctx context.Context, destinationID string, now, until time.Time) (bool, error) {
	pk, sk := DestinationStateKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           st.table(),
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET probeUntil = :until"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(openUntil) OR openUntil <= :now) AND (attribute_not_exists(probeUntil) OR probeUntil <= :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":until": n(ms(until)), ":now": n(ms(now)),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim probe of %s: %w", destinationID, err)
	}
	return true, nil
}

// ProbeFailed keeps the breaker open for a longer cooldown.
func (st *Store) ProbeFailed(ctx context.Context, destinationID string, openUntil time.Time, cooldown time.Duration, eventID string) error {
	return st.setOpen(ctx, destinationID, openUntil, cooldown, eventID)
}

// Reactivate closes the breaker after a successful probe: the destination
// is Active again if it is still Suspended (its owner may have changed it).
func (st *Store) Reactivate(ctx context.Context, destinationID string) (bool, error) {
	dpk, dsk := DestinationKey(destinationID)
	_, err := st.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 st.table(),
		Key:                       key(dpk, dsk),
		UpdateExpression:          aws.String("SET #st = :active, version = version + :one"),
		ConditionExpression:       aws.String("#st = :susp"),
		ExpressionAttributeNames:  map[string]string{"#st": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":susp": s(string(destination.Suspended)), ":active": s(string(destination.Active)), ":one": n("1")},
	})
	if isConditionFailed(err) {
		return false, st.ResetBreaker(ctx, destinationID)
	}
	if err != nil {
		return false, fmt.Errorf("reactivate %s: %w", destinationID, err)
	}
	return true, st.ResetBreaker(ctx, destinationID)
}

var _ delivery.Store = (*Store)(nil)
