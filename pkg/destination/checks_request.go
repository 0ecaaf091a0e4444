package destination

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hooksentry/hooksentry/pkg/alert"
	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/verify"
)

// maxSecretLength bounds every string member of credentials, verification
// and deduplication settings.
const maxSecretLength = 4096

// stringMembers decodes a settings object whose members are all strings
// (credentials, verification, deduplication), matching names
// case-insensitively against allowed (canonical spellings) and reporting
// each other member, each non-string, each value over 4096 characters or
// with control characters as a field error under prefix. ok is false, and
// nothing reported, when raw is not an object: the caller says what it
// should be.
func stringMembers(f *apperror.Fields, prefix string, raw json.RawMessage, allowed []string, what string) (map[string]string, bool) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, false
	}
	values := map[string]string{}
	for _, m := range members {
		name := ""
		for _, a := range allowed {
			if strings.EqualFold(m.name, a) {
				name = a
			}
		}
		if name == "" {
			f.Add(prefix+"."+m.name, "is not a property of %s", what)
			continue
		}
		var s string
		if err := json.Unmarshal(m.value, &s); err != nil {
			f.Add(prefix+"."+name, "must be a string")
			continue
		}
		if len(s) > maxSecretLength {
			f.Add(prefix+"."+name, "must be at most %d characters", maxSecretLength)
			continue
		}
		if strings.ContainsFunc(s, isControl) {
			f.Add(prefix+"."+name, "must not contain control characters")
			continue
		}
		values[name] = s
	}
	return values, true
}

// hmacOnly are the members only the Hmac scheme has.
var hmacOnly = []string{"header", "algorithm", "encoding", "prefix"}

// parseVerification validates a verification object (CONTRACT §1). The
// secret is checked for the scheme (a StandardWebhooks secret must decode)
// but never quoted in an error.
func parseVerification(f *apperror.Fields, raw json.RawMessage) *VerificationInput {
	const field = "verification"
	before := len(*f)
	values, ok := stringMembers(f, field, raw, append([]string{"type", "secret"}, hmacOnly...), "a verification")
	if !ok {
		f.Add(field, "must be an object")
		return nil
	}
	typeName, hasType := values["type"]
	scheme, known := verify.ParseScheme(typeName)
	switch {
	case !hasType && !hasField(*f, field+".type"):
		f.Add(field+".type", "is required")
	case hasType && !known:
		f.Add(field+".type", "must be one of %s", schemeList())
	}
	secret, hasSecret := values["secret"]
	switch {
	case !hasSecret && !hasField(*f, field+".secret"):
		f.Add(field+".secret", "is required")
	case hasSecret && secret == "":
		f.Add(field+".secret", "must not be empty")
	case hasSecret && known:
		if _, err := verify.Key(scheme, secret); err != nil {
			f.Add(field+".secret", "is not a %s secret: %v", scheme, err)
		}
	}
	cfg := verify.Config{Scheme: scheme}
	if known && scheme == verify.Hmac {
		cfg.Header, cfg.Algorithm, cfg.Encoding, cfg.Prefix = values["header"], values["algorithm"], values["encoding"], values["prefix"]
		if _, sent := values["header"]; !sent && !hasField(*f, field+".header") {
			f.Add(field+".header", "is required for Hmac")
		} else if err := cfg.Validate(); err != nil {
			var fe *verify.FieldError
			if errors.As(err, &fe) {
				f.Add(field+"."+fe.Field, "%s", fe.Message)
			} else {
				f.Add(field, "%v", err)
			}
		}
	} else if known {
		for _, name := range hmacOnly {
			if _, sent := values[name]; sent {
				f.Add(field+"."+name, "is a property of Hmac verification only")
			}
		}
	}
	if len(*f) > before {
		return nil
	}
	return &VerificationInput{Config: cfg.Normalized(), Secret: secret}
}

func schemeList() string {
	names := make([]string, 0, len(verify.Schemes()))
	for _, s := range verify.Schemes() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// parseDeduplication validates a deduplication object (CONTRACT §1).
func parseDeduplication(f *apperror.Fields, raw json.RawMessage) *Deduplication {
	const field = "deduplication"
	before := len(*f)
	values, ok := stringMembers(f, field, raw, []string{"key", "window"}, "a deduplication")
	if !ok {
		f.Add(field, "must be an object")
		return nil
	}
	d := &Deduplication{Window: dedup.DefaultWindow}
	if spec, sent := values["key"]; sent {
		k, err := dedup.ParseKey(spec)
		if err != nil {
			f.Add(field+".key", "%v", err)
		}
		d.Key = k
	} else if !hasField(*f, field+".key") {
		f.Add(field+".key", "is required")
	}
	if w, sent := values["window"]; sent {
		window, err := dedup.ParseWindow(w)
		if err != nil {
			f.Add(field+".window", "%v", err)
		}
		d.Window = window
	}
	if len(*f) > before {
		return nil
	}
	return d
}

// parseAlerts validates an alerts list (CONTRACT §1, §6): alert types,
// matched case-insensitively, each at most once. An empty list is none.
func parseAlerts(f *apperror.Fields, raw json.RawMessage) []alert.Type {
	var names []json.RawMessage
	if err := json.Unmarshal(raw, &names); err != nil {
		f.Add("alerts", "must be an array of alert types (%s)", alert.Join(alert.Types()))
		return nil
	}
	var out []alert.Type
	for i, n := range names {
		var s string
		t, ok := alert.Type(""), false
		if json.Unmarshal(n, &s) == nil {
			t, ok = alert.ParseType(s)
		}
		switch {
		case !ok:
			f.Add(fmt.Sprintf("alerts[%d]", i), "must be one of %s", alert.Join(alert.Types()))
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	return out
}
