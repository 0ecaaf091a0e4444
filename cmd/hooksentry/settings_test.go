package main

import (
	"bytes"
	"strings"
	"testing"
)

// Defect 6 of issue 7: `make run` with HOOKSENTRY_DELIVERY_TIMEOUT=10m
// started happily and then re-queued every event forever. It must stop
// before anything starts, naming the variable (CONTRACT §4).
func TestRunRefusesADeliveryTimeoutThatDoesNotFit(t *testing.T) {
	t.Setenv("HOOKSENTRY_STATE_DIR", t.TempDir())
	t.Setenv("HOOKSENTRY_LOCAL_ADDR", "127.0.0.1:0")
	t.Setenv("HOOKSENTRY_DELIVERY_TIMEOUT", "10m")
	var stdout, stderr bytes.Buffer
	err := run([]string{"run"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "HOOKSENTRY_DELIVERY_TIMEOUT") {
		t.Fatalf("run with HOOKSENTRY_DELIVERY_TIMEOUT=10m: err %v; want an error naming the variable", err)
	}
	if strings.Contains(stdout.String(), "starting emulators") {
		t.Errorf("emulators were started before the settings were checked:\n%s", stdout.String())
	}
}
