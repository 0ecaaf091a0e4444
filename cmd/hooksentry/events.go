package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// `hooksentry events ...`: event history, attempts and replay through the
// events API (CONTRACT §5), against the local stack or a deployed API.

const eventsUsage = `usage:
  hooksentry events list --destination ID [--status STATUS] [--from TIME] [--to TIME] [--page N] [--size N] [--asc]
  hooksentry events show EVENT_ID
  hooksentry events replay EVENT_ID
  hooksentry events replay --destination ID [--status Failed|Delivered] [--from TIME] [--to TIME] [--all]
  hooksentry events stats --destination ID [--from TIME] [--to TIME]

Every events command also takes:
  --json          print the API's JSON answer instead of a table
  --api URL       a deployed API (default: HOOKSENTRY_API_URL, else the local
                  stack at http://HOOKSENTRY_LOCAL_ADDR, 127.0.0.1:8080)
  --token JWT     bearer token (default: HOOKSENTRY_TOKEN; required with --api)
  --tenant ID     local stack without a token: mint one for this tenant
                  (default: HOOKSENTRY_TENANT, else the owner of the destination
                  or event, looked up in the running stack's table)
TIME is RFC 3339 (2026-07-03T14:00:00Z). Flags may come before or after EVENT_ID.
`

// maxBulkCalls bounds replay --all: 1,000 calls of at most 1,000 events.
const maxBulkCalls = 1000

func events(args []string, stdout, stderr io.Writer) error {
	cmd := eventsCommand{apiCommand{group: "events", usage: eventsUsage, stdout: stdout, stderr: stderr}}
	return dispatch("events", eventsUsage, args, stderr, map[string]subcommand{
		"list": cmd.list, "show": cmd.show, "replay": cmd.replay, "stats": cmd.stats,
	})
}

// eventsCommand is one events subcommand: the shared API flags and output.
type eventsCommand struct{ apiCommand }

// parseInterspersed parses flags wherever they are among the positional
// arguments (the flag package stops at the first non-flag); everything after
// "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// checkTime accepts an RFC 3339 time (or nothing) for flag name.
func checkTime(name, v string) error {
	if v == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		return fmt.Errorf("--%s: %q is not an RFC 3339 time such as 2026-07-03T14:00:00Z", name, v)
	}
	return nil
}

func checkRange(from, to string) error {
	if err := checkTime("from", from); err != nil {
		return err
	}
	if err := checkTime("to", to); err != nil {
		return err
	}
	if from != "" && to != "" {
		f, _ := time.Parse(time.RFC3339, from)
		t, _ := time.Parse(time.RFC3339, to)
		if f.After(t) {
			return errors.New("--from is after --to")
		}
	}
	return nil
}

func noArgs(cmd string, pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("events %s: unexpected argument %q", cmd, pos[0])
	}
	return nil
}

func destinationPath(id, suffix string) string {
	return "/api/v1/destinations/" + url.PathEscape(id) + "/events" + suffix
}

func eventPath(id, suffix string) string {
	return "/api/v1/events/" + url.PathEscape(id) + suffix
}

func (c *eventsCommand) list(ctx context.Context, args []string) error {
	fs := c.flags("list")
	dest := fs.String("destination", "", "destination id (required)")
	status := fs.String("status", "", "only events with this status (Pending, Held, Delivered, Failed)")
	from := fs.String("from", "", "only events received at or after this RFC 3339 time")
	to := fs.String("to", "", "only events received at or before this RFC 3339 time")
	page := fs.Int("page", 0, "page number, from 1 (default 1)")
	size := fs.Int("size", 0, "page size, 1 to 100 (default 10)")
	asc := fs.Bool("asc", false, "oldest first (default: newest first)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("list", pos); err != nil {
		return err
	}
	if *dest == "" {
		return errors.New("events list: --destination is required")
	}
	if err := checkRange(*from, *to); err != nil {
		return fmt.Errorf("events list: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	q := url.Values{}
	if *status != "" {
		q.Set("status", *status)
	}
	if *from != "" {
		q.Set("from", *from)
	}
	if *to != "" {
		q.Set("to", *to)
	}
	if set["page"] {
		if *page < 1 {
			return errors.New("events list: --page starts at 1")
		}
		q.Set("Pg", strconv.Itoa(*page))
	}
	if set["size"] {
		if *size < 1 {
			return errors.New("events list: --size must be at least 1")
		}
		q.Set("Qt", strconv.Itoa(*size))
	}
	if *asc {
		q.Set("TpOrd", "Asc")
	}
	cl, err := c.client(ctx, subject{destinationID: *dest})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodGet, destinationPath(*dest, ""), q, nil)
	if err != nil {
		return err
	}
	return c.print(raw, renderList)
}

func (c *eventsCommand) show(ctx context.Context, args []string) error {
	fs := c.flags("show")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return errors.New("events show: give exactly one EVENT_ID")
	}
	id := pos[0]
	cl, err := c.client(ctx, subject{eventID: id})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodGet, eventPath(id, ""), nil, nil)
	if err != nil {
		return err
	}
	return c.print(raw, renderEvent)
}

