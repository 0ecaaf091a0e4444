package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// `hooksentry listen`: an HTTPS receiver on the developer's machine, wired
// to a destination of the local stack, that prints each delivery as it
// arrives. Only the local stack can reach 127.0.0.1, so listen never talks
// to a deployed API (HOOKSENTRY_API_URL is ignored).

const listenUsage = `usage:
  hooksentry listen --port N [--path /] [--tenant ID | --token JWT]

Serves https://127.0.0.1:N<path> (--port 0: any free port) and makes a
destination of the local stack point at it: the tenant's destination with
exactly that URL is reused (its ingest token is rotated, since the old one
cannot be shown again), else one is created. It prints the ingest URL, then
one line per delivery (time, HookSentry-Event-Id, attempt, Content-Type, body
size, the first 200 bytes of the body) and answers 200. Ctrl-C stops it; the
destination stays, for the next listen on the same port.

The certificate comes from a local CA in the state directory (listen-ca.pem),
which make run (hooksentry run) trusts for deliveries; a stack started
before the CA existed must be restarted once.

  --tenant ID     mint a token for this tenant (default: HOOKSENTRY_TENANT)
  --token JWT     or use this token (default: HOOKSENTRY_TOKEN)
`

// previewBytes is how much of each body a delivery line shows.
const previewBytes = 200

// maxListenBody bounds what listen reads of one request; ingest accepts at
// most 256 KiB, so a delivery is never cut.
const maxListenBody = 1 << 20

func listen(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runListen(ctx, args, stdout, stderr)
}

