package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// secrets remembers every server log and every secret the tests handled, so
// that after the whole suite one scan can prove no secret reached a log.
var secrets struct {
	mu     sync.Mutex
	logs   []*syncBuffer
	values []string // key secrets, and lines of private keys the tests sent
	// documents are SAML responses the tests posted: neither they nor the
	// assertion in them may reach a log.
	documents []string
}

func rememberLogs(b *syncBuffer) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	secrets.logs = append(secrets.logs, b)
}

// rememberSecret records material that must never appear in a log. For a
// PEM private key, each base64 line is recorded.
func rememberSecret(s string) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			secrets.values = append(secrets.values, line)
		}
	}
}

// rememberDocument records a SAML response's XML: a log must hold neither
// it, its base64, nor any 40-character piece of either.
func rememberDocument(xml string) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	b64 := base64.StdEncoding.EncodeToString([]byte(xml))
	for _, s := range []string{xml, b64} {
		for i := 0; i+40 <= len(s); i += 40 {
			secrets.documents = append(secrets.documents, s[i:i+40])
		}
	}
}

// documentMarkers appear in any SAML XML and in no log line ssod writes.
var documentMarkers = []string{"<saml", "<ds:", ":Assertion", "SignatureValue", "SAMLResponse="}

// firstStartNotice introduces the one place a key is shown on purpose: the
// first start's own message, on stderr, before any log line.
const firstStartNotice = "ssod: new database: created account"

// scanLogs returns every log line that holds secret material.
func scanLogs() []string {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	var leaks []string
	for _, b := range secrets.logs {
		shown := false
		for line := range strings.Lines(b.String()) {
			if strings.HasPrefix(line, firstStartNotice) {
				shown = true
				continue
			}
			if shown && keyPattern.MatchString(line) && !strings.Contains(line, "level=") {
				shown = false // the key line that follows the notice
				continue
			}
			if strings.Contains(strings.ToUpper(line), "PRIVATE KEY") || keyPattern.MatchString(line) {
				leaks = append(leaks, line)
				continue
			}
			for _, s := range slices.Concat(secrets.values, secrets.documents, documentMarkers) {
				if strings.Contains(line, s) {
					leaks = append(leaks, line)
					break
				}
			}
		}
	}
	return leaks
}

// TestMain runs the suite, then scans every server log it produced.
func TestMain(m *testing.M) {
	code := m.Run()
	removeBuild()
	if leaks := scanLogs(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d server log lines hold key, private-key, certificate or SAML document material:\n", len(leaks))
		for _, l := range leaks {
			fmt.Fprintf(os.Stderr, "  %.200s\n", l)
		}
		code = 1
	}
	secrets.mu.Lock()
	n, v := len(secrets.logs), len(secrets.values)+len(secrets.documents)
	secrets.mu.Unlock()
	if testing.Verbose() {
		fmt.Printf("log scan: %d server logs checked against %d secrets\n", n, v)
	}
	os.Exit(code)
}

func TestScanLogsFindsLeaks(t *testing.T) {
	b := &syncBuffer{}
	b.Write([]byte(firstStartNotice + " ...:\nSG.aaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n"))
	b.Write([]byte("time=x level=INFO msg=request key_id=aaaaaaaaaaaaaaaaaaaaaa\n"))
	secrets.mu.Lock()
	savedLogs, savedValues := secrets.logs, secrets.values
	secrets.logs, secrets.values = []*syncBuffer{b}, nil
	secrets.mu.Unlock()
	defer func() {
		secrets.mu.Lock()
		secrets.logs, secrets.values = savedLogs, savedValues
		secrets.mu.Unlock()
	}()
	if leaks := scanLogs(); len(leaks) != 0 {
		t.Fatalf("the first-start notice and a key id counted as leaks: %q", leaks)
	}
	rememberSecret("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n")
	b.Write([]byte("level=ERROR msg=oops body=MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"))
	b.Write([]byte("level=INFO msg=x auth=\"Bearer SG.cccccccccccccccccccccc.ddddddddddddddddddddddddddddddddddddddddddd\"\n"))
	if leaks := scanLogs(); len(leaks) != 2 {
		t.Fatalf("found %d leaks, want the key body and the bearer key: %q", len(leaks), leaks)
	}
	xml := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r"><saml:Assertion>alice@example.com and more text</saml:Assertion></samlp:Response>`
	secrets.mu.Lock()
	savedDocs := secrets.documents
	secrets.mu.Unlock()
	defer func() { secrets.mu.Lock(); secrets.documents = savedDocs; secrets.mu.Unlock() }()
	rememberDocument(xml)
	b.Write([]byte("level=INFO msg=x body=" + base64.StdEncoding.EncodeToString([]byte(xml))[40:100] + "\n"))
	b.Write([]byte("level=WARN msg=y err=\"bad <saml:Issuer>\"\n"))
	if leaks := scanLogs(); len(leaks) != 4 {
		t.Fatalf("found %d leaks, want also a piece of a response's base64 and an XML element: %q", len(leaks), leaks)
	}
}
