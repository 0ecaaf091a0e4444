package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// A normalized view of a template, the same for template.yaml (SAM) and the CDK
// synthesis, so that the two compare: references are rendered in Fn::Sub syntax
// with template.yaml's logical ids (${Table.Arn}, ${DeliveryQueue}), parameters
// are replaced by their values, conditions are evaluated.

// resolver normalizes the values of one template.
type resolver struct {
	tpl        map[string]any
	name       func(logicalID string) string // logical id -> template.yaml logical id
	params     map[string]any                // parameter values
	conditions map[string]bool
	isResource map[string]bool
}

// newSAMResolver resolves template.yaml with parameter values params (missing
// ones take the parameter's Default).
func newSAMResolver(t *testing.T, tpl map[string]any, params map[string]any) *resolver {
	t.Helper()
	r := &resolver{tpl: tpl, name: func(id string) string { return id }, params: map[string]any{}, isResource: map[string]bool{}}
	ps, _ := tpl["Parameters"].(map[string]any)
	for name, p := range ps {
		pm, _ := p.(map[string]any)
		if v, ok := params[name]; ok {
			r.params[name] = v
		} else if d, ok := pm["Default"]; ok {
			r.params[name] = d
		}
	}
	for id := range resources(tpl) {
		r.isResource[id] = true
	}
	r.conditions = map[string]bool{}
	conds, _ := tpl["Conditions"].(map[string]any)
	for name := range conds {
		r.condition(t, name)
	}
	return r
}

// newCDKResolver resolves a CDK synthesis, naming resources by construct id.
func newCDKResolver(s *synthesized) *resolver {
	r := &resolver{tpl: s.tpl, params: map[string]any{}, conditions: map[string]bool{}, isResource: map[string]bool{}}
	r.name = func(id string) string {
		if n, ok := s.names[id]; ok {
			return n
		}
		return id
	}
	for id := range resources(s.tpl) {
		r.isResource[id] = true
	}
	return r
}

func (r *resolver) condition(t *testing.T, name string) bool {
	t.Helper()
	if v, ok := r.conditions[name]; ok {
		return v
	}
	conds, _ := r.tpl["Conditions"].(map[string]any)
	expr, ok := conds[name]
	if !ok {
		t.Fatalf("unknown condition %s", name)
	}
	v := r.evalCondition(t, expr)
	r.conditions[name] = v
	return v
}

func (r *resolver) evalCondition(t *testing.T, expr any) bool {
	t.Helper()
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		t.Fatalf("condition expression %s is not an intrinsic", canonicalJSON(expr))
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) != 2 {
				t.Fatalf("Fn::Equals needs two arguments: %s", canonicalJSON(expr))
			}
			return fmt.Sprint(r.value(t, args[0])) == fmt.Sprint(r.value(t, args[1]))
		case "Fn::Not":
			return !r.evalCondition(t, args[0])
		case "Fn::And":
			for _, a := range args {
				if !r.evalCondition(t, a) {
					return false
				}
			}
			return true
		case "Fn::Or":
			for _, a := range args {
				if r.evalCondition(t, a) {
					return true
				}
			}
			return false
		case "Condition":
			return r.condition(t, arg.(string))
		}
		t.Fatalf("unsupported condition function %s", fn)
	}
	return false
}

// noValue marks AWS::NoValue: the enclosing key is dropped.
type noValueT struct{}

var noValue = noValueT{}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// value normalizes v: intrinsics become strings in Fn::Sub syntax, parameters
// their values, Fn::If its chosen branch, AWS::NoValue drops the key. IAM
// Action/Resource become sorted lists.
func (r *resolver) value(t *testing.T, v any) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if res, ok := r.intrinsic(t, fn, arg); ok {
					return res
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			nv := r.value(t, e)
			if nv == noValue {
				continue
			}
			switch k {
			case "Action", "NotAction", "Resource", "NotResource":
				nv = sortedAny(nv)
			}
			out[k] = nv
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if nv := r.value(t, e); nv != noValue {
				out = append(out, nv)
			}
		}
		return out
	case int:
		return float64(x)
	default:
		return v
	}
}

