package emulatortest_test

import (
	"os"
	"testing"

	"github.com/hooksentry/hooksentry/pkg/local/emulator"
	"github.com/hooksentry/hooksentry/pkg/local/emulator/emulatortest"
)

var stack *emulator.Stack

func TestMain(m *testing.M) {
	os.Setenv("AWS_PROFILE", "someone-elses-profile")
	os.Exit(emulatortest.Run(m, func(s *emulator.Stack) { stack = s }))
}

func TestRunSetsAWSEnvironment(t *testing.T) {
	if stack == nil {
		t.Fatal("Run did not pass the stack to fn")
	}
	for name, want := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": stack.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_KMS":      stack.KMSEndpoint,
		"AWS_ENDPOINT_URL_SQS":      stack.SQSEndpoint,
		"AWS_REGION":                "us-east-1",
		"AWS_ACCESS_KEY_ID":         "local",
		"AWS_SECRET_ACCESS_KEY":     "local",
		"AWS_PROFILE":               "",
	} {
		if got := os.Getenv(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}
