package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// Human-readable output of the events commands: the JSON shapes of CONTRACT
// §5 as far as the tables need them, and their rendering. --json bypasses
// all of this and prints the API's answer as it came.

type eventSummary struct {
	ID            string  `json:"id"`
	DestinationID string  `json:"destinationId"`
	TenantID      string  `json:"tenantId"`
	Status        string  `json:"status"`
	AttemptCount  int     `json:"attemptCount"`
	ReceivedAt    *string `json:"receivedAt"`
	LastAttemptAt *string `json:"lastAttemptAt"`
	NextAttemptAt *string `json:"nextAttemptAt"`
	DeliveredAt   *string `json:"deliveredAt"`
}

type eventDetail struct {
	eventSummary
	ContentType  *string             `json:"contentType"`
	Headers      map[string][]string `json:"headers"`
	Body         *string             `json:"body"`
	BodyEncoding *string             `json:"bodyEncoding"`
	Attempts     []eventAttempt      `json:"attempts"`
}

type eventAttempt struct {
	Number       int         `json:"number"`
	StartedAt    *string     `json:"startedAt"`
	DurationMs   json.Number `json:"durationMs"`
	Trigger      string      `json:"trigger"`
	Outcome      string      `json:"outcome"`
	StatusCode   *int        `json:"statusCode"`
	Error        *string     `json:"error"`
	ResponseBody *string     `json:"responseBody"`
}

type eventPage struct {
	Total       int            `json:"total"`
	TotalCapped bool           `json:"totalCapped"`
	Items       []eventSummary `json:"items"`
}

type bulkReplayResult struct {
	Replayed  int `json:"replayed"`
	Remaining int `json:"remaining"`
}

type eventStats struct {
	From    string `json:"from"`
	To      string `json:"to"`
	Buckets []struct {
		Start  string         `json:"start"`
		Counts map[string]int `json:"counts"`
	} `json:"buckets"`
}

// statusOrder is the column order of the stats table (CONTRACT §5).
var statusOrder = []string{"Pending", "Held", "Delivered", "Failed"}

const (
	// bodyLimit is how much of a body `events show` prints in table mode;
	// --json prints all of it.
	bodyLimit = 4096
	// responseLimit is how much of a failed attempt's answer the attempts
	// table shows.
	responseLimit = 60
)

func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("unexpected answer from the API: %w", err)
	}
	return nil
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one tab-separated row of cells, each made safe for a terminal.
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		cells[i] = oneLine(c)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}

func renderList(w io.Writer, raw []byte) error {
	var p eventPage
	if err := decode(raw, &p); err != nil {
		return err
	}
	tw := newTable(w)
	row(tw, "ID", "STATUS", "ATTEMPTS", "RECEIVED", "LAST ATTEMPT", "DELIVERED")
	for _, e := range p.Items {
		row(tw, e.ID, e.Status, strconv.Itoa(e.AttemptCount), orDash(e.ReceivedAt), orDash(e.LastAttemptAt), orDash(e.DeliveredAt))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	total := strconv.Itoa(p.Total)
	if p.TotalCapped {
		total += "+"
	}
	_, err := fmt.Fprintf(w, "%d of %s\n", len(p.Items), total)
	return err
}

func renderSummary(w io.Writer, e eventSummary, contentType *string) error {
	tw := newTable(w)
	row(tw, "ID:", e.ID)
	row(tw, "Destination:", e.DestinationID)
	row(tw, "Tenant:", e.TenantID)
	row(tw, "Status:", e.Status)
	row(tw, "Attempts:", strconv.Itoa(e.AttemptCount))
	row(tw, "Received:", orDash(e.ReceivedAt))
	row(tw, "Last attempt:", orDash(e.LastAttemptAt))
	row(tw, "Next attempt:", orDash(e.NextAttemptAt))
	row(tw, "Delivered:", orDash(e.DeliveredAt))
	if contentType != nil {
		row(tw, "Content-Type:", orDash(contentType))
	}
	return tw.Flush()
}

func renderReplayed(w io.Writer, raw []byte) error {
	var e eventSummary
	if err := decode(raw, &e); err != nil {
		return err
	}
	return renderSummary(w, e, nil)
}

func renderEvent(w io.Writer, raw []byte) error {
	var e eventDetail
	if err := decode(raw, &e); err != nil {
		return err
	}
	ct := e.ContentType
	if ct == nil {
		ct = new(string) // shown as "-"
	}
	if err := renderSummary(w, e.eventSummary, ct); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nHeaders:")
	if len(e.Headers) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	names := make([]string, 0, len(e.Headers))
	for name := range e.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range e.Headers[name] {
			fmt.Fprintf(w, "  %s: %s\n", oneLine(name), oneLine(v))
		}
	}

	renderBody(w, e.Body, e.BodyEncoding)

	fmt.Fprintln(w, "\nAttempts:")
	if len(e.Attempts) == 0 {
		fmt.Fprintln(w, "  (none)")
		return nil
	}
	tw := newTable(w)
	row(tw, "#", "STARTED", "MS", "TRIGGER", "OUTCOME", "STATUS", "ERROR", "RESPONSE")
	for _, a := range e.Attempts {
		status := "-"
		if a.StatusCode != nil {
			status = strconv.Itoa(*a.StatusCode)
		}
		ms := a.DurationMs.String()
		if ms == "" {
			ms = "-"
		}
		resp := "-"
		if a.ResponseBody != nil && *a.ResponseBody != "" {
			resp = truncateRunes(oneLine(*a.ResponseBody), responseLimit)
		}
		row(tw, strconv.Itoa(a.Number), orDash(a.StartedAt), ms, a.Trigger, a.Outcome, status, orDash(a.Error), resp)
	}
	return tw.Flush()
}

