package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/local/devauth"
	"github.com/hooksentry/hooksentry/pkg/local/emulator"
	"github.com/hooksentry/hooksentry/pkg/store"
)

// Which bearer token an API command sends, in this order:
//
//  1. --token JWT
//  2. HOOKSENTRY_TOKEN
//  3. local stack only: a token minted with the state directory's key
//     (like `hooksentry token`) for --tenant ID, else HOOKSENTRY_TENANT,
//  4. else for the tenant that owns the destination or event the command
//     is about, found in the running local stack's table (a command about
//     no existing resource, such as destinations create, fails instead).
//
// Against a deployed API (--api, HOOKSENTRY_API_URL) only 1 and 2 apply.

// mintTTL is the lifetime of a minted token: tokens are minted per request,
// so it only has to cover one.
const mintTTL = 5 * time.Minute

// subject names what a command is about, to find its tenant in the local
// table when none was given.
type subject struct {
	destinationID string
	eventID       string
}

// bearer resolves the token source for target; flagToken and flagTenant are
// --token and --tenant.
func bearer(ctx context.Context, target apiTarget, flagToken, flagTenant string, about subject) (func() (string, error), error) {
	for _, tok := range []string{flagToken, os.Getenv("HOOKSENTRY_TOKEN")} {
		if tok = cleanToken(tok); tok != "" {
			return func() (string, error) { return tok, nil }, nil
		}
	}
	if !target.local {
		return nil, fmt.Errorf("no token for %s: pass --token JWT or set HOOKSENTRY_TOKEN (tokens are minted only for the local stack)", target.baseURL)
	}
	tenant := strings.TrimSpace(flagTenant)
	if tenant == "" {
		tenant = strings.TrimSpace(os.Getenv("HOOKSENTRY_TENANT"))
	}
	if tenant == "" && about == (subject{}) {
		// destinations create and list: there is no resource whose owner
		// could be looked up, and guessing a tenant would be wrong.
		return nil, errors.New("no tenant: pass --tenant ID or set HOOKSENTRY_TENANT (the local stack mints a token for it), or pass --token JWT")
	}
	if tenant == "" {
		var err error
		if tenant, err = findTenant(ctx, about); err != nil {
			return nil, err
		}
	}
	iss, err := devauth.LoadOrCreateIssuer(stateDir())
	if err != nil {
		return nil, err
	}
	return func() (string, error) { return iss.Mint(tenant, mintTTL) }, nil
}

// cleanToken accepts a token pasted with its "Bearer " scheme or a trailing
// newline.
func cleanToken(tok string) string {
	tok = strings.TrimSpace(tok)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	return tok
}

// localTable is the part of the DynamoDB client the tenant look-up uses.
type localTable interface {
	store.DynamoDB
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// openLocalTable connects to the DynamoDB emulator of the running local
// stack. Unlike tenant create it never starts the emulators: without a
// running stack there is no API to call either. A variable for tests.
var openLocalTable = func(context.Context) (localTable, string, error) {
	s, ok := runningStackState()
	if !ok {
		return nil, "", fmt.Errorf("no running local stack found in %s (start it with make run)", stateDir())
	}
	cfg := aws.Config{
		Region: emulator.Region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "hooksentry local stack"}, nil
		}),
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.DynamoDBEndpoint) })
	return db, s.TableName, nil
}

// findTenant finds the tenant that owns about in the local table.
func findTenant(ctx context.Context, about subject) (string, error) {
	what := "destination " + about.destinationID
	if about.destinationID == "" {
		what = "event " + about.eventID
	}
	hint := "pass --tenant ID, set HOOKSENTRY_TENANT, or pass --token JWT"
	db, table, err := openLocalTable(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot look up the tenant of %s: %w; %s", what, err, hint)
	}
	var tenant string
	if about.destinationID != "" {
		tenant, err = destinationTenant(ctx, db, table, about.destinationID)
	} else {
		tenant, err = eventTenant(ctx, db, table, about.eventID)
	}
	if err != nil {
		return "", fmt.Errorf("cannot look up the tenant of %s: %w; %s", what, err, hint)
	}
	return tenant, nil
}

func destinationTenant(ctx context.Context, db localTable, table, id string) (string, error) {
	d, err := store.New(db, table).GetDestination(ctx, id)
	if apperror.CodeOf(err) == apperror.NotFound {
		return "", errors.New("it is not in the local table")
	}
	if err != nil {
		return "", err
	}
	return d.TenantID, nil
}

// eventTenant finds the destination an event id routes to (pkg/event: the
// id carries the first 10 hex digits of its destination's id) and returns
// its tenant.
//
// It Scans the table's destination items. That reads the whole table, which
// is acceptable only here: in a local developer tool, on the local table,
// and only when the user gave neither a tenant nor a token. The API never
// does this; it reads an event by its key.
func eventTenant(ctx context.Context, db localTable, table, eventID string) (string, error) {
	id, ok := event.ParseID(strings.ToLower(eventID))
	if !ok {
		return "", errors.New("it is not a HookSentry event id")
	}
	_, sk := store.DestinationKey("")
	// Destination ids are lower-case UUIDs: the route's 10 digits are the
	// first 8, a dash, and 2 more.
	prefix := id.Route[:8] + "-" + id.Route[8:]
	in := &dynamodb.ScanInput{
		TableName:            aws.String(table),
		FilterExpression:     aws.String("#sk = :sk AND begins_with(#id, :prefix)"),
		ProjectionExpression: aws.String("#id, #tenant"),
		ExpressionAttributeNames: map[string]string{
			"#sk": "sk", "#id": "id", "#tenant": "tenantId",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sk":     &types.AttributeValueMemberS{Value: sk},
			":prefix": &types.AttributeValueMemberS{Value: prefix},
		},
	}
	tenants := map[string]bool{}
	for {
		out, err := db.Scan(ctx, in)
		if err != nil {
			return "", fmt.Errorf("scan %s: %w", table, err)
		}
		for _, item := range out.Items {
			if event.Route(attrS(item, "id")) != id.Route {
				continue
			}
			if t := attrS(item, "tenantId"); t != "" {
				tenants[t] = true
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	names := make([]string, 0, len(tenants))
	for t := range tenants {
		names = append(names, t)
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		return "", errors.New("no destination in the local table matches it (deleted?)")
	case 1:
		return names[0], nil
	}
	return "", fmt.Errorf("destinations of several tenants match it (%s)", strings.Join(names, ", "))
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
