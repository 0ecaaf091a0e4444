package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hooksentry/hooksentry/pkg/event"
)

// Key builders: the only place that knows how items are addressed. The
// layout is documented in docs/DATA_MODEL.md.

const (
	heldIndexPK  = "HELD"
	dueIndexPK   = "EVENTDUE"
	skHeldPrefix = "HELD#"

	skTenant      = "TENANT"
	skDestination = "DEST"
	skDestState   = "DEST#STATE"
	skToken       = "TOKEN"
	skEvent       = "EVENT"

	historyPKPrefix  = "EVT#"
	skRecordPrefix   = "E#"
	skResponsePrefix = "A#"
	skHourPrefix     = "H#"

	dedupPKPrefix = "DEDUP#"
	skDedup       = "DEDUP"
)

// DedupKey addresses the deduplication claim of a key fingerprint of a
// destination: a partition per claim, so claims of a busy destination
// spread over the table.
func DedupKey(destinationID, fingerprint string) (pk, sk string) {
	return dedupPKPrefix + destinationID + "#" + fingerprint, skDedup
}

// TenantKey addresses a tenant.
func TenantKey(tenantID string) (pk, sk string) { return "TENANT#" + tenantID, skTenant }

// DestinationKey addresses a destination. Its delivery state shares the
// partition so one Query reads both.
func DestinationKey(id string) (pk, sk string) { return "DEST#" + id, skDestination }

// DestinationStateKey addresses a destination's leases and breaker state.
func DestinationStateKey(id string) (pk, sk string) { return "DEST#" + id, skDestState }

// TenantDestinationsIndexKey is the gsi1 partition listing a tenant's
// destinations; the sort key orders them by creation.
func TenantDestinationsIndexKey(tenantID string) string { return "TENANT#" + tenantID }

const tenantDestinationsPrefix = "DEST#"

// TenantDestinationsIndexEntry is a destination's gsi1 entry: its tenant's
// partition, sorted by creation time then id.
func TenantDestinationsIndexEntry(tenantID string, createdAt time.Time, id string) (gsi1pk, gsi1sk string) {
	return TenantDestinationsIndexKey(tenantID), tenantDestinationsPrefix + createdAt.UTC().Format(timeLayout) + "#" + id
}

// IngestTokenKey addresses the lookup item of an ingest token by its hash.
func IngestTokenKey(hash string) (pk, sk string) { return "TOKEN#" + hash, skToken }

// EventKey addresses a stored event (bodies too large for a queue message,
// and events kept after their last failed attempt).
func EventKey(eventID string) (pk, sk string) { return "EVENT#" + eventID, skEvent }

// HeldEventKey addresses one hold of an event parked while its destination
// is not Active. Holds share the destination's partition, ordered by the
// time they were made; the nonce makes every hold's key its own, so a hold
// made again after a drain read the previous one is never deleted with it.
func HeldEventKey(destinationID string, heldAt time.Time, eventID, nonce string) (pk, sk string) {
	return "DEST#" + destinationID, fmt.Sprintf("%s%019d#%s#%s", skHeldPrefix, heldAt.UnixNano(), eventID, nonce)
}

// HeldEventsPrefix is the partition and sort-key prefix of a destination's holds.
func HeldEventsPrefix(destinationID string) (pk, skPrefix string) {
	return "DEST#" + destinationID, skHeldPrefix
}

// HeldIndexKey is the gsi2 entry of a destination state item while the
// destination has held events.
func HeldIndexKey(destinationID string) (gsi2pk, gsi2sk string) { return heldIndexPK, destinationID }

// DueIndexKey is the gsi2 entry of a Pending stored event, by due time.
func DueIndexKey(due time.Time, eventID string) (gsi2pk, gsi2sk string) {
	return dueIndexPK, fmt.Sprintf("%013d#%s", due.UnixMilli(), eventID)
}

// DueIndexBefore is the gsi2 sort-key bound of stored events due before t.
func DueIndexBefore(t time.Time) (gsi2pk, gsi2skBound string) {
	return dueIndexPK, fmt.Sprintf("%013d", t.UnixMilli())
}

