package functions_test

import (
	"strings"
	"testing"
)

// TestNoFunctionLinksTheAPIDocument: the OpenAPI document, its JSON form and
// its validator (kin-openapi) serve the local gateway and the tests only; no
// Lambda binary may carry them.
func TestNoFunctionLinksTheAPIDocument(t *testing.T) {
	forbidden := []string{module + "/docs", module + "/pkg/openapi", "github.com/getkin/kin-openapi"}
	for fn, deps := range functionDeps(t, "./functions/...") {
		for _, dep := range deps {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", fn, dep)
				}
			}
		}
	}
	// The local gateway serves the document as JSON without linking the
	// validator.
	cli := functionDeps(t, "./cmd/hooksentry")["cmd/hooksentry"]
	var served bool
	for _, dep := range cli {
		served = served || dep == module+"/pkg/openapi"
		if strings.HasPrefix(dep, "github.com/getkin/kin-openapi") {
			t.Errorf("cmd/hooksentry links %s", dep)
		}
	}
	if !served {
		t.Errorf("cmd/hooksentry does not link %s/pkg/openapi; the check above would miss it", module)
	}
}