// runListen runs until ctx ends (Ctrl-C in the CLI, the test's cancel).
func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, listenUsage) }
	port := fs.Int("port", -1, "port on 127.0.0.1 (0: any free port)")
	path := fs.String("path", "/", "URL path of the destination")
	tenant := fs.String("tenant", "", "mint a token for this tenant (default: HOOKSENTRY_TENANT)")
	tokenFlag := fs.String("token", "", "bearer token (default: HOOKSENTRY_TOKEN)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("listen: unexpected argument %q", fs.Arg(0))
	}
	if *port < 0 || *port > 65535 {
		return errors.New("listen: --port N is required (0 to 65535; 0 picks a free port)")
	}
	if !strings.HasPrefix(*path, "/") || strings.ContainsAny(*path, "?#") {
		return fmt.Errorf("listen: --path %q must start with / and have no query or fragment", *path)
	}

	target, err := localTarget()
	if err != nil {
		return err
	}
	tok, err := bearer(ctx, target, *tokenFlag, *tenant, subject{})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cl := newAPIClient(target, tok)

	ca, created, err := loadOrCreateListenCA(stateDir())
	if err != nil {
		return fmt.Errorf("listen: CA: %w", err)
	}
	if created {
		fmt.Fprintf(stderr, "listen: created the local CA %s; a stack started before now does not trust it yet: restart make run\n",
			filepath.Join(stateDir(), listenCAFile))
	}
	tlsCfg, err := ca.serverConfig()
	if err != nil {
		return fmt.Errorf("listen: certificate: %w", err)
	}
	// Listen before touching the destination: a busy port fails here,
	// without rotating anybody's token.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	actual := ln.Addr().(*net.TCPAddr).Port
	destURL := "https://127.0.0.1:" + strconv.Itoa(actual) + *path

	dest, ingestToken, err := listenDestination(ctx, cl, destURL, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Ingest URL: %s\n", ingestURL(cl.base, ingestToken))
	fmt.Fprintf(stdout, "  try: curl -X POST %s -H 'Content-Type: application/json' -d '{\"hello\":\"world\"}'\n", ingestURL(cl.base, ingestToken))
	fmt.Fprintf(stdout, "Listening on %s for destination %s. Ctrl-C to stop.\n", destURL, dest)

	out := &lockedWriter{w: stdout}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { printDelivery(out, w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		// ErrorLog unset: TLS handshake failures go to the standard logger
		// (stderr). A stack that does not trust the CA yet shows up there
		// as "bad certificate", which explains why nothing arrives.
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(tls.NewListener(ln, tlsCfg)) }()
	select {
	case err := <-done:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	fmt.Fprintf(stdout, "Stopped. Destination %s stays; listen --port %d reuses it.\n", dest, actual)
	return nil
}

// listenDestination finds the tenant's destination whose URL is exactly
// destURL, or creates it, and returns its id and a usable ingest token.
func listenDestination(ctx context.Context, cl *apiClient, destURL string, stdout io.Writer) (id, ingestToken string, err error) {
	found, err := findDestinationByURL(ctx, cl, destURL)
	if err != nil {
		return "", "", err
	}
	if found == nil {
		raw, err := cl.do(ctx, http.MethodPost, "/api/v1/destinations", nil, map[string]any{"url": destURL})
		if err != nil {
			return "", "", err
		}
		var d destinationView
		if err := decode(raw, &d); err != nil {
			return "", "", err
		}
		fmt.Fprintf(stdout, "Created destination %s for %s.\nSigning secret: %s (shown only now; it signs HookSentry-Signature)\n",
			oneLine(d.ID), oneLine(destURL), oneLine(d.SigningSecret))
		return d.ID, d.IngestToken, nil
	}
	// A listener that was stopped leaves failed attempts behind, which may
	// have suspended the destination: active again resets its breaker.
	if found.Status != "Active" {
		if _, err := cl.do(ctx, http.MethodPatch, destPath(found.ID, ""), nil, map[string]any{"status": "active"}); err != nil {
			return "", "", err
		}
		fmt.Fprintf(stdout, "Destination %s was %s; set it Active again.\n", oneLine(found.ID), oneLine(found.Status))
	}
	raw, err := cl.do(ctx, http.MethodPost, destPath(found.ID, "/ingest-token"), nil, nil)
	if err != nil {
		return "", "", err
	}
	var r struct {
		IngestToken string `json:"ingestToken"`
	}
	if err := decode(raw, &r); err != nil {
		return "", "", err
	}
	fmt.Fprintf(stdout, "Reusing destination %s for %s. Its ingest token cannot be shown again, so it was rotated: the previous one no longer works.\n",
		oneLine(found.ID), oneLine(destURL))
	return found.ID, r.IngestToken, nil
}

// findDestinationByURL pages through the destinations whose URL contains
// destURL (the API's filter is a substring) for the one that equals it.
func findDestinationByURL(ctx context.Context, cl *apiClient, destURL string) (*destinationView, error) {
	const size = 100
	for page := 1; ; page++ {
		q := url.Values{"url": {destURL}, "Qt": {strconv.Itoa(size)}, "Pg": {strconv.Itoa(page)}, "CpOrd": {"createdAt"}, "TpOrd": {"Asc"}}
		raw, err := cl.do(ctx, http.MethodGet, "/api/v1/destinations", q, nil)
		if err != nil {
			return nil, err
		}
		var p destinationPage
		if err := decode(raw, &p); err != nil {
			return nil, err
		}
		for _, d := range p.Items {
			if d.URL == destURL {
				return &d, nil
			}
		}
		if len(p.Items) < size || page*size >= p.Total {
			return nil, nil
		}
	}
}

// printDelivery prints one line for a request and answers 200.
func printDelivery(out io.Writer, w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxListenBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	n := len(body)
	if n > previewBytes {
		n = previewBytes
		for n > previewBytes-utf8.UTFMax && !utf8.RuneStart(body[n]) { // do not cut a character in two
			n--
		}
	}
	text := oneLine(string(body[:n]))
	if n < len(body) {
		text += "…"
	}
	line := fmt.Sprintf("%s  event=%s  attempt=%s  %s  %d bytes  %s",
		time.Now().Format("15:04:05.000"),
		dash(r.Header.Get("HookSentry-Event-Id")), dash(r.Header.Get("HookSentry-Attempt")),
		dash(r.Header.Get("Content-Type")), len(body), text)
	if r.Method != http.MethodPost {
		line += "  (" + r.Method + " " + r.URL.Path + ")"
	}
	fmt.Fprintln(out, oneLine(line))
	w.WriteHeader(http.StatusOK)
}

// lockedWriter serialises the handler goroutines' lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