// renderBody prints the body, at most bodyLimit bytes of it, and says when
// it cut it. A base64 body (not valid UTF-8) is printed as base64.
func renderBody(w io.Writer, body, encoding *string) {
	if body == nil {
		fmt.Fprintln(w, "\nBody: (none)")
		return
	}
	text := *body
	if encoding != nil && *encoding != "" {
		label := *encoding
		if strings.EqualFold(*encoding, "base64") {
			if raw, err := base64.StdEncoding.DecodeString(text); err == nil {
				label = fmt.Sprintf("base64 of %d bytes, not valid UTF-8", len(raw))
			}
		}
		fmt.Fprintf(w, "\nBody (%s):\n", oneLine(label))
	} else {
		fmt.Fprintf(w, "\nBody (%d bytes):\n", len(text))
	}
	if text == "" {
		fmt.Fprintln(w, "  (empty)")
		return
	}
	cut := len(text)
	if cut > bodyLimit {
		cut = bodyLimit
		for cut > bodyLimit-utf8.UTFMax && !utf8.RuneStart(text[cut]) { // do not cut a character in two
			cut--
		}
	}
	shown := terminalText(text[:cut])
	fmt.Fprint(w, shown)
	if !strings.HasSuffix(shown, "\n") {
		fmt.Fprintln(w)
	}
	if cut < len(text) {
		fmt.Fprintf(w, "… body truncated: showed the first %d of %d bytes (--json prints all of it)\n", cut, len(text))
	}
}

func renderBulk(w io.Writer, r bulkReplayResult) error {
	_, err := fmt.Fprintf(w, "replayed %d, remaining %d\n", r.Replayed, r.Remaining)
	return err
}

func renderStats(w io.Writer, raw []byte) error {
	var s eventStats
	if err := decode(raw, &s); err != nil {
		return err
	}
	// Statuses beyond the four of the contract get a column too.
	cols := append([]string(nil), statusOrder...)
	known := map[string]bool{}
	for _, c := range cols {
		known[c] = true
	}
	var extra []string
	for _, b := range s.Buckets {
		for st := range b.Counts {
			if !known[st] {
				known[st] = true
				extra = append(extra, st)
			}
		}
	}
	sort.Strings(extra)
	cols = append(cols, extra...)

	fmt.Fprintf(w, "from %s to %s\n", oneLine(s.From), oneLine(s.To))
	tw := newTable(w)
	header := []string{"HOUR"}
	for _, c := range cols {
		header = append(header, strings.ToUpper(c))
	}
	row(tw, append(header, "TOTAL")...)
	sums := make([]int, len(cols))
	for _, b := range s.Buckets {
		cells := []string{b.Start}
		n := 0
		for i, c := range cols {
			cells = append(cells, strconv.Itoa(b.Counts[c]))
			sums[i] += b.Counts[c]
			n += b.Counts[c]
		}
		row(tw, append(cells, strconv.Itoa(n))...)
	}
	cells := []string{"TOTAL"}
	n := 0
	for _, v := range sums {
		cells = append(cells, strconv.Itoa(v))
		n += v
	}
	row(tw, append(cells, strconv.Itoa(n))...)
	return tw.Flush()
}

// writeJSON prints an API answer for scripts: unchanged, indented.
func writeJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		buf.Reset()
		buf.Write(raw)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// writeJSONLine prints an API answer compacted to one line (bulk replay
// --all --json prints one line per call).
func writeJSONLine(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		buf.Reset()
		buf.Write(bytes.ReplaceAll(raw, []byte("\n"), nil))
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// unsafeRune reports runes that must not reach a terminal as they are:
// control characters (escape sequences) and bidirectional overrides.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// oneLine makes server-supplied text safe for one table cell: whitespace
// controls become spaces, other unsafe runes U+FFFD.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unsafeRune(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// terminalText keeps a body's line breaks and tabs and escapes every other
// unsafe rune as \xNN or \u{NNNN}; a CR before LF is dropped.
func terminalText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x100 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// truncateRunes cuts s to at most n runes, marking a cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
