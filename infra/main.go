// Command infra is the HookSentry CDK app: one stack per environment.
//
//	cdk synth -c env=dev          (or: CDK_CONTEXT_JSON='{"env":"dev"}' go run .)
//	cdk deploy -c env=prod
//
// Context keys: env (dev|staging|prod, default dev), jwtIssuer and jwtAudience
// (comma-separated) to override config.go, buildDir (default ../build) and
// placeholderAssets=true to synthesize without a build (never deploy that).
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	// Silences the jsii Node.js version warnings; by the package initialization
	// order it runs before the jsii kernel starts (see its doc).
	_ "github.com/hooksentry/hooksentry/infra/internal/jsiienv"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hooksentry infra:", err)
		jsii.Close()
		os.Exit(1)
	}
}

func run() error {
	app := awscdk.NewApp(nil)

	envName := contextString(app, "env", "dev")
	cfg, err := LookupEnv(envName)
	if err != nil {
		return err
	}
	if v := contextString(app, "jwtIssuer", ""); v != "" {
		cfg.JwtIssuer = v
	}
	if v := contextString(app, "jwtAudience", ""); v != "" {
		cfg.JwtAudience = splitList(v)
	}
	if strings.Contains(cfg.JwtIssuer, ".example.com") {
		fmt.Fprintf(os.Stderr, "hooksentry infra: warning: %s uses the placeholder JWT issuer %s; set it in infra/config.go or with -c jwtIssuer=...\n", cfg.StackName(), cfg.JwtIssuer)
	}

	props := &HookSentryStackProps{
		StackProps: awscdk.StackProps{
			Env: stackEnv(),
		},
		Config:            cfg,
		BuildDir:          contextString(app, "buildDir", ""),
		PlaceholderAssets: contextString(app, "placeholderAssets", "false") == "true",
	}
	stack, err := NewHookSentryStack(app, cfg.StackName(), props)
	if err != nil {
		return err
	}
	if len(stack.Placeholders) > 0 {
		fmt.Fprintf(os.Stderr, "hooksentry infra: warning: no build for %s: placeholder code assets; do not deploy this assembly (run make build)\n",
			strings.Join(stack.Placeholders, ", "))
	}
	app.Synth(nil)
	return nil
}

// contextString reads a context value (cdk.json, -c key=value or CDK_CONTEXT_JSON).
func contextString(app awscdk.App, key, def string) string {
	v := app.Node().TryGetContext(jsii.String(key))
	switch t := v.(type) {
	case string:
		if t != "" {
			return t
		}
	case bool:
		return fmt.Sprint(t)
	}
	return def
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// stackEnv pins the stack to the CLI's account and region when the CLI provides
// them; otherwise the stack is environment-agnostic.
func stackEnv() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}
