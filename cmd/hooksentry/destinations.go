package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// `hooksentry destinations ...`: the destination routes of the management
// API (CONTRACT §1), against the local stack or a deployed API, with the
// same --api, --token, --tenant and --json as the events commands.

const destinationsUsage = `usage:
  hooksentry destinations create --url URL [SETTINGS]
  hooksentry destinations list [--status S] [--auth-type T] [--url SUBSTR] [--page N] [--size N] [--sort FIELD] [--asc]
  hooksentry destinations get ID
  hooksentry destinations update ID [SETTINGS] [--url URL] [--status active|inactive] [--remove-auth] [--no-verification] [--no-dedup]
  hooksentry destinations delete ID
  hooksentry destinations rotate-token ID     new ingest token; the old one stops working at once
  hooksentry destinations rotate-secret ID    new signing secret; the old one keeps signing for 24 hours

SETTINGS (create and update; only what is given is sent):
  --rate-limit N                       serverRateLimit, 1 to 1000 (default 5)
  --bearer-token T                     authType BearerToken
  --api-key-header H --api-key V       authType ApiKey
  --basic-user U [--basic-password P]  authType BasicAuth
  --auth-type T --credentials JSON     any authType, e.g. JwtBearer with
                                       {"tokenEndpoint":...,"clientId":...,"clientSecret":...,"scope":...}
  --verification JSON                  e.g. {"type":"Stripe","secret":"whsec_..."}
  --dedup-key header:NAME|body:PATH [--dedup-window 1h]
  --alerts a,b                         destination.suspended, destination.recovered, event.failed
                                       ('' for none)
  --body JSON                          send this request body instead of the flags above
JSON values may be given as @FILE to read them from a file (keeps secrets out
of shell history and ps).

create prints the ingest token and signing secret: they are shown once, so
store them; rotate-token and rotate-secret issue new ones.

Every destinations command also takes:
  --json          print the API's JSON answer instead of a table
  --api URL       a deployed API (default: HOOKSENTRY_API_URL, else the local
                  stack at http://HOOKSENTRY_LOCAL_ADDR, 127.0.0.1:8080)
  --token JWT     bearer token (default: HOOKSENTRY_TOKEN; required with --api)
  --tenant ID     local stack without a token: mint one for this tenant
                  (default: HOOKSENTRY_TENANT; create and list need one of
                  them, the others look up the destination's owner)
Flags may come before or after ID.
`

func destinations(args []string, stdout, stderr io.Writer) error {
	c := destinationsCommand{apiCommand{group: "destinations", usage: destinationsUsage, stdout: stdout, stderr: stderr}}
	return dispatch("destinations", destinationsUsage, args, stderr, map[string]subcommand{
		"create": c.create,
		"list":   c.list,
		"get":    c.get,
		"update": c.update,
		"delete": c.delete,
		"rotate-token": func(ctx context.Context, args []string) error {
			return c.rotate(ctx, args, "rotate-token", "/ingest-token")
		},
		"rotate-secret": func(ctx context.Context, args []string) error {
			return c.rotate(ctx, args, "rotate-secret", "/signing-secret")
		},
	})
}

type destinationsCommand struct{ apiCommand }

func destPath(id, suffix string) string {
	return "/api/v1/destinations/" + url.PathEscape(id) + suffix
}

// oneID parses a command that takes exactly one destination ID.
func (c *destinationsCommand) oneID(fs *flag.FlagSet, cmd string, args []string) (string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return "", fmt.Errorf("destinations %s: give exactly one destination ID", cmd)
	}
	return strings.TrimSpace(pos[0]), nil
}

// settingsFlags are the flags create and update share; body turns the ones
// given into a request body.
type settingsFlags struct {
	fs *flag.FlagSet

	url, authType, credentials, bearerToken    string
	apiKeyHeader, apiKey, basicUser, basicPass string
	verification, dedupKey, dedupWindow        string
	alerts, rawBody                            string
	rateLimit                                  int
}

