package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sendgrid/rest"
	"github.com/ssod/ssod/persona"
)

// teammateResp is an SSO teammate as POST /v3/sso/teammates and PATCH answer it.
type teammateResp struct {
	Email                      string   `json:"email"`
	Username                   string   `json:"username"`
	FirstName                  string   `json:"first_name"`
	UserType                   string   `json:"user_type"`
	IsAdmin                    bool     `json:"is_admin"`
	IsSSO                      bool     `json:"is_sso"`
	Scopes                     []string `json:"scopes"`
	HasRestrictedSubuserAccess bool     `json:"has_restricted_subuser_access"`
	SubuserAccess              []struct {
		ID             int64    `json:"id"`
		PermissionType string   `json:"permission_type"`
		Scopes         []string `json:"scopes"`
	} `json:"subuser_access"`
}

type teammateListResp struct {
	Result []struct {
		Username string `json:"username"`
		UserType string `json:"user_type"`
		IsAdmin  bool   `json:"is_admin"`
	} `json:"result"`
}

func teammateBody(email string) map[string]any {
	return map[string]any{"email": email, "first_name": "Jane", "last_name": "Doe"}
}

// accountID reads an account's id from `ssod accounts list`.
func (ts *testServer) accountID(name string) int64 {
	ts.t.Helper()
	for line := range strings.SplitSeq(ts.cli("accounts", "list"), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == name {
			id, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				ts.t.Fatalf("accounts list: %q", line)
			}
			return id
		}
	}
	ts.t.Fatalf("accounts list has no %s", name)
	return 0
}

func sgDecode[T any](t *testing.T, res *rest.Response, status int) T {
	t.Helper()
	var v T
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, res.Body)
	}
	if status != http.StatusNoContent {
		if err := json.Unmarshal([]byte(res.Body), &v); err != nil {
			t.Fatalf("%v: %s", err, res.Body)
		}
	}
	return v
}

