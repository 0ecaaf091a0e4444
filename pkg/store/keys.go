package store

// Key builders: the only place that knows how items are addressed. The
// layout is documented in docs/DATA_MODEL.md.

const (
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

// IngestTokenKey addresses the lookup item of an ingest token by its hash.
func IngestTokenKey(hash string) (pk, sk string) { return "TOKEN#" + hash, skToken }

// EventKey addresses a stored event (bodies too large for a queue message,
// and events kept after their last failed attempt).
func EventKey(eventID string) (pk, sk string) { return "EVENT#" + eventID, skEvent }

// HeldEventKey addresses an event parked while its destination is not
// Active. Held events share the destination's partition, ordered by time.
func HeldEventKey(destinationID, orderKey string) (pk, sk string) {
	return "DEST#" + destinationID, "HELD#" + orderKey
}
