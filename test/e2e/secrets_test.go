package e2e_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/hooksentry/hooksentry/pkg/destination"
	"github.com/hooksentry/hooksentry/pkg/testkit"
)

// TestNoSecretsAtRestOrInTransit creates destinations with every auth type,
// changes their credentials, regenerates their tokens, rotates their
// signing secrets, sets verification secrets (and has ingest open them) and
// sends invalid requests carrying secrets; then it checks that no
// credential value, no ingest token, no signing or verification secret
// (nor their key bytes) appears in the raw table (in any encoding the store
// might use), in the function or stack logs, or in any response body but
// the one that issued it.
func TestNoSecretsAtRestOrInTransit(t *testing.T) {
	f := newFunctions(t)
	tenant := newTenant(t)
	mark := "zq" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10] // makes this run's secrets unique
	secret := func(name string) string { return "SECRET-" + name + "-" + mark }

	var secrets, bodies []string
	record := func(r response) response {
		bodies = append(bodies, string(r.Body))
		return r
	}
	var tokens, signing []string
	create := func(authType string, creds map[string]string) string {
		for _, v := range creds {
			if strings.Contains(v, mark) {
				secrets = append(secrets, v)
			}
		}
		body, _ := json.Marshal(map[string]any{"url": "https://example.com/" + mark + "/" + authType, "authType": authType, "credentials": creds})
		r := record(f.call(t, "create-destination", tenant, "", "", string(body)))
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s: got %v", authType, r)
		}
		d := checkDestination(t, r.Body, true)
		tokens = append(tokens, str(d["ingestToken"]))
		signing = append(signing, str(d["signingSecret"]))
		return str(d["id"])
	}
	apiKey := create("ApiKey", map[string]string{"headerName": "X-" + secret("header"), "value": secret("apikey-value")})
	bearer := create("BearerToken", map[string]string{"token": secret("bearer-token")})
	create("JwtBearer", map[string]string{
		"tokenEndpoint": "https://idp.example/" + secret("token-endpoint"), "clientId": secret("client-id"),
		"clientSecret": secret("client-secret"), "scope": secret("scope"),
	})
	basic := create("BasicAuth", map[string]string{"username": secret("username"), "password": secret("password")})

	patch := func(id string, creds map[string]any, extra map[string]any, want int) {
		for _, v := range creds {
			if s, ok := v.(string); ok {
				for _, field := range strings.Fields(s) { // the secret without added junk
					if strings.Contains(field, mark) {
						secrets = append(secrets, field)
					}
				}
			}
		}
		body := map[string]any{"credentials": creds}
		for k, v := range extra {
			body[k] = v
		}
		b, _ := json.Marshal(body)
		if r := record(f.call(t, "update-destination", tenant, id, "", string(b))); r.Status != want {
			t.Fatalf("patch %s: got %v, want %d", b, r, want)
		}
	}
	patch(bearer, map[string]any{"token": secret("patched-bearer")}, nil, http.StatusOK)
	patch(basic, map[string]any{"headerName": "X-Key", "value": secret("switched-apikey")}, map[string]any{"authType": "apikey"}, http.StatusOK)
	patch(apiKey, map[string]any{"value": secret("patched-apikey"), "headerName": "X-Other"}, nil, http.StatusOK)
	// Invalid requests that carry secrets must not echo them.
	patch(bearer, map[string]any{"token": secret("control-char") + "\n"}, nil, http.StatusBadRequest)
	patch(bearer, map[string]any{"token": secret("wrong-shape"), "password": secret("wrong-shape-2")}, nil, http.StatusBadRequest)
	patch(basic, map[string]any{"headerName": secret("bad-header-name") + " x", "value": "v"}, nil, http.StatusBadRequest)
	patch(bearer, map[string]any{"token": secret("with-remove")}, map[string]any{"removeAuth": true}, http.StatusBadRequest)
	badJSON := `{"credentials":{"token":"` + secret("bad-json") + `"` // truncated
	secrets = append(secrets, secret("bad-json"))
	if r := record(f.call(t, "update-destination", tenant, bearer, "", badJSON)); r.Status != http.StatusBadRequest {
		t.Fatalf("patch with truncated JSON: got %v, want 400", r)
	}
	created := secret("refused-create")
	secrets = append(secrets, created)
	if r := record(f.call(t, "create-destination", tenant, "", "", `{"url":"http://example.com","authType":"BearerToken","credentials":{"token":"`+created+`"}}`)); r.Status != http.StatusBadRequest {
		t.Fatalf("refused create: got %v, want 400", r)
	}

	for _, id := range []string{apiKey, bearer, basic} {
		r := record(f.call(t, "regenerate-ingest-token", tenant, id, "", ""))
		var regen struct {
			IngestToken string `json:"ingestToken"`
		}
		if err := json.Unmarshal(r.Body, &regen); err != nil || regen.IngestToken == "" {
			t.Fatalf("regenerate: got %v", r)
		}
		tokens = append(tokens, regen.IngestToken)
	}
	for _, id := range []string{apiKey, bearer, basic} {
		r := record(f.call(t, "rotate-signing-secret", tenant, id, "", ""))
		var rotated struct {
			SigningSecret string `json:"signingSecret"`
		}
		if err := json.Unmarshal(r.Body, &rotated); err != nil || !signingSecretRE.MatchString(rotated.SigningSecret) {
			t.Fatalf("rotate signing secret: got %v", r)
		}
		signing = append(signing, rotated.SigningSecret)
	}
	// Verification secrets: set at create and by PATCH, refused with other
	// errors, and opened by ingest for a signed and a forged request.
	var verifying []string // ingest tokens of destinations with verification
	swKey := []byte("sw-key-" + mark + "-0123456789")
	swSecret := "whsec_" + base64.StdEncoding.EncodeToString(swKey)
	for i, v := range []map[string]string{
		{"type": "GitHub", "secret": secret("github-verification")},
		{"type": "StandardWebhooks", "secret": swSecret},
		{"type": "Hmac", "secret": secret("hmac-verification"), "header": "X-Sig"},
	} {
		secrets = append(secrets, v["secret"])
		body, _ := json.Marshal(map[string]any{"url": "https://example.com/" + mark + "/verified", "verification": v})
		r := record(f.call(t, "create-destination", tenant, "", "", string(body)))
		if r.Status != http.StatusCreated {
			t.Fatalf("create with verification %d: got %v", i, r)
		}
		d := checkDestination(t, r.Body, true)
		tokens = append(tokens, str(d["ingestToken"]))
		signing = append(signing, str(d["signingSecret"]))
		verifying = append(verifying, str(d["ingestToken"]))
		if i == 0 {
			patched := secret("patched-verification")
			secrets = append(secrets, patched)
			b, _ := json.Marshal(map[string]any{"verification": map[string]string{"type": "Slack", "secret": patched}})
			if r := record(f.call(t, "update-destination", tenant, str(d["id"]), "", string(b))); r.Status != http.StatusOK {
				t.Fatalf("patch verification: got %v", r)
			}
			refused := secret("refused-verification")
			secrets = append(secrets, refused)
			b, _ = json.Marshal(map[string]any{"verification": map[string]string{"type": "Paddle", "secret": refused}})
			if r := record(f.call(t, "update-destination", tenant, str(d["id"]), "", string(b))); r.Status != http.StatusBadRequest {
				t.Fatalf("patch with an unknown verification type: got %v, want 400", r)
			}
		}
	}
	badSW := "whsec_" + secret("not-base64") + "%"
	secrets = append(secrets, badSW)
	if r := record(f.call(t, "create-destination", tenant, "", "", `{"url":"https://example.com","verification":{"type":"StandardWebhooks","secret":"`+badSW+`"}}`)); r.Status != http.StatusBadRequest {
		t.Fatalf("create with a bad Standard Webhooks secret: got %v, want 400", r)
	}

	for _, q := range []string{"", "authType=bearertoken", "url=" + mark} {
		record(f.call(t, "list-destinations", tenant, "", q, ""))
	}
	for _, id := range []string{apiKey, bearer, basic} {
		record(f.call(t, "get-destination", tenant, id, "", ""))
	}

	// Through the gateway too: a create, and ingest with a current and a
	// replaced token (their logs are checked below).
	viaGateway := secret("via-gateway")
	secrets = append(secrets, viaGateway)
	r := record(httpDo(t, "POST", "/api/v1/destinations", mint(t, tenant),
		`{"url":"https://example.com/`+mark+`/gw","authType":"BearerToken","credentials":{"token":"`+viaGateway+`"}}`))
	if r.Status != http.StatusCreated {
		t.Fatalf("create through the gateway: got %v", r)
	}
	gw := checkDestination(t, r.Body, true)
	tokens = append(tokens, str(gw["ingestToken"]))
	signing = append(signing, str(gw["signingSecret"]))
	if r := httpDo(t, "POST", "/ingest/"+tokens[len(tokens)-1], "", `{"hello":"world"}`); r.Status != http.StatusAccepted {
		t.Errorf("ingest with a current token: got %v, want 202", r)
	}
	if r := httpDo(t, "POST", "/ingest/"+tokens[0], "", `{"hello":"world"}`); r.Status != http.StatusUnauthorized {
		t.Errorf("ingest with a replaced token: got %v, want 401", r)
	}

	for _, tok := range verifying {
		// Forged: refused after ingest opened the secret. Unsigned
		// requests of the Slack and Hmac destinations are refused too.
		if r := httpDo(t, "POST", "/ingest/"+tok, "", `{"forged":true}`); r.Status != http.StatusUnauthorized {
			t.Errorf("forged ingest to a verifying destination: got %v, want 401", r)
		} else {
			bodies = append(bodies, string(r.Body))
		}
	}

	// Responses: no credential ever; tokens only in the answers that issue them.
	for _, b := range bodies {
		for _, s := range secrets {
			if strings.Contains(b, s) || strings.Contains(b, testkit.JSONEscaped(s)) {
				t.Errorf("response %.200s contains secret %q", b, s)
			}
		}
	}

	// A signing secret only in the answer that issued it.
	for _, b := range bodies {
		for _, sec := range signing {
			if strings.Contains(b, sec) && !strings.Contains(b, `"signingSecret":"`+sec+`"`) {
				t.Errorf("response %.200s contains signing secret %q outside its issue", b, sec)
			}
		}
	}
	issued := 0
	for _, b := range bodies {
		if strings.Contains(b, `"signingSecret":"whsec_`) {
			issued++
		}
	}
	if want := 4 + 3 + 3 + 1; issued != want { // the creates of f.call, the rotations, the verifying creates, the create through the gateway
		t.Errorf("responses issuing a signing secret: got %d, want %d", issued, want)
	}

	// The detector finds what it should.
	for i, planted := range []string{
		"pre" + secrets[0] + "post",
		base64.StdEncoding.EncodeToString([]byte(`{"token":"` + secrets[0] + `"}`)),
		base64.StdEncoding.EncodeToString([]byte("a" + secrets[0] + "b")),
		base64.RawURLEncoding.EncodeToString([]byte("ab" + secrets[0])),
		hex.EncodeToString([]byte("abc" + secrets[0])),
		strings.ToUpper(secrets[0]),
	} {
		if testkit.FindEncoded([]byte(planted), secrets[0]) == "" {
			t.Fatalf("detector misses planted form %d: %s", i, planted)
		}
	}

	// The raw table.
	hashes := map[string]bool{}
	for _, tok := range tokens {
		hashes[destination.HashIngestToken(tok)] = true
	}
	items := testkit.ScanTable(t, dynamodb.NewFromConfig(stack.Env.AWSConfig()), stack.Env.Config.TableName)
	var needles []string
	needles = append(needles, secrets...)
	needles = append(needles, tokens...)
	needles = append(needles, strings.TrimPrefix(tokens[0], "dst_")) // the random part alone
	for _, sec := range signing {
		key, err := destination.SigningKey(sec)
		if err != nil {
			t.Fatalf("signing secret %q: %v", sec, err)
		}
		// The key bytes, found plain, hex or base64 (whsec_'s own form).
		needles = append(needles, sec, string(key))
	}
	needles = append(needles, string(swKey)) // the Standard Webhooks verification key bytes
	foundHashes := 0
	for _, item := range items {
		testkit.WalkAttributes(item, "", func(path string, data []byte) {
			if hashes[string(data)] {
				foundHashes++
			}
			for _, n := range needles {
				if where := testkit.FindEncoded(data, n); where != "" {
					t.Errorf("table item %s, attribute %s: contains %q (%s)", testkit.DescribeItem(item), path, n, where)
				}
			}
		})
	}
	if foundHashes == 0 {
		t.Errorf("no ingest token hash found in the table: the scan did not see this test's items")
	}
	// The secrets are really there, sealed: each destination with auth has
	// ciphertext attributes.
	sealed, signed, rotated, verified := 0, 0, 0, 0
	for _, item := range items {
		if v, ok := item["url"].(*types.AttributeValueMemberS); ok && strings.Contains(v.Value, mark) {
			if _, ok := item["credCiphertext"].(*types.AttributeValueMemberB); ok {
				sealed++
			}
			if _, ok := item["sigCiphertext"].(*types.AttributeValueMemberB); ok {
				signed++
			}
			if _, ok := item["prevSigCiphertext"].(*types.AttributeValueMemberB); ok {
				rotated++
			}
			if _, ok := item["verCiphertext"].(*types.AttributeValueMemberB); ok {
				verified++
			}
		}
	}
	if sealed != 5 || signed != 8 || rotated != 3 || verified != 3 {
		t.Errorf("destinations with sealed credentials, signing secrets, previous signing secrets, verification secrets: got %d, %d, %d, %d, want 5, 8, 3, 3", sealed, signed, rotated, verified)
	}

	// Logs of the functions called directly, and of the whole stack.
	for name, logs := range map[string]string{"function": f.logs.String(), "stack": stackLogs.String()} {
		for _, n := range needles {
			if strings.Contains(logs, n) || strings.Contains(logs, testkit.JSONEscaped(n)) {
				t.Errorf("%s logs contain %q", name, n)
			}
		}
	}
}
