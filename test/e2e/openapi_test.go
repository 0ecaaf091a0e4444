package e2e_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/openapi"
	"github.com/hooksentry/hooksentry/pkg/openapi/openapitest"
)

// TestOpenAPIJSON: the local gateway serves the API document without a JWT,
// as JSON, and what it serves is a valid document with every route.
func TestOpenAPIJSON(t *testing.T) {
	r := httpDo(t, http.MethodGet, openapi.JSONPath, "", "")
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: got %v, want 200", openapi.JSONPath, r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type: got %q, want application/json", ct)
	}
	if !bytes.Equal(r.Body, openapi.JSON()) {
		t.Errorf("body is not openapi.JSON()")
	}
	v, err := openapitest.NewValidatorFrom(r.Body)
	if err != nil {
		t.Fatalf("served document: %v", err)
	}
	for _, path := range []string{"/api/v1/destinations", "/api/v1/events/{eventId}", "/ingest/{token}"} {
		if v.Doc.Paths.Find(path) == nil {
			t.Errorf("served document has no path %s", path)
		}
	}
	// Other methods on the path are no route, as for any path.
	if r := httpDo(t, http.MethodPost, openapi.JSONPath, "", "{}"); r.Status != http.StatusNotFound {
		t.Errorf("POST %s: got %v, want 404", openapi.JSONPath, r)
	}
}
