package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestMain stops the jsii kernel after the tests. (The Node.js version warnings
// of the kernel are silenced by internal/jsiienv, imported by main.go.)
func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// tempDirs are removed after the tests (the synthesis cache outlives any one test).
var tempDirs []string

func mkTempDir(t testing.TB, pattern string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		t.Fatal(err)
	}
	synthMu2.Lock()
	tempDirs = append(tempDirs, dir)
	synthMu2.Unlock()
	return dir
}

var synthMu2 sync.Mutex

// synthesized is one environment's stack, synthesized once per test binary.
type synthesized struct {
	cfg      EnvConfig
	stack    *HookSentryStack
	assert   assertions.Template
	tpl      map[string]any // the CloudFormation template as JSON values
	names    map[string]string
	buildDir string
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
)

// fakeBuildDir makes build/<function>/bootstrap for every function, each with
// distinct content (distinct asset hashes), as `make build` would.
func fakeBuildDir(t testing.TB) string {
	t.Helper()
	dir := mkTempDir(t, "hooksentry-infra-build-")
	for _, spec := range functionSpecs {
		d := filepath.Join(dir, spec.Dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "bootstrap"), []byte("fake "+spec.Dir+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// synth returns the synthesized stack of environment env.
func synth(t *testing.T, env string) *synthesized {
	t.Helper()
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[env]; ok {
		return s
	}
	cfg, err := LookupEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	outdir := mkTempDir(t, "hooksentry-cdk-out-")
	buildDir := fakeBuildDir(t)
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir: jsii.String(outdir),
		// As the CDK CLI does: record each resource's construct path, which
		// maps CDK logical ids back to construct ids (see logicalNames).
		Context: &map[string]any{"aws:cdk:enable-path-metadata": true},
	})
	stack, err := NewHookSentryStack(app, cfg.StackName(), &HookSentryStackProps{Config: cfg, BuildDir: buildDir})
	if err != nil {
		t.Fatalf("NewHookSentryStack(%s): %v", env, err)
	}
	at := assertions.Template_FromStack(stack.Stack, nil)
	raw, err := json.Marshal(at.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tpl map[string]any
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	s := &synthesized{cfg: cfg, stack: stack, assert: at, tpl: tpl, buildDir: buildDir}
	s.names = logicalNames(t, tpl)
	synthCache[env] = s
	return s
}

// logicalNames maps each CDK logical id to the id of the construct directly under
// the stack that declared it (HookSentry-dev/DeliverRole/Resource -> DeliverRole).
// These construct ids are the logical ids of template.yaml.
func logicalNames(t *testing.T, tpl map[string]any) map[string]string {
	t.Helper()
	names := map[string]string{}
	for id, r := range resources(tpl) {
		md, _ := r["Metadata"].(map[string]any)
		p, _ := md["aws:cdk:path"].(string)
		parts := strings.Split(p, "/")
		if len(parts) < 2 {
			t.Fatalf("resource %s has no aws:cdk:path metadata", id)
		}
		names[id] = parts[1]
	}
	return names
}

// resources returns the Resources section.
func resources(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	rs, _ := tpl["Resources"].(map[string]any)
	for id, r := range rs {
		if m, ok := r.(map[string]any); ok {
			out[id] = m
		}
	}
	return out
}

// resourcesOfType returns the resources of one type, by logical id.
func resourcesOfType(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range resources(tpl) {
		if r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func props(r map[string]any) map[string]any {
	p, _ := r["Properties"].(map[string]any)
	return p
}

// tagValue returns the value of tag key in a CloudFormation Tags property, which
// is a list of {Key, Value} or (SAM) a map.
func tagValue(tags any, key string) string {
	switch t := tags.(type) {
	case []any:
		for _, e := range t {
			m, _ := e.(map[string]any)
			if m["Key"] == key {
				s, _ := m["Value"].(string)
				return s
			}
		}
	case map[string]any:
		s, _ := t[key].(string)
		return s
	}
	return ""
}

// canonicalJSON renders v with sorted keys and numbers as JSON numbers.
func canonicalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func sortedStrings(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// stringList turns a CloudFormation "string or list of strings" into a list.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, canonicalJSON(e))
			}
		}
		return out
	case nil:
		return nil
	default:
		return []string{canonicalJSON(t)}
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
