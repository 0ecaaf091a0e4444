package devauth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The local authorization server: OAuth 2.0 authorization code with PKCE
// (RFC 6749, RFC 7636) for the web console (CONTRACT §7), so that signing
// in locally follows the same flow as against Cognito or Auth0. Served by
// the local gateway, never deployed.
const (
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/oauth/token"
	// ConsoleClientID is the console's client id at the local issuer.
	ConsoleClientID = "hooksentry-console"
	// ConsoleRedirectPath is the path under which redirect URIs must lie.
	ConsoleRedirectPath = "/console/"

	// CodeTTL is how long an authorization code can be redeemed; RFC 6749
	// §4.1.2 recommends at most 10 minutes, a browser needs a second.
	CodeTTL = 60 * time.Second
	// AccessTokenTTL is the lifetime of the tokens the console receives.
	AccessTokenTTL = time.Hour
)

// AuthServer answers AuthorizePath and TokenPath for one client, the
// console, whose redirect URIs must be on Origin under ConsoleRedirectPath.
// Codes live in memory: a restart of the stack only fails sign-ins under way.
type AuthServer struct {
	issuer   *Issuer
	origin   string // scheme://host:port of the local gateway
	clientID string
	now      func() time.Time

	mu    sync.Mutex
	codes map[string]authCode
}

// authCode is what an authorization code stands for.
type authCode struct {
	clientID, redirectURI, challenge, tenant string
	expires                                  time.Time
}

// NewAuthServer returns the authorization server of issuer for the console
// served on origin (the gateway's own http://host:port). now is the clock
// of code expiry; nil means time.Now.
func NewAuthServer(issuer *Issuer, origin string, now func() time.Time) (*AuthServer, error) {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("devauth: authorization server origin %q is not scheme://host[:port]", origin)
	}
	if now == nil {
		now = time.Now
	}
	return &AuthServer{
		issuer: issuer, origin: u.Scheme + "://" + u.Host, clientID: ConsoleClientID, now: now,
		codes: map[string]authCode{},
	}, nil
}

// AuthorizeURL and TokenURL are the endpoints' absolute URLs, for the
// console's settings.
func (s *AuthServer) AuthorizeURL() string { return s.origin + AuthorizePath }
func (s *AuthServer) TokenURL() string     { return s.origin + TokenPath }

// ClientID is the console's client id.
func (s *AuthServer) ClientID() string { return s.clientID }

// Handles reports whether path is one of the server's endpoints.
func Handles(path string) bool { return path == AuthorizePath || path == TokenPath }

func (s *AuthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == AuthorizePath && r.Method == http.MethodGet:
		s.authorizePage(w, r)
	case r.URL.Path == AuthorizePath && r.Method == http.MethodPost:
		s.authorizeSubmit(w, r)
	case r.URL.Path == TokenPath && r.Method == http.MethodPost:
		s.token(w, r)
	case Handles(r.URL.Path):
		allow := http.MethodPost
		if r.URL.Path == AuthorizePath {
			allow = "GET, POST"
		}
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	default:
		http.NotFound(w, r)
	}
}

// authRequest is the validated part of an authorization request.
type authRequest struct {
	ClientID, RedirectURI, Challenge, State, Scope string
}

// errAuthRequest is an authorization request that cannot be answered with
// a redirect: its client or redirect URI is not trusted (RFC 6749 §4.1.2.1
// forbids redirecting then), or, for simplicity, anything else wrong with
// it. The message is shown on the error page.
type errAuthRequest struct{ msg string }

func (e errAuthRequest) Error() string { return e.msg }

// parseAuthRequest validates the parameters of GET and POST /oauth/authorize.
func (s *AuthServer) parseAuthRequest(v url.Values) (authRequest, error) {
	req := authRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		Challenge: v.Get("code_challenge"), State: v.Get("state"), Scope: v.Get("scope"),
	}
	bad := func(format string, args ...any) (authRequest, error) {
		return authRequest{}, errAuthRequest{fmt.Sprintf(format, args...)}
	}
	if req.ClientID != s.clientID {
		return bad("Unknown client_id %q: the local issuer knows only %q.", req.ClientID, s.clientID)
	}
	if err := s.checkRedirectURI(req.RedirectURI); err != nil {
		return bad("%v.", err)
	}
	if rt := v.Get("response_type"); rt != "code" {
		return bad("response_type must be \"code\", not %q.", rt)
	}
	if m := v.Get("code_challenge_method"); m != "S256" {
		return bad("code_challenge_method must be \"S256\", not %q: plain PKCE is refused.", m)
	}
	if !validVerifierSyntax(req.Challenge) {
		return bad("code_challenge must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' or '~'.")
	}
	return req, nil
}