func newSettingsFlags(fs *flag.FlagSet) *settingsFlags {
	s := &settingsFlags{fs: fs}
	fs.StringVar(&s.url, "url", "", "destination URL (https)")
	fs.IntVar(&s.rateLimit, "rate-limit", 0, "serverRateLimit: requests in flight at most, 1 to 1000")
	fs.StringVar(&s.authType, "auth-type", "", "authType: ApiKey, BearerToken, JwtBearer or BasicAuth (with --credentials)")
	fs.StringVar(&s.credentials, "credentials", "", "credentials JSON object (or @FILE)")
	fs.StringVar(&s.bearerToken, "bearer-token", "", "authType BearerToken with this token")
	fs.StringVar(&s.apiKeyHeader, "api-key-header", "", "authType ApiKey: header name (with --api-key)")
	fs.StringVar(&s.apiKey, "api-key", "", "authType ApiKey: header value (with --api-key-header)")
	fs.StringVar(&s.basicUser, "basic-user", "", "authType BasicAuth: user name")
	fs.StringVar(&s.basicPass, "basic-password", "", "authType BasicAuth: password (with --basic-user)")
	fs.StringVar(&s.verification, "verification", "", "verification JSON object (or @FILE)")
	fs.StringVar(&s.dedupKey, "dedup-key", "", "deduplication key: header:NAME or body:dot.path")
	fs.StringVar(&s.dedupWindow, "dedup-window", "", "deduplication window, 1s to 24h (default 1h; with --dedup-key)")
	fs.StringVar(&s.alerts, "alerts", "", "comma-separated alert types ('' for none)")
	fs.StringVar(&s.rawBody, "body", "", "raw JSON request body (or @FILE) instead of the other settings")
	return s
}

// jsonValue reads a JSON flag value, inline or from @FILE, and checks that
// it is JSON, so a typo is reported here rather than as the API's 400.
func jsonValue(name, v string) (json.RawMessage, error) {
	data := []byte(v)
	if strings.HasPrefix(v, "@") {
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		data = b
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("--%s: not valid JSON", name)
	}
	return json.RawMessage(data), nil
}

// body builds the request body from the flags given (set). In update,
// extra holds what only update has (status, removeAuth, nulls).
func (s *settingsFlags) body(set map[string]bool, extra map[string]any) (any, error) {
	if set["body"] {
		for name := range set {
			if _, isSetting := settingNames[name]; isSetting && name != "body" {
				return nil, fmt.Errorf("--body replaces the other settings; do not combine it with --%s", name)
			}
		}
		return jsonValue("body", s.rawBody)
	}
	b := map[string]any{}
	if set["url"] {
		b["url"] = s.url
	}
	if set["rate-limit"] {
		b["serverRateLimit"] = s.rateLimit
	}
	if err := s.auth(set, b); err != nil {
		return nil, err
	}
	if set["verification"] {
		v, err := jsonValue("verification", s.verification)
		if err != nil {
			return nil, err
		}
		b["verification"] = v
	}
	if set["dedup-window"] && !set["dedup-key"] {
		return nil, errors.New("--dedup-window goes with --dedup-key")
	}
	if set["dedup-key"] {
		d := map[string]string{"key": s.dedupKey}
		if set["dedup-window"] {
			d["window"] = s.dedupWindow
		}
		b["deduplication"] = d
	}
	if set["alerts"] {
		// Sent only when given: an empty value clears the list.
		alerts := []string{}
		for _, a := range strings.Split(s.alerts, ",") {
			if a = strings.TrimSpace(a); a != "" {
				alerts = append(alerts, a)
			}
		}
		b["alerts"] = alerts
	}
	for k, v := range extra {
		if _, dup := b[k]; dup {
			return nil, fmt.Errorf("conflicting flags for %s", k)
		}
		b[k] = v
	}
	return b, nil
}

// settingNames are the flags that build the body (for --body's check).
var settingNames = map[string]struct{}{
	"url": {}, "rate-limit": {}, "auth-type": {}, "credentials": {}, "bearer-token": {},
	"api-key-header": {}, "api-key": {}, "basic-user": {}, "basic-password": {},
	"verification": {}, "dedup-key": {}, "dedup-window": {}, "alerts": {}, "body": {},
	"status": {}, "remove-auth": {}, "no-verification": {}, "no-dedup": {},
}

