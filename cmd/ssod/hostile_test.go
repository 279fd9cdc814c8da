package main

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testcert"
)

// hostileCase is one bad request and the contract's exact answer to it.
type hostileCase struct {
	name   string
	method string
	path   string
	// headers are sent on top of the defaults (Authorization with the
	// catalogue's key; Content-Type: application/json on POST and PATCH or
	// whenever there is a body); an empty value removes a default.
	headers map[string]string
	body    string
	status  int
	// problems are the (field, error_id) pairs of the error array, in order;
	// field "" means null.
	problems []string
	// bodyReader, when set, replaces body (for bodies of unknown length).
	bodyReader func() io.Reader
	// add are headers added after the others, to send one twice.
	add [][2]string
	// raw, when set, is the whole request as sent over TCP (headers and
	// framing that net/http's client would not write); "{KEY}" stands for
	// the catalogue's key. method and path say what it asks for.
	raw string
}

// hostileKV is one member of a JSON object under construction, kept in order.
type hostileKV struct{ name, raw string }

// hostileObj renders members as a JSON object in their order.
func hostileObj(members []hostileKV) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(hostileJS(m.name))
		b.WriteByte(':')
		b.WriteString(m.raw)
	}
	b.WriteByte('}')
	return b.String()
}

// hostileWith returns members with name's raw value replaced (or appended).
func hostileWith(members []hostileKV, name, raw string) []hostileKV {
	out := slices.Clone(members)
	for i := range out {
		if out[i].name == name {
			out[i].raw = raw
			return out
		}
	}
	return append(out, hostileKV{name, raw})
}

// hostileJS is v as JSON text.
func hostileJS(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// hostileOpenSSHKey renders an Ed25519 key in OpenSSH's own private key
// format ("openssh-key-v1", unencrypted), as ssh-keygen writes it.
func hostileOpenSSHKey(priv ed25519.PrivateKey) []byte {
	str := func(b []byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
	}
	pub := priv.Public().(ed25519.PublicKey)
	pubBlob := slices.Concat(str([]byte("ssh-ed25519")), str(pub))
	sec := slices.Concat([]byte{0x5e, 0xc7, 0x00, 0x01, 0x5e, 0xc7, 0x00, 0x01},
		str([]byte("ssh-ed25519")), str(pub), str(priv), str([]byte("hostile@catalogue")))
	for i := byte(1); len(sec)%8 != 0; i++ {
		sec = append(sec, i)
	}
	return slices.Concat([]byte("openssh-key-v1\x00"), str([]byte("none")), str([]byte("none")), str(nil),
		[]byte{0, 0, 0, 1}, str(pubBlob), str(sec))
}

func hostilePEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// hostileHugeRSACert is a certificate for a made-up 16384-bit RSA public key
// (a random odd modulus with its top bit set), signed with a small ECDSA
// key: generating a real key of that size would take minutes.
func hostileHugeRSACert(t *testing.T) []byte {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 16384))
	if err != nil {
		t.Fatal(err)
	}
	n.SetBit(n, 16383, 1).SetBit(n, 0, 1)
	signer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(16384),
		Subject:      pkix.Name{CommonName: "huge.idp.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rsa.PublicKey{N: n, E: 65537}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// hostileSnapshot is what the API shows of an account's stored data.
func hostileSnapshot(t *testing.T, c *client, integrationID string, certID int64) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{
		"/v3/sso/integrations",
		"/v3/sso/integrations?si=true",
		"/v3/sso/integrations/" + integrationID,
		"/v3/sso/integrations/" + integrationID + "?si=true",
		"/v3/sso/integrations/" + integrationID + "/certificates",
		fmt.Sprintf("/v3/sso/certificates/%d", certID),
	} {
		r := c.do("GET", p, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("snapshot GET %s -> %d %s", p, r.Status, r.Body)
		}
		out[p] = r.Body
	}
	return out
}

