package destination

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/event"
	"github.com/hooksentry/hooksentry/pkg/verify"
	"golang.org/x/net/http/httpguts"
)

// CreateInput is a validated create request.
type CreateInput struct {
	URL             string
	ServerRateLimit int
	AuthType        AuthType
	Credentials     *Credentials
	Verification    *VerificationInput // nil: none
	Deduplication   *Deduplication     // nil: none
	Alerts          []alert.Type       // nil: none
}

// Patch is a validated update request; nil fields are left unchanged.
type Patch struct {
	URL             *string
	ServerRateLimit *int
	Status          *Status
	AuthType        *AuthType
	Credentials     *Credentials
	RemoveAuth      bool
	// Verification replaces the verification; RemoveVerification (null
	// in the request) removes it. The same for Deduplication.
	Verification        *VerificationInput
	RemoveVerification  bool
	Deduplication       *Deduplication
	RemoveDeduplication bool
	// Alerts replaces the list when not nil (empty, or null in the
	// request: none).
	Alerts *[]alert.Type
}

// VerificationInput is a validated verification setting with its secret
// in plain text, which exists only until it is sealed.
type VerificationInput struct {
	Config verify.Config
	Secret string
}

// The request members of create and update. Members of the destination
// JSON (and of the 201) that cannot be written (readOnly) are accepted and ignored, so a
// client may send back what it read; any other member is refused, so a
// misspelt or not yet supported setting is never silently dropped.
var (
	createMembers = []string{"url", "serverRateLimit", "authType", "credentials", "verification", "deduplication", "alerts"}
	patchMembers  = []string{"url", "serverRateLimit", "status", "authType", "credentials", "removeAuth", "verification", "deduplication", "alerts"}
	readOnly      = []string{"id", "tenantId", "status", "createdAt", "updatedAt", "ingestToken", "signingSecret"}
)

// URLPolicy refuses URLs that the deployment must never call, such as IP
// literals in private ranges outside local mode. Nil allows every URL that
// passes the syntactic rules.
type URLPolicy func(u *url.URL) error

// object is a JSON object whose property names have been lower-cased,
// because CONTRACT §1 matches request property names case-insensitively.
type object map[string]json.RawMessage

// decodeObject decodes a request body, refusing members outside allowed
// and readOnly.
func decodeObject(body []byte, allowed []string) (object, error) {
	members, err := objectMembers(body)
	if err != nil {
		return nil, apperror.Validation(apperror.FieldError{Field: "body", Message: bodyProblem(err)})
	}
	obj := make(object, len(members))
	var f apperror.Fields
	for _, m := range members {
		if !containsFold(allowed, m.name) && !containsFold(readOnly, m.name) {
			f.Add(m.name, "is not a property of a destination request (one of %s)", strings.Join(allowed, ", "))
			continue
		}
		// A later spelling of the same name wins, as in encoding/json, so
		// the outcome does not depend on map iteration order.
		obj[strings.ToLower(m.name)] = m.value
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return obj, nil
}

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

type member struct {
	name  string
	value json.RawMessage
}

var (
	errNotObject = errors.New("not an object")
	errTrailing  = errors.New("trailing data")
)

// objectMembers decodes data, which must hold exactly one JSON object, into
// its members in document order.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string) // the decoder only yields strings as keys
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		members = append(members, member{name, v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errTrailing
	}
	return members, nil
}

// bodyProblem describes a decoding error without echoing the input, which
// may contain secrets.
func bodyProblem(err error) string {
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, errNotObject):
		return "must be a JSON object"
	case errors.Is(err, errTrailing):
		return "must contain a single JSON object"
	case errors.As(err, &syn):
		return fmt.Sprintf("must be a JSON object: syntax error at byte %d", syn.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "must be a JSON object: unexpected end of input"
	default:
		return "must be a JSON object: malformed JSON"
	}
}

// null reports whether the property is sent as null: in an update, null
// removes an optional setting.
func (o object) null(name string) bool {
	v, ok := o[strings.ToLower(name)]
	return ok && bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// present reports whether the property exists and is not null: clients that
// serialise absent optional fields as null mean "not provided".
func (o object) present(name string) (json.RawMessage, bool) {
	v, ok := o[strings.ToLower(name)]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, false
	}
	return v, true
}

func (o object) str(f *apperror.Fields, name string) (string, bool) {
	raw, ok := o.present(name)
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.Add(name, "must be a string")
		return "", false
	}
	return s, true
}

func (o object) boolean(f *apperror.Fields, name string) (bool, bool) {
	raw, ok := o.present(name)
	if !ok {
		return false, false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		f.Add(name, "must be a boolean")
		return false, false
	}
	return b, true
}

