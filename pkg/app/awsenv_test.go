package app

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestAWSFromEnvironment(t *testing.T) {
	vars := map[string]string{
		"AWS_REGION":                "eu-west-1",
		"AWS_ACCESS_KEY_ID":         "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":     "secret",
		"AWS_SESSION_TOKEN":         "session",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:4567",
	}
	cfg, err := AWSFromEnvironment(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region = %q, want eu-west-1", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials = %+v, %v; want the environment's", creds, err)
	}
	if got := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; got == nil || *got != "http://127.0.0.1:4567" {
		t.Errorf("DynamoDB endpoint = %v, want the AWS_ENDPOINT_URL_DYNAMODB override", got)
	}
	if got := sqs.NewFromConfig(cfg).Options().BaseEndpoint; got != nil {
		t.Errorf("SQS endpoint = %q, want none (AWS default)", *got)
	}
}

func TestAWSFromEnvironmentRequiresRegionAndCredentials(t *testing.T) {
	for _, missing := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		vars := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
		delete(vars, missing)
		if _, err := AWSFromEnvironment(func(k string) string { return vars[k] }); err == nil {
			t.Errorf("without %s: no error", missing)
		}
	}
}
