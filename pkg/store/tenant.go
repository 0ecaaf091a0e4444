package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hooksentry/hooksentry/pkg/destination"
)

// Tenant is an organisation that owns destinations.
type Tenant struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"createdAt"`
}

// CreateTenant stores a new tenant; it fails if the id is taken.
func (st *Store) CreateTenant(ctx context.Context, t Tenant) error {
	pk, sk := TenantKey(t.ID)
	item := key(pk, sk)
	item["type"] = s("Tenant")
	item["id"] = s(t.ID)
	item["name"] = s(t.Name)
	item["createdAt"] = s(t.CreatedAt)
	_, err := st.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           st.table(),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return fmt.Errorf("put tenant %s: %w", t.ID, err)
	}
	return nil
}

// TenantExists reports whether the tenant exists, with a strongly
// consistent read of its key only.
func (st *Store) TenantExists(ctx context.Context, tenantID string) (bool, error) {
	if !validTenantID(tenantID) {
		return false, nil
	}
	pk, sk := TenantKey(tenantID)
	out, err := st.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            st.table(),
		Key:                  key(pk, sk),
		ConsistentRead:       aws.Bool(true),
		ProjectionExpression: aws.String("pk"),
	})
	if err != nil {
		return false, fmt.Errorf("get tenant %s: %w", tenantID, err)
	}
	return len(out.Item) > 0, nil
}

// NewTenantTime formats a tenant's creation time like every API timestamp.
func NewTenantTime(t time.Time) string {
	return destination.FormatTime(t)
}

// validTenantID reports whether a tenant id can name a stored tenant; longer
// ids than any tenant has would also exceed DynamoDB's key limits.
func validTenantID(tenantID string) bool {
	return tenantID != "" && len(tenantID) <= 256
}
