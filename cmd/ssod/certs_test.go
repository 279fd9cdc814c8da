package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
)

// expiryEntry is an element of GET /v3/sso/expiry-report.
type expiryEntry struct {
	Account           string `json:"account"` // only from the command line, over all accounts
	IntegrationID     string `json:"integration_id"`
	Name              string `json:"name"`
	Enabled           bool   `json:"enabled"`
	SigningValidUntil *int64 `json:"signing_valid_until"`
	Status            string `json:"status"`
	Certificates      []struct {
		ID       int64 `json:"id"`
		NotAfter int64 `json:"not_after"`
	} `json:"certificates"`
}

// wantReport checks the names and statuses of a report, in order.
func wantReport(t *testing.T, what string, got []expiryEntry, want ...string) {
	t.Helper()
	var have []string
	for _, e := range got {
		have = append(have, e.Name+":"+e.Status)
	}
	if strings.Join(have, " ") != strings.Join(want, " ") {
		t.Errorf("%s: report %v, want %v", what, have, want)
	}
}

// wantGauges checks ssod_sso_integrations_signing on /metrics.
func wantGauges(t *testing.T, ts *testServer, what string, broken, in7d, in30d int) {
	t.Helper()
	metrics := string(ts.client("").do("GET", "/metrics", nil).Body)
	for horizon, n := range map[string]int{"broken": broken, "7d": in7d, "30d": in30d} {
		line := fmt.Sprintf("\nssod_sso_integrations_signing{horizon=%q} %d\n", horizon, n)
		if !strings.Contains(metrics, line) {
			t.Errorf("%s: /metrics lacks %q", what, strings.TrimSpace(line))
		}
	}
}

// TestExpiryReportEndToEnd: the API's report, ssod certs expiring and the
// horizon gauges agree on one database, on every backend; the report's
// responses are held to ssod's OpenAPI document by the client.
func TestExpiryReportEndToEnd(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testExpiryReport(t, b.dsn(t)) })
	}
}