// auth adds authType and credentials from one of the four ways to give
// them; two ways at once are refused rather than one silently winning.
func (s *settingsFlags) auth(set map[string]bool, b map[string]any) error {
	var ways []string
	if set["auth-type"] || set["credentials"] {
		ways = append(ways, "--auth-type/--credentials")
	}
	if set["bearer-token"] {
		ways = append(ways, "--bearer-token")
	}
	if set["api-key-header"] || set["api-key"] {
		ways = append(ways, "--api-key-header/--api-key")
	}
	if set["basic-user"] || set["basic-password"] {
		ways = append(ways, "--basic-user/--basic-password")
	}
	if len(ways) > 1 {
		return fmt.Errorf("give one way of authenticating, not %s", strings.Join(ways, " and "))
	}
	switch {
	case set["bearer-token"]:
		b["authType"] = "BearerToken"
		b["credentials"] = map[string]string{"token": s.bearerToken}
	case set["api-key-header"] || set["api-key"]:
		if !set["api-key-header"] || !set["api-key"] {
			return errors.New("--api-key-header and --api-key go together")
		}
		b["authType"] = "ApiKey"
		b["credentials"] = map[string]string{"headerName": s.apiKeyHeader, "value": s.apiKey}
	case set["basic-user"] || set["basic-password"]:
		if !set["basic-user"] {
			return errors.New("--basic-password goes with --basic-user")
		}
		cred := map[string]string{"username": s.basicUser}
		if set["basic-password"] {
			cred["password"] = s.basicPass
		}
		b["authType"] = "BasicAuth"
		b["credentials"] = cred
	default:
		// --auth-type and --credentials are sent as given: the API says
		// what is missing (in an update, credentials alone replace the
		// secret of the current authType).
		if set["auth-type"] {
			b["authType"] = s.authType
		}
		if set["credentials"] {
			c, err := jsonValue("credentials", s.credentials)
			if err != nil {
				return err
			}
			b["credentials"] = c
		}
	}
	return nil
}

func visited(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func (c *destinationsCommand) create(ctx context.Context, args []string) error {
	fs := c.flags("create")
	s := newSettingsFlags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("destinations create: unexpected argument %q", pos[0])
	}
	set := visited(fs)
	if !set["url"] && !set["body"] {
		return errors.New("destinations create: --url is required")
	}
	body, err := s.body(set, nil)
	if err != nil {
		return fmt.Errorf("destinations create: %w", err)
	}
	cl, err := c.client(ctx, subject{})
	if err != nil {
		return fmt.Errorf("destinations create: %w", err)
	}
	raw, err := cl.do(ctx, http.MethodPost, "/api/v1/destinations", nil, body)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer, raw []byte) error { return renderDestination(w, raw, cl.base) })
}

func (c *destinationsCommand) list(ctx context.Context, args []string) error {
	fs := c.flags("list")
	status := fs.String("status", "", "only destinations with this status (Active, Inactive, Suspended)")
	authType := fs.String("auth-type", "", "only destinations with this authType")
	urlSub := fs.String("url", "", "only destinations whose URL contains this (case-insensitive)")
	page := fs.Int("page", 0, "page number, from 1 (default 1)")
	size := fs.Int("size", 0, "page size, 1 to 100 (default 10)")
	sortBy := fs.String("sort", "", "sort field: id, url, status, serverRateLimit, authType, createdAt (default), updatedAt")
	asc := fs.Bool("asc", false, "ascending (default: descending)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("destinations list: unexpected argument %q", pos[0])
	}
	set := visited(fs)
	q := url.Values{}
	for name, v := range map[string]string{"status": *status, "authType": *authType, "url": *urlSub, "CpOrd": *sortBy} {
		if v != "" {
			q.Set(name, v)
		}
	}
	// Paging values are checked by the API (its 400 names the limits);
	// here only what the flag package would otherwise hide.
	if set["page"] {
		q.Set("Pg", strconv.Itoa(*page))
	}
	if set["size"] {
		q.Set("Qt", strconv.Itoa(*size))
	}
	if *asc {
		q.Set("TpOrd", "Asc")
	}
	cl, err := c.client(ctx, subject{})
	if err != nil {
		return fmt.Errorf("destinations list: %w", err)
	}
	raw, err := cl.do(ctx, http.MethodGet, "/api/v1/destinations", q, nil)
	if err != nil {
		return err
	}
	return c.print(raw, renderDestinationList)
}