// testTeammates runs every teammate operation through sendgrid-go (each answer validated
// against SendGrid's SSO and Teammates files and ssod's document): create with a persona
// and with subuser access, edit, list with limit and offset, read, delete.
func testTeammates(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	ts.cli("accounts", "create", "eu", "--parent", "main")
	ts.cli("accounts", "create", "stranger")
	eu, stranger := ts.accountID("eu"), ts.accountID("stranger")

	dev := teammateBody("Dev@Example.com")
	dev["persona"] = "developer"
	created := sgDecode[teammateResp](t, sendgridDo(t, ts, rest.Post, "/v3/sso/teammates", dev), 201)
	want, _ := persona.Scopes("developer")
	if created.Email != "Dev@Example.com" || created.Username != created.Email || !created.IsSSO || created.IsAdmin ||
		created.UserType != "teammate" || !slices.Equal(created.Scopes, want) {
		t.Fatalf("created %+v", created)
	}
	// The domain compares without case: the same teammate again is refused.
	wantError(t, ts.client(ts.Key).do("POST", "/v3/sso/teammates", teammateBody("Dev@EXAMPLE.COM")), 400, "email", "invalid")

	restricted := teammateBody("ops@example.com")
	restricted["has_restricted_subuser_access"] = true
	restricted["subuser_access"] = []map[string]any{{"id": eu, "permission_type": "restricted", "scopes": []string{"stats.read"}}}
	sub := sgDecode[teammateResp](t, sendgridDo(t, ts, rest.Post, "/v3/sso/teammates", restricted), 201)
	if !sub.HasRestrictedSubuserAccess || len(sub.SubuserAccess) != 1 || sub.SubuserAccess[0].ID != eu || len(sub.Scopes) != 0 {
		t.Fatalf("restricted teammate %+v", sub)
	}
	restricted["email"] = "other@example.com"
	restricted["subuser_access"] = []map[string]any{{"id": stranger, "permission_type": "admin"}}
	wantError(t, ts.client(ts.Key).do("POST", "/v3/sso/teammates", restricted), 400, "subuser_access", "invalid")

	// Edit: the path names the teammate by any case of its domain; email never changes.
	edited := sgDecode[teammateResp](t, sendgridDo(t, ts, rest.Patch, "/v3/sso/teammates/"+url.PathEscape("Dev@example.com"),
		map[string]any{"first_name": "Janet", "is_admin": true, "email": "new@example.com"}), 200)
	if edited.Email != "Dev@Example.com" || edited.FirstName != "Janet" || !edited.IsAdmin || edited.UserType != "admin" ||
		!slices.Equal(edited.Scopes, persona.AdminScopes()) {
		t.Fatalf("edited %+v", edited)
	}

	for _, e := range []string{"c1@example.com", "c2@example.com"} {
		sgDecode[teammateResp](t, sendgridDo(t, ts, rest.Post, "/v3/sso/teammates", teammateBody(e)), 201)
	}
	all := sgDecode[teammateListResp](t, sendgridDo(t, ts, rest.Get, "/v3/teammates", nil), 200)
	var names []string
	for _, r := range all.Result {
		names = append(names, r.Username)
	}
	if strings.Join(names, " ") != "Dev@Example.com ops@example.com c1@example.com c2@example.com" || all.Result[0].UserType != "admin" || all.Result[1].UserType != "teammate" {
		t.Fatalf("list %+v", all)
	}
	page := sgDecode[teammateListResp](t, sendgridDo(t, ts, rest.Get, "/v3/teammates?limit=2&offset=1", nil), 200)
	if len(page.Result) != 2 || page.Result[0].Username != "ops@example.com" || page.Result[1].Username != "c1@example.com" {
		t.Fatalf("page %+v", page)
	}
	wantError(t, ts.client(ts.Key).do("GET", "/v3/teammates?limit=501", nil), 400, "limit", "invalid")

	one := sgDecode[teammateResp](t, sendgridDo(t, ts, rest.Get, "/v3/teammates/ops@example.com", nil), 200)
	if one.Username != "ops@example.com" || one.UserType != "teammate" {
		t.Fatalf("get %+v", one)
	}
	sgDecode[struct{}](t, sendgridDo(t, ts, rest.Delete, "/v3/teammates/c2@example.com", nil), 204)
	if res := sendgridDo(t, ts, rest.Get, "/v3/teammates/c2@example.com", nil); res.StatusCode != 404 {
		t.Fatalf("deleted teammate: %d", res.StatusCode)
	}
	if res := sendgridDo(t, ts, rest.Delete, "/v3/teammates/c2@example.com", nil); res.StatusCode != 404 {
		t.Fatalf("deleted twice: %d", res.StatusCode)
	}
	// Integrations carry the just-in-time fields, with their defaults.
	c := ts.client(ts.Key)
	in := c.createIntegration("JIT")
	if r := c.do("GET", "/v3/sso/integrations/"+in.ID, nil); !strings.Contains(string(r.Body), `"jit_provisioning":false,"jit_persona":"observer"`) {
		t.Errorf("defaults: %s", r.Body)
	}
	body := integrationBody("JIT on")
	body["jit_provisioning"], body["jit_persona"] = true, "accountant"
	if r := c.do("POST", "/v3/sso/integrations", body); !strings.Contains(string(r.Body), `"jit_provisioning":true,"jit_persona":"accountant"`) {
		t.Errorf("create with JIT: %d %s", r.Status, r.Body)
	}
	wantError(t, c.do("PATCH", "/v3/sso/integrations/"+in.ID, map[string]any{"jit_persona": "owner"}), 400, "jit_persona", "invalid")
	wantError(t, c.do("PATCH", "/v3/sso/integrations/"+in.ID, map[string]any{"jit_provisioning": "yes"}), 400, "jit_provisioning", "invalid")

	audit := ts.cli("audit", "list")
	for _, op := range []string{"teammate.create", "teammate.update", "teammate.delete"} {
		if !strings.Contains(audit, op) {
			t.Errorf("audit list lacks %s:\n%s", op, audit)
		}
	}
}