func (o object) rateLimit(f *apperror.Fields, name string) (int, bool) {
	raw, ok := o.present(name)
	if !ok {
		return 0, false
	}
	// json.Number also accepts a string holding a number ("5"); the
	// contract wants a JSON integer.
	var n json.Number
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '"' {
		f.Add(name, "must be an integer from %d to %d", MinRateLimit, MaxRateLimit)
		return 0, false
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		f.Add(name, "must be an integer from %d to %d", MinRateLimit, MaxRateLimit)
		return 0, false
	}
	v, err := n.Int64()
	if err != nil || v < MinRateLimit || v > MaxRateLimit {
		f.Add(name, "must be an integer from %d to %d", MinRateLimit, MaxRateLimit)
		return 0, false
	}
	return int(v), true
}

// ParseCreate decodes and validates a create request body.
func ParseCreate(body []byte, policy URLPolicy) (CreateInput, error) {
	obj, err := decodeObject(body, createMembers)
	if err != nil {
		return CreateInput{}, err
	}
	var f apperror.Fields
	in := CreateInput{ServerRateLimit: DefaultRateLimit}

	if u, ok := obj.str(&f, "url"); ok {
		in.URL = validateURL(&f, "url", u, policy)
	} else if _, exists := obj.present("url"); !exists {
		f.Add("url", "is required")
	}
	if n, ok := obj.rateLimit(&f, "serverRateLimit"); ok {
		in.ServerRateLimit = n
	}
	in.AuthType, in.Credentials = parseAuth(&f, obj, AuthNone, policy, true)
	if raw, ok := obj.present("verification"); ok {
		in.Verification = parseVerification(&f, raw)
	}
	if raw, ok := obj.present("deduplication"); ok {
		in.Deduplication = parseDeduplication(&f, raw)
	}
	if raw, ok := obj.present("alerts"); ok {
		in.Alerts = parseAlerts(&f, raw)
	}
	if err := f.Err(); err != nil {
		return CreateInput{}, err
	}
	return in, nil
}

// ParsePatch decodes and validates an update request body. current is the
// auth type the destination has now, because credentials sent alone replace
// the secret of that type.
func ParsePatch(body []byte, current AuthType, policy URLPolicy) (Patch, error) {
	obj, err := decodeObject(body, patchMembers)
	if err != nil {
		return Patch{}, err
	}
	var f apperror.Fields
	var p Patch

	if u, ok := obj.str(&f, "url"); ok {
		v := validateURL(&f, "url", u, policy)
		p.URL = &v
	}
	if n, ok := obj.rateLimit(&f, "serverRateLimit"); ok {
		p.ServerRateLimit = &n
	}
	if s, ok := obj.str(&f, "status"); ok {
		st, valid := ParseStatus(s)
		switch {
		case !valid:
			f.Add("status", "must be active or inactive")
		case st == Suspended:
			f.Add("status", "must be active or inactive: Suspended is managed by the circuit breaker")
		default:
			p.Status = &st
		}
	}
	remove, _ := obj.boolean(&f, "removeAuth")
	_, hasType := obj.present("authType")
	_, hasCreds := obj.present("credentials")
	if remove {
		if hasType || hasCreds {
			f.Add("removeAuth", "cannot be combined with authType or credentials")
		}
		p.RemoveAuth = true
	} else if hasType || hasCreds {
		at, creds := parseAuth(&f, obj, current, policy, false)
		if creds != nil {
			p.AuthType, p.Credentials = &at, creds
		}
	}
	if raw, ok := obj.present("verification"); ok {
		p.Verification = parseVerification(&f, raw)
	}
	p.RemoveVerification = obj.null("verification")
	if raw, ok := obj.present("deduplication"); ok {
		p.Deduplication = parseDeduplication(&f, raw)
	}
	p.RemoveDeduplication = obj.null("deduplication")
	if raw, ok := obj.present("alerts"); ok {
		alerts := parseAlerts(&f, raw)
		p.Alerts = &alerts
	} else if obj.null("alerts") {
		p.Alerts = &[]alert.Type{}
	}
	if err := f.Err(); err != nil {
		return Patch{}, err
	}
	return p, nil
}

// parseAuth validates the authType/credentials pair. On create both or
// neither must be present. On update, credentials alone replace the secret of
// the current type.
func parseAuth(f *apperror.Fields, obj object, current AuthType, policy URLPolicy, create bool) (AuthType, *Credentials) {
	typeName, hasType := obj.str(f, "authType")
	rawCreds, hasCreds := obj.present("credentials")
	if _, sent := obj.present("authType"); sent && !hasType {
		return AuthNone, nil // wrong JSON type, already recorded
	}
	at := current
	if hasType {
		parsed, ok := ParseAuthType(typeName)
		if !ok {
			f.Add("authType", "must be one of ApiKey, BearerToken, JwtBearer, BasicAuth")
			return AuthNone, nil
		}
		at = parsed
	}
	switch {
	case hasType && !hasCreds:
		f.Add("credentials", "are required when authType is set")
		return AuthNone, nil
	case !hasType && hasCreds && create:
		f.Add("authType", "is required when credentials are set")
		return AuthNone, nil
	case !hasType && hasCreds && at == AuthNone:
		f.Add("credentials", "cannot be set: the destination has no authType")
		return AuthNone, nil
	case !hasCreds:
		return AuthNone, nil
	}
	creds := parseCredentials(f, at, rawCreds, policy)
	if creds == nil {
		return AuthNone, nil
	}
	return at, creds
}

