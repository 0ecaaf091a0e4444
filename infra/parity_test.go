package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// template.yaml (SAM) and the CDK app must declare the same stack. These tests
// resolve template.yaml with the parameter values of each CDK environment (as
// `sam deploy --parameter-overrides` would) and compare it with that
// environment's synthesis.

const samTemplatePath = "../template.yaml"
const functionsDir = "../functions"

// samParams are the template.yaml parameter values equivalent to cfg.
func samParams(cfg EnvConfig) map[string]any {
	alarms := "false"
	if cfg.AlarmsEnabled {
		alarms = "true"
	}
	return map[string]any{
		"Environment":           cfg.Name,
		"JwtIssuer":             cfg.JwtIssuer,
		"JwtAudience":           strings.Join(cfg.JwtAudience, ","),
		"TenantClaim":           cfg.TenantClaim,
		"DeliverMaxConcurrency": cfg.DeliverMaxConcurrency,
		"LogRetentionInDays":    cfg.LogRetentionDays,
		"EnableAlarms":          alarms,
		"AlarmTopicArn":         cfg.AlarmTopicArn,
		"ConsoleAuthorizeUrl":   cfg.ConsoleAuthorizeURL,
		"ConsoleTokenUrl":       cfg.ConsoleTokenURL,
		"ConsoleClientId":       cfg.ConsoleClientID,
		"ConsoleLogoutUrl":      cfg.ConsoleLogoutURL,
	}
}

func loadSAM(t *testing.T) map[string]any {
	t.Helper()
	tpl, err := loadCfnYAML(samTemplatePath)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

func TestParityFunctions(t *testing.T) {
	sam := loadSAM(t)
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			r := newSAMResolver(t, sam, samParams(s.cfg))
			samFns := samFunctions(t, r)
			cdkFns := cdkFunctions(t, s)

			if got, want := sortedKeysOf(samFns), sortedKeysOf(cdkFns); !reflect.DeepEqual(got, want) {
				t.Fatalf("function directories differ:\n template.yaml %v\n CDK           %v", got, want)
			}
			for dir, sf := range samFns {
				cf := cdkFns[dir]
				check := func(what string, got, want any) {
					t.Helper()
					if canonicalJSON(got) != canonicalJSON(want) {
						t.Errorf("%s %s:\n template.yaml %s\n CDK           %s", dir, what, canonicalJSON(got), canonicalJSON(want))
					}
				}
				check("logical id", sf.Name, cf.Name)
				check("tag "+functionTagKey, sf.Tag, dir)
				check("Runtime", sf.Runtime, cf.Runtime)
				check("Handler", sf.Handler, cf.Handler)
				check("Architectures", sf.Architectures, cf.Architectures)
				check("MemorySize", sf.MemorySize, cf.MemorySize)
				check("Timeout", sf.Timeout, cf.Timeout)
				check("environment variable names", sortedKeysOf(sf.Env), sortedKeysOf(cf.Env))
				check("environment variables", sf.Env, cf.Env)
				check("routes", sf.Routes, cf.Routes)
				check("SQS triggers", sf.SQS, cf.SQS)
				check("schedules", sf.Schedules, cf.Schedules)
				check("role", sf.Role, cf.Role)
				check("log group", sf.LogGroup, cf.LogGroup)
				check("IAM statements", sf.Statements, cf.Statements)
			}
		})
	}
}

// TestParityResources compares every resource that template.yaml declares
// directly (everything but the AWS::Serverless::* ones, whose expansion the
// function and API tests cover) with the CDK resource of the same construct id.
func TestParityResources(t *testing.T) {
	sam := loadSAM(t)
	ignored := map[string]bool{"Tags": true}
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			r := newSAMResolver(t, sam, samParams(s.cfg))
			cr := newCDKResolver(s)
			cdkByName := map[string][]string{}
			for id, res := range resources(s.tpl) {
				if md, _ := res["Metadata"].(map[string]any); md != nil {
					// An L2 construct's resource (<stack>/<id>/Resource), or an L1
					// resource declared on the stack itself (<stack>/<id>).
					p, _ := md["aws:cdk:path"].(string)
					if strings.HasSuffix(p, "/"+s.names[id]+"/Resource") || strings.Count(p, "/") == 1 {
						cdkByName[s.names[id]] = append(cdkByName[s.names[id]], id)
					}
				}
			}
			samCount := map[string]int{}
			for id, res := range resources(sam) {
				typ, _ := res["Type"].(string)
				if strings.HasPrefix(typ, "AWS::Serverless::") {
					continue
				}
				if c, ok := res["Condition"].(string); ok && !r.condition(t, c) {
					continue
				}
				samCount[typ]++
				ids := cdkByName[id]
				if len(ids) != 1 {
					t.Errorf("%s (%s): CDK has %d resources with construct id %s", id, typ, len(ids), id)
					continue
				}
				cres := resources(s.tpl)[ids[0]]
				if cres["Type"] != typ {
					t.Errorf("%s: type %s in template.yaml, %v in CDK", id, typ, cres["Type"])
					continue
				}
				sp, _ := r.value(t, props(res)).(map[string]any)
				cp, _ := cr.value(t, props(cres)).(map[string]any)
				for k := range ignored {
					delete(sp, k)
					delete(cp, k)
				}
				if typ == "AWS::CloudWatch::Dashboard" {
					// The body is JSON text, laid out for reading in
					// template.yaml: compare what it says.
					for _, p := range []map[string]any{sp, cp} {
						var body any
						if err := jsonUnmarshal(fmt.Sprint(p["DashboardBody"]), &body); err != nil {
							t.Errorf("%s.DashboardBody is not JSON: %v", id, err)
						}
						p["DashboardBody"] = body
					}
				}
				for _, k := range unionKeys(sp, cp) {
					if g, w := canonicalJSON(sp[k]), canonicalJSON(cp[k]); g != w {
						t.Errorf("%s.%s:\n template.yaml %s\n CDK           %s", id, k, g, w)
					}
				}
			}
			// The same number of resources of each directly declared type.
			for typ, n := range samCount {
				if got := len(resourcesOfType(s.tpl, typ)); got != n {
					t.Errorf("%s: %d in template.yaml, %d in CDK", typ, n, got)
				}
			}
		})
	}
}

