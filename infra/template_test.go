package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// template.yaml: structure, references and (when cfn-lint is installed) the full
// CloudFormation/SAM validation.

var samTopLevel = map[string]bool{
	"AWSTemplateFormatVersion": true, "Transform": true, "Description": true, "Metadata": true,
	"Parameters": true, "Mappings": true, "Conditions": true, "Rules": true, "Globals": true,
	"Resources": true, "Outputs": true,
}

// samResourceTypes lists the resource types template.yaml may declare.
var samResourceTypes = map[string]bool{
	"AWS::Serverless::Function": true, "AWS::Serverless::HttpApi": true,
	"AWS::DynamoDB::Table": true, "AWS::KMS::Key": true, "AWS::KMS::Alias": true,
	"AWS::SQS::Queue": true, "AWS::IAM::Role": true, "AWS::Logs::LogGroup": true,
	"AWS::CloudWatch::Alarm": true, "AWS::CloudWatch::Dashboard": true,
}

var pseudoParams = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

func TestSAMTemplateStructure(t *testing.T) {
	tpl := loadSAM(t)
	for k := range tpl {
		if !samTopLevel[k] {
			t.Errorf("unknown top-level section %q", k)
		}
	}
	for _, k := range []string{"AWSTemplateFormatVersion", "Transform", "Description", "Parameters", "Conditions", "Globals", "Resources", "Outputs"} {
		if _, ok := tpl[k]; !ok {
			t.Errorf("missing top-level section %s", k)
		}
	}
	if v := tpl["AWSTemplateFormatVersion"]; v != "2010-09-09" {
		t.Errorf("AWSTemplateFormatVersion %v", v)
	}
	if v := tpl["Transform"]; v != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform %v, want AWS::Serverless-2016-10-31", v)
	}

	globals, _ := tpl["Globals"].(map[string]any)
	gfn, _ := globals["Function"].(map[string]any)
	if gfn["Runtime"] != "provided.al2023" || gfn["Handler"] != "bootstrap" || !reflect.DeepEqual(gfn["Architectures"], []any{"arm64"}) {
		t.Errorf("Globals.Function %s: want provided.al2023, arm64, bootstrap", canonicalJSON(gfn))
	}
	for k := range globals {
		if k != "Function" {
			t.Errorf("Globals.%s: keep Globals to functions", k)
		}
	}

	params, _ := tpl["Parameters"].(map[string]any)
	for _, p := range []string{"Environment", "JwtIssuer", "JwtAudience", "DeliverMaxConcurrency"} {
		if _, ok := params[p]; !ok {
			t.Errorf("missing parameter %s", p)
		}
	}
	for name, p := range params {
		pm, _ := p.(map[string]any)
		if _, ok := pm["Type"]; !ok {
			t.Errorf("parameter %s has no Type", name)
		}
	}
	if d := params["DeliverMaxConcurrency"].(map[string]any)["Default"]; d != 10 {
		t.Errorf("DeliverMaxConcurrency default %v, want 10", d)
	}

	outs, _ := tpl["Outputs"].(map[string]any)
	sub := func(name string) string {
		o, _ := outs[name].(map[string]any)
		v, _ := o["Value"].(map[string]any)
		s, _ := v["Fn::Sub"].(string)
		return s
	}
	api, ingest := sub("ApiUrl"), sub("IngestBaseUrl")
	if api == "" || !strings.HasPrefix(api, "https://${HttpApi}.") || strings.HasSuffix(api, "/") {
		t.Errorf("ApiUrl %q: want https://${HttpApi}... without a trailing slash", api)
	}
	if ingest != api+"/ingest/" {
		t.Errorf("IngestBaseUrl %q, want ApiUrl + /ingest/", ingest)
	}

	for id, res := range resources(tpl) {
		typ, _ := res["Type"].(string)
		if !samResourceTypes[typ] {
			t.Errorf("%s: unexpected resource type %q", id, typ)
		}
		if _, ok := res["Properties"]; !ok {
			t.Errorf("%s: no Properties", id)
		}
		for k := range res {
			switch k {
			case "Type", "Properties", "Metadata", "Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy":
			default:
				t.Errorf("%s: unknown resource attribute %s", id, k)
			}
		}
		if typ == "AWS::Serverless::Function" {
			p := props(res)
			codeURI, _ := p["CodeUri"].(string)
			dir := strings.TrimSuffix(strings.TrimPrefix(codeURI, "build/"), "/")
			if codeURI != "build/"+dir+"/" {
				t.Errorf("%s: CodeUri %q, want build/<function>/", id, codeURI)
			}
			if got := tagValue(p["Tags"], functionTagKey); got != dir {
				t.Errorf("%s: tag %s=%q, want %q", id, functionTagKey, got, dir)
			}
			md, _ := res["Metadata"].(map[string]any)
			if md["SkipBuild"] != true {
				t.Errorf("%s: Metadata.SkipBuild must be true (make build prebuilds the code)", id)
			}
			for _, k := range []string{"Runtime", "Handler", "Architectures"} {
				if _, ok := p[k]; ok {
					t.Errorf("%s: %s belongs in Globals", id, k)
				}
			}
		}
	}
	checkReferences(t, tpl)
	for _, p := range leastPrivilegeProblems(t, tpl) {
		t.Error(p)
	}
}