// hostileSend sends one case without following redirects, and holds the
// response to the contract's general rules (OpenAPI, headers, error array).
func hostileSend(t *testing.T, ts *testServer, key string, hc hostileCase) response {
	t.Helper()
	if hc.raw != "" {
		return hostileSendRaw(t, ts, key, hc)
	}
	var body io.Reader
	switch {
	case hc.bodyReader != nil:
		body = hc.bodyReader()
	case hc.body != "":
		body = strings.NewReader(hc.body)
	}
	req, err := http.NewRequest(hc.method, ts.URL+hc.path, body)
	if hc.path == "*" { // the asterisk request target: no path at all
		req, err = http.NewRequest(hc.method, ts.URL, body)
		req.URL.Opaque = "*"
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil || hc.method == "POST" || hc.method == "PATCH" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hc.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	for _, h := range hc.add {
		req.Header.Add(h[0], h[1])
	}
	noRedirect := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", hc.method, hc.path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: got}
	own := *ts
	own.t = t // report against the case, not the whole catalogue
	own.checkResponse(req, r)
	return r
}

// hostileSendRaw writes hc.raw to a connection of its own, half-closes it
// (the client has nothing more to send) and reads the one answer.
func hostileSendRaw(t *testing.T, ts *testServer, key string, hc hostileCase) response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, strings.ReplaceAll(hc.raw, "{KEY}", key)); err != nil {
		t.Fatal(err)
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	req, err := http.NewRequest(hc.method, ts.URL+hc.path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("%s: no answer: %v", hc.name, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: got}
	own := *ts
	own.t = t
	own.checkResponse(req, r)
	return r
}

// hostileMatches reports whether r is status with exactly the (field,
// error_id) pairs.
func hostileMatches(r response, status int, pairs []string) bool {
	if r.Status != status {
		return false
	}
	if status < 400 {
		return pairs == nil
	}
	var got []problem
	if json.Unmarshal(r.Body, &got) != nil {
		return false
	}
	var gotPairs []string
	for _, p := range got {
		f := ""
		if p.Field != nil {
			f = *p.Field
		}
		gotPairs = append(gotPairs, f, p.ErrorID)
	}
	return slices.Equal(gotPairs, pairs)
}

// TestHostileInputCatalogue sends a catalogue of hostile and malformed
// requests to one running server, each with the contract's exact answer,
// then checks that the server still answers, that the stored data is byte
// for byte what it was, and that no secret reached the log.
func TestHostileInputCatalogue(t *testing.T) {
	ts := startServer(t, "", "--rate-limit", "off")
	key := ts.newKey("main") // printed on the CLI's stdout only, never logged
	c := ts.client(key)
	in := c.createIntegration("Hostile target")
	cert := testcert.New(t, testcert.Options{CommonName: "hostile idp"})
	cr := c.createCertificate(in.ID, cert.PEM)
	strangerKey := ts.newAccountKey("stranger", "")
	stranger := ts.client(strangerKey)
	theirs := stranger.createIntegration("Stranger's IdP")
	theirCert := stranger.createCertificate(theirs.ID, testcert.New(t, testcert.Options{}).PEM)
	readOnly := ts.newKey("main", "sso.settings.read")

	before := hostileSnapshot(t, c, in.ID, cr.ID)
	strangerBefore := hostileSnapshot(t, stranger, theirs.ID, theirCert.ID)
	auditBefore := ts.cli("audit", "list")

	const missingIntegration = "00000000-0000-4000-8000-000000000000"
	intPath := "/v3/sso/integrations/" + in.ID
	certPath := fmt.Sprintf("/v3/sso/certificates/%d", cr.ID)
	missingCertPath := fmt.Sprintf("/v3/sso/certificates/%d", cr.ID+1_000_000)
	pathEsc := url.PathEscape
	const sqli = `x'); DROP TABLE integrations; --`
	const sqliOr = `' OR '1'='1`
	const crlf = "x\r\nSet-Cookie: pwned=1\r\nX-Injected: 1"

	// Secrets: private keys of every form, whose bodies must never reach a
	// log or a response.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := x509.MarshalPKCS1PrivateKey(rsaKey)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	openssh := hostileOpenSSHKey(edKey)
	pkcs1PEM := hostilePEM("RSA PRIVATE KEY", pkcs1)
	pkcs8PEM := hostilePEM("PRIVATE KEY", pkcs8)
	sec1PEM := hostilePEM("EC PRIVATE KEY", sec1)
	opensshPEM := hostilePEM("OPENSSH PRIVATE KEY", openssh)
	encryptedPKCS8 := hostileEncryptedPKCS8(t, pkcs8)
	b64 := base64.StdEncoding.EncodeToString
	secrets := map[string]string{
		"PKCS#1 key":        b64(pkcs1),
		"PKCS#8 key":        b64(pkcs8),
		"SEC1 key":          b64(sec1),
		"OpenSSH key":       b64(openssh),
		"encrypted PKCS#8":  b64(encryptedPKCS8),
		"catalogue API key": key[26:],
		"stranger API key":  strangerKey[26:],
	}

	// Other certificate-shaped input.
	other := testcert.New(t, testcert.Options{CommonName: "second idp"})
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr.example.com"}}, ecKey)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	hugeRSA := hostileHugeRSACert(t)
	// A real certificate whose outer SEQUENCE claims 2^32-1 bytes.
	absurdOuter := slices.Concat([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, cert.DER[4:])
	// A real certificate whose TBSCertificate claims more bytes than it has.
	absurdInner := slices.Clone(cert.DER)
	absurdInner[4], absurdInner[5] = 0x30, 0x84 // was 0x30 0x82: the TBS length now reads 4 bytes
	nulCert := strings.Replace(cert.PEM, "\n", "\n\x00", 2)

	intFields := []hostileKV{
		{"name", `"Hostile"`},
		{"enabled", `true`},
		{"signin_url", `"https://idp.example.com/sso/saml"`},
		{"signout_url", `"https://idp.example.com/slo"`},
		{"entity_id", `"https://idp.example.com/entity"`},
		{"completed_integration", `false`},
	}
	validInt := hostileObj(intFields)
	certFields := []hostileKV{
		{"public_certificate", hostileJS(other.PEM)},
		{"integration_id", hostileJS(in.ID)},
	}
	postCert := func(name, pemText string, status int, pairs ...string) hostileCase {
		return hostileCase{name: name, method: "POST", path: "/v3/sso/certificates",
			body: hostileObj(hostileWith(certFields, "public_certificate", hostileJS(pemText))), status: status, problems: pairs}
	}
	invalidJSON := []string{"", "invalid"}
	const postInt = "/v3/sso/integrations"

	cases := []hostileCase{
		// Malformed and truncated JSON.
		{name: "open brace only", method: "POST", path: postInt, body: `{`, status: 400, problems: invalidJSON},
		{name: "truncated member", method: "POST", path: postInt, body: `{"name":"a"`, status: 400, problems: invalidJSON},
		{name: "truncated half of a valid body", method: "POST", path: postInt, body: validInt[:len(validInt)/2], status: 400, problems: invalidJSON},
		{name: "truncated string", method: "POST", path: postInt, body: `{"name":"abc`, status: 400, problems: invalidJSON},
		{name: "trailing comma", method: "POST", path: postInt, body: `{"name":"a",}`, status: 400, problems: invalidJSON},
		{name: "single quotes", method: "POST", path: postInt, body: `{'name':'a'}`, status: 400, problems: invalidJSON},
		{name: "missing colon", method: "POST", path: postInt, body: `{"name" "a"}`, status: 400, problems: invalidJSON},
		{name: "unquoted member name", method: "POST", path: postInt, body: `{name:"a"}`, status: 400, problems: invalidJSON},
		{name: "bad literal", method: "POST", path: postInt, body: `{"enabled":tru}`, status: 400, problems: invalidJSON},
		{name: "NaN literal", method: "POST", path: postInt, body: `{"enabled":NaN}`, status: 400, problems: invalidJSON},
		{name: "comment", method: "POST", path: postInt, body: `{/* hi */"name":"a"}`, status: 400, problems: invalidJSON},
		{name: "extra closing brace", method: "POST", path: postInt, body: validInt + `}`, status: 400, problems: invalidJSON},
		{name: "two objects", method: "POST", path: postInt, body: validInt + validInt, status: 400, problems: invalidJSON},
		{name: "byte order mark", method: "POST", path: postInt, body: "\xef\xbb\xbf" + validInt, status: 400, problems: invalidJSON},
		{name: "raw NUL byte inside a string", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", "\"a\x00b\"")), status: 400, problems: invalidJSON},
		{name: "raw newline inside a string", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", "\"a\nb\"")), status: 400, problems: invalidJSON},
		{name: "bad escape", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", `"a\qb"`)), status: 400, problems: invalidJSON},
		{name: "empty body on POST", method: "POST", path: postInt, body: "", status: 400, problems: invalidJSON},
		{name: "whitespace body on POST", method: "POST", path: postInt, body: " \r\n\t ", status: 400, problems: invalidJSON},
		{name: "empty body on certificate POST", method: "POST", path: "/v3/sso/certificates", body: "", status: 400, problems: invalidJSON},
		{name: "empty body on certificate PATCH", method: "PATCH", path: certPath, body: "", status: 400, problems: invalidJSON},

		// Top-level values that are not an object.
		{name: "top-level array", method: "POST", path: postInt, body: `[` + validInt + `]`, status: 400, problems: invalidJSON},
		{name: "top-level empty array", method: "PATCH", path: intPath, body: `[]`, status: 400, problems: invalidJSON},
		{name: "top-level string", method: "POST", path: postInt, body: `"{\"name\":\"a\"}"`, status: 400, problems: invalidJSON},
		{name: "top-level number", method: "POST", path: "/v3/sso/certificates", body: `42`, status: 400, problems: invalidJSON},
		{name: "top-level null", method: "PATCH", path: certPath, body: `null`, status: 400, problems: invalidJSON},
		{name: "top-level true", method: "POST", path: postInt, body: `true`, status: 400, problems: invalidJSON},

		// Deep nesting.
		{name: "100000 '[' (over the body limit)", method: "POST", path: postInt, body: strings.Repeat("[", 100000), status: 413, problems: []string{"", "too_large"}},
		{name: "60000 '[' unclosed", method: "POST", path: postInt, body: strings.Repeat("[", 60000), status: 400, problems: invalidJSON},
		{name: "30000-deep array in an unknown member", method: "POST", path: postInt,
			body: hostileObj(hostileWith(intFields, "x", strings.Repeat("[", 30000)+strings.Repeat("]", 30000))), status: 400, problems: invalidJSON},
		{name: "10500-deep objects in name", method: "PATCH", path: intPath,
			body: `{"name":` + strings.Repeat(`{"a":`, 10500) + `1` + strings.Repeat(`}`, 10500) + `}`, status: 400, problems: invalidJSON},
		{name: "30000-deep array in public_certificate", method: "POST", path: "/v3/sso/certificates",
			body: hostileObj(hostileWith(certFields, "public_certificate", strings.Repeat("[", 30000)+strings.Repeat("]", 30000))), status: 400, problems: invalidJSON},

		// Huge numbers.
		{name: "enabled 1e400", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "enabled", `1e400`)), status: 400, problems: []string{"enabled", "invalid"}},
		{name: "enabled 2^64", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "enabled", `18446744073709551616`)), status: 400, problems: []string{"enabled", "invalid"}},
		{name: "name 2^64", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", `18446744073709551616`)), status: 400, problems: []string{"name", "invalid"}},
		{name: "completed_integration -1e400", method: "PATCH", path: intPath, body: `{"completed_integration":-1e400}`, status: 400, problems: []string{"completed_integration", "invalid"}},
		{name: "certificate enabled 2^64", method: "PATCH", path: certPath, body: `{"enabled":18446744073709551616}`, status: 400, problems: []string{"enabled", "invalid"}},
		{name: "integration_id 1e400", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", `1e400`)), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "a number with 60000 digits", method: "PATCH", path: intPath, body: `{"enabled":` + strings.Repeat("9", 60000) + `}`, status: 400, problems: []string{"enabled", "invalid"}},
		{name: "cert_id 2^64 in the path", method: "GET", path: "/v3/sso/certificates/18446744073709551616", status: 404, problems: []string{"", "not_found"}},
		{name: "cert_id max int64 in the path", method: "DELETE", path: "/v3/sso/certificates/9223372036854775807", status: 404, problems: []string{"", "not_found"}},
		{name: "cert_id 1e3 in the path", method: "GET", path: "/v3/sso/certificates/1e3", status: 404, problems: []string{"", "not_found"}},
		{name: "cert_id with a plus sign", method: "GET", path: fmt.Sprintf("/v3/sso/certificates/+%d", cr.ID), status: 404, problems: []string{"", "not_found"}},

		// Missing and null required fields.
		{name: "empty object", method: "POST", path: postInt, body: `{}`, status: 400,
			problems: []string{"name", "required", "enabled", "required", "signin_url", "required", "signout_url", "required", "entity_id", "required"}},
		{name: "every required field null", method: "POST", path: postInt,
			body: `{"name":null,"enabled":null,"signin_url":null,"signout_url":null,"entity_id":null}`, status: 400,
			problems: []string{"name", "required", "enabled", "required", "signin_url", "required", "signout_url", "required", "entity_id", "required"}},
		{name: "certificate empty object", method: "POST", path: "/v3/sso/certificates", body: `{}`, status: 400,
			problems: []string{"public_certificate", "required", "integration_id", "required"}},

		// Duplicate keys.
		{name: "duplicate name", method: "POST", path: postInt, body: hostileObj(append(slices.Clone(intFields), hostileKV{"name", `"again"`})), status: 400, problems: []string{"name", "invalid"}},
		{name: "duplicate name spelt with an escape", method: "POST", path: postInt, body: strings.Replace(validInt, `}`, `,"n\u0061me":"again"}`, 1), status: 400, problems: []string{"name", "invalid"}},
		{name: "duplicate enabled with the same value", method: "PATCH", path: intPath, body: `{"enabled":true,"enabled":true}`, status: 400, problems: []string{"enabled", "invalid"}},
		{name: "duplicate unknown member", method: "POST", path: postInt, body: hostileObj(append(hostileWith(intFields, "x", `1`), hostileKV{"x", `2`})), status: 400, problems: []string{"x", "invalid"}},
		{name: "duplicate public_certificate", method: "POST", path: "/v3/sso/certificates", body: hostileObj(append(slices.Clone(certFields), hostileKV{"public_certificate", hostileJS(cert.PEM)})), status: 400, problems: []string{"public_certificate", "invalid"}},
		{name: "duplicate integration_id", method: "PATCH", path: certPath, body: `{"integration_id":` + hostileJS(in.ID) + `,"integration_id":` + hostileJS(theirs.ID) + `}`, status: 400, problems: []string{"integration_id", "invalid"}},

		// Body size.
		{name: "10 MB body", method: "POST", path: postInt, body: `{"name":"` + strings.Repeat("a", 10<<20) + `"}`, status: 413, problems: []string{"", "too_large"}},
		{name: "10 MB chunked body", method: "PATCH", path: certPath, status: 413, problems: []string{"", "too_large"},
			bodyReader: func() io.Reader {
				return io.MultiReader(strings.NewReader(`{"x":"`), io.LimitReader(hostileZeros{}, 10<<20))
			}},
		{name: "one byte over 64 KiB", method: "PATCH", path: intPath, body: `{"name":"` + strings.Repeat("a", 64<<10-10) + `"}`, status: 413, problems: []string{"", "too_large"}},
		{name: "public_certificate over 16 KiB", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "public_certificate", hostileJS(strings.Repeat("A", 17<<10)))), status: 400, problems: []string{"public_certificate", "too_large"}},
		{name: "name over 255 bytes", method: "PATCH", path: intPath, body: `{"name":` + hostileJS(strings.Repeat("n", 256)) + `}`, status: 400, problems: []string{"name", "invalid"}},
		{name: "entity_id over 1024 bytes", method: "PATCH", path: intPath, body: `{"entity_id":` + hostileJS(strings.Repeat("e", 1025)) + `}`, status: 400, problems: []string{"entity_id", "invalid"}},
		{name: "signin_url over 2048 bytes", method: "PATCH", path: intPath, body: `{"signin_url":` + hostileJS("https://idp.example.com/"+strings.Repeat("p", 2048)) + `}`, status: 400, problems: []string{"signin_url", "invalid"}},

		// Invalid UTF-8.
		{name: "invalid UTF-8 in a value", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", "\"\xff\xfe\"")), status: 400, problems: invalidJSON},
		{name: "overlong UTF-8 slash", method: "PATCH", path: intPath, body: "{\"entity_id\":\"..\xc0\xaf..\"}", status: 400, problems: invalidJSON},
		{name: "UTF-8 encoded surrogate", method: "PATCH", path: intPath, body: "{\"name\":\"\xed\xa0\x80\"}", status: 400, problems: invalidJSON},
		{name: "invalid UTF-8 in a member name", method: "POST", path: "/v3/sso/certificates", body: "{\"\xff\":1}", status: 400, problems: invalidJSON},
		{name: "truncated UTF-8 sequence at the end", method: "PATCH", path: certPath, body: "{\"enabled\":true}\xe2\x82", status: 400, problems: invalidJSON},

		// NUL bytes, escaped as JSON allows.
		{name: "NUL in name", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", hostileJS("Ok\x00ta"))), status: 400, problems: []string{"name", "invalid"}},
		{name: "NUL in entity_id", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "entity_id", hostileJS("https://idp.example.com/\x00"))), status: 400, problems: []string{"entity_id", "invalid"}},
		{name: "NUL in signin_url", method: "PATCH", path: intPath, body: `{"signin_url":` + hostileJS("https://idp.example.com/\x00/sso") + `}`, status: 400, problems: []string{"signin_url", "invalid"}},
		{name: "NUL in signout_url host", method: "PATCH", path: intPath, body: `{"signout_url":` + hostileJS("https://idp\x00.example.com/slo") + `}`, status: 400, problems: []string{"signout_url", "invalid"}},
		{name: "NUL in public_certificate", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "public_certificate", hostileJS(nulCert))), status: 400, problems: []string{"public_certificate", "invalid_certificate"}},
		{name: "NUL in integration_id", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", hostileJS(in.ID[:35]+"\x00"))), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "NUL as the whole name", method: "PATCH", path: intPath, body: `{"name":"\u0000"}`, status: 400, problems: []string{"name", "invalid"}},

		// SQL injection in every field.
		{name: "SQL in name and entity_id of a missing integration", method: "PATCH", path: "/v3/sso/integrations/" + missingIntegration,
			body: `{"name":` + hostileJS(sqli) + `,"entity_id":` + hostileJS(sqliOr) + `}`, status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in name beside a bad URL", method: "PATCH", path: intPath, body: `{"name":` + hostileJS(sqli) + `,"signin_url":"ftp://idp.example.com/"}`, status: 400, problems: []string{"signin_url", "invalid"}},
		{name: "SQL in signin_url", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "signin_url", hostileJS(sqliOr))), status: 400, problems: []string{"signin_url", "invalid"}},
		{name: "SQL in signout_url", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "signout_url", hostileJS("javascript:'; DELETE FROM certificates; --"))), status: 400, problems: []string{"signout_url", "invalid"}},
		{name: "SQL in URLs that parse, of a missing integration", method: "PATCH", path: "/v3/sso/integrations/" + missingIntegration,
			body: `{"signin_url":` + hostileJS("https://idp.example.com/'||(SELECT name FROM sqlite_master)--") + `,"signout_url":` + hostileJS("https://idp.example.com/?q=1;DROP TABLE accounts") + `}`, status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in enabled", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "enabled", hostileJS("1 OR 1=1"))), status: 400, problems: []string{"enabled", "invalid"}},
		{name: "SQL in completed_integration", method: "PATCH", path: intPath, body: `{"completed_integration":` + hostileJS("true; UPDATE integrations SET enabled=0") + `}`, status: 400, problems: []string{"completed_integration", "invalid"}},
		{name: "SQL in public_certificate", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "public_certificate", hostileJS("'; DROP TABLE certificates; --"))), status: 400, problems: []string{"public_certificate", "invalid_certificate"}},
		{name: "SQL in integration_id", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", hostileJS(in.ID+"' OR '1'='1"))), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "SQL in intergration_id", method: "POST", path: "/v3/sso/certificates", body: hostileObj([]hostileKV{certFields[0], {"intergration_id", hostileJS(sqliOr)}}), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "SQL in certificate enabled", method: "PATCH", path: certPath, body: `{"enabled":` + hostileJS("0 OR 1=1") + `}`, status: 400, problems: []string{"enabled", "invalid"}},
		{name: "SQL in the integration id path", method: "GET", path: "/v3/sso/integrations/" + pathEsc(sqliOr), status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the integration id path of DELETE", method: "DELETE", path: "/v3/sso/integrations/" + pathEsc(in.ID+"' OR 1=1; --"), status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the integration id path of PATCH", method: "PATCH", path: "/v3/sso/integrations/" + pathEsc(sqli), body: `{"name":"x"}`, status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the certificate list path", method: "GET", path: "/v3/sso/integrations/" + pathEsc(sqliOr) + "/certificates", status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the cert_id path", method: "GET", path: "/v3/sso/certificates/" + pathEsc(fmt.Sprintf("%d OR 1=1", cr.ID)), status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the cert_id path of DELETE", method: "DELETE", path: "/v3/sso/certificates/" + pathEsc("1; DROP TABLE certificates"), status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the cert_id path of PATCH", method: "PATCH", path: "/v3/sso/certificates/" + pathEsc(sqliOr), body: `{"enabled":false}`, status: 404, problems: []string{"", "not_found"}},
		{name: "SQL in the si query", method: "GET", path: "/v3/sso/integrations?si=" + url.QueryEscape(sqliOr), status: 400, problems: []string{"si", "invalid"}},

		// Header injection (CRLF) in every field and in paths.
		{name: "CRLF in name", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "name", hostileJS(crlf))), status: 400, problems: []string{"name", "invalid"}},
		{name: "CRLF in signin_url", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "signin_url", hostileJS("https://idp.example.com/\r\nLocation: https://evil.example/"))), status: 400, problems: []string{"signin_url", "invalid"}},
		{name: "CRLF in signout_url", method: "PATCH", path: intPath, body: `{"signout_url":` + hostileJS("https://idp.example.com/slo\r\nSet-Cookie: a=b") + `}`, status: 400, problems: []string{"signout_url", "invalid"}},
		{name: "CRLF in entity_id", method: "PATCH", path: intPath, body: `{"entity_id":` + hostileJS(crlf) + `}`, status: 400, problems: []string{"entity_id", "invalid"}},
		{name: "CRLF in enabled", method: "PATCH", path: intPath, body: `{"enabled":` + hostileJS("true\r\nX-Injected: 1") + `}`, status: 400, problems: []string{"enabled", "invalid"}},
		{name: "CRLF in completed_integration", method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "completed_integration", hostileJS(crlf))), status: 400, problems: []string{"completed_integration", "invalid"}},
		{name: "CRLF PEM header in public_certificate", method: "POST", path: "/v3/sso/certificates",
			body: hostileObj(hostileWith(certFields, "public_certificate", hostileJS(strings.Replace(cert.PEM, "\n", "\r\nSet-Cookie: pwned=1\r\n\r\n", 1)))), status: 400, problems: []string{"public_certificate", "invalid_certificate"}},
		{name: "CRLF in integration_id", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", hostileJS(crlf))), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "CRLF in intergration_id", method: "PATCH", path: certPath, body: `{"intergration_id":` + hostileJS(in.ID+"\r\nX-Injected: 1") + `}`, status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "CRLF in certificate enabled", method: "PATCH", path: certPath, body: `{"enabled":` + hostileJS(crlf) + `}`, status: 400, problems: []string{"enabled", "invalid"}},
		{name: "CRLF in the integration id path", method: "GET", path: "/v3/sso/integrations/" + pathEsc(crlf), status: 404, problems: []string{"", "not_found"}},
		{name: "CRLF in the cert_id path", method: "DELETE", path: "/v3/sso/certificates/" + pathEsc(fmt.Sprint(cr.ID)+"\r\nSet-Cookie: pwned=1"), status: 404, problems: []string{"", "not_found"}},
		{name: "CRLF in the certificate list path", method: "GET", path: "/v3/sso/integrations/" + pathEsc(in.ID+"\r\nX-Injected: 1") + "/certificates", status: 404, problems: []string{"", "not_found"}},
		{name: "NUL in the integration id path", method: "GET", path: "/v3/sso/integrations/" + in.ID[:35] + "%00", status: 404, problems: []string{"", "not_found"}},
		{name: "NUL in the cert_id path", method: "PATCH", path: certPath + "%00", body: `{"enabled":false}`, status: 404, problems: []string{"", "not_found"}},
		{name: "CRLF in the si query", method: "GET", path: intPath + "?si=" + url.QueryEscape("true\r\nSet-Cookie: pwned=1"), status: 400, problems: []string{"si", "invalid"}},
		{name: "CRLF-escaped On-Behalf-Of", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": "%0d%0aSet-Cookie:%20pwned=1"}, status: 403, problems: []string{"", "forbidden"}},

		// Path traversal.
		{name: "escaped traversal in cert_id", method: "GET", path: "/v3/sso/certificates/..%2f..%2fetc%2fpasswd", status: 404, problems: []string{"", "not_found"}},
		{name: "escaped traversal in the integration id", method: "GET", path: "/v3/sso/integrations/..%2f..%2f..%2fetc%2fpasswd/certificates", status: 404, problems: []string{"", "not_found"}},
		{name: "escaped dots", method: "GET", path: "/v3/sso/certificates/%2e%2e/%2e%2e/etc/passwd", status: 404, problems: []string{"", "not_found"}},
		{name: "backslash traversal", method: "DELETE", path: "/v3/sso/integrations/..%5c..%5cwindows%5cwin.ini", status: 404, problems: []string{"", "not_found"}},
		{name: "traversal out of /v3", method: "GET", path: "/v3/sso/../../etc/passwd", status: 404, problems: []string{"", "not_found"}},
		{name: "traversal onto a real path", method: "POST", path: "/v3/sso/certificates/../integrations", body: validInt, status: 404, problems: []string{"", "not_found"}},

		// Wrong certificates.
		postCert("certificate with trailing garbage", cert.PEM+"garbage", 400, "public_certificate", "invalid_certificate"),
		postCert("certificate with text before it", "Here is my cert:\n"+cert.PEM, 400, "public_certificate", "invalid_certificate"),
		postCert("DER with trailing bytes", b64(append(slices.Clone(cert.DER), 0x00, 0x01, 0x02)), 400, "public_certificate", "invalid_certificate"),
		postCert("DER whose outer length is 2^32-1", b64(absurdOuter), 400, "public_certificate", "invalid_certificate"),
		postCert("DER whose inner length is absurd", hostilePEM("CERTIFICATE", absurdInner), 400, "public_certificate", "invalid_certificate"),
		postCert("DER with a 9-byte length", b64([]byte{0x30, 0x89, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00}), 400, "public_certificate", "invalid_certificate"),
		postCert("DER truncated to half", b64(cert.DER[:len(cert.DER)/2]), 400, "public_certificate", "invalid_certificate"),
		postCert("chain of two PEM certificates", cert.PEM+other.PEM, 400, "public_certificate", "invalid_certificate"),
		postCert("chain of two DER certificates in one base64", b64(slices.Concat(cert.DER, other.DER)), 400, "public_certificate", "invalid_certificate"),
		postCert("certificate signing request", hostilePEM("CERTIFICATE REQUEST", csrDER), 400, "public_certificate", "invalid_certificate"),
		postCert("bare public key", hostilePEM("PUBLIC KEY", pubDER), 400, "public_certificate", "invalid_certificate"),
		postCert("16384-bit RSA key", hostilePEM("CERTIFICATE", hugeRSA), 400, "public_certificate", "invalid_certificate"),
		postCert("empty public_certificate", "", 400, "public_certificate", "invalid_certificate"),
		postCert("whitespace public_certificate", " \r\n\t", 400, "public_certificate", "invalid_certificate"),
		postCert("PEM headers", strings.Replace(cert.PEM, "\n", "\nProc-Type: 4,ENCRYPTED\n\n", 1), 400, "public_certificate", "invalid_certificate"),

		// Private keys in every form.
		postCert("PKCS#1 RSA private key PEM", pkcs1PEM, 400, "public_certificate", "private_key_rejected"),
		postCert("PKCS#8 private key PEM", pkcs8PEM, 400, "public_certificate", "private_key_rejected"),
		postCert("SEC1 EC private key PEM", sec1PEM, 400, "public_certificate", "private_key_rejected"),
		postCert("OpenSSH private key PEM", opensshPEM, 400, "public_certificate", "private_key_rejected"),
		postCert("PKCS#1 private key as bare base64", b64(pkcs1), 400, "public_certificate", "private_key_rejected"),
		postCert("PKCS#8 private key as bare base64", b64(pkcs8), 400, "public_certificate", "private_key_rejected"),
		postCert("OpenSSH private key as bare base64", b64(openssh), 400, "public_certificate", "private_key_rejected"),
		postCert("encrypted PKCS#8 private key as bare base64", b64(encryptedPKCS8), 400, "public_certificate", "private_key_rejected"),
		postCert("PKCS#8 key dressed as a CERTIFICATE block", hostilePEM("CERTIFICATE", pkcs8), 400, "public_certificate", "private_key_rejected"),
		postCert("certificate followed by its private key", cert.PEM+pkcs1PEM, 400, "public_certificate", "private_key_rejected"),
		{name: "private key in a certificate PATCH", method: "PATCH", path: certPath, body: `{"public_certificate":` + hostileJS(pkcs8PEM) + `}`, status: 400, problems: []string{"public_certificate", "private_key_rejected"}},

		// The two spellings of the integration id.
		{name: "both spellings with different values", method: "POST", path: "/v3/sso/certificates",
			body: hostileObj(append(slices.Clone(certFields), hostileKV{"intergration_id", hostileJS(theirs.ID)})), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "both spellings differing in case", method: "PATCH", path: certPath,
			body: `{"integration_id":` + hostileJS(in.ID) + `,"intergration_id":` + hostileJS(strings.ToUpper(in.ID)) + `}`, status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "another account's integration", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", hostileJS(theirs.ID))), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "moving a certificate to another account", method: "PATCH", path: certPath, body: `{"intergration_id":` + hostileJS(theirs.ID) + `}`, status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "missing integration", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", hostileJS(missingIntegration))), status: 400, problems: []string{"integration_id", "invalid"}},
		{name: "upper-case integration id", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", hostileJS(strings.ToUpper(in.ID)))), status: 400, problems: []string{"integration_id", "invalid"}},

		// Media type.
		{name: "text/plain", method: "POST", path: postInt, body: validInt, headers: map[string]string{"Content-Type": "text/plain"}, status: 415, problems: []string{"", "unsupported_media_type"}},
		{name: "no Content-Type", method: "PATCH", path: intPath, body: `{"name":"x"}`, headers: map[string]string{"Content-Type": ""}, status: 415, problems: []string{"", "unsupported_media_type"}},
		{name: "form encoding", method: "POST", path: "/v3/sso/certificates", body: "public_certificate=x&integration_id=y", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415, problems: []string{"", "unsupported_media_type"}},
		{name: "multipart", method: "POST", path: postInt, body: "--b\r\n\r\n{}\r\n--b--", headers: map[string]string{"Content-Type": "multipart/form-data; boundary=b"}, status: 415, problems: []string{"", "unsupported_media_type"}},
		{name: "application/json-patch+json", method: "PATCH", path: certPath, body: `[{"op":"remove","path":"/enabled"}]`, headers: map[string]string{"Content-Type": "application/json-patch+json"}, status: 415, problems: []string{"", "unsupported_media_type"}},
		{name: "malformed media type", method: "PATCH", path: certPath, body: `{"enabled":false}`, headers: map[string]string{"Content-Type": "application/json; charset"}, status: 415, problems: []string{"", "unsupported_media_type"}},
		{name: "media type before body size", method: "POST", path: postInt, body: strings.Repeat("x", 100<<10), headers: map[string]string{"Content-Type": "application/xml"}, status: 415, problems: []string{"", "unsupported_media_type"}},

		// Authentication, scope and On-Behalf-Of.
		{name: "no Authorization", method: "GET", path: postInt, headers: map[string]string{"Authorization": ""}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "no Authorization on a malformed POST", method: "POST", path: postInt, body: `{`, headers: map[string]string{"Authorization": ""}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "Bearer without a key", method: "DELETE", path: certPath, headers: map[string]string{"Authorization": "Bearer "}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "Basic scheme", method: "GET", path: intPath, headers: map[string]string{"Authorization": "Basic " + b64([]byte("apikey:"+key))}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "key with a trailing character", method: "GET", path: intPath, headers: map[string]string{"Authorization": "Bearer " + key + "A"}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "key with the other account's secret", method: "GET", path: intPath, headers: map[string]string{"Authorization": "Bearer " + key[:26] + strangerKey[26:]}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "SQL as the key", method: "GET", path: postInt, headers: map[string]string{"Authorization": "Bearer SG.' OR '1'='1' --.x"}, status: 401, problems: []string{"", "unauthorized"}},
		{name: "read-only key writes", method: "DELETE", path: certPath, headers: map[string]string{"Authorization": "Bearer " + readOnly}, status: 403, problems: []string{"", "forbidden"}},
		{name: "On-Behalf-Of nobody", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": "nobody"}, status: 403, problems: []string{"", "forbidden"}},
		{name: "On-Behalf-Of itself", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": "main"}, status: 403, problems: []string{"", "forbidden"}},
		{name: "On-Behalf-Of an unrelated account", method: "DELETE", path: "/v3/sso/integrations/" + theirs.ID, headers: map[string]string{"On-Behalf-Of": "stranger"}, status: 403, problems: []string{"", "forbidden"}},
		{name: "On-Behalf-Of SQL", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": "x' OR parent_id IS NOT NULL --"}, status: 403, problems: []string{"", "forbidden"}},
		{name: "On-Behalf-Of 8 KB", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": strings.Repeat("a", 8<<10)}, status: 403, problems: []string{"", "forbidden"}},
		{name: "On-Behalf-Of carrying the API key", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": key}, status: 403, problems: []string{"", "forbidden"}},
		{name: "bad On-Behalf-Of before a malformed body", method: "POST", path: postInt, body: `{`, headers: map[string]string{"On-Behalf-Of": "nobody"}, status: 403, problems: []string{"", "forbidden"}},

		// Methods.
		{name: "PUT on integrations", method: "PUT", path: postInt, body: validInt, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "DELETE on the integration list", method: "DELETE", path: postInt, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "POST on an integration", method: "POST", path: intPath, body: validInt, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "GET on the certificate collection", method: "GET", path: "/v3/sso/certificates", status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "PUT on a certificate", method: "PUT", path: certPath, body: `{"enabled":false}`, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "PATCH on a certificate list", method: "PATCH", path: intPath + "/certificates", body: `{}`, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "made-up method", method: "BREW", path: certPath, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "TRACE", method: "TRACE", path: postInt, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "OPTIONS", method: "OPTIONS", path: certPath, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "wrong method without a key", method: "PUT", path: intPath, headers: map[string]string{"Authorization": ""}, status: 405, problems: []string{"", "method_not_allowed"}},
		{name: "OPTIONS *", method: "OPTIONS", path: "*", status: 204},
		{name: "OPTIONS * without a key", method: "OPTIONS", path: "*", headers: map[string]string{"Authorization": ""}, status: 204},
		{name: "GET *", method: "GET", path: "*", status: 400, problems: []string{"", "invalid"}},
		{name: "DELETE * with a body", method: "DELETE", path: "*", body: `{}`, status: 400, problems: []string{"", "invalid"}},

		// Unknown paths and objects, with secrets in the URL.
		{name: "the API key as a path", method: "GET", path: "/v3/sso/" + key, status: 404, problems: []string{"", "not_found"}},
		{name: "the API key as an integration id", method: "GET", path: "/v3/sso/integrations/" + strangerKey, status: 404, problems: []string{"", "not_found"}},
		{name: "the API key in the si query", method: "GET", path: "/v3/sso/integrations?si=" + key, status: 400, problems: []string{"si", "invalid"}},
		{name: "another account's certificate", method: "GET", path: fmt.Sprintf("/v3/sso/certificates/%d", theirCert.ID), status: 404, problems: []string{"", "not_found"}},
		{name: "another account's integration PATCH", method: "PATCH", path: "/v3/sso/integrations/" + theirs.ID, body: `{"name":"pwned"}`, status: 404, problems: []string{"", "not_found"}},
		{name: "missing certificate PATCH", method: "PATCH", path: missingCertPath, body: `{"enabled":false}`, status: 404, problems: []string{"", "not_found"}},
		{name: "missing integration DELETE", method: "DELETE", path: "/v3/sso/integrations/" + missingIntegration, status: 404, problems: []string{"", "not_found"}},
		{name: "upper-case integration id in the path", method: "DELETE", path: "/v3/sso/integrations/" + strings.ToUpper(in.ID), status: 404, problems: []string{"", "not_found"}},
		{name: "unknown API version", method: "GET", path: "/v2/sso/integrations", status: 404, problems: []string{"", "not_found"}},
	}

	// Request framing that net/http's client would not send.
	rawHead := func(method, path, framing string) string {
		return method + " " + path + " HTTP/1.1\r\nHost: ssod\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\n" + framing + "\r\n"
	}
	chunked := "Transfer-Encoding: chunked\r\n"
	cases = append(cases,
		hostileCase{name: "chunk size that is not hex", method: "PATCH", path: intPath, raw: rawHead("PATCH", intPath, chunked) + "ZZ\r\n", status: 400, problems: invalidJSON},
		hostileCase{name: "chunk longer than its size", method: "PATCH", path: certPath, raw: rawHead("PATCH", certPath, chunked) + "2\r\n{}}\r\n0\r\n\r\n", status: 400, problems: invalidJSON},
		hostileCase{name: "chunk size overflowing 64 bits", method: "POST", path: postInt, raw: rawHead("POST", postInt, chunked) + "fffffffffffffffff\r\n{}\r\n0\r\n\r\n", status: 400, problems: invalidJSON},
		hostileCase{name: "chunked body cut off", method: "POST", path: "/v3/sso/certificates", raw: rawHead("POST", "/v3/sso/certificates", chunked) + "40\r\n{\"public_certificate\":", status: 400, problems: invalidJSON},
		hostileCase{name: "Content-Length larger than the body", method: "POST", path: postInt, raw: rawHead("POST", postInt, "Content-Length: 100\r\n") + `{"name":"short"}`, status: 400, problems: invalidJSON},
		hostileCase{name: "Content-Length larger than an empty body", method: "PATCH", path: intPath, raw: rawHead("PATCH", intPath, "Content-Length: 16\r\n"), status: 400, problems: invalidJSON},
	)

	// Blank text: white space only, in every text field.
	for _, f := range []struct{ field, blank string }{
		{"name", " "}, {"name", "\u00a0\u2003\u3000"}, {"entity_id", "   "}, {"signin_url", " "}, {"signout_url", "  "},
	} {
		cases = append(cases,
			hostileCase{name: fmt.Sprintf("blank %s %q on POST", f.field, f.blank), method: "POST", path: postInt,
				body: hostileObj(hostileWith(intFields, f.field, hostileJS(f.blank))), status: 400, problems: []string{f.field, "invalid"}},
			hostileCase{name: fmt.Sprintf("blank %s %q on PATCH", f.field, f.blank), method: "PATCH", path: intPath,
				body: `{"` + f.field + `":` + hostileJS(f.blank) + `}`, status: 400, problems: []string{f.field, "invalid"}})
	}
	cases = append(cases,
		hostileCase{name: "blank integration_id on POST", method: "POST", path: "/v3/sso/certificates", body: hostileObj(hostileWith(certFields, "integration_id", `"   "`)), status: 400, problems: []string{"integration_id", "invalid"}},
		hostileCase{name: "blank intergration_id on PATCH", method: "PATCH", path: certPath, body: `{"intergration_id":" "}`, status: 400, problems: []string{"integration_id", "invalid"}},
		hostileCase{name: "blank public_certificate on PATCH", method: "PATCH", path: certPath, body: `{"public_certificate":"\u00a0 "}`, status: 400, problems: []string{"public_certificate", "invalid_certificate"}},
	)

	// URLs whose host or port cannot be reached.
	for _, u := range []string{"https://:80", "https://:80/sso", "https://idp.example.com:99999/sso", "https://idp.example.com:0/sso",
		"https://idp.example.com:65536/", "https://idp.example.com:/sso", "https://idp.example.com:https/sso", "http://[]:443/", "https://[::1]:0/"} {
		cases = append(cases,
			hostileCase{name: "signin_url " + u, method: "POST", path: postInt, body: hostileObj(hostileWith(intFields, "signin_url", hostileJS(u))), status: 400, problems: []string{"signin_url", "invalid"}},
			hostileCase{name: "signout_url " + u + " on PATCH", method: "PATCH", path: intPath, body: `{"signout_url":` + hostileJS(u) + `}`, status: 400, problems: []string{"signout_url", "invalid"}})
	}

	// Names that differ only in case, which parsers resolve apart.
	cases = append(cases,
		hostileCase{name: "enabled and Enabled", method: "PATCH", path: intPath, body: `{"enabled":true,"Enabled":false}`, status: 400, problems: []string{"Enabled", "invalid"}},
		hostileCase{name: "ENABLED before enabled", method: "PATCH", path: certPath, body: `{"ENABLED":false,"enabled":true}`, status: 400, problems: []string{"enabled", "invalid"}},
		hostileCase{name: "name and NAME on POST", method: "POST", path: postInt, body: hostileObj(append(slices.Clone(intFields), hostileKV{"NAME", `"other"`})), status: 400, problems: []string{"NAME", "invalid"}},
		hostileCase{name: "signin_url and its long-s spelling", method: "POST", path: postInt, body: hostileObj(append(slices.Clone(intFields), hostileKV{"\u017fignin_url", `"https://evil.example/"`})), status: 400, problems: []string{"\u017fignin_url", "invalid"}},
		hostileCase{name: "integration_id and Integration_Id", method: "POST", path: "/v3/sso/certificates", body: hostileObj(append(slices.Clone(certFields), hostileKV{"Integration_Id", hostileJS(theirs.ID)})), status: 400, problems: []string{"Integration_Id", "invalid"}},
		hostileCase{name: "Enabled alone", method: "PATCH", path: certPath, body: `{"Enabled":false}`, status: 400, problems: []string{"Enabled", "invalid"}},
		hostileCase{name: "Name alone on PATCH", method: "PATCH", path: intPath, body: `{"Name":"renamed"}`, status: 400, problems: []string{"Name", "invalid"}},
		hostileCase{name: "Public_Certificate instead of public_certificate", method: "POST", path: "/v3/sso/certificates",
			body: hostileObj([]hostileKV{{"Public_Certificate", hostileJS(other.PEM)}, certFields[1]}), status: 400, problems: []string{"Public_Certificate", "invalid", "public_certificate", "required"}},
	)

	// Headers sent twice, which a proxy and ssod could each read apart.
	cases = append(cases,
		hostileCase{name: "the key twice", method: "GET", path: intPath, add: [][2]string{{"Authorization", "Bearer " + key}}, status: 401, problems: []string{"", "unauthorized"}},
		hostileCase{name: "another account's key second", method: "GET", path: intPath, add: [][2]string{{"Authorization", "Bearer " + strangerKey}}, status: 401, problems: []string{"", "unauthorized"}},
		hostileCase{name: "On-Behalf-Of twice", method: "GET", path: postInt, headers: map[string]string{"On-Behalf-Of": "nobody"}, add: [][2]string{{"On-Behalf-Of", "nobody"}}, status: 403, problems: []string{"", "forbidden"}},
		hostileCase{name: "On-Behalf-Of empty and again", method: "DELETE", path: certPath, headers: map[string]string{"On-Behalf-Of": ""}, add: [][2]string{{"On-Behalf-Of", ""}, {"On-Behalf-Of", "stranger"}}, status: 403, problems: []string{"", "forbidden"}},
		hostileCase{name: "Content-Type twice", method: "PATCH", path: intPath, body: `{"name":"x"}`, add: [][2]string{{"Content-Type", "text/plain"}}, status: 415, problems: []string{"", "unsupported_media_type"}},
		hostileCase{name: "Content-Type twice, both JSON", method: "POST", path: postInt, body: validInt, add: [][2]string{{"Content-Type", "application/json"}}, status: 415, problems: []string{"", "unsupported_media_type"}},
	)

	// PATCHes that change nothing: 200 with the object as it is; the
	// snapshot and the audit trail below show that nothing was written.
	cases = append(cases,
		hostileCase{name: "empty integration PATCH", method: "PATCH", path: intPath + "?si=true", body: `{}`, status: 200},
		hostileCase{name: "empty certificate PATCH", method: "PATCH", path: certPath, body: `{}`, status: 200},
		hostileCase{name: "integration PATCH of the current values", method: "PATCH", path: intPath,
			body: hostileJS(map[string]any{"name": in.Name, "enabled": in.Enabled, "signin_url": in.SigninURL, "signout_url": in.SignoutURL, "entity_id": in.EntityID, "completed_integration": false}), status: 200},
		hostileCase{name: "certificate PATCH of the current values", method: "PATCH", path: certPath,
			body: hostileJS(map[string]any{"public_certificate": cert.PEM, "enabled": true, "integration_id": in.ID}), status: 200},
		hostileCase{name: "PATCH of only nulls", method: "PATCH", path: intPath, body: `{"name":null,"enabled":null}`, status: 200},
		hostileCase{name: "empty PATCH of another account's integration", method: "PATCH", path: "/v3/sso/integrations/" + theirs.ID, body: `{}`, status: 404, problems: []string{"", "not_found"}},
		hostileCase{name: "empty PATCH of another account's certificate", method: "PATCH", path: fmt.Sprintf("/v3/sso/certificates/%d", theirCert.ID), body: `{}`, status: 404, problems: []string{"", "not_found"}},
	)

	// Every wrong type in every field of both bodies.
	wrongForString := []struct{ name, raw string }{{"number", `42`}, {"object", `{"a":"b"}`}, {"array", `["x"]`}, {"bool", `true`}}
	wrongForBool := []struct{ name, raw string }{{"string", `"true"`}, {"number", `1`}, {"object", `{}`}, {"array", `[true]`}}
	for _, f := range intFields {
		wrong := wrongForString
		if f.raw == "true" || f.raw == "false" {
			wrong = wrongForBool
		}
		for _, w := range wrong {
			cases = append(cases, hostileCase{name: "integration " + f.name + " as " + w.name, method: "POST", path: postInt,
				body: hostileObj(hostileWith(intFields, f.name, w.raw)), status: 400, problems: []string{f.name, "invalid"}})
		}
	}
	for _, f := range []hostileKV{certFields[0], certFields[1], {"intergration_id", hostileJS(in.ID)}, {"enabled", `true`}} {
		wrong := wrongForString
		if f.name == "enabled" {
			wrong = wrongForBool
		}
		for _, w := range wrong {
			cases = append(cases, hostileCase{name: "certificate " + f.name + " as " + w.name, method: "POST", path: "/v3/sso/certificates",
				body: hostileObj(hostileWith(certFields, f.name, w.raw)), status: 400, problems: []string{f.name, "invalid"}})
		}
	}
	cases = append(cases,
		hostileCase{name: "integration PATCH with every field wrong", method: "PATCH", path: intPath,
			body: `{"name":1,"enabled":"x","signin_url":[],"signout_url":{},"entity_id":false,"completed_integration":"no"}`, status: 400,
			problems: []string{"name", "invalid", "enabled", "invalid", "signin_url", "invalid", "signout_url", "invalid", "entity_id", "invalid", "completed_integration", "invalid"}},
		hostileCase{name: "certificate PATCH with every field wrong", method: "PATCH", path: certPath,
			body: `{"public_certificate":1,"enabled":"x","integration_id":[],"intergration_id":{}}`, status: 400,
			problems: []string{"public_certificate", "invalid", "enabled", "invalid", "integration_id", "invalid", "intergration_id", "invalid"}},
	)

	if len(cases) < 60 {
		t.Fatalf("catalogue has %d cases, want at least 60", len(cases))
	}
	names := map[string]bool{}
	for _, hc := range cases {
		if names[hc.name] {
			t.Fatalf("two cases named %q", hc.name)
		}
		names[hc.name] = true
		t.Run(hc.name, func(t *testing.T) {
			r := hostileSend(t, ts, key, hc)
			if !hostileMatches(r, hc.status, hc.problems) {
				t.Errorf("%s %.80s -> %d %.300s; want %d %v", hc.method, hc.path, r.Status, r.Body, hc.status, hc.problems)
			}
			for _, h := range []string{"Set-Cookie", "X-Injected", "Location"} {
				if v := r.Header.Values(h); len(v) > 0 {
					t.Errorf("response carries %s: %q", h, v)
				}
			}
			for what, s := range secrets {
				if bytes.Contains(r.Body, []byte(s)) || bytes.Contains(r.Body, []byte(s[:40])) {
					t.Errorf("response echoes the %s", what)
				}
			}
		})
	}
	t.Logf("%d hostile cases sent", len(cases))

	// The server still answers, and nothing stored has changed.
	if r := c.do("GET", "/v3/sso/integrations", nil); r.Status != http.StatusOK {
		t.Fatalf("after the catalogue: GET /v3/sso/integrations -> %d", r.Status)
	}
	for name, pair := range map[string][2]map[string][]byte{
		"main":     {before, hostileSnapshot(t, c, in.ID, cr.ID)},
		"stranger": {strangerBefore, hostileSnapshot(t, stranger, theirs.ID, theirCert.ID)},
	} {
		for p, was := range pair[0] {
			if now := pair[1][p]; !bytes.Equal(was, now) {
				t.Errorf("%s: GET %s changed:\nbefore %s\nafter  %s", name, p, was, now)
			}
		}
	}

	// No case wrote anything, not even an audit event of a change that
	// changed nothing.
	if after := ts.cli("audit", "list"); after != auditBefore {
		t.Errorf("the catalogue wrote audit events:\nbefore\n%s\nafter\n%s", auditBefore, after)
	}

	// Hostile strings that are valid values are stored and returned
	// verbatim (another account, so that the snapshots above stay apart).
	scratch := ts.client(ts.newAccountKey("scratch", ""))
	body := integrationBody(sqli)
	body["entity_id"] = sqliOr + "; SELECT * FROM api_keys"
	body["signin_url"] = "https://idp.example.com/'||(SELECT secret_hash FROM api_keys)--"
	stored := scratch.createIntegration(sqli)
	r := scratch.do("PATCH", "/v3/sso/integrations/"+stored.ID, body)
	got := decode[integrationResp](t, scratch.do("GET", "/v3/sso/integrations/"+stored.ID, nil))
	if r.Status != http.StatusOK || got.Name != sqli || got.EntityID != body["entity_id"] || got.SigninURL != body["signin_url"] {
		t.Errorf("SQL-looking values not stored verbatim: PATCH -> %d, GET -> %+v", r.Status, got)
	}

	// No secret reached the log: no private key, no API key sent in the
	// catalogue, and the first-start key only in the one line that shows it.
	logs := ts.settledLogs()
	if strings.Contains(strings.ToUpper(logs), "PRIVATE KEY") {
		t.Error("the log mentions a private key")
	}
	for what, s := range secrets {
		for i := 0; i+32 <= len(s); i += 16 {
			if strings.Contains(logs, s[i:i+32]) {
				t.Errorf("the log holds part of the %s", what)
				break
			}
		}
	}
	if n := strings.Count(logs, ts.Key[26:]); n > 1 {
		t.Errorf("the first-start key's secret appears %d times in the log, want only where it is shown", n)
	}
}

// hostileEncryptedPKCS8 wraps a PKCS#8 key as OpenSSL's
// "ENCRYPTED PRIVATE KEY" does: an EncryptedPrivateKeyInfo with PBES2
// (PBKDF2-HMAC-SHA256, AES-256-CBC), as `openssl pkcs8 -topk8` writes.
func hostileEncryptedPKCS8(t *testing.T, pkcs8 []byte) []byte {
	t.Helper()
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	const iterations = 2048
	key, err := pbkdf2.Key(sha256.New, "passphrase", salt, iterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(pkcs8)%aes.BlockSize
	data := append(slices.Clone(pkcs8), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	type algorithm struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	pbkdf2Params := struct {
		Salt       []byte
		Iterations int
		PRF        algorithm
	}{salt, iterations, algorithm{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, Params: asn1.NullRawValue}}
	pbes2 := struct{ KDF, Cipher algorithm }{
		algorithm{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, Params: raw(pbkdf2Params)},
		algorithm{OID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Params: raw(iv)},
	}
	der, err := asn1.Marshal(struct {
		Algorithm algorithm
		Data      []byte
	}{algorithm{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, Params: raw(pbes2)}, data})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// hostileZeros reads as an endless run of '0'.
type hostileZeros struct{}

func (hostileZeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
