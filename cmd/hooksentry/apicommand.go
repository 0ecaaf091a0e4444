package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// apiCommand holds what every command that calls the management API shares
// (events, destinations): its output, its usage text, and the flags that
// choose the API, the token and the output format.
type apiCommand struct {
	group  string // "events", "destinations": prefixes flag errors
	usage  string
	stdout io.Writer
	stderr io.Writer

	api, token, tenant string
	json               bool
}

func (c *apiCommand) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(c.group+" "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() { fmt.Fprint(c.stderr, c.usage) }
	fs.StringVar(&c.api, "api", "", "base URL of a deployed API (default: HOOKSENTRY_API_URL, else the local stack)")
	fs.StringVar(&c.token, "token", "", "bearer token (default: HOOKSENTRY_TOKEN)")
	fs.StringVar(&c.tenant, "tenant", "", "local stack: mint a token for this tenant (default: HOOKSENTRY_TENANT, else looked up)")
	fs.BoolVar(&c.json, "json", false, "print the API's JSON answer")
	return fs
}

// client resolves the API and its token for a command about subject (the
// zero subject: a command about no existing resource, such as create).
func (c *apiCommand) client(ctx context.Context, about subject) (*apiClient, error) {
	target, err := resolveTarget(c.api)
	if err != nil {
		return nil, err
	}
	tok, err := bearer(ctx, target, c.token, c.tenant, about)
	if err != nil {
		return nil, err
	}
	return newAPIClient(target, tok), nil
}
