package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// IAM assertions on both templates (template.yaml resolved like the parity
// tests do, and each environment's synthesis): the KMS key can only be used
// with HookSentry's encryption context, the public ingest role writes only
// the partitions it owns, and no role names an index by wildcard.

// The encryption context of every sealed value: the keys and purposes that
// pkg/destination sets (pkg/kmscontext names them). The key policy allows
// every purpose; each role that uses the key only the purposes of what it
// seals or opens (sorted, as sortedAny returns them).
var (
	wantContextKeys        = []any{"destinationId", "purpose", "tenantId"}
	wantKeyPolicyPurposes  = []any{"destination-credentials", "destination-signing-secret", "destination-verification-secret"}
	wantContextPurposesFor = map[string][]any{
		// A new destination's credentials, signing and verification secrets.
		"create-destination": {"destination-credentials", "destination-signing-secret", "destination-verification-secret"},
		// New credentials or verification secret; signing secrets only by rotation.
		"update-destination":    {"destination-credentials", "destination-verification-secret"},
		"rotate-signing-secret": {"destination-signing-secret"},
		// A delivery opens credentials and signing secrets.
		"deliver": {"destination-credentials", "destination-signing-secret"},
		// The public function opens verification secrets, nothing else.
		"ingest": {"destination-verification-secret"},
	}
)

// kmsUseActions are the key's cryptographic and grant actions: whoever may
// call one of them without the context condition could decrypt any sealed
// value (a grant carries no condition of the key policy).
var kmsUseActions = map[string]bool{
	"kms:Decrypt": true, "kms:Encrypt": true, "kms:GenerateDataKey": true,
	"kms:GenerateDataKeyWithoutPlaintext": true, "kms:GenerateDataKeyPair": true,
	"kms:GenerateDataKeyPairWithoutPlaintext": true, "kms:ReEncryptFrom": true,
	"kms:ReEncryptTo": true, "kms:ReEncrypt*": true, "kms:CreateGrant": true,
}

// keyAdministration is what CloudFormation (and the account's
// administrators) need to manage the key: it must stay granted to the
// account without conditions.
var keyAdministration = []string{
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:TagResource", "kms:UntagResource",
	"kms:UpdateKeyDescription", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
	"kms:EnableKey", "kms:DisableKey",
}

// iamTemplate is one template's normalized IAM: role statements by function
// directory, and the key policy's statements.
type iamTemplate struct {
	name      string
	functions map[string][]map[string]any
	keyPolicy []map[string]any
}