// checkRedirectURI accepts only absolute URIs on the gateway's own origin
// under /console/, without user-info or fragment (RFC 6749 §3.1.2): a code
// is never sent anywhere else, whatever a link says.
func (s *AuthServer) checkRedirectURI(raw string) error {
	if raw == "" {
		return errors.New("redirect_uri is required")
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("redirect_uri %q is not an acceptable URI", raw)
	}
	if u.Scheme+"://"+u.Host != s.origin || !strings.HasPrefix(u.Path, ConsoleRedirectPath) || strings.Contains(u.Path, "/..") {
		return fmt.Errorf("redirect_uri %q is not under %s%s", raw, s.origin, ConsoleRedirectPath)
	}
	return nil
}

// validVerifierSyntax: RFC 7636 §4.1 (verifier) and §4.2 (an S256
// challenge is 43 characters of the same alphabet).
func validVerifierSyntax(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	return true
}

// validTenantID is the syntax of a tenant id (hooksentry tenant create
// --id): 1 to 128 letters, digits and "-_.:@". Whether the tenant exists is
// the API's business: it answers 404 for a token of an unknown tenant.
func validTenantID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:@", c)) {
			return false
		}
	}
	return true
}

func (s *AuthServer) authorizePage(w http.ResponseWriter, r *http.Request) {
	req, err := s.parseAuthRequest(r.URL.Query())
	if err != nil {
		writeErrorPage(w, err.Error())
		return
	}
	writeSignInPage(w, http.StatusOK, req, "", "")
}

func (s *AuthServer) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeErrorPage(w, "The sign-in form could not be read.")
		return
	}
	req, err := s.parseAuthRequest(r.PostForm)
	if err != nil {
		writeErrorPage(w, err.Error())
		return
	}
	tenant := strings.TrimSpace(r.PostForm.Get("tenant_id"))
	if !validTenantID(tenant) {
		writeSignInPage(w, http.StatusBadRequest, req, tenant, "A tenant ID is 1 to 128 letters, digits, '-', '_', '.', ':' or '@'.")
		return
	}
	code := rand.Text()
	s.mu.Lock()
	now := s.now()
	for c, ac := range s.codes { // the few codes of a local stack: forget the stale ones
		if !now.Before(ac.expires) {
			delete(s.codes, c)
		}
	}
	s.codes[code] = authCode{clientID: req.ClientID, redirectURI: req.RedirectURI, challenge: req.Challenge, tenant: tenant, expires: now.Add(CodeTTL)}
	s.mu.Unlock()

	target, _ := url.Parse(req.RedirectURI) // checked by parseAuthRequest
	q := target.Query()
	q.Set("code", code)
	if req.State != "" {
		q.Set("state", req.State)
	}
	target.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", target.String())
	w.WriteHeader(http.StatusFound)
}

// tokenError is an RFC 6749 §5.2 error response.
type tokenError struct {
	status int
	code   string
	desc   string
}

func (s *AuthServer) token(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	tok, terr := s.redeem(r)
	if terr != nil {
		writeJSON(w, terr.status, map[string]string{"error": terr.code, "error_description": terr.desc})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(AccessTokenTTL / time.Second),
	})
}

func (s *AuthServer) redeem(r *http.Request) (string, *tokenError) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return "", &tokenError{http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded"}
	}
	if err := r.ParseForm(); err != nil {
		return "", &tokenError{http.StatusBadRequest, "invalid_request", "the body could not be read"}
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" {
		return "", &tokenError{http.StatusBadRequest, "unsupported_grant_type", "only authorization_code is supported"}
	}
	code, verifier := f.Get("code"), f.Get("code_verifier")
	if code == "" || verifier == "" || f.Get("redirect_uri") == "" || f.Get("client_id") == "" {
		return "", &tokenError{http.StatusBadRequest, "invalid_request", "code, code_verifier, redirect_uri and client_id are required"}
	}
	if f.Get("client_id") != s.clientID {
		return "", &tokenError{http.StatusUnauthorized, "invalid_client", "unknown client"}
	}
	// A code is consumed by its first redemption, successful or not
	// (RFC 6749 §4.1.2): a guessed verifier gets one try.
	s.mu.Lock()
	ac, ok := s.codes[code]
	delete(s.codes, code)
	now := s.now()
	s.mu.Unlock()
	switch {
	case !ok:
		return "", &tokenError{http.StatusBadRequest, "invalid_grant", "unknown or already used code"}
	case !now.Before(ac.expires):
		return "", &tokenError{http.StatusBadRequest, "invalid_grant", "the code has expired"}
	case ac.clientID != f.Get("client_id") || ac.redirectURI != f.Get("redirect_uri"):
		return "", &tokenError{http.StatusBadRequest, "invalid_grant", "the code was issued to another client or redirect_uri"}
	case !validVerifierSyntax(verifier) || !challengeMatches(verifier, ac.challenge):
		return "", &tokenError{http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge"}
	}
	tok, err := s.issuer.Mint(ac.tenant, AccessTokenTTL)
	if err != nil {
		return "", &tokenError{http.StatusInternalServerError, "server_error", "the token could not be signed"}
	}
	return tok, nil
}

// challengeMatches compares BASE64URL(SHA256(verifier)) with the challenge
// in constant time (RFC 7636 §4.6).
func challengeMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}