// credentialFields lists, per type, each allowed property and whether it is
// required to be non-empty.
var credentialFields = map[AuthType][]struct {
	name     string
	required bool
}{
	AuthAPIKey:      {{"headerName", true}, {"value", true}},
	AuthBearerToken: {{"token", true}},
	AuthJwtBearer:   {{"tokenEndpoint", true}, {"clientId", true}, {"clientSecret", true}, {"scope", false}},
	AuthBasic:       {{"username", true}, {"password", false}},
}

func parseCredentials(f *apperror.Fields, at AuthType, raw json.RawMessage, policy URLPolicy) *Credentials {
	fields := credentialFields[at]
	names := make([]string, len(fields))
	for i, cf := range fields {
		names[i] = cf.name
	}
	before := len(*f)
	values, ok := stringMembers(f, "credentials", raw, names, fmt.Sprintf("%s credentials", at))
	if !ok {
		f.Add("credentials", "must be an object of the %s shape", at)
		return nil
	}
	for _, cf := range fields {
		if _, ok := values[cf.name]; !ok && cf.required && !hasField(*f, "credentials."+cf.name) {
			f.Add("credentials."+cf.name, "is required for %s", at)
		} else if cf.required && values[cf.name] == "" && !hasField(*f, "credentials."+cf.name) {
			f.Add("credentials."+cf.name, "must not be empty")
		}
	}
	c := &Credentials{
		HeaderName: values["headerName"], Value: values["value"],
		Token:         values["token"],
		TokenEndpoint: values["tokenEndpoint"], ClientID: values["clientId"], ClientSecret: values["clientSecret"], Scope: values["scope"],
		Username: values["username"], Password: values["password"],
	}
	switch at {
	case AuthAPIKey:
		if c.HeaderName != "" && !validHeaderName(c.HeaderName) {
			f.Add("credentials.headerName", "must be an HTTP header name that neither HTTP, proxies nor HookSentry set (such as Host, Content-Type, hop-by-hop, X-Forwarded-*, X-Amzn-* or HookSentry-* headers)")
		}
	case AuthJwtBearer:
		if c.TokenEndpoint != "" {
			c.TokenEndpoint = validateURL(f, "credentials.tokenEndpoint", c.TokenEndpoint, policy)
		}
	case AuthBasic:
		if strings.Contains(c.Username, ":") {
			f.Add("credentials.username", "must not contain ':'")
		}
	}
	if len(*f) > before {
		return nil
	}
	return c
}

func hasField(f apperror.Fields, name string) bool {
	for _, e := range f {
		if e.Field == name {
			return true
		}
	}
	return false
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validHeaderName reports whether an API key may be sent in the header
// name: an HTTP token that is not reserved, by the same rule that decides
// which headers are forwarded (event.APIKeyHeaderAllowed).
func validHeaderName(name string) bool {
	return len(name) <= 256 && event.APIKeyHeaderAllowed(name) && httpguts.ValidHeaderFieldName(name)
}

// validateURL applies CONTRACT §1's URL rules and returns the URL as given.
func validateURL(f *apperror.Fields, field, raw string, policy URLPolicy) string {
	if len(raw) > MaxURLLength {
		f.Add(field, "must be at most %d characters", MaxURLLength)
		return ""
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || strings.ContainsFunc(raw, isControl) || strings.ContainsAny(raw, " \\"):
		f.Add(field, "must be a valid absolute URL")
	case !strings.EqualFold(u.Scheme, "https"):
		f.Add(field, "must use https")
	case u.Hostname() == "" || u.Opaque != "":
		f.Add(field, "must have a host")
	case u.User != nil:
		f.Add(field, "must not contain user information")
	default:
		if u.Port() != "" {
			var p int
			if _, err := fmt.Sscanf(u.Port(), "%d", &p); err != nil || p < 1 || p > 65535 {
				f.Add(field, "must have a port from 1 to 65535")
				return ""
			}
		}
		if policy != nil {
			if err := policy(u); err != nil {
				f.Add(field, "must not point to a private or reserved address: %v", err)
				return ""
			}
		}
		return raw
	}
	return ""
}
