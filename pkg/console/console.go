// Package console serves the web console (CONTRACT §7): the embedded
// single-page app under /console/, its sign-in settings at
// /console/config.json, and a strict Content-Security-Policy on every
// response. The console Lambda (functions/console) and the local gateway run
// this same handler. It links no AWS SDK: the function reads nothing but its
// settings and its embedded files, so its cold start stays small.
package console

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the console is served; Root is its index page.
const (
	Prefix     = "/console"
	Root       = Prefix + "/"
	ConfigPath = Root + "config.json"
)

// assetMaxAge is how long a browser may reuse an asset other than
// index.html without asking again: short, because the files have no
// content hash in their names, so a deployment must be picked up soon.
const assetMaxAge = "max-age=300"

// file is one embedded asset, read once when the handler is built (the
// console is a few small files; reading them per request would only cost).
type file struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the console. Build it with New.
type Handler struct {
	files    map[string]file // by path relative to the assets' root
	config   []byte          // the body of config.json
	security map[string]string
}

// New reads every file of assets (console.Assets()) and returns the handler
// that serves them with the sign-in settings s.
func New(assets fs.FS, s Settings) (*Handler, error) {
	h := &Handler{files: map[string]file{}, security: securityHeaders(s)}
	err := fs.WalkDir(assets, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h.files[name] = file{
			body:        body,
			contentType: contentType(name),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: read assets: %w", err)
	}
	if _, ok := h.files["index.html"]; !ok {
		return nil, fmt.Errorf("console: the assets have no index.html")
	}
	h.config, err = s.configJSON()
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range h.security {
		w.Header().Set(k, v)
	}
	p := r.URL.Path
	if p != Prefix && !strings.HasPrefix(p, Root) {
		writeProblem(w, http.StatusNotFound, "Not Found", "No route matches this request.")
		return
	}
	if r.Method != http.MethodGet {
		// API Gateway routes only GET here; anything else is a client
		// speaking to the handler directly.
		w.Header().Set("Allow", http.MethodGet)
		writeProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed", "The console answers GET only.")
		return
	}
	switch p {
	case Prefix:
		// Relative URLs of index.html (app.js, app.css) resolve against
		// /console/, not /.
		w.Header().Set("Location", Root)
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	case ConfigPath:
		w.Header().Set("Content-Type", "application/json")
		// The settings change with a deployment, not with the assets.
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(h.config)
		return
	}
	name, ok := assetName(strings.TrimPrefix(p, Root))
	if !ok {
		writeProblem(w, http.StatusNotFound, "Not Found", "The console has no such file.")
		return
	}
	f, ok := h.files[name]
	if !ok {
		writeProblem(w, http.StatusNotFound, "Not Found", "The console has no such file.")
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("ETag", f.etag)
	if name == "index.html" {
		// Always revalidated, so a deployment's new asset list is seen at
		// once; the ETag makes that a 304 when nothing changed.
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Cache-Control", assetMaxAge)
	}
	if etagMatches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}

// assetName maps the path below /console/ to a file name of the assets:
// "" is index.html. Anything fs.ValidPath refuses (.. or . segments, empty
// segments, a leading or trailing slash) and backslashes (a Windows
// separator in the mind of some client) name no file: there is no way out
// of the embedded tree, and no second spelling of a file.
func assetName(rest string) (string, bool) {
	if rest == "" {
		return "index.html", true
	}
	if strings.Contains(rest, `\`) || !fs.ValidPath(rest) || path.Clean(rest) != rest {
		return "", false
	}
	return rest, true
}

func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == etag || candidate == "W/"+etag || candidate == "*" {
			return true
		}
	}
	return false
}

// contentTypes are the types of the files a console can be made of. A fixed
// table rather than package mime, whose answers depend on the machine's
// mime.types: Lambda and a developer's laptop must agree.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".webp":  "image/webp",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

func contentType(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	// With nosniff, a browser will neither run nor style this.
	return "application/octet-stream"
}