func testExpiryReport(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--test-mode")
	c := ts.client(ts.Key)
	now := time.Now().Truncate(time.Second)
	withCert := func(c *client, name string, notAfter time.Duration) string {
		t.Helper()
		in := c.createIntegration(name)
		if notAfter != 0 {
			cert := testcert.New(t, testcert.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(notAfter)})
			c.createCertificate(in.ID, cert.PEM)
		}
		return in.ID
	}
	withCert(c, "okta", 5*24*time.Hour)
	withCert(c, "adfs", 100*24*time.Hour)
	withCert(c, "bare", 0)
	off := withCert(c, "off", 2*24*time.Hour)
	if r := c.do("PATCH", "/v3/sso/integrations/"+off, map[string]any{"enabled": false}); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	acme := ts.client(ts.newAccountKey("acme", ""))
	withCert(acme, "acme-idp", 200*24*time.Hour)

	report := func(c *client, query string) ([]expiryEntry, []byte) {
		t.Helper()
		r := c.do("GET", "/v3/sso/expiry-report"+query, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET /v3/sso/expiry-report%s: %d %s", query, r.Status, r.Body)
		}
		return decode[[]expiryEntry](t, r), r.Body
	}
	mainReport, mainBody := report(c, "")
	wantReport(t, "main", mainReport, "bare:broken", "off:expiring", "okta:expiring", "adfs:ok")
	if e := mainReport[2]; e.SigningValidUntil == nil || *e.SigningValidUntil != now.Add(5*24*time.Hour).Unix() ||
		len(e.Certificates) != 1 || e.Certificates[0].NotAfter != *e.SigningValidUntil {
		t.Errorf("okta's entry: %+v", e)
	}
	acmeReport, acmeBody := report(acme, "")
	wantReport(t, "acme", acmeReport, "acme-idp:ok")
	wantReport(t, "within=1d", first(report(c, "?within=1d")), "bare:broken", "off:ok", "okta:ok", "adfs:ok")
	if r := c.do("GET", "/v3/sso/expiry-report?within=soon", nil); r.Status != http.StatusBadRequest || !bytes.Contains(r.Body, []byte(`"field":"within"`)) {
		t.Errorf("within=soon: %d %s; want 400 naming within", r.Status, r.Body)
	}
	// okta within 7 days; bare broken; off and acme-idp not counted
	// (disabled, and more than 30 days off).
	wantGauges(t, ts, "now", 1, 1, 1)

	// The command line, on the same database, with the system's clock.
	cli := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"certs", "expiring", "--db", ts.DSN}, args...), env(nil), &out, &errOut)
		return out.String(), err
	}
	out, err := cli("--account", "main", "--json")
	if code := exitCode(err); code != 1 || !strings.Contains(fmt.Sprint(err), "2 enabled integration(s)") {
		t.Errorf("certs expiring --account main: %v (exit %d); want exit 1 for bare and okta", err, code)
	}
	if strings.TrimSpace(out) != string(mainBody) {
		t.Errorf("certs expiring --account main --json printed\n%s\nthe API sent\n%s", out, mainBody)
	}
	out, err = cli("--account", "acme", "--json")
	if err != nil || strings.TrimSpace(out) != string(acmeBody) {
		t.Errorf("certs expiring --account acme --json: %v\n%s\nthe API sent\n%s", err, out, acmeBody)
	}
	out, err = cli("--json", "--within", "0")
	var all []expiryEntry
	if jerr := json.Unmarshal([]byte(out), &all); jerr != nil || exitCode(err) != 1 {
		t.Fatalf("certs expiring --json --within 0: %v, %v\n%s", err, jerr, out)
	}
	wantReport(t, "every account, within 0", all, "bare:broken", "off:ok", "okta:ok", "adfs:ok", "acme-idp:ok")
	if all[0].Account != "main" || all[4].Account != "acme" {
		t.Errorf("entries over all accounts do not name theirs: %+v", all)
	}
	out, err = cli()
	if exitCode(err) != 1 {
		t.Errorf("certs expiring (table): %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "STATUS") || !strings.HasPrefix(lines[1], "broken") ||
		!strings.Contains(lines[1], "bare") || !strings.Contains(lines[3], "okta") || !strings.HasPrefix(lines[3], "expiring") ||
		!strings.Contains(lines[5], "acme") {
		t.Errorf("certs expiring printed:\n%s", out)
	}
	if _, err := cli("--within", "soon"); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "within") {
		t.Errorf("certs expiring --within soon: %v; want a usage error (exit 2)", err)
	}
	if _, err := cli("--account", "nobody"); err == nil || exitCode(err) != 2 {
		t.Errorf("certs expiring --account nobody: %v; want exit 2", err)
	}

	// Six days on (the server's clock only): okta and off have broken.
	if r := ts.client("").do("POST", "/_ssod/clock", map[string]any{"now": now.Add(6 * 24 * time.Hour).Unix()}); r.Status != http.StatusOK {
		t.Fatalf("set clock: %d %s", r.Status, r.Body)
	}
	wantReport(t, "six days on", first(report(c, "")), "bare:broken", "off:broken", "okta:broken", "adfs:ok")
	wantGauges(t, ts, "six days on", 2, 0, 0)
}

func first[A, B any](a A, _ B) A { return a }

// TestCertsExpiringExitCodes runs the binary, as cron would: 1 when an
// enabled integration is broken or expiring, 0 when none is, 2 when it
// could not tell.
func TestCertsExpiringExitCodes(t *testing.T) {
	bin := buildSSOD(t)
	db := newDatabase(t)
	if _, err := runCLI(t, "accounts", "create", "acme", "--db", db); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if stdout, stderr, code := runBinary(t, bin, dir, "certs", "expiring", "--db", db); code != 0 || stderr != "" || !strings.HasPrefix(stdout, "STATUS") {
		t.Errorf("no integrations: exit %d, stdout %q, stderr %q; want 0 and a table header", code, stdout, stderr)
	}
	key, err := runCLI(t, "keys", "create", "--account", "acme", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, db)
	ts.client(strings.TrimSpace(key)).createIntegration("bare")
	stdout, stderr, code := runBinary(t, bin, dir, "certs", "expiring", "--db", db)
	if code != 1 || !strings.Contains(stderr, "1 enabled integration(s) broken or expiring within 30d") || !strings.Contains(stdout, "bare") {
		t.Errorf("a broken integration: exit %d, stdout %q, stderr %q; want 1 and a message", code, stdout, stderr)
	}
	if _, stderr, code := runBinary(t, bin, dir, "certs", "expiring", "--within", "1y", "--db", db); code != 2 || !strings.Contains(stderr, "within") {
		t.Errorf("--within 1y: exit %d, stderr %q; want 2", code, stderr)
	}
}
