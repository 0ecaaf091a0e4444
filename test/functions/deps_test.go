package functions_test

import (
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/hooksentry/hooksentry"

// functionDeps returns, for each functions/<name> package, its transitive
// dependencies (go list -deps).
func functionDeps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, pattern)
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 {
			deps[strings.TrimPrefix(fields[0], module+"/")] = fields[1:]
		}
	}
	return deps
}

// TestNoFunctionLinksTheLocalStack keeps pkg/local/... (emulators, the local
// gateway and authorizer, the event source mapping) out of every Lambda
// binary: none of it may end up in what is deployed.
func TestNoFunctionLinksTheLocalStack(t *testing.T) {
	const local = module + "/pkg/local"
	fns := functionDeps(t, "./functions/...")
	if len(fns) != 16 {
		t.Fatalf("go list found %d functions/* packages, want 16", len(fns))
	}
	for fn, deps := range fns {
		for _, dep := range deps {
			if dep == local || strings.HasPrefix(dep, local+"/") {
				t.Errorf("%s depends on %s", fn, dep)
			}
		}
	}
	// The check itself: a package under pkg/local is seen when linked.
	if !slices.Contains(functionDeps(t, "./cmd/hooksentry")["cmd/hooksentry"], local+"/stack") {
		t.Errorf("go list does not show cmd/hooksentry depending on %s/stack; the check above would miss it too", local)
	}
}

// TestEachFunctionLinksOnlyItsWiringAndClients: functions/<name> starts the
// wiring of pkg/app/fn/<name> (which the local stack calls too), and links
// only the AWS SDK clients that wiring uses, so that a cold start initialises
// no client the function does not need.
func TestEachFunctionLinksOnlyItsWiringAndClients(t *testing.T) {
	want := map[string][]string{
		"create-destination":      {"dynamodb"},
		"update-destination":      {"dynamodb", "sqs"},
		"get-destination":         {"dynamodb"},
		"list-destinations":       {"dynamodb"},
		"delete-destination":      {"dynamodb"},
		"regenerate-ingest-token": {"dynamodb"},
		"rotate-signing-secret":   {"dynamodb"},
		"list-events":             {"dynamodb"},
		"get-event":               {"dynamodb"},
		"replay-event":            {"dynamodb", "sqs"},
		"replay-events":           {"dynamodb", "sqs"},
		"event-stats":             {"dynamodb"},
		"ingest":                  {"dynamodb", "sqs"},
		"deliver":                 {"dynamodb", "sqs"},
		"sweeper":                 {"dynamodb", "sqs"},
		"console":                 nil, // embedded files and settings: no AWS client
	}
	const sdk = "github.com/aws/aws-sdk-go-v2/service/"
	fns := functionDeps(t, "./functions/...")
	if got := slices.Sorted(maps.Keys(fns)); len(got) != len(want) {
		t.Fatalf("functions: %v, want the %d of this test", got, len(want))
	}
	for name, clients := range want {
		deps, ok := fns["functions/"+name]
		if !ok {
			t.Errorf("no package functions/%s", name)
			continue
		}
		wiring := module + "/pkg/app/fn/" + strings.ReplaceAll(name, "-", "")
		var fnPkgs, got []string
		for _, dep := range deps {
			if strings.HasPrefix(dep, module+"/pkg/app/fn/") {
				fnPkgs = append(fnPkgs, dep)
			}
			if rest, ok := strings.CutPrefix(dep, sdk); ok && !strings.Contains(rest, "/") {
				got = append(got, rest)
			}
		}
		if !slices.Equal(fnPkgs, []string{wiring}) {
			t.Errorf("functions/%s links wiring %v, want exactly %s", name, fnPkgs, wiring)
		}
		slices.Sort(got)
		if !slices.Equal(got, clients) {
			t.Errorf("functions/%s links SDK clients %v, want %v", name, got, clients)
		}
	}
}

// TestNoFunctionLinksSDKKMS: the functions that seal or open secrets
// (create-, update-destination, rotate-signing-secret, ingest, deliver) call
// KMS through pkg/kmsjson, whose two JSON calls replace the SDK's KMS
// package and its package inits (about 0.6 ms of every cold start).
func TestNoFunctionLinksSDKKMS(t *testing.T) {
	const sdkKMS = "github.com/aws/aws-sdk-go-v2/service/kms"
	const kmsjson = module + "/pkg/kmsjson"
	sealing := []string{"create-destination", "update-destination", "rotate-signing-secret", "ingest", "deliver"}
	for name, deps := range functionDeps(t, "./functions/...") {
		for _, dep := range deps {
			if dep == sdkKMS || strings.HasPrefix(dep, sdkKMS+"/") {
				t.Errorf("%s links %s", name, dep)
			}
		}
		if fn := strings.TrimPrefix(name, "functions/"); slices.Contains(sealing, fn) && !slices.Contains(deps, kmsjson) {
			t.Errorf("%s seals secrets but does not link %s", name, kmsjson)
		}
	}
	// The check itself: the local stack, which creates the key, links it.
	if !slices.Contains(functionDeps(t, "./pkg/local/stack")["pkg/local/stack"], sdkKMS) {
		t.Errorf("go list does not show pkg/local/stack linking %s; the check above would miss it too", sdkKMS)
	}
}

// TestConsoleLinksNoAWSSDK: the console function serves embedded files; it
// links no part of the AWS SDK at all (not even its core, which the other
// functions' configuration needs), so its cold start reads no AWS
// configuration and builds no client.
func TestConsoleLinksNoAWSSDK(t *testing.T) {
	deps, ok := functionDeps(t, "./functions/console")["functions/console"]
	if !ok {
		t.Fatal("no package functions/console")
	}
	var sdk []string
	for _, dep := range deps {
		if strings.HasPrefix(dep, "github.com/aws/aws-sdk-go-v2") || strings.HasPrefix(dep, "github.com/aws/smithy-go") {
			sdk = append(sdk, dep)
		}
	}
	if len(sdk) > 0 {
		t.Errorf("functions/console links %v", sdk)
	}
	// The check itself: another function's SDK core is seen.
	var seen bool
	for _, dep := range functionDeps(t, "./functions/get-destination")["functions/get-destination"] {
		seen = seen || dep == "github.com/aws/aws-sdk-go-v2/aws"
	}
	if !seen {
		t.Error("go list does not show functions/get-destination linking the SDK; the check above would miss the console's")
	}
}
