package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ssod/ssod/internal/samltest"
)

// BenchmarkSignIn measures one accepted IdP-initiated sign-in through the whole server on
// SQLite, with two certificates on the integration (the signing one second, and no
// KeyInfo, so both are tried): parse, verify, the replay insert, the login trace, the
// answer. Signing the response is not timed.
func BenchmarkSignIn(b *testing.B) {
	st := newSignInTest(b, SAMLConfig{})
	next := st.newCert()
	st.addCert(next, true)
	signer := samltest.Signer{Key: next.Key, DER: next.DER, NoKeyInfo: true}
	path := "/v3/public/sso/saml/response/id/" + st.in.ID
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		body := url.Values{"SAMLResponse": {samltest.Encode(st.valid().SignedAssertion(b, signer))}}.Encode()
		b.StartTimer()
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		rec := httptest.NewRecorder()
		st.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
