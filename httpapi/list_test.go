package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/ssod/ssod"
)

// A streamed list is exactly the array encoding/json makes of its
// elements, with a Content-Length that matches, across the flushes.
func TestWriteJSONArrayMatchesEncodingJSON(t *testing.T) {
	for _, n := range []int{0, 1, 2, 100} {
		certs := make([]ssod.Certificate, n)
		want := make([]certificateJSON, n)
		for i := range certs {
			certs[i] = ssod.Certificate{ID: int64(i + 1), IntegrationID: "b0b98502-9408-4b24-9e3d-31ed7cb15312",
				X509: ssod.X509{PEM: strings.Repeat("MIIB\n", 3_000+i), NotBefore: int64(i), NotAfter: int64(2 * i)}, Enabled: i%2 == 0}
			want[i] = toCertificateJSON(&certs[i])
		}
		wantBody, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeJSONArray(rec, n, func(b []byte, i int) []byte { return appendCertificate(b, &certs[i]) })
		if got := rec.Body.String(); got != string(wantBody) {
			t.Fatalf("%d elements: the body differs from encoding/json's (%d bytes, want %d)", n, len(got), len(wantBody))
		}
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(wantBody)) {
			t.Fatalf("%d elements: Content-Length %s for %d bytes", n, cl, len(wantBody))
		}
	}
}
