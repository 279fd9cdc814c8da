package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/apikey"
	"github.com/ssod/ssod/idpcert"
	"github.com/ssod/ssod/internal/testcert"
	"github.com/ssod/ssod/sqlite"
	"github.com/ssod/ssod/testmode"
)

// benchCertificate is a certificate response as GET returns it, with an
// RSA-2048 certificate of the size real IdPs use.
func benchCertificate(b *testing.B) certificateJSON {
	c := testcert.New(b, testcert.Options{CommonName: "bench idp", RSABits: 2048})
	return certificateJSON{
		PublicCertificate: c.PEM,
		ID:                123456,
		NotBefore:         1455054726,
		NotAfter:          1770673986,
		IntergrationID:    "9b0a4e8c-2f4b-4d5e-9a41-2b7f0c1d3e5f",
		IntegrationID:     "9b0a4e8c-2f4b-4d5e-9a41-2b7f0c1d3e5f",
		Enabled:           true,
	}
}

// BenchmarkWriteJSONCertificate measures encoding one certificate response
// with writeJSON, as every certificate handler ends.
func BenchmarkWriteJSONCertificate(b *testing.B) {
	v := benchCertificate(b)
	b.SetBytes(int64(len(toBody(b, v))))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusOK, v)
	}
}

// BenchmarkAppendCertificate measures the hand-written encoder the
// certificate handlers use, against BenchmarkWriteJSONCertificate's
// encoding/json path for the same response.
func BenchmarkAppendCertificate(b *testing.B) {
	v := benchCertificate(b)
	c := &ssod.Certificate{ID: v.ID, IntegrationID: v.IntegrationID, Enabled: v.Enabled,
		X509: ssod.X509{PEM: v.PublicCertificate, NotBefore: v.NotBefore, NotAfter: v.NotAfter}}
	b.SetBytes(int64(len(appendCertificate(nil, c))))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		writeRawJSON(rec, http.StatusOK, appendCertificate(make([]byte, 0, len(c.PEM)+256), c))
	}
}

// BenchmarkWriteJSONCertificateList measures a list of five certificates,
// the shape of GET /v3/sso/integrations/{id}/certificates.
func BenchmarkWriteJSONCertificateList(b *testing.B) {
	one := benchCertificate(b)
	list := []certificateJSON{one, one, one, one, one}
	b.SetBytes(int64(len(toBody(b, list))))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		writeJSON(rec, http.StatusOK, list)
	}
}

func toBody(b *testing.B, v any) []byte {
	rec := httptest.NewRecorder()
	writeJSON(rec, http.StatusOK, v)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	return rec.Body.Bytes()
}

// BenchmarkGetCertificate measures a whole GET /v3/sso/certificates/{id}
// through the server: middleware, authentication (a store lookup and the
// secret's hash), the store read and the response, on a real SQLite
// database. Nothing is logged, as with --log-level warn.
func BenchmarkGetCertificate(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	now := time.Now().Unix()
	acct, err := store.CreateAccount(ctx, "bench", 0, now)
	if err != nil {
		b.Fatal(err)
	}
	key, id, hash, err := apikey.New()
	if err != nil {
		b.Fatal(err)
	}
	if err := store.CreateKey(ctx, ssod.APIKey{ID: id, AccountID: acct.ID, Name: "bench", Scopes: ssod.AllScopes(), SecretHash: hash, CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	name, url, enabled := "Okta", "https://example.okta.com/app/sso/saml", true
	in, err := store.CreateIntegration(ctx, acct.ID, ssod.IntegrationUpdate{
		Name: &name, Enabled: &enabled, SigninURL: &url, SignoutURL: &url, EntityID: &url,
	}, now)
	if err != nil {
		b.Fatal(err)
	}
	x, err := idpcert.Parse(testcert.New(b, testcert.Options{CommonName: "bench idp", RSABits: 2048}).PEM)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := store.CreateCertificate(ctx, acct.ID, ssod.CertificateUpdate{IntegrationID: &in.ID, X509: &x})
	if err != nil {
		b.Fatal(err)
	}
	// ssod serve trusts a found key for 5 s by default; 0 asks the store
	// on every request.
	// test-mode=true adds --test-mode's wrapper: the reset gate, the fault
	// lookup and a journal entry per request.
	for _, c := range []struct {
		ttl  time.Duration
		test bool
	}{{0, false}, {5 * time.Second, false}, {5 * time.Second, true}} {
		ttl := c.ttl
		name := "key-cache=" + ttl.String()
		var mode *testmode.Mode
		if c.test {
			name += "/test-mode=true"
			mode = testmode.New(testmode.Options{})
		}
		b.Run(name, func(b *testing.B) {
			srv, err := NewServer(Config{Store: store, PublicURL: "http://bench.test", KeyCacheTTL: ttl, TestMode: mode})
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "/v3/sso/certificates/"+strconv.FormatInt(cert.ID, 10), nil)
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("GET certificate: status %d: %s", rec.Code, rec.Body)
			}
			b.SetBytes(int64(rec.Body.Len()))
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkAuthenticationFailure measures a 401 for a key whose id exists
// but whose secret is wrong, and for a key whose id does not exist, through
// the server on a real SQLite database: the difference is what an attacker
// could learn about which key ids exist from the time of an answer.
func BenchmarkAuthenticationFailure(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	acct, err := store.CreateAccount(ctx, "bench", 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	key, id, hash, err := apikey.New()
	if err != nil {
		b.Fatal(err)
	}
	if err := store.CreateKey(ctx, ssod.APIKey{ID: id, AccountID: acct.ID, Name: "bench", Scopes: ssod.AllScopes(), SecretHash: hash, CreatedAt: 1}); err != nil {
		b.Fatal(err)
	}
	other, _, _, err := apikey.New()
	if err != nil {
		b.Fatal(err)
	}
	presented := map[string]string{
		"known-id-wrong-secret": key[:26] + other[26:],
		"unknown-id":            other,
	}
	for _, ttl := range []time.Duration{0, 5 * time.Second} {
		srv, err := NewServer(Config{Store: store, PublicURL: "http://bench.test", KeyCacheTTL: ttl})
		if err != nil {
			b.Fatal(err)
		}
		// The key is in use: its own requests keep it cached.
		warm := httptest.NewRequest(http.MethodGet, "/v3/sso/integrations", nil)
		warm.Header.Set("Authorization", "Bearer "+key)
		srv.ServeHTTP(httptest.NewRecorder(), warm)
		for _, name := range []string{"known-id-wrong-secret", "unknown-id"} {
			b.Run("key-cache="+ttl.String()+"/"+name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "/v3/sso/integrations", nil)
				req.Header.Set("Authorization", "Bearer "+presented[name])
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					if rec.Code != http.StatusUnauthorized {
						b.Fatalf("status %d", rec.Code)
					}
				}
			})
		}
	}
}
