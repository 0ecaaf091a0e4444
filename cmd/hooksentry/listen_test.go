package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen in-process against the shared stack, whose deliveries trust the
// state directory's listen CA as run's do: a webhook posted to the printed
// ingest URL is printed as a delivery line; a second listen on the same
// port reuses the destination with a new token.
func TestListenPrintsDeliveries(t *testing.T) {
	_, tenant := stackEnv(t)

	start := func(args ...string) (out *syncBuffer, stop func()) {
		t.Helper()
		out = &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- runListen(ctx, args, out, out) }()
		stop = func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("listen: %v\n%s", err, out)
				}
			case <-time.After(10 * time.Second):
				t.Error("listen did not stop")
			}
		}
		waitFor(t, 30*time.Second, "the ingest URL", func() bool { return strings.Contains(out.String(), "Listening on ") }, out.String)
		return out, stop
	}
	ingestURLOf := func(out string) string {
		m := regexp.MustCompile(`(?m)^Ingest URL: (\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no ingest URL in:\n%s", out)
		}
		return m[1]
	}
	post := func(u, body string) string {
		t.Helper()
		resp, err := http.Post(u, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("ingest: %d", resp.StatusCode)
		}
		b, _ := io.ReadAll(resp.Body)
		id := regexp.MustCompile(`"eventId":"([^"]+)"`).FindStringSubmatch(string(b))
		if id == nil {
			t.Fatalf("ingest answered %s", b)
		}
		return id[1]
	}

	out, stop := start("--port", "0", "--path", "/hooks", "--tenant", tenant)
	first := out.String()
	m := regexp.MustCompile(`Created destination (\S+) for https://127\.0\.0\.1:(\d+)/hooks\.`).FindStringSubmatch(first)
	if m == nil || !strings.Contains(first, "Signing secret: whsec_") {
		t.Fatalf("first listen did not create a destination:\n%s", first)
	}
	destID, port := m[1], m[2]
	long := `{"msg":"` + strings.Repeat("é", 150) + `"}`
	ev := post(ingestURLOf(first), long)
	line := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3}  event=` + ev + `  attempt=1  application/json  ` +
		strconv.Itoa(len(long)) + ` bytes  (.*)$`)
	waitFor(t, 60*time.Second, "the delivery line", func() bool { return line.MatchString(out.String()) }, out.String)
	preview := line.FindStringSubmatch(out.String())[1]
	// 200 bytes of body: {"msg":" is 8, then 96 two-byte characters; the
	// 97th would be cut in two, so it is left out.
	if want := `{"msg":"` + strings.Repeat("é", 96) + "…"; preview != want {
		t.Errorf("preview %q, want %q", preview, want)
	}
	stop()
	if !strings.Contains(out.String(), "Stopped. Destination "+destID+" stays") {
		t.Errorf("no stop message:\n%s", out)
	}

	out, stop = start("--port", port, "--path", "/hooks", "--tenant", tenant)
	defer stop()
	second := out.String()
	if !strings.Contains(second, "Reusing destination "+destID+" for https://127.0.0.1:"+port+"/hooks. ") || !strings.Contains(second, "rotated") {
		t.Fatalf("second listen did not reuse %s:\n%s", destID, second)
	}
	if ingestURLOf(second) == ingestURLOf(first) {
		t.Errorf("the reused destination's token was not rotated")
	}
	ev2 := post(ingestURLOf(second), "plain")
	waitFor(t, 60*time.Second, "the second delivery", func() bool {
		return strings.Contains(out.String(), "event="+ev2+"  attempt=1  application/json  5 bytes  plain")
	}, out.String)
}

func TestListenUsageErrors(t *testing.T) {
	cliEnv(t, "127.0.0.1:1")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "listen: --port N is required"},
		{[]string{"--port", "0", "--path", "hooks"}, `listen: --path "hooks" must start with /`},
		{[]string{"--port", "0"}, "listen: no tenant: pass --tenant ID"},
	} {
		err := runListen(context.Background(), tt.args, &strings.Builder{}, &strings.Builder{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("listen %q: %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

// The CA is created once and reused; its certificates verify for
// 127.0.0.1, and its name constraints keep it from vouching for any other
// host.
func TestListenCA(t *testing.T) {
	dir := t.TempDir()
	ca, created, err := loadOrCreateListenCA(dir)
	if err != nil || !created {
		t.Fatalf("first load: created %v, err %v", created, err)
	}
	again, created, err := loadOrCreateListenCA(dir)
	if err != nil || created || !again.cert.Equal(ca.cert) {
		t.Fatalf("second load: created %v, err %v, same %v", created, err, err == nil && again.cert.Equal(ca.cert))
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cfg, err := ca.serverConfig()
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("leaf does not verify for 127.0.0.1: %v", err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(7), DNSNames: []string{"example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	rogue, _ := x509.ParseCertificate(der)
	if _, err := rogue.Verify(x509.VerifyOptions{Roots: pool, DNSName: "example.com"}); err == nil {
		t.Errorf("a certificate for example.com signed by the listen CA verifies; want the name constraints to refuse it")
	}
}