func (c *destinationsCommand) get(ctx context.Context, args []string) error {
	id, err := c.oneID(c.flags("get"), "get", args)
	if err != nil {
		return err
	}
	cl, err := c.client(ctx, subject{destinationID: id})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodGet, destPath(id, ""), nil, nil)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer, raw []byte) error { return renderDestination(w, raw, cl.base) })
}

func (c *destinationsCommand) update(ctx context.Context, args []string) error {
	fs := c.flags("update")
	s := newSettingsFlags(fs)
	status := fs.String("status", "", "active or inactive (active also resets the circuit breaker)")
	removeAuth := fs.Bool("remove-auth", false, "remove authentication")
	noVerification := fs.Bool("no-verification", false, "remove verification")
	noDedup := fs.Bool("no-dedup", false, "remove deduplication")
	id, err := c.oneID(fs, "update", args)
	if err != nil {
		return err
	}
	set := visited(fs)
	extra := map[string]any{}
	if set["status"] {
		extra["status"] = *status
	}
	if *removeAuth {
		for _, f := range []string{"auth-type", "credentials", "bearer-token", "api-key-header", "api-key", "basic-user", "basic-password"} {
			if set[f] {
				return fmt.Errorf("destinations update: --remove-auth and --%s contradict each other", f)
			}
		}
		extra["removeAuth"] = true
	}
	// null removes the setting (CONTRACT §1).
	if *noVerification {
		if set["verification"] {
			return errors.New("destinations update: --no-verification and --verification contradict each other")
		}
		extra["verification"] = nil
	}
	if *noDedup {
		if set["dedup-key"] {
			return errors.New("destinations update: --no-dedup and --dedup-key contradict each other")
		}
		extra["deduplication"] = nil
	}
	body, err := s.body(set, extra)
	if err != nil {
		return fmt.Errorf("destinations update: %w", err)
	}
	if m, ok := body.(map[string]any); ok && len(m) == 0 {
		return errors.New("destinations update: nothing to change; give at least one setting (destinations help)")
	}
	cl, err := c.client(ctx, subject{destinationID: id})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodPatch, destPath(id, ""), nil, body)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer, raw []byte) error { return renderDestination(w, raw, cl.base) })
}

func (c *destinationsCommand) delete(ctx context.Context, args []string) error {
	id, err := c.oneID(c.flags("delete"), "delete", args)
	if err != nil {
		return err
	}
	cl, err := c.client(ctx, subject{destinationID: id})
	if err != nil {
		return err
	}
	if _, err := cl.do(ctx, http.MethodDelete, destPath(id, ""), nil, nil); err != nil {
		return err
	}
	if c.json {
		// 204 has no body; scripts still get a JSON line to parse.
		b, _ := json.Marshal(map[string]any{"id": id, "deleted": true})
		return writeJSON(c.stdout, b)
	}
	_, err = fmt.Fprintf(c.stdout, "deleted destination %s (its events are no longer delivered)\n", oneLine(id))
	return err
}

// rotate issues a new ingest token or signing secret.
func (c *destinationsCommand) rotate(ctx context.Context, args []string, cmd, suffix string) error {
	id, err := c.oneID(c.flags(cmd), cmd, args)
	if err != nil {
		return err
	}
	cl, err := c.client(ctx, subject{destinationID: id})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodPost, destPath(id, suffix), nil, nil)
	if err != nil {
		return err
	}
	return c.print(raw, func(w io.Writer, raw []byte) error { return renderRotated(w, raw, cl.base) })
}