func sortedAny(v any) any {
	var ss []string
	switch x := v.(type) {
	case string:
		ss = []string{x}
	case []any:
		for _, e := range x {
			ss = append(ss, fmt.Sprint(e))
		}
	default:
		return v
	}
	sort.Strings(ss)
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// intrinsic normalizes {fn: arg}; ok is false when fn is not an intrinsic.
func (r *resolver) intrinsic(t *testing.T, fn string, arg any) (any, bool) {
	t.Helper()
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		switch {
		case name == "AWS::NoValue":
			return noValue, true
		case strings.HasPrefix(name, "AWS::"):
			return "${" + name + "}", true
		case r.isResource[name]:
			return "${" + r.name(name) + "}", true
		}
		if p, ok := r.params[name]; ok {
			return normScalar(p), true
		}
		t.Fatalf("Ref to unknown name %q", name)
	case "Fn::GetAtt":
		parts := stringList(arg)
		if len(parts) != 2 {
			t.Fatalf("Fn::GetAtt %s", canonicalJSON(arg))
		}
		return "${" + r.name(parts[0]) + "." + parts[1] + "}", true
	case "Fn::Join":
		args, _ := arg.([]any)
		if len(args) != 2 {
			t.Fatalf("Fn::Join %s", canonicalJSON(arg))
		}
		sep, _ := args[0].(string)
		items, _ := r.value(t, args[1]).([]any)
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = fmt.Sprint(it)
		}
		return strings.Join(parts, sep), true
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			tmpl = a
		case []any:
			tmpl, _ = a[0].(string)
			if len(a) > 1 {
				vars, _ = a[1].(map[string]any)
			}
		}
		return subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
			ref := m[2 : len(m)-1]
			if v, ok := vars[ref]; ok {
				return fmt.Sprint(r.value(t, v))
			}
			if res, attr, ok := strings.Cut(ref, "."); ok && r.isResource[res] {
				return "${" + r.name(res) + "." + attr + "}"
			}
			return fmt.Sprint(r.value(t, map[string]any{"Ref": ref}))
		}), true
	case "Fn::If":
		args, _ := arg.([]any)
		if len(args) != 3 {
			t.Fatalf("Fn::If %s", canonicalJSON(arg))
		}
		if r.condition(t, args[0].(string)) {
			return r.value(t, args[1]), true
		}
		return r.value(t, args[2]), true
	case "Fn::FindInMap", "Fn::Select", "Fn::Split", "Fn::ImportValue", "Fn::GetAZs", "Fn::Base64", "Fn::Cidr":
		t.Fatalf("%s is not supported by the parity comparison", fn)
	}
	return nil, false
}

// normScalar renders parameter values like template literals.
func normScalar(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	default:
		return v
	}
}

// ---------------------------------------------------------------------------
// Function model

type functionModel struct {
	Dir           string
	Name          string // logical id (template.yaml) / construct id (CDK)
	Runtime       any
	Handler       any
	Architectures any
	MemorySize    any
	Timeout       any
	Env           map[string]any
	Routes        []string // "METHOD /path AUTH"
	SQS           []string // normalized event source mappings
	Schedules     []string
	Role          string
	LogGroup      any
	Statements    []string // normalized IAM statements of the role
	Tag           string
}

func (f *functionModel) String() string { return f.Dir }

// statementsOf normalizes the inline policies of a role.
func statementsOf(t *testing.T, r *resolver, role map[string]any) []string {
	t.Helper()
	var out []string
	pols, _ := props(role)["Policies"].([]any)
	for _, p := range pols {
		pm, _ := p.(map[string]any)
		doc, _ := r.value(t, pm["PolicyDocument"]).(map[string]any)
		sts, _ := doc["Statement"].([]any)
		for _, s := range sts {
			out = append(out, canonicalJSON(s))
		}
	}
	sort.Strings(out)
	return out
}

