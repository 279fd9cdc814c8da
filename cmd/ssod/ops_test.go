package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
)

func testHealthAndMetrics(t *testing.T, dsn string) {
	ts := startServer(t, dsn)
	anon := ts.client("")
	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		if r := anon.do("GET", path, nil); r.Status != 200 || string(r.Body) != want {
			t.Errorf("GET %s -> %d %s", path, r.Status, r.Body)
		}
	}
	c := ts.client(ts.Key)
	in := c.createIntegration("metered")
	c.do("GET", "/v3/sso/integrations/"+in.ID, nil)
	c.do("GET", "/v3/sso/certificates/424242", nil)
	ts.client("SG.bogus").do("GET", "/v3/sso/integrations", nil)

	r := anon.do("GET", "/metrics", nil)
	body := string(r.Body)
	for _, want := range []string{
		`ssod_http_requests_total{method="GET",route="GET /v3/sso/integrations/{id}",status="200"} 1`,
		`ssod_http_requests_total{method="GET",route="GET /v3/sso/certificates/{cert_id}",status="404"} 1`,
		`ssod_http_requests_total{method="POST",route="POST /v3/sso/integrations",status="200"} 1`,
		`ssod_http_request_duration_seconds_bucket{method="GET",route="GET /v3/sso/integrations/{id}"`,
		`ssod_authentication_failures_total 1`,
		`ssod_rate_limit_rejections_total 0`,
		`ssod_database_errors_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{in.ID, "424242", ts.Key[3:25], ts.Key[26:], `"main"`} {
		if strings.Contains(body, secret) {
			t.Errorf("metrics hold %q", secret)
		}
	}
	// The access log names the route pattern and never the key.
	logs := ts.settledLogs()
	if !strings.Contains(logs, `route="GET /v3/sso/integrations/{id}"`) || !strings.Contains(logs, "request_id=") {
		t.Errorf("access log lacks route or request id:\n%s", logs)
	}
	if strings.Count(logs, ts.Key[26:]) > 1 { // once: the first-start message
		t.Error("a key secret reached the log")
	}
}

func TestSlowClientIsCutOff(t *testing.T) {
	ts := startServer(t, "", "--header-timeout", "500ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half a request line, then silence, as a slowloris client does.
	if _, err := conn.Write([]byte("GET /v3/sso/integrations HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	if err != nil {
		t.Fatalf("server did not close the connection: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("connection held for %v", took)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert := testcert.New(t, testcert.Options{Hosts: []string{"127.0.0.1"}})
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, []byte(cert.PEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(cert.KeyPEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, "", "--tls-cert", certFile, "--tls-key", keyFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(cert.PEM))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := strings.Replace(ts.URL, "http://", "https://", 1)
	res, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil {
		t.Fatalf("HTTPS /healthz -> %d, tls %v", res.StatusCode, res.TLS != nil)
	}
	if res, err := http.Get(ts.URL + "/healthz"); err == nil && res.StatusCode == 200 {
		t.Fatal("plain HTTP served on the TLS port")
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "ssod ") {
		t.Fatalf("version -> %q, %v", out, err)
	}
}

func testRevocationBitesWithinKeyCacheTTL(t *testing.T, dsn string) {
	ts := startServer(t, dsn, "--key-cache-ttl", "300ms")
	key := ts.newKey("main")
	c := ts.client(key)
	if r := c.do("GET", "/v3/sso/integrations", nil); r.Status != 200 {
		t.Fatalf("fresh key -> %d", r.Status)
	}
	ts.cli("keys", "revoke", key[3:25])
	time.Sleep(400 * time.Millisecond)
	wantError(t, c.do("GET", "/v3/sso/integrations", nil), 401, "", "unauthorized")
}

// ssod serve runs the collector at gcPercent when GOGC is not set.
func TestServeSetsGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	startServer(t, "") // its environment has no GOGC
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("GC percent %d while serving, want %d", got, gcPercent)
	}
}
