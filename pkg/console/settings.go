package console

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/hooksentry/hooksentry/pkg/config"
)

// Scope is what the console asks the identity provider for: an
// authorization code for the tenant's identity, nothing more.
const Scope = "openid"

// Settings are the console's sign-in settings (HOOKSENTRY_CONSOLE_*).
type Settings struct {
	AuthorizeURL string
	TokenURL     string
	ClientID     string
	LogoutURL    string // optional
}

// SettingsFrom takes the console settings of the functions' configuration
// (validated there: absolute http(s) URLs, all or none of the three).
func SettingsFrom(c config.Config) Settings {
	return Settings{
		AuthorizeURL: c.ConsoleAuthorizeURL,
		TokenURL:     c.ConsoleTokenURL,
		ClientID:     c.ConsoleClientID,
		LogoutURL:    c.ConsoleLogoutURL,
	}
}

// Configured reports whether the console can sign anyone in.
func (s Settings) Configured() bool {
	return s.AuthorizeURL != "" && s.TokenURL != "" && s.ClientID != ""
}

// configDocument is /console/config.json. apiBase is empty: the console
// calls /api/v1 on its own origin, behind the same HTTP API.
type configDocument struct {
	Configured   bool    `json:"configured"`
	APIBase      string  `json:"apiBase"`
	AuthorizeURL string  `json:"authorizeUrl"`
	TokenURL     string  `json:"tokenUrl"`
	ClientID     string  `json:"clientId"`
	Scope        string  `json:"scope"`
	LogoutURL    *string `json:"logoutUrl"`
}

func (s Settings) configJSON() ([]byte, error) {
	doc := configDocument{Scope: Scope}
	if s.Configured() {
		doc.Configured = true
		doc.AuthorizeURL, doc.TokenURL, doc.ClientID = s.AuthorizeURL, s.TokenURL, s.ClientID
		if s.LogoutURL != "" {
			doc.LogoutURL = &s.LogoutURL
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("console: config.json: %w", err)
	}
	return b, nil
}

// origin is scheme://host[:port] of an absolute URL, "" otherwise.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