// EventIDOfKey returns the event id of a stored event's pk.
func EventIDOfKey(pk string) (string, bool) {
	id, ok := strings.CutPrefix(pk, "EVENT#")
	return id, ok && id != ""
}

// EventRecordKey addresses the history record of an event: the partition of
// its route (the first 10 hex digits of its destination's id, carried by
// the id), sorted by id, that is by receipt time. ok is false for an id
// that is not an event id of event.NewID (no record can exist for it).
func EventRecordKey(eventID string) (pk, sk string, ok bool) {
	id, ok := event.ParseID(eventID)
	if !ok {
		return "", "", false
	}
	return historyPKPrefix + id.Route, skRecordPrefix + eventID, true
}

// EventIDOfRecordKey returns the event id of a history record's sk.
func EventIDOfRecordKey(sk string) (string, bool) {
	id, ok := strings.CutPrefix(sk, skRecordPrefix)
	return id, ok && id != ""
}

// EventRecordRange is the partition and the inclusive sort-key bounds of
// the records of destinationID received in [from, to] (zero: open), to the
// millisecond. Ids start with the receipt time, so a time range is a key
// range; "~" sorts after every character of an id, so the upper bound takes
// every id of to's millisecond. ok is false when the range is empty.
// Records of another destination with the same route share the partition:
// readers filter on the destination.
func EventRecordRange(destinationID string, from, to time.Time) (pk, lo, hi string, ok bool) {
	pk, lo, hi = historyPKPrefix+event.Route(destinationID), skRecordPrefix, skRecordPrefix+"~"
	// An id carries whole milliseconds: a bound between two of them
	// rounds inwards (from up, to down).
	fromMs, toMs := int64(0), int64(maxIDMillis)
	if !from.IsZero() {
		if fromMs = from.UnixMilli(); time.UnixMilli(fromMs).Before(from) {
			fromMs++
		}
	}
	if !to.IsZero() {
		if toMs = to.UnixMilli(); time.UnixMilli(toMs).After(to) { // before 1970
			toMs--
		}
	}
	fromMs, toMs = max(fromMs, 0), min(toMs, maxIDMillis)
	if fromMs > toMs {
		return "", "", "", false
	}
	if fromMs > 0 {
		lo += event.IDPrefix(time.UnixMilli(fromMs))
	}
	if toMs < maxIDMillis {
		hi = skRecordPrefix + event.IDPrefix(time.UnixMilli(toMs)) + "~"
	}
	return pk, lo, hi, true
}

// maxIDMillis is the last millisecond an event id can carry (48 bits).
const maxIDMillis = 1<<48 - 1

// HourCountKey addresses the counts by status of a destination's records
// received in the UTC hour that starts at hour, in its history partition
// (the destination id in the sk keeps routes that two destinations share
// apart).
func HourCountKey(destinationID string, hour time.Time) (pk, sk string) {
	return historyPKPrefix + event.Route(destinationID), fmt.Sprintf("%s%013d#%s", skHourPrefix, hour.UTC().Truncate(time.Hour).UnixMilli(), destinationID)
}

// AttemptResponseKey addresses the kept answer to a failed attempt of an
// event, beside its record (the record stays one small item; only failed
// attempts that got an answer pay for a second one).
func AttemptResponseKey(eventID string, number int) (pk, sk string, ok bool) {
	pk, prefix, ok := AttemptResponsesPrefix(eventID)
	if !ok {
		return "", "", false
	}
	return pk, fmt.Sprintf("%s%06d", prefix, number), true
}

// AttemptResponsesPrefix is the partition and sort-key prefix of the kept
// answers of an event's attempts.
func AttemptResponsesPrefix(eventID string) (pk, skPrefix string, ok bool) {
	pk, _, ok = EventRecordKey(eventID)
	if !ok {
		return "", "", false
	}
	return pk, skResponsePrefix + eventID + "#", true
}

// AttemptNumberOfResponseKey returns the attempt number of a kept answer's sk.
func AttemptNumberOfResponseKey(sk string) (int, bool) {
	i := strings.LastIndexByte(sk, '#')
	if !strings.HasPrefix(sk, skResponsePrefix) || i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(sk[i+1:])
	return n, err == nil
}
