package devauth

import (
	"encoding/json"
	"html/template"
	"net/http"
)

// pageCSP is the sign-in page's policy: no script, style, image or frame of
// any origin, forms posted to this origin only (the page's own form), and
// no framing of the page (no clickjacking of "Sign in").
const pageCSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// The pages are plain HTML with no external or inline asset, so the
// strict policy above needs no exception.
var (
	signInPage = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in: HookSentry local issuer</title></head>
<body>
<main>
<h1>Sign in to HookSentry</h1>
<p>Local issuer: choose the tenant to sign in as. Any tenant ID is accepted here; the API answers 404 for a tenant that does not exist.</p>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.Req.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Req.RedirectURI}}">
<input type="hidden" name="code_challenge" value="{{.Req.Challenge}}">
<input type="hidden" name="code_challenge_method" value="S256">
<input type="hidden" name="state" value="{{.Req.State}}">
<input type="hidden" name="scope" value="{{.Req.Scope}}">
<p><label for="tenant">Tenant ID</label>
<input id="tenant" name="tenant_id" value="{{.Tenant}}" required autofocus autocomplete="off"></p>
<p><button type="submit">Sign in</button></p>
</form>
</main>
</body>
</html>
`))
	errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign-in error: HookSentry local issuer</title></head>
<body>
<main>
<h1>This sign-in request is invalid</h1>
<p role="alert">{{.}}</p>
</main>
</body>
</html>
`))
)

func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func writeSignInPage(w http.ResponseWriter, status int, req authRequest, tenant, msg string) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = signInPage.Execute(w, struct {
		Req           authRequest
		Tenant, Error string
	}{req, tenant, msg})
}

// writeErrorPage answers an authorization request that cannot be trusted
// with a page, never a redirect (RFC 6749 §4.1.2.1).
func writeErrorPage(w http.ResponseWriter, msg string) {
	pageHeaders(w)
	w.WriteHeader(http.StatusBadRequest)
	_ = errorPage.Execute(w, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
