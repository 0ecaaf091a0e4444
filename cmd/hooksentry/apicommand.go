package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
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

// subcommand runs one subcommand of a group with its arguments.
type subcommand func(ctx context.Context, args []string) error

// dispatch runs the subcommand args[0] of group: usage on stderr for no
// subcommand, help or an unknown one; Ctrl-C cancels the API calls.
func dispatch(group, usage string, args []string, stderr io.Writer, subs map[string]subcommand) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return fmt.Errorf("%s: no subcommand", group)
		}
		return nil
	}
	run, ok := subs[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%s: unknown subcommand %q", group, args[0])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, args[1:]); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// print writes an API answer: as it came with --json, else rendered for
// people.
func (c *apiCommand) print(raw []byte, render func(w io.Writer, raw []byte) error) error {
	if c.json {
		return writeJSON(c.stdout, raw)
	}
	return render(c.stdout, raw)
}
