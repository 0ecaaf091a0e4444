package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// template.yaml declares the deliver function's timeout by hand; it must be
// DeliverFunctionTimeout, which the settings are validated against (the CDK
// app uses the constant itself, and infra/parity_test.go compares it with
// template.yaml). The delivery queue's visibility timeout is six times it.
func TestTemplateDeliverTimeoutIsDeliverFunctionTimeout(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	var tpl struct {
		Resources struct {
			DeliverFunction struct {
				Properties struct {
					Timeout int `yaml:"Timeout"`
				} `yaml:"Properties"`
			} `yaml:"DeliverFunction"`
			DeliveryQueue struct {
				Properties struct {
					VisibilityTimeout int `yaml:"VisibilityTimeout"`
				} `yaml:"Properties"`
			} `yaml:"DeliveryQueue"`
		} `yaml:"Resources"`
	}
	if err := doc.Decode(&tpl); err != nil {
		t.Fatalf("decode template.yaml: %v", err)
	}
	want := int(DeliverFunctionTimeout / time.Second)
	if got := tpl.Resources.DeliverFunction.Properties.Timeout; got != want {
		t.Errorf("template.yaml DeliverFunction Timeout = %d, want config.DeliverFunctionTimeout = %d s", got, want)
	}
	if got := tpl.Resources.DeliveryQueue.Properties.VisibilityTimeout; got != 6*want {
		t.Errorf("template.yaml DeliveryQueue VisibilityTimeout = %d, want 6 × %d s", got, want)
	}
}