func decodeStatements(t *testing.T, sts []string) []map[string]any {
	t.Helper()
	out := make([]map[string]any, 0, len(sts))
	for _, st := range sts {
		var m map[string]any
		if err := jsonUnmarshal(st, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// iamTemplates returns template.yaml and the synthesis of env, normalized.
func iamTemplates(t *testing.T, env string) []iamTemplate {
	t.Helper()
	s := synth(t, env)
	sam := loadSAM(t)
	sr := newSAMResolver(t, sam, samParams(s.cfg))
	cr := newCDKResolver(s)
	build := func(name string, r *resolver, fns map[string]*functionModel) iamTemplate {
		it := iamTemplate{name: name, functions: map[string][]map[string]any{}}
		for dir, f := range fns {
			it.functions[dir] = decodeStatements(t, f.Statements)
		}
		keys := resourcesOfType(r.tpl, "AWS::KMS::Key")
		if len(keys) != 1 {
			t.Fatalf("%s: %d KMS keys, want 1", name, len(keys))
		}
		for _, k := range keys {
			p, _ := r.value(t, props(k)).(map[string]any)
			doc, _ := p["KeyPolicy"].(map[string]any)
			sts, _ := doc["Statement"].([]any)
			for _, st := range sts {
				m, _ := st.(map[string]any)
				it.keyPolicy = append(it.keyPolicy, m)
			}
		}
		return it
	}
	return []iamTemplate{
		build("template.yaml", sr, samFunctions(t, sr)),
		build("CDK", cr, cdkFunctions(t, s)),
	}
}

func actionsOf(st map[string]any) []string { return stringList(st["Action"]) }

// checkContextCondition reports what is missing from a statement's
// encryption-context condition: both identifying keys present, the purpose
// pinned to exactly wantPurposes, and no key outside the allowed set.
func checkContextCondition(t *testing.T, where string, st map[string]any, wantPurposes []any) {
	t.Helper()
	cond, _ := st["Condition"].(map[string]any)
	null, _ := cond["Null"].(map[string]any)
	for _, k := range []string{"tenantId", "destinationId"} {
		if got := null["kms:EncryptionContext:"+k]; got != "false" {
			t.Errorf("%s: Null kms:EncryptionContext:%s = %v, want \"false\": %s", where, k, got, canonicalJSON(st))
		}
	}
	eq, _ := cond["StringEquals"].(map[string]any)
	if got := sortedAny(eq["kms:EncryptionContext:purpose"]); !reflect.DeepEqual(got, wantPurposes) {
		t.Errorf("%s: StringEquals kms:EncryptionContext:purpose = %v, want %v: %s", where, got, wantPurposes, canonicalJSON(st))
	}
	all, _ := cond["ForAllValues:StringEquals"].(map[string]any)
	if got := sortedAny(all["kms:EncryptionContextKeys"]); !reflect.DeepEqual(got, wantContextKeys) {
		t.Errorf("%s: ForAllValues:StringEquals kms:EncryptionContextKeys = %v, want %v: %s", where, got, wantContextKeys, canonicalJSON(st))
	}
}

// TestKMSUseNeedsTheEncryptionContext: every statement that lets someone
// use the key, in a role or in the key policy, pins the encryption context:
// in a role to the purposes of that function (wantContextPurposesFor), in
// the key policy to all of them; the account keeps the key's administration
// without conditions.
func TestKMSUseNeedsTheEncryptionContext(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			for _, it := range iamTemplates(t, env) {
				usesKey := map[string]bool{}
				for dir, sts := range it.functions {
					for _, st := range sts {
						for _, a := range actionsOf(st) {
							if kmsUseActions[a] {
								usesKey[dir] = true
								want, ok := wantContextPurposesFor[dir]
								if !ok {
									t.Errorf("%s %s role: uses the key (%s), which no purpose of wantContextPurposesFor allows: %s", it.name, dir, a, canonicalJSON(st))
									break
								}
								checkContextCondition(t, it.name+" "+dir+" role", st, want)
								break
							}
						}
					}
				}
				for dir := range wantContextPurposesFor {
					if !usesKey[dir] {
						t.Errorf("%s %s role: no use of the key, want one with purposes %v", it.name, dir, wantContextPurposesFor[dir])
					}
				}
				unconditioned := map[string]bool{}
				for i, st := range it.keyPolicy {
					_, conditioned := st["Condition"]
					uses := false
					for _, a := range actionsOf(st) {
						uses = uses || kmsUseActions[a]
						if !conditioned {
							unconditioned[a] = true
						}
					}
					if uses {
						checkContextCondition(t, fmt.Sprintf("%s key policy statement %d (%v)", it.name, i, st["Sid"]), st, wantKeyPolicyPurposes)
					}
					if p, _ := st["Principal"].(map[string]any); !strings.HasSuffix(canonicalJSON(p["AWS"]), `:root"`) {
						t.Errorf("%s key policy statement %d: principal %s, want the account root", it.name, i, canonicalJSON(p))
					}
				}
				for _, a := range keyAdministration {
					if !unconditioned[a] {
						t.Errorf("%s key policy: the account lost %s (CloudFormation manages the key with it)", it.name, a)
					}
				}
			}
		})
	}
}

// TestIngestRoleKeyUseIsVerificationOnly: the public ingest function reads
// destination items, which hold sealed credentials and signing secrets too;
// its only use of the key is Decrypt with the verification secret's
// purpose, so it can open nothing else and seal nothing.
func TestIngestRoleKeyUseIsVerificationOnly(t *testing.T) {
	want := []any{"destination-verification-secret"}
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			for _, it := range iamTemplates(t, env) {
				decrypts := 0
				for _, st := range it.functions["ingest"] {
					var kmsActions []string
					for _, a := range actionsOf(st) {
						if strings.HasPrefix(a, "kms:") || a == "*" {
							kmsActions = append(kmsActions, a)
						}
					}
					if len(kmsActions) == 0 {
						continue
					}
					if !reflect.DeepEqual(kmsActions, []string{"kms:Decrypt"}) {
						t.Errorf("%s ingest: key actions %v, want only [kms:Decrypt]: %s", it.name, kmsActions, canonicalJSON(st))
					}
					checkContextCondition(t, it.name+" ingest role", st, want)
					decrypts++
				}
				if decrypts != 1 {
					t.Errorf("%s ingest: %d statements on the key, want 1 (Decrypt of verification secrets)", it.name, decrypts)
				}
			}
		})
	}
}