// TestParityHttpAPI compares the JWT authorizer and the access log settings.
func TestParityHttpAPI(t *testing.T) {
	sam := loadSAM(t)
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			s := synth(t, env)
			r := newSAMResolver(t, sam, samParams(s.cfg))
			cr := newCDKResolver(s)
			apis := resourcesOfType(sam, "AWS::Serverless::HttpApi")
			if len(apis) != 1 {
				t.Fatalf("template.yaml has %d AWS::Serverless::HttpApi, want 1", len(apis))
			}
			var api map[string]any
			for _, a := range apis {
				api, _ = r.value(t, props(a)).(map[string]any)
			}
			auth, _ := api["Auth"].(map[string]any)
			def, _ := auth["DefaultAuthorizer"].(string)
			authorizers, _ := auth["Authorizers"].(map[string]any)
			sa, _ := authorizers[def].(map[string]any)
			jc, _ := sa["JwtConfiguration"].(map[string]any)
			samAuth := map[string]any{
				"Name":           def,
				"Issuer":         jc["issuer"],
				"Audience":       jc["audience"],
				"IdentitySource": stringList(sa["IdentitySource"]),
			}
			cdkAuths := resourcesOfType(s.tpl, "AWS::ApiGatewayV2::Authorizer")
			if len(cdkAuths) != 1 {
				t.Fatalf("CDK has %d authorizers, want 1", len(cdkAuths))
			}
			for _, a := range cdkAuths {
				p, _ := cr.value(t, props(a)).(map[string]any)
				if p["AuthorizerType"] != "JWT" {
					t.Errorf("CDK authorizer type %v, want JWT", p["AuthorizerType"])
				}
				cjc, _ := p["JwtConfiguration"].(map[string]any)
				cdkAuth := map[string]any{
					"Name":           p["Name"],
					"Issuer":         cjc["Issuer"],
					"Audience":       cjc["Audience"],
					"IdentitySource": stringList(p["IdentitySource"]),
				}
				if g, w := canonicalJSON(samAuth), canonicalJSON(cdkAuth); g != w {
					t.Errorf("JWT authorizer:\n template.yaml %s\n CDK           %s", g, w)
				}
			}
			for _, st := range resourcesOfType(s.tpl, "AWS::ApiGatewayV2::Stage") {
				p, _ := cr.value(t, props(st)).(map[string]any)
				if g, w := canonicalJSON(api["AccessLogSettings"]), canonicalJSON(p["AccessLogSettings"]); g != w {
					t.Errorf("access log settings:\n template.yaml %s\n CDK           %s", g, w)
				}
			}
		})
	}
}

func TestParityOutputs(t *testing.T) {
	sam := loadSAM(t)
	s := synth(t, "dev")
	so, _ := sam["Outputs"].(map[string]any)
	co, _ := s.tpl["Outputs"].(map[string]any)
	if got, want := mapKeys(so), mapKeys(co); !reflect.DeepEqual(got, want) {
		t.Errorf("outputs differ:\n template.yaml %v\n CDK           %v", got, want)
	}
}

// TestFunctionDirectoriesDeployed: every functions/<name>/ is deployed by both
// templates with a route or a trigger, and every deployed function has its
// functions/<name>/main.go.
func TestFunctionDirectoriesDeployed(t *testing.T) {
	entries, err := os.ReadDir(functionsDir)
	if err != nil {
		t.Fatalf("reading %s: %v (the functions must exist for the templates to deploy them)", functionsDir, err)
	}
	onDisk := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			onDisk[e.Name()] = true
		}
	}
	sam := loadSAM(t)
	s := synth(t, "prod")
	templates := map[string]map[string]*functionModel{
		"template.yaml": samFunctions(t, newSAMResolver(t, sam, samParams(s.cfg))),
		"CDK":           cdkFunctions(t, s),
	}
	for name, fns := range templates {
		for dir := range onDisk {
			f, ok := fns[dir]
			if !ok {
				t.Errorf("functions/%s is not deployed by %s", dir, name)
				continue
			}
			if len(f.Routes)+len(f.SQS)+len(f.Schedules) == 0 {
				t.Errorf("functions/%s has no route or trigger in %s", dir, name)
			}
		}
		for dir := range fns {
			if !onDisk[dir] {
				t.Errorf("%s deploys %s but functions/%s does not exist", name, dir, dir)
				continue
			}
			if _, err := os.Stat(filepath.Join(functionsDir, dir, "main.go")); err != nil {
				t.Errorf("%s deploys %s but functions/%s/main.go is missing", name, dir, dir)
			}
		}
	}
}

func sortedKeysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func unionKeys(a, b map[string]any) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	return sortedKeysOf(set)
}
