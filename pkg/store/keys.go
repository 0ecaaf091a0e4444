package store

import (
	"fmt"
	"strings"
	"time"
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
)

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
