package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/hooksentry/hooksentry/pkg/apperror"
	"github.com/hooksentry/hooksentry/pkg/dedup"
	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/history"
	"github.com/hooksentry/hooksentry/pkg/lambdahttp"
)

// maxManagementBody bounds management request bodies; the largest valid one
// (a 2 KiB URL plus JwtBearer credentials) is far smaller.
const maxManagementBody = 64 << 10

// API serves the destination routes of CONTRACT §1.
type API struct {
	Destinations *destination.Service
	Events       *history.Service // the event routes (CONTRACT §5)
	TenantClaim  string           // JWT claim naming the tenant, e.g. "tenant_id"
	Log          *slog.Logger
}

// Route is one management route, served by its own Lambda function.
type Route struct {
	Function string // functions/<Function>
	Method   string
	Path     string // API Gateway route path, e.g. /api/v1/destinations/{id}
}

// Routes lists every management route in CONTRACT §1 and §5 order;
// template.yaml and infra/ declare the same.
var Routes = append(destinationRoutes, eventRoutes...)

var destinationRoutes = []Route{
	{"create-destination", http.MethodPost, "/api/v1/destinations"},
	{"list-destinations", http.MethodGet, "/api/v1/destinations"},
	{"get-destination", http.MethodGet, "/api/v1/destinations/{id}"},
	{"update-destination", http.MethodPatch, "/api/v1/destinations/{id}"},
	{"delete-destination", http.MethodDelete, "/api/v1/destinations/{id}"},
	{"regenerate-ingest-token", http.MethodPost, "/api/v1/destinations/{id}/ingest-token"},
	{"rotate-signing-secret", http.MethodPost, "/api/v1/destinations/{id}/signing-secret"},
}

// Handler returns the handler of one function: only its route matches;
// anything else is a problem+json 404.
func (a *API) Handler(function string) http.Handler {
	handlers := map[string]http.HandlerFunc{
		"create-destination": a.create, "list-destinations": a.list, "get-destination": a.get,
		"update-destination": a.update, "delete-destination": a.delete, "regenerate-ingest-token": a.regenerate,
		"rotate-signing-secret": a.rotateSigningSecret,
		"list-events":           a.listEvents, "get-event": a.getEvent, "replay-event": a.replayEvent,
		"replay-events": a.replayEvents, "event-stats": a.eventStats,
	}
	mux := http.NewServeMux()
	for _, r := range Routes {
		if r.Function == function {
			mux.HandleFunc(r.Method+" "+r.Path, handlers[function])
		}
	}
	mux.HandleFunc("/", NotFound)
	return mux
}

// NotFound answers a request that matches no route.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, Problem{Type: "about:blank", Title: "Not Found", Status: http.StatusNotFound, Detail: "No route matches this request."})
}

// tenant returns the tenant id that API Gateway's JWT authorizer placed in
// the request context.
func (a *API) tenant(ctx context.Context) (string, error) {
	ev, ok := lambdahttp.Event(ctx)
	if ok && ev.RequestContext.Authorizer != nil && ev.RequestContext.Authorizer.JWT != nil {
		if t := ev.RequestContext.Authorizer.JWT.Claims[a.TenantClaim]; t != "" {
			return t, nil
		}
	}
	return "", apperror.New(apperror.Unauthorized, "The token carries no %q claim.", a.TenantClaim)
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManagementBody+1))
	if err != nil {
		return nil, apperror.New(apperror.Invalid, "The request body could not be read.")
	}
	if len(body) > maxManagementBody {
		return nil, apperror.New(apperror.TooLarge, "The request body exceeds %d bytes.", maxManagementBody)
	}
	return body, nil
}

// View is the destination JSON of CONTRACT §1, with exactly these keys.
type View struct {
	ID              string             `json:"id"`
	TenantID        string             `json:"tenantId"`
	URL             string             `json:"url"`
	Status          string             `json:"status"`
	ServerRateLimit int                `json:"serverRateLimit"`
	AuthType        *string            `json:"authType"`
	Verification    *VerificationView  `json:"verification"`
	Deduplication   *DeduplicationView `json:"deduplication"`
	Alerts          []string           `json:"alerts"`
	CreatedAt       string             `json:"createdAt"`
	UpdatedAt       string             `json:"updatedAt"`
	IngestToken     string             `json:"ingestToken,omitempty"`
	SigningSecret   string             `json:"signingSecret,omitempty"` // only in the 201 of create
}