// samFunctions builds the function models of template.yaml.
func samFunctions(t *testing.T, r *resolver) map[string]*functionModel {
	t.Helper()
	tpl := r.tpl
	globals, _ := tpl["Globals"].(map[string]any)
	gfn, _ := globals["Function"].(map[string]any)
	out := map[string]*functionModel{}
	for id, res := range resourcesOfType(tpl, "AWS::Serverless::Function") {
		p := props(res)
		get := func(k string) any {
			if v, ok := p[k]; ok {
				return r.value(t, v)
			}
			return r.value(t, gfn[k])
		}
		codeURI, _ := p["CodeUri"].(string)
		dir := strings.TrimSuffix(strings.TrimPrefix(codeURI, "build/"), "/")
		if codeURI != "build/"+dir+"/" || dir == "" || strings.Contains(dir, "/") {
			t.Errorf("%s: CodeUri %q is not build/<function>/", id, codeURI)
		}
		f := &functionModel{
			Dir: dir, Name: id,
			Runtime: get("Runtime"), Handler: get("Handler"), Architectures: get("Architectures"),
			MemorySize: get("MemorySize"), Timeout: get("Timeout"),
			Env: map[string]any{},
			Tag: tagValue(p["Tags"], functionTagKey),
		}
		if env, ok := p["Environment"].(map[string]any); ok {
			vars, _ := r.value(t, env["Variables"]).(map[string]any)
			for k, v := range vars {
				f.Env[k] = v
			}
		}
		if lc, ok := p["LoggingConfig"].(map[string]any); ok {
			f.LogGroup = r.value(t, lc["LogGroup"])
		}
		roleRef := fmt.Sprint(r.value(t, p["Role"]))
		f.Role = strings.TrimSuffix(strings.TrimPrefix(roleRef, "${"), ".Arn}")
		if role, ok := resources(tpl)[f.Role]; ok {
			f.Statements = statementsOf(t, r, role)
		} else {
			t.Errorf("%s: Role %s is not a resource of the template", id, roleRef)
		}
		events, _ := p["Events"].(map[string]any)
		for evName, ev := range events {
			em, _ := ev.(map[string]any)
			ep, _ := em["Properties"].(map[string]any)
			switch em["Type"] {
			case "HttpApi":
				auth := samDefaultAuthType(t, r, ep["ApiId"])
				if a, ok := ep["Auth"].(map[string]any); ok && a["Authorizer"] == "NONE" {
					auth = "NONE"
				}
				f.Routes = append(f.Routes, fmt.Sprintf("%s %s %s", strings.ToUpper(fmt.Sprint(ep["Method"])), ep["Path"], auth))
			case "SQS":
				sc, _ := ep["ScalingConfig"].(map[string]any)
				f.SQS = append(f.SQS, canonicalJSON(map[string]any{
					"Queue":                          r.value(t, ep["Queue"]),
					"BatchSize":                      r.value(t, ep["BatchSize"]),
					"MaximumBatchingWindowInSeconds": r.value(t, ep["MaximumBatchingWindowInSeconds"]),
					"FunctionResponseTypes":          r.value(t, ep["FunctionResponseTypes"]),
					"MaximumConcurrency":             r.value(t, sc["MaximumConcurrency"]),
				}))
			case "Schedule":
				f.Schedules = append(f.Schedules, fmt.Sprint(r.value(t, ep["Schedule"])))
			default:
				t.Errorf("%s: event %s has unsupported type %v", id, evName, em["Type"])
			}
		}
		sort.Strings(f.Routes)
		if _, dup := out[dir]; dup {
			t.Errorf("two functions build from build/%s/", dir)
		}
		out[dir] = f
	}
	return out
}

// samDefaultAuthType is the authorization type of the HttpApi's default authorizer.
func samDefaultAuthType(t *testing.T, r *resolver, apiRef any) string {
	t.Helper()
	ref, _ := apiRef.(map[string]any)
	id, _ := ref["Ref"].(string)
	api, ok := resources(r.tpl)[id]
	if !ok || api["Type"] != "AWS::Serverless::HttpApi" {
		t.Fatalf("HttpApi event: ApiId %s is not an AWS::Serverless::HttpApi", canonicalJSON(apiRef))
	}
	auth, _ := props(api)["Auth"].(map[string]any)
	def, _ := auth["DefaultAuthorizer"].(string)
	if def == "" {
		return "NONE"
	}
	authorizers, _ := auth["Authorizers"].(map[string]any)
	a, _ := authorizers[def].(map[string]any)
	if _, ok := a["JwtConfiguration"]; ok {
		return "JWT"
	}
	return "CUSTOM"
}

