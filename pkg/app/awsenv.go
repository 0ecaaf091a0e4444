package app

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// AWSFromEnvironment builds the AWS configuration a Lambda function needs
// from its environment alone: region, the execution role's credentials, and
// the standard AWS_ENDPOINT_URL_<SERVICE> overrides that point clients at
// the local emulators. Unlike config.LoadDefaultConfig it reads no files and
// links no STS, SSO or IMDS clients, which keeps cold starts and bundles
// small. The operator CLI, which runs outside Lambda, uses the full chain.
func AWSFromEnvironment(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("AWS_REGION is not set")
	}
	creds := aws.Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
		Source:          "environment",
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	return aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		ConfigSources: []any{endpointsFromEnv(getenv)},
	}, nil
}

// endpointsFromEnv answers the SDK clients' per-service endpoint lookup
// (they ask every config source that implements GetServiceBaseEndpoint).
type endpointsFromEnv func(string) string

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SDK ID>, e.g.
// AWS_ENDPOINT_URL_DYNAMODB, or the global AWS_ENDPOINT_URL.
func (getenv endpointsFromEnv) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))
	if v := getenv(name); v != "" {
		return v, true, nil
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		return v, true, nil
	}
	return "", false, nil
}