// VerificationView shows which scheme checks ingest requests, and nothing
// else (CONTRACT §1: `{"type": ...}`, nothing secret).
type VerificationView struct {
	Type string `json:"type"`
}

// DeduplicationView is the deduplication key and window as a request
// writes them.
type DeduplicationView struct {
	Key    string `json:"key"`
	Window string `json:"window"`
}

// NewView renders a destination; secrets have no field to land in.
func NewView(d destination.Destination) View {
	v := View{
		ID: d.ID, TenantID: d.TenantID, URL: d.URL, Status: string(d.Status),
		ServerRateLimit: d.ServerRateLimit,
		CreatedAt:       destination.FormatTime(d.CreatedAt), UpdatedAt: destination.FormatTime(d.UpdatedAt),
	}
	if d.AuthType != destination.AuthNone {
		at := string(d.AuthType)
		v.AuthType = &at
	}
	if ver := d.Verification; ver != nil {
		v.Verification = &VerificationView{Type: string(ver.Config.Scheme)}
	}
	if dd := d.Deduplication; dd != nil {
		v.Deduplication = &DeduplicationView{Key: dd.Key.String(), Window: dedup.FormatWindow(dd.Window)}
	}
	v.Alerts = make([]string, len(d.Alerts))
	for i, a := range d.Alerts {
		v.Alerts[i] = string(a)
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	v, err := func() (View, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return View{}, err
		}
		body, err := readBody(r)
		if err != nil {
			return View{}, err
		}
		in, err := destination.ParseCreate(body, a.Destinations.Policy)
		if err != nil {
			return View{}, err
		}
		d, issued, err := a.Destinations.Create(r.Context(), tenant, in)
		if err != nil {
			return View{}, err
		}
		v := NewView(d)
		v.IngestToken, v.SigningSecret = issued.IngestToken, issued.SigningSecret
		return v, nil
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/destinations/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	page, err := func() (destination.Page, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return destination.Page{}, err
		}
		values, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			return destination.Page{}, err
		}
		q, err := destination.ParseListQuery(values)
		if err != nil {
			return destination.Page{}, err
		}
		return a.Destinations.List(r.Context(), tenant, q)
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	items := make([]View, len(page.Items))
	for i, d := range page.Items {
		items[i] = NewView(d)
	}
	writeJSON(w, http.StatusOK, struct {
		Total int    `json:"total"`
		Items []View `json:"items"`
	}{page.Total, items})
}

// parseQuery decodes a query string like url.ParseQuery, except that a
// pair it cannot decode is a 400 rather than silently dropped (Qt=%zz must
// not mean the default page size), and ';' is not a separator.
func parseQuery(raw string) (url.Values, error) {
	values := url.Values{}
	var f apperror.Fields
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, errKey := url.QueryUnescape(k)
		value, errValue := url.QueryUnescape(v)
		switch {
		case errKey != nil:
			f.Add("query", "has a parameter name that is not validly percent-encoded")
		case errValue != nil:
			f.Add(key, "is not validly percent-encoded")
		default:
			values.Add(key, value)
		}
	}
	return values, f.Err()
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	d, err := func() (destination.Destination, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return destination.Destination{}, err
		}
		return a.Destinations.Get(r.Context(), tenant, r.PathValue("id"))
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, NewView(d))
}

func (a *API) update(w http.ResponseWriter, r *http.Request) {
	d, err := func() (destination.Destination, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return destination.Destination{}, err
		}
		body, err := readBody(r)
		if err != nil {
			return destination.Destination{}, err
		}
		return a.Destinations.Update(r.Context(), tenant, r.PathValue("id"), body)
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, NewView(d))
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return err
		}
		return a.Destinations.Delete(r.Context(), tenant, r.PathValue("id"))
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) regenerate(w http.ResponseWriter, r *http.Request) {
	token, err := func() (string, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return "", err
		}
		return a.Destinations.RegenerateIngestToken(r.Context(), tenant, r.PathValue("id"))
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		IngestToken string `json:"ingestToken"`
	}{token})
}

func (a *API) rotateSigningSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := func() (string, error) {
		tenant, err := a.tenant(r.Context())
		if err != nil {
			return "", err
		}
		return a.Destinations.RotateSigningSecret(r.Context(), tenant, r.PathValue("id"))
	}()
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		SigningSecret string `json:"signingSecret"`
	}{secret})
}