// testTeammateIsolation: another account's teammate is 404 on every path, On-Behalf-Of
// reaches a subuser's teammates, and each operation needs its scope.
func testTeammateIsolation(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	alice := ts.client(ts.newAccountKey("alice", ""))
	bob := ts.client(ts.newAccountKey("bob", ""))
	ts.newAccountKey("child", "alice")
	if r := alice.do("POST", "/v3/sso/teammates", teammateBody("jane@example.com")); r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	wantError(t, bob.do("GET", "/v3/teammates/jane@example.com", nil), 404, "", "not_found")
	wantError(t, bob.do("DELETE", "/v3/teammates/jane@example.com", nil), 404, "", "not_found")
	wantError(t, bob.do("PATCH", "/v3/sso/teammates/jane@example.com", map[string]any{"first_name": "X"}), 404, "", "not_found")
	if list := decode[teammateListResp](t, bob.do("GET", "/v3/teammates", nil)); len(list.Result) != 0 {
		t.Fatalf("bob lists %+v", list)
	}
	// Bob may have a teammate of the same name: usernames are per account.
	if r := bob.do("POST", "/v3/sso/teammates", teammateBody("jane@example.com")); r.Status != 201 {
		t.Fatalf("bob's jane: %d %s", r.Status, r.Body)
	}

	onBehalf := alice.with("On-Behalf-Of", "child")
	if r := onBehalf.do("POST", "/v3/sso/teammates", teammateBody("kid@example.com")); r.Status != 201 {
		t.Fatalf("on behalf: %d %s", r.Status, r.Body)
	}
	if list := decode[teammateListResp](t, onBehalf.do("GET", "/v3/teammates", nil)); len(list.Result) != 1 || list.Result[0].Username != "kid@example.com" {
		t.Fatalf("child's teammates %+v", list)
	}
	wantError(t, alice.do("GET", "/v3/teammates/kid@example.com", nil), 404, "", "not_found")

	for _, tc := range []struct {
		scope, method, path string
		body                any
	}{
		{"sso.teammates.create", "POST", "/v3/sso/teammates", teammateBody("new@example.com")},
		{"sso.teammates.update", "PATCH", "/v3/sso/teammates/jane@example.com", map[string]any{"first_name": "Y"}},
		{"teammates.read", "GET", "/v3/teammates", nil},
		{"teammates.read", "GET", "/v3/teammates/jane@example.com", nil},
		{"teammates.delete", "DELETE", "/v3/teammates/jane@example.com", nil},
	} {
		others := []string{"sso.settings.read", "sso.settings.create", "sso.settings.update", "sso.settings.delete",
			"sso.teammates.create", "sso.teammates.update", "teammates.read", "teammates.delete"}
		others = slices.DeleteFunc(others, func(s string) bool { return s == tc.scope })
		without := ts.client(ts.newKey("alice", others...))
		wantError(t, without.do(tc.method, tc.path, tc.body), 403, "", "forbidden")
		with := ts.client(ts.newKey("alice", tc.scope))
		if r := with.do(tc.method, tc.path, tc.body); r.Status >= 300 {
			t.Errorf("%s %s with %s: %d %s", tc.method, tc.path, tc.scope, r.Status, r.Body)
		}
	}
}

// TestClusterJustInTime: two sign-ins of the same new user race on two instances on one
// PostgreSQL database; just-in-time provisioning creates exactly one teammate, and both
// sign-ins succeed with it.
func TestClusterJustInTime(t *testing.T) {
	a, b, key := twoInstances(t, "--public-url", "https://sso.example.test")
	admin := a.client(key)
	s := newSignInSetup(t, admin)
	r := admin.do("PATCH", "/v3/sso/integrations/"+s.in.ID, map[string]any{"jit_provisioning": true, "jit_persona": "marketer"})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"jit_persona":"marketer"`) {
		t.Fatalf("enable JIT: %d %s", r.Status, r.Body)
	}
	want, _ := persona.Scopes("marketer")
	for round := range 5 {
		user := "racer" + strconv.Itoa(round) + "@example.com"
		docs := [2]string{s.responseFor(t, user), s.responseFor(t, user)}
		var wg sync.WaitGroup
		var results [2]response
		for i, c := range []*client{a.client(""), b.client("")} {
			wg.Go(func() { results[i] = s.post(c, docs[i]) })
		}
		wg.Wait()
		for i, res := range results {
			var body struct {
				Teammate struct {
					Username string   `json:"username"`
					Scopes   []string `json:"scopes"`
				} `json:"teammate"`
			}
			if res.Status != 200 || json.Unmarshal(res.Body, &body) != nil || body.Teammate.Username != user || !slices.Equal(body.Teammate.Scopes, want) {
				t.Fatalf("round %d, instance %d: %d %s", round, i, res.Status, res.Body)
			}
		}
		list := decode[teammateListResp](t, admin.do("GET", "/v3/teammates", nil))
		n := 0
		for _, tm := range list.Result {
			if tm.Username == user {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: %d teammates %s, want 1", round, n, user)
		}
	}
	jit := 0
	for line := range strings.SplitSeq(a.cli("audit", "list"), "\n") {
		if strings.Contains(line, "teammate.jit_create") {
			jit++
			if !slices.Contains(strings.Fields(line), "jit") {
				t.Errorf("a JIT create's actor is not jit: %s", line)
			}
		}
	}
	if jit != 5 {
		t.Errorf("%d JIT audit events, want 5", jit)
	}
}
