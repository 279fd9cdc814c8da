package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/internal/testenv"
)

// simpleSAMLphpWWW is where Debian's simplesamlphp package keeps its web root.
const simpleSAMLphpWWW = "/usr/share/simplesamlphp/www"

// startSimpleSAMLphp runs SimpleSAMLphp (Debian's package) as a SAML IdP on a
// free loopback port with PHP's built-in server, its configuration in a
// temporary folder, signing with current and announcing next (a rollover:
// new_certificate). It returns the IdP's base URL and a function that
// rewrites its hosted metadata to publish only signing (the rollover done).
func startSimpleSAMLphp(t *testing.T, current, next testcert.Cert) (string, func(signing string)) {
	t.Helper()
	php, err := exec.LookPath("php")
	_, statErr := os.Stat(filepath.Join(simpleSAMLphpWWW, "saml2/idp/metadata.php"))
	dom := false
	if err == nil {
		mods, _ := exec.Command(php, "-m").Output()
		dom = strings.Contains("\n"+string(mods), "\ndom\n")
	}
	if err != nil || statErr != nil || !dom {
		if testenv.CI() {
			t.Fatal("php, its dom module or simplesamlphp is missing under CI=true: apt-get install simplesamlphp php-xml")
		}
		t.Skip("php, its dom module or simplesamlphp is missing: the live IdP metadata test skipped (apt-get install simplesamlphp php-xml)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	dir := t.TempDir()
	for _, d := range []string{"config", "metadata", "cert", "log", "data", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"cert/idp.crt":  current.PEM,
		"cert/idp.key":  current.KeyPEM(t),
		"cert/next.crt": next.PEM,
		"cert/next.key": next.KeyPEM(t),
		"config/config.php": fmt.Sprintf(`<?php
$config = [
  'baseurlpath' => '%[1]s/',
  'certdir' => '%[2]s/cert/',
  'loggingdir' => '%[2]s/log/',
  'datadir' => '%[2]s/data/',
  'tempdir' => '%[2]s/tmp',
  'secretsalt' => 'ssod-metadata-test',
  'auth.adminpassword' => 'ssod-metadata-test',
  'technicalcontact_email' => 'na@example.org',
  'enable.saml20-idp' => true,
  'module.enable' => ['saml' => true, 'core' => true, 'exampleauth' => true],
  'logging.handler' => 'errorlog',
  'store.type' => 'phpsession',
  'metadata.sources' => [['type' => 'flatfile', 'directory' => '%[2]s/metadata']],
];
`, base, dir),
		"config/authsources.php": `<?php
$config = ['admin' => ['core:AdminPassword'], 'users' => ['exampleauth:UserPass', 'alice:pw' => ['uid' => ['alice']]]];
`,
		"metadata/saml20-idp-hosted.php": hosted(base, "idp", `, 'new_certificate' => 'next.crt'`),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(php, "-S", addr, "-t", simpleSAMLphpWWW)
	cmd.Env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+filepath.Join(dir, "config"))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/saml2/idp/metadata.php")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, func(signing string) {
					if err := os.WriteFile(filepath.Join(dir, "metadata/saml20-idp-hosted.php"), []byte(hosted(base, signing, "")), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("SimpleSAMLphp did not serve its metadata (last: %v):\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hosted is SimpleSAMLphp's hosted IdP metadata, signing with the key pair
// cert/NAME.key and cert/NAME.crt, with extra PHP array members.
func hosted(base, name, extra string) string {
	return fmt.Sprintf(`<?php
$metadata['%s/idp'] = ['host' => '__DEFAULT__', 'privatekey' => '%s.key', 'certificate' => '%s.crt'%s, 'auth' => 'users'];
`, base, name, name, extra)
}

// TestSimpleSAMLphpMetadata imports the metadata a live SimpleSAMLphp IdP
// publishes, with two signing certificates (a rollover), through `ssod
// serve --allow-private-urls`, every answer checked against the OpenAPI
// documents; then the IdP completes the rollover and, once the test clock
// has moved past --metadata-refresh, the server's own loop reads it again.
func TestSimpleSAMLphpMetadata(t *testing.T) {
	current := testcert.New(t, testcert.Options{CommonName: "ssp current", RSABits: 2048})
	next := testcert.New(t, testcert.Options{CommonName: "ssp next", RSABits: 2048})
	rememberSecret(current.PEM)
	rememberSecret(next.PEM)
	base, rollOver := startSimpleSAMLphp(t, current, next)
	ts := startServer(t, ":memory:", "--allow-private-urls", "--test-mode", "--metadata-refresh", "1m")
	c := ts.client(ts.Key)
	r := c.do("POST", "/v3/sso/integrations/metadata", map[string]any{"name": "SimpleSAMLphp", "enabled": true, "metadata_url": base + "/saml2/idp/metadata.php"})
	if r.Status != 200 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	got := decode[map[string]any](t, r)
	for k, want := range map[string]string{"entity_id": base + "/idp", "signin_url": base + "/saml2/idp/SSOService.php",
		"signout_url": base + "/saml2/idp/SingleLogoutService.php", "metadata_url": base + "/saml2/idp/metadata.php"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %s", k, got[k], want)
		}
	}
	if got["metadata_refreshed_at"] == nil {
		t.Error("metadata_refreshed_at is null after an import")
	}
	id := got["id"].(string)
	// states maps each of the integration's certificates to whether it is enabled.
	states := func() map[string]bool {
		certs := decode[[]struct {
			PublicCertificate string `json:"public_certificate"`
			Enabled           bool
		}](t, c.do("GET", "/v3/sso/integrations/"+id+"/certificates", nil))
		enabled := map[string]bool{}
		for _, c := range certs {
			enabled[c.PublicCertificate] = c.Enabled
		}
		return enabled
	}
	if enabled := states(); len(enabled) != 2 || !enabled[current.PEM] || !enabled[next.PEM] {
		t.Fatalf("%d certificates (current enabled: %v, next enabled: %v), want the current and the next one, enabled", len(enabled), enabled[current.PEM], enabled[next.PEM])
	}

	// The rollover completes: the IdP publishes only the next certificate.
	// Nothing changes until the interval has passed on the server's clock.
	rollOver("next")
	admin := ts.client("")
	if r := admin.do("POST", "/_ssod/clock", map[string]any{"advance_seconds": 120}); r.Status != 200 {
		t.Fatalf("advance the clock: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		enabled := states()
		if len(enabled) == 2 && !enabled[current.PEM] && enabled[next.PEM] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled refresh did not disable the retired certificate: current enabled %v, next enabled %v\n%s",
				enabled[current.PEM], enabled[next.PEM], ts.Logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(ts.settledLogs(), `msg="idp metadata refreshed"`) {
		t.Error("the scheduled refresh was not logged")
	}

	// Without --allow-private-urls the same URL is refused, naming the field.
	strict := startServer(t, "")
	wantError(t, strict.client(strict.Key).do("POST", "/v3/sso/integrations/metadata",
		map[string]any{"name": "x", "enabled": true, "metadata_url": base + "/saml2/idp/metadata.php"}), 400, "metadata_url", "invalid")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("base %s is not on loopback", base)
	}
}
