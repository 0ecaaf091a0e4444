package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hooksentry/hooksentry/pkg/store"
)

// Test doubles for the events commands: the events API (CONTRACT §5) as an
// httptest server on 127.0.0.1 that checks every request it gets, and the
// local table for the tenant look-up.

// exchange is one request the fake API expects and its answer.
type exchange struct {
	method string
	path   string     // as sent (escaped)
	query  url.Values // exactly these parameters; nil: none
	body   string     // JSON the request body must equal; "": no body
	auth   string     // exact Authorization header; "": any (checked by the test)
	status int
	answer string // sent as is
}

// fakeAPI answers the exchanges in order and records what it got.
type fakeAPI struct {
	t   *testing.T
	URL string

	mu     sync.Mutex
	want   []exchange
	repeat bool // keep answering the last exchange
	n      int
	auths  []string
}

func newFakeAPI(t *testing.T, want ...exchange) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, want: want}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := f.n
	f.n++
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	var x exchange
	switch {
	case n < len(f.want):
		x = f.want[n]
	case f.repeat && len(f.want) > 0:
		x = f.want[len(f.want)-1]
	default:
		f.mu.Unlock()
		f.t.Errorf("unexpected request %d: %s %s", n+1, r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	f.mu.Unlock()

	if r.Method != x.method || r.URL.EscapedPath() != x.path {
		f.t.Errorf("request %d: %s %s, want %s %s", n+1, r.Method, r.URL.EscapedPath(), x.method, x.path)
	}
	gotQuery := r.URL.Query()
	if len(gotQuery) == 0 {
		gotQuery = nil
	}
	if !reflect.DeepEqual(gotQuery, x.query) {
		f.t.Errorf("request %d: query %v, want %v", n+1, gotQuery, x.query)
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case x.body == "" && len(body) != 0:
		f.t.Errorf("request %d: body %s, want none", n+1, body)
	case x.body != "" && !jsonEqual(body, []byte(x.body)):
		f.t.Errorf("request %d: body %s, want %s", n+1, body, x.body)
	case x.body != "" && r.Header.Get("Content-Type") != "application/json":
		f.t.Errorf("request %d: Content-Type %q, want application/json", n+1, r.Header.Get("Content-Type"))
	}
	if x.auth != "" && r.Header.Get("Authorization") != x.auth {
		f.t.Errorf("request %d: Authorization %q, want %q", n+1, r.Header.Get("Authorization"), x.auth)
	}
	ct := "application/json"
	if strings.Contains(x.answer, `"title"`) {
		ct = "application/problem+json"
	}
	if strings.HasPrefix(x.answer, "<") {
		ct = "text/html"
	}
	if x.status == http.StatusUnauthorized && !strings.Contains(x.answer, `"title"`) {
		w.Header().Set("WWW-Authenticate", `Bearer scope="" error="invalid_token"`)
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(x.status)
	_, _ = io.WriteString(w, x.answer)
}

// requests is how many requests the fake got.
func (f *fakeAPI) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *fakeAPI) lastAuth() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auths) == 0 {
		return ""
	}
	return f.auths[len(f.auths)-1]
}

// hostPort is the fake's address as HOOKSENTRY_LOCAL_ADDR takes it.
func (f *fakeAPI) hostPort() string { return strings.TrimPrefix(f.URL, "http://") }

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return buf.String()
}

// cliEnv gives a test a clean environment: its own state directory, no
// token, tenant or API URL from the developer's shell, and the local stack
// at localAddr.
func cliEnv(t *testing.T, localAddr string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOOKSENTRY_STATE_DIR", dir)
	t.Setenv("HOOKSENTRY_LOCAL_ADDR", localAddr)
	for _, k := range []string{"HOOKSENTRY_API_URL", "HOOKSENTRY_TOKEN", "HOOKSENTRY_TENANT"} {
		t.Setenv(k, "")
	}
	return dir
}

// runCLI runs the CLI in this process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(args, &out, &errb)
	return out.String(), errb.String(), err
}

// runBinary runs the CLI's main in a child process (this test binary, see
// TestCLIHelperProcess), for its exit code and stderr.
func runBinary(t *testing.T, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestCLIHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "HOOKSENTRY_CLI_HELPER=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestCLIHelperProcess is not a test: runBinary runs it as the CLI.
func TestCLIHelperProcess(t *testing.T) {
	if os.Getenv("HOOKSENTRY_CLI_HELPER") != "1" {
		t.Skip("runs as the CLI in a child process of runBinary")
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Args = append([]string{"hooksentry"}, os.Args[i+1:]...)
			break
		}
	}
	main()
	os.Exit(0)
}

// fakeTable is the running stack's table for the tenant look-up: GetItem by
// key and a Scan that applies the look-up's filter, one item per page so
// that paging is exercised.
type fakeTable struct {
	store.DynamoDB // nil: the look-up uses only GetItem and Scan
	items          []map[string]types.AttributeValue
	scans          int
}

func destItem(id, tenant string) map[string]types.AttributeValue {
	pk, sk := store.DestinationKey(id)
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	return map[string]types.AttributeValue{
		"pk": s(pk), "sk": s(sk), "type": s("Destination"), "id": s(id), "tenantId": s(tenant),
		"url": s("https://example.com/hook"), "status": s("Active"),
		"serverRateLimit": &types.AttributeValueMemberN{Value: "5"},
		"version":         &types.AttributeValueMemberN{Value: "1"},
		"createdAt":       s("2026-07-01T10:00:00.000Z"), "updatedAt": s("2026-07-01T10:00:00.000Z"),
	}
}

func (f *fakeTable) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	for _, it := range f.items {
		if attrS(it, "pk") == attrS(in.Key, "pk") && attrS(it, "sk") == attrS(in.Key, "sk") {
			return &dynamodb.GetItemOutput{Item: it}, nil
		}
	}
	return &dynamodb.GetItemOutput{}, nil
}

func (f *fakeTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.scans++
	if in.FilterExpression == nil || *in.FilterExpression != "#sk = :sk AND begins_with(#id, :prefix)" {
		return nil, fmt.Errorf("fakeTable: unexpected filter %v", in.FilterExpression)
	}
	names, values := in.ExpressionAttributeNames, in.ExpressionAttributeValues
	start := 0
	if in.ExclusiveStartKey != nil {
		fmt.Sscan(attrS(in.ExclusiveStartKey, "i"), &start)
	}
	out := &dynamodb.ScanOutput{}
	if start < len(f.items) {
		it := f.items[start]
		if attrS(it, names["#sk"]) == attrS(values, ":sk") && strings.HasPrefix(attrS(it, names["#id"]), attrS(values, ":prefix")) {
			out.Items = append(out.Items, map[string]types.AttributeValue{"id": it["id"], "tenantId": it["tenantId"]})
		}
		if start+1 < len(f.items) {
			out.LastEvaluatedKey = map[string]types.AttributeValue{"i": &types.AttributeValueMemberS{Value: fmt.Sprint(start + 1)}}
		}
	}
	return out, nil
}

// useTable makes the look-up read table for the rest of the test.
func useTable(t *testing.T, table *fakeTable) {
	t.Helper()
	prev := openLocalTable
	openLocalTable = func(context.Context) (localTable, string, error) { return table, "hooksentry", nil }
	t.Cleanup(func() { openLocalTable = prev })
}
