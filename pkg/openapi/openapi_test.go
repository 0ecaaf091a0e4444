package openapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(JSON(), &doc); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: got %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Paths[JSONPath][LocalOnly] != true {
		t.Errorf("%s is not marked %s", JSONPath, LocalOnly)
	}
	// Response codes are quoted in the YAML; unquoted they would be integer
	// keys, which JSON cannot carry.
	if _, ok := doc.Paths["/api/v1/destinations"]["post"].(map[string]any)["responses"].(map[string]any)["201"]; !ok {
		t.Errorf("POST /api/v1/destinations has no \"201\" response in JSON()")
	}
}

func TestToJSONRefusesNonStringKeys(t *testing.T) {
	_, err := ToJSON([]byte("responses:\n  200: {description: ok}\n"))
	if err == nil || !strings.Contains(err.Error(), "/responses") {
		t.Errorf("got %v, want an error naming /responses", err)
	}
}