func (c *eventsCommand) replay(ctx context.Context, args []string) error {
	fs := c.flags("replay")
	dest := fs.String("destination", "", "replay the matching events of this destination")
	status := fs.String("status", "", "with --destination: Failed (default) or Delivered")
	from := fs.String("from", "", "with --destination: events received at or after this RFC 3339 time")
	to := fs.String("to", "", "with --destination: events received at or before this RFC 3339 time")
	all := fs.Bool("all", false, "with --destination: call again until no matching event remains")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *dest == "" {
		if len(pos) != 1 || pos[0] == "" {
			return errors.New("events replay: give one EVENT_ID, or --destination ID")
		}
		if *status != "" || *from != "" || *to != "" || *all {
			return errors.New("events replay: --status, --from, --to and --all go with --destination, not with an EVENT_ID")
		}
		return c.replayOne(ctx, pos[0])
	}
	if len(pos) > 0 {
		return fmt.Errorf("events replay: give either EVENT_ID or --destination, not both (got %q)", pos[0])
	}
	if err := checkRange(*from, *to); err != nil {
		return fmt.Errorf("events replay: %w", err)
	}
	st := *status
	switch {
	case st == "" || strings.EqualFold(st, "Failed"):
		st = "Failed"
	case strings.EqualFold(st, "Delivered"):
		st = "Delivered"
	} // anything else: the API says why it is refused
	return c.replayBulk(ctx, *dest, bulkReplayRequest{Status: st, From: *from, To: *to}, *all)
}

func (c *eventsCommand) replayOne(ctx context.Context, id string) error {
	cl, err := c.client(ctx, subject{eventID: id})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodPost, eventPath(id, "/replay"), nil, nil)
	if err != nil {
		return err
	}
	return c.print(raw, renderReplayed)
}

type bulkReplayRequest struct {
	Status string `json:"status"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
}

// replayBulk replays a destination's matching events; with all it calls
// again until remaining is 0, at most maxBulkCalls times. With --json it
// prints each call's answer, one per line under --all.
func (c *eventsCommand) replayBulk(ctx context.Context, dest string, body bulkReplayRequest, all bool) error {
	cl, err := c.client(ctx, subject{destinationID: dest})
	if err != nil {
		return err
	}
	var total bulkReplayResult
	for call := 1; ; call++ {
		raw, err := cl.do(ctx, http.MethodPost, destinationPath(dest, "/replay"), nil, body)
		if err != nil {
			if total.Replayed > 0 {
				return fmt.Errorf("after replaying %d events: %w", total.Replayed, err)
			}
			return err
		}
		var r bulkReplayResult
		if err := decode(raw, &r); err != nil {
			return err
		}
		total.Replayed += r.Replayed
		total.Remaining = r.Remaining
		if c.json {
			write := writeJSON
			if all {
				write = writeJSONLine
			}
			if err := write(c.stdout, raw); err != nil {
				return err
			}
		}
		if !all || r.Remaining == 0 {
			break
		}
		if r.Replayed == 0 {
			if !c.json {
				_ = renderBulk(c.stdout, total)
			}
			return fmt.Errorf("events replay --all: the API replayed nothing while %d events remain; stopped", r.Remaining)
		}
		if call == maxBulkCalls {
			if !c.json {
				_ = renderBulk(c.stdout, total)
			}
			return fmt.Errorf("events replay --all: stopped after %d calls with %d events remaining; run it again", maxBulkCalls, r.Remaining)
		}
		fmt.Fprintf(c.stderr, "replayed %d so far, %d remaining…\n", total.Replayed, r.Remaining)
	}
	if c.json {
		return nil
	}
	return renderBulk(c.stdout, total)
}

func (c *eventsCommand) stats(ctx context.Context, args []string) error {
	fs := c.flags("stats")
	dest := fs.String("destination", "", "destination id (required)")
	from := fs.String("from", "", "RFC 3339 start (default: the start of the hour 23 hours ago)")
	to := fs.String("to", "", "RFC 3339 end (default: now); at most 7 days after --from")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs("stats", pos); err != nil {
		return err
	}
	if *dest == "" {
		return errors.New("events stats: --destination is required")
	}
	if err := checkRange(*from, *to); err != nil {
		return fmt.Errorf("events stats: %w", err)
	}
	q := url.Values{}
	if *from != "" {
		q.Set("from", *from)
	}
	if *to != "" {
		q.Set("to", *to)
	}
	cl, err := c.client(ctx, subject{destinationID: *dest})
	if err != nil {
		return err
	}
	raw, err := cl.do(ctx, http.MethodGet, destinationPath(*dest, "/stats"), q, nil)
	if err != nil {
		return err
	}
	return c.print(raw, renderStats)
}
