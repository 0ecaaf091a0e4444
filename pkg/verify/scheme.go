package verify

import "strings"

// Scheme names a verification scheme as the API writes it.
type Scheme string

// The supported schemes, spelled as the API writes them.
const (
	Stripe           Scheme = "Stripe"
	GitHub           Scheme = "GitHub"
	Shopify          Scheme = "Shopify"
	Slack            Scheme = "Slack"
	StandardWebhooks Scheme = "StandardWebhooks"
	Hmac             Scheme = "Hmac"
)

// Schemes returns all six schemes in a stable order, for error messages and
// documentation that list them.
func Schemes() []Scheme {
	return []Scheme{Stripe, GitHub, Shopify, Slack, StandardWebhooks, Hmac}
}

// ParseScheme matches s case-insensitively against the scheme names and
// returns the canonical spelling.
func ParseScheme(s string) (Scheme, bool) {
	for _, sc := range Schemes() {
		if strings.EqualFold(s, string(sc)) {
			return sc, true
		}
	}
	return "", false
}
