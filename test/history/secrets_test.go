package history_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// TestNoSecretsInHistory delivers events whose ingest requests carry
// Authorization and Cookie headers to destinations with every kind of
// static credential, through a destination that echoes the request it got
// (credentials included) in its failure answers; then no credential, no
// ingest token and none of those headers' values may appear in any table
// item (compressed bodies inflated), in the events API's answers, or in the
// stack's logs.
func TestNoSecretsInHistory(t *testing.T) {
	t.Parallel()
	c := newTenant(t)
	mark := "zq" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	secret := func(name string) string { return "SECRET-" + name + "-" + mark }

	rcv := testkit.NewReceiver(t, ca)
	rcv.SetRespond(func(w http.ResponseWriter, r *http.Request, n int) {
		if n%2 == 1 { // every event's first attempt fails, echoing what it was sent
			w.WriteHeader(http.StatusBadGateway)
			for name, vs := range r.Header {
				fmt.Fprintf(w, "%s: %s\n", name, strings.Join(vs, ","))
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	secrets := []string{secret("sender-authorization"), secret("sender-cookie")}
	auths := []map[string]any{
		{"authType": "BearerToken", "credentials": map[string]string{"token": secret("bearer")}},
		{"authType": "ApiKey", "credentials": map[string]string{"headerName": "X-Api-Key", "value": secret("apikey")}},
		{"authType": "BasicAuth", "credentials": map[string]string{"username": "user-" + mark, "password": secret("password")}},
	}
	secrets = append(secrets, secret("bearer"), secret("apikey"), secret("password"),
		base64.StdEncoding.EncodeToString([]byte("user-"+mark+":"+secret("password"))))
	var tokens, ids []string
	for _, auth := range auths {
		auth["url"] = rcv.URL
		auth["serverRateLimit"] = 1 // one event at a time: attempts alternate fail, succeed
		d := createDestination(t, c, auth)
		tokens = append(tokens, d.IngestToken)
		id := ingest(t, d.IngestToken, []byte(`{"kind":"`+auth["authType"].(string)+`"}`), http.Header{
			"Authorization": {"Bearer " + secret("sender-authorization")},
			"Cookie":        {"sid=" + secret("sender-cookie")},
		})
		ids = append(ids, id)
		waitStatus(t, c, id, "Delivered", 15*time.Second)
	}
	needles := append(append([]string{}, secrets...), tokens...)

	// The echo really happened: the first attempt's answer is recorded, redacted.
	for _, id := range ids {
		v, _ := getEvent(t, c, id)
		if len(v.Attempts) != 2 || v.Attempts[0].ResponseBody == nil || !strings.Contains(*v.Attempts[0].ResponseBody, "User-Agent") {
			t.Errorf("event %s: got attempts %+v, want a failed first attempt with the echoed request", id, v.Attempts)
		}
		resp := c.Do(t, http.MethodGet, "/api/v1/events/"+id, nil, nil)
		for _, n := range needles {
			if strings.Contains(string(resp.Body), n) || strings.Contains(string(resp.Body), testkit.JSONEscaped(n)) {
				t.Errorf("GET event %s answer contains %q", id, n)
			}
		}
	}

	items := testkit.ScanTable(t, dynamodb.NewFromConfig(stack.Env.AWSConfig()), stack.Env.Config.TableName)
	historyItems, bodiesSeen := 0, 0
	for _, item := range items {
		if strings.HasPrefix(testkit.DescribeItem(item), "EVT#") {
			historyItems++
		}
		testkit.WalkAttributes(item, "", func(path string, data []byte) {
			if strings.Contains(string(data), `{"kind":"BearerToken"}`) {
				bodiesSeen++ // the scan reads the stored bodies, compressed or not
			}
			for _, n := range needles {
				if where := testkit.FindEncoded(data, n); where != "" {
					t.Errorf("table item %s, attribute %s: contains %q (%s)", testkit.DescribeItem(item), path, n, where)
				}
			}
		})
	}
	if bodiesSeen == 0 {
		t.Errorf("the scan never saw a stored body: it cannot have checked them")
	}
	if historyItems < len(ids) {
		t.Errorf("the scan saw %d history items, want at least %d: it did not look where history lives", historyItems, len(ids))
	}
}