// checkReferences: every Ref, GetAtt, Sub variable, Condition and DependsOn names
// something the template (or CloudFormation) defines.
func checkReferences(t *testing.T, tpl map[string]any) {
	t.Helper()
	res := resources(tpl)
	params, _ := tpl["Parameters"].(map[string]any)
	conds, _ := tpl["Conditions"].(map[string]any)
	known := func(name string) bool {
		_, isParam := params[name]
		_, isRes := res[name]
		return isParam || isRes || pseudoParams[name]
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "Ref":
					if s, _ := e.(string); !known(s) {
						t.Errorf("%s: Ref to unknown %v", path, e)
					}
				case "Fn::GetAtt":
					parts := stringList(e)
					if len(parts) != 2 || res[parts[0]] == nil {
						t.Errorf("%s: GetAtt of unknown %v", path, e)
					}
				case "Fn::Sub":
					s, _ := e.(string)
					var vars map[string]any // the list form's own variables
					if l, ok := e.([]any); ok {
						s, _ = l[0].(string)
						if len(l) > 1 {
							vars, _ = l[1].(map[string]any)
						}
					}
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						name, _, _ := strings.Cut(m[1], ".")
						if _, isVar := vars[m[1]]; !isVar && !known(name) && !strings.HasPrefix(m[1], "AWS::") {
							t.Errorf("%s: Sub variable ${%s} is unknown", path, m[1])
						}
					}
				case "Condition", "Fn::If":
					// A string (resource attribute, condition function) or the
					// first element of Fn::If names a condition; an IAM
					// statement's Condition is a map and names none.
					name, isName := e.(string)
					if l, ok := e.([]any); ok && len(l) > 0 {
						name, isName = l[0].(string)
					}
					if _, ok := conds[name]; isName && !ok {
						t.Errorf("%s: unknown condition %v", path, e)
					}
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	for _, section := range []string{"Conditions", "Globals", "Resources", "Outputs"} {
		walk(section, tpl[section])
	}
	for id, r := range res {
		for _, d := range stringList(r["DependsOn"]) {
			if res[d] == nil {
				t.Errorf("%s: DependsOn unknown %s", id, d)
			}
		}
	}
}

// TestCfnLint validates template.yaml (after the SAM transform) and the three
// CDK syntheses with cfn-lint, when it is installed (pip install cfn-lint).
func TestCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed: template.yaml is checked by the structural tests only")
	}
	files := []string{samTemplatePath}
	dir := t.TempDir()
	for _, env := range EnvironmentNames() {
		s := synth(t, env)
		b, err := json.MarshalIndent(s.tpl, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, s.cfg.StackName()+".template.json")
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// W3005: CDK adds a DependsOn on the role that the Role GetAtt already implies.
	cmd := exec.Command(lint, append([]string{"--format", "parseable", "--ignore-checks", "W3005", "--"}, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("cfn-lint: %v\n%s", err, out.String())
	}
}