// cdkFunctions builds the function models of a CDK synthesis.
func cdkFunctions(t *testing.T, s *synthesized) map[string]*functionModel {
	t.Helper()
	r := newCDKResolver(s)
	all := resources(s.tpl)
	out := map[string]*functionModel{}
	byID := map[string]*functionModel{}
	for id, res := range resourcesOfType(s.tpl, "AWS::Lambda::Function") {
		p := props(res)
		dir := tagValue(p["Tags"], functionTagKey)
		if dir == "" {
			t.Errorf("function %s has no %s tag", id, functionTagKey)
			continue
		}
		f := &functionModel{
			Dir: dir, Name: s.names[id], Tag: dir,
			Runtime: r.value(t, p["Runtime"]), Handler: r.value(t, p["Handler"]), Architectures: r.value(t, p["Architectures"]),
			MemorySize: r.value(t, p["MemorySize"]), Timeout: r.value(t, p["Timeout"]),
			Env: map[string]any{},
		}
		if env, ok := p["Environment"].(map[string]any); ok {
			vars, _ := r.value(t, env["Variables"]).(map[string]any)
			for k, v := range vars {
				f.Env[k] = v
			}
		}
		if lc, ok := p["LoggingConfig"].(map[string]any); ok {
			f.LogGroup = r.value(t, lc["LogGroup"])
		}
		roleAtt, _ := p["Role"].(map[string]any)
		roleParts := stringList(roleAtt["Fn::GetAtt"])
		if len(roleParts) == 2 {
			f.Role = s.names[roleParts[0]]
			f.Statements = statementsOf(t, r, all[roleParts[0]])
		} else {
			t.Errorf("function %s: Role is not a GetAtt of a role in the stack", dir)
		}
		if _, dup := out[dir]; dup {
			t.Errorf("two functions tagged %s", dir)
		}
		out[dir] = f
		byID[id] = f
	}
	fnOfArn := func(v any) *functionModel {
		m, _ := v.(map[string]any)
		parts := stringList(m["Fn::GetAtt"])
		if len(parts) == 2 && parts[1] == "Arn" {
			return byID[parts[0]]
		}
		return nil
	}
	// Routes: Route -> Integration -> function.
	for id, route := range resourcesOfType(s.tpl, "AWS::ApiGatewayV2::Route") {
		p := props(route)
		auth, _ := p["AuthorizationType"].(string)
		if auth == "" {
			auth = "NONE"
		}
		// Target: {"Fn::Join": ["", ["integrations/", {"Ref": <integration>}]]}
		integID := ""
		if j, ok := p["Target"].(map[string]any)["Fn::Join"].([]any); ok && len(j) == 2 {
			if parts, ok := j[1].([]any); ok && len(parts) == 2 && parts[0] == "integrations/" {
				ref, _ := parts[1].(map[string]any)
				integID, _ = ref["Ref"].(string)
			}
		}
		if all[integID]["Type"] != "AWS::ApiGatewayV2::Integration" {
			t.Errorf("route %s (%v): target %s is not an integration of the stack", id, p["RouteKey"], canonicalJSON(p["Target"]))
			continue
		}
		f := fnOfArn(props(all[integID])["IntegrationUri"])
		if f == nil {
			t.Errorf("route %s (%v): target is not a Lambda integration of the stack", id, p["RouteKey"])
			continue
		}
		f.Routes = append(f.Routes, fmt.Sprintf("%s %s", p["RouteKey"], auth))
		sort.Strings(f.Routes)
	}
	for id, esm := range resourcesOfType(s.tpl, "AWS::Lambda::EventSourceMapping") {
		p := props(esm)
		ref, _ := p["FunctionName"].(map[string]any)
		fid, _ := ref["Ref"].(string)
		f := byID[fid]
		if f == nil {
			t.Errorf("event source mapping %s: FunctionName is not a function of the stack", id)
			continue
		}
		sc, _ := p["ScalingConfig"].(map[string]any)
		f.SQS = append(f.SQS, canonicalJSON(map[string]any{
			"Queue":                          r.value(t, p["EventSourceArn"]),
			"BatchSize":                      r.value(t, p["BatchSize"]),
			"MaximumBatchingWindowInSeconds": r.value(t, p["MaximumBatchingWindowInSeconds"]),
			"FunctionResponseTypes":          r.value(t, p["FunctionResponseTypes"]),
			"MaximumConcurrency":             r.value(t, sc["MaximumConcurrency"]),
		}))
	}
	for id, rule := range resourcesOfType(s.tpl, "AWS::Events::Rule") {
		p := props(rule)
		targets, _ := p["Targets"].([]any)
		for _, tg := range targets {
			tm, _ := tg.(map[string]any)
			f := fnOfArn(tm["Arn"])
			if f == nil {
				t.Errorf("rule %s: target is not a function of the stack", id)
				continue
			}
			f.Schedules = append(f.Schedules, fmt.Sprint(p["ScheduleExpression"]))
		}
	}
	return out
}
