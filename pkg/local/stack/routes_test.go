package stack

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hooksentry/hooksentry/pkg/app"
	"github.com/hooksentry/hooksentry/pkg/config"
)

// TestRoutesMatchTemplate keeps the local gateway honest: it must serve
// exactly the HTTP routes template.yaml deploys, with the same functions and
// the same authorizer choice.
func TestRoutesMatchTemplate(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				CodeURI string `yaml:"CodeUri"`
				Events  map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Method string `yaml:"Method"`
						Path   string `yaml:"Path"`
						Auth   struct {
							Authorizer string `yaml:"Authorizer"`
						} `yaml:"Auth"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := doc.Decode(&tmpl); err != nil {
		t.Fatalf("decode template.yaml: %v", err)
	}
	var want []string
	for _, r := range tmpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		fn := filepath.Base(strings.TrimSuffix(r.Properties.CodeURI, "/"))
		for _, ev := range r.Properties.Events {
			if ev.Type != "HttpApi" {
				continue
			}
			jwt := ev.Properties.Auth.Authorizer != "NONE"
			want = append(want, route(ev.Properties.Method, ev.Properties.Path, fn, jwt))
		}
	}
	cfg, _ := config.Load(func(string) string { return "" })
	var got []string
	routes, err := Routes(&app.Env{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		got = append(got, route(r.Method, r.Path, r.Function, r.JWT))
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("local gateway routes:\n%s\ntemplate.yaml routes:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) != 15 {
		t.Errorf("template.yaml declares %d HTTP routes, want the 15 of CONTRACT §1, §2, §5 and §7", len(want))
	}
}

func route(method, path, fn string, jwt bool) string {
	auth := "public"
	if jwt {
		auth = "jwt"
	}
	return strings.ToUpper(method) + " " + path + " -> " + fn + " (" + auth + ")"
}

// TestEveryFunctionHasItsLambdaWiring: the local stack serves each function
// of functions/ with the wiring its main.go starts (pkg/app/fn), and nothing
// else.
func TestEveryFunctionHasItsLambdaWiring(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join("..", "..", "..", "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, d := range dirs {
		want = append(want, d.Name())
	}
	got := []string{"deliver", "sweeper"} // Functions.Worker, Functions.Sweeper
	for name := range HTTPFunctions {
		got = append(got, name)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("functions wired locally: %v; functions/: %v", got, want)
	}
}