// TestIngestRoleWritesOnlyItsPartitions: the public ingest function reads
// token items (TOKEN#<hash>, store.IngestTokenKey) and destination items
// (DEST#<id>), claims deduplication keys (DEDUP#<destinationId>#<hash>:
// conditional PutItem, GetItem, DeleteItem) and writes stored events
// (EVENT#<id>, store.EventKey), and nothing else of the table.
func TestIngestRoleWritesOnlyItsPartitions(t *testing.T) {
	want := map[string][]string{
		"dynamodb:GetItem":    {"DEDUP#*", "DEST#*", "TOKEN#*"},
		"dynamodb:PutItem":    {"DEDUP#*", "EVENT#*"},
		"dynamodb:DeleteItem": {"DEDUP#*"},
	}
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			for _, it := range iamTemplates(t, env) {
				got := map[string][]string{}
				for _, st := range it.functions["ingest"] {
					for _, a := range actionsOf(st) {
						if !strings.HasPrefix(a, "dynamodb:") {
							continue
						}
						cond, _ := st["Condition"].(map[string]any)
						like, _ := cond["ForAllValues:StringLike"].(map[string]any)
						keys := stringList(like["dynamodb:LeadingKeys"])
						sort.Strings(keys)
						got[a] = append(got[a], keys...)
						// ForAllValues holds for a request without the key:
						// require it to be there.
						if null, _ := cond["Null"].(map[string]any); null["dynamodb:LeadingKeys"] != "false" {
							t.Errorf("%s ingest %s: no Null dynamodb:LeadingKeys \"false\": %s", it.name, a, canonicalJSON(st))
						}
					}
				}
				for _, keys := range got {
					sort.Strings(keys)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s ingest table actions by leading keys:\n got  %v\n want %v", it.name, got, want)
				}
			}
		})
	}
}

// TestIndexesAreNamed: no role is granted every index of the table; the
// sweeper queries gsi2 by name.
func TestIndexesAreNamed(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			for _, it := range iamTemplates(t, env) {
				sweeperQueriesGSI2 := false
				for dir, sts := range it.functions {
					for _, st := range sts {
						for _, r := range stringList(st["Resource"]) {
							if strings.Contains(r, "/index/") && strings.ContainsAny(r[strings.Index(r, "/index/"):], "*?") {
								t.Errorf("%s %s: index wildcard %s", it.name, dir, r)
							}
							if dir == "sweeper" && r == "${Table.Arn}/index/gsi2" {
								if !reflect.DeepEqual(actionsOf(st), []string{"dynamodb:Query"}) {
									t.Errorf("%s sweeper: actions on gsi2 %v, want [dynamodb:Query]", it.name, actionsOf(st))
								}
								sweeperQueriesGSI2 = true
							}
						}
					}
				}
				if !sweeperQueriesGSI2 {
					t.Errorf("%s: the sweeper may not Query ${Table.Arn}/index/gsi2", it.name)
				}
			}
		})
	}
}

// TestCheckPermissions: a statement on the key needs purposes of
// pkg/kmscontext, and only statements on the key have purposes.
func TestCheckPermissions(t *testing.T) {
	if err := checkPermissions(functionSpecs); err != nil {
		t.Fatalf("functionSpecs: %v", err)
	}
	for name, p := range map[string]permission{
		"key use without purpose": keyUse([]string{"Decrypt"}),
		"unknown purpose":         keyUse([]string{"Decrypt"}, "destination-other"),
		"purpose off the key":     {Actions: ddb("GetItem"), Resources: []resource{resTable}, Purposes: []string{verificationPurpose}},
		"leading keys on the key": {Actions: kms("Decrypt"), Resources: []resource{resKey}, LeadingKeys: []string{"TOKEN#*"}, Purposes: []string{verificationPurpose}},
	} {
		if err := checkPermissions([]functionSpec{{Dir: "f", Permissions: []permission{p}}}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestConsoleRoleHasOnlyItsLogs: the console serves embedded files and its
// settings; its role may write its own logs and nothing else: no table,
// key or queue action, in both templates.
func TestConsoleRoleHasOnlyItsLogs(t *testing.T) {
	for _, env := range EnvironmentNames() {
		t.Run(env, func(t *testing.T) {
			for _, it := range iamTemplates(t, env) {
				sts, ok := it.functions["console"]
				if !ok {
					t.Fatalf("%s: no console role", it.name)
				}
				var actions []string
				for _, st := range sts {
					actions = append(actions, actionsOf(st)...)
				}
				sort.Strings(actions)
				if want := []string{"logs:CreateLogStream", "logs:PutLogEvents"}; !reflect.DeepEqual(actions, want) {
					t.Errorf("%s console: actions %v, want only %v", it.name, actions, want)
				}
				if len(sts) != 1 || !strings.Contains(canonicalJSON(sts[0]), "ConsoleLogGroup") {
					t.Errorf("%s console: statements %s, want the one on its own log group", it.name, canonicalJSON(sts))
				}
			}
		})
	}
}
