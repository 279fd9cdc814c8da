package httpapi

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/ssod/ssod"
	"github.com/ssod/ssod/internal/testcert"
)

// certificateJSON is the spec's SsoCertificateBody (with its spelling
// intergration_id) plus the documented extensions integration_id and enabled.
type certificateJSON struct {
	PublicCertificate string `json:"public_certificate"`
	ID                int64  `json:"id"`
	NotBefore         int64  `json:"not_before"`
	NotAfter          int64  `json:"not_after"`
	IntergrationID    string `json:"intergration_id"`
	IntegrationID     string `json:"integration_id"`
	Enabled           bool   `json:"enabled"`
}

func toCertificateJSON(c *ssod.Certificate) certificateJSON {
	return certificateJSON{
		PublicCertificate: c.PEM,
		ID:                c.ID,
		NotBefore:         c.NotBefore,
		NotAfter:          c.NotAfter,
		IntergrationID:    c.IntegrationID,
		IntegrationID:     c.IntegrationID,
		Enabled:           c.Enabled,
	}
}

// The hand-written encoder must give exactly what encoding/json gives.
func TestAppendCertificateMatchesEncodingJSON(t *testing.T) {
	pem := testcert.New(t, testcert.Options{}).PEM
	strs := []string{"", pem, "a\"b", `back\slash`, "<html>&", "tab\there", "\x00\x1f", "ünï", "\u2028\u2029", "\xff", "line\r\n", "b0b98502-9408-4b24-9e3d-31ed7cb15312"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		strs = append(strs, string(b))
	}
	for _, s := range strs {
		c := &ssod.Certificate{ID: rng.Int64(), IntegrationID: s, X509: ssod.X509{PEM: s, NotBefore: -rng.Int64N(1e12), NotAfter: rng.Int64()}, Enabled: rng.IntN(2) == 0}
		want, err := json.Marshal(toCertificateJSON(c))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendCertificate(nil, c); string(got) != string(want) {
			t.Fatalf("for %q:\n got %s\nwant %s", s, got, want)
		}
	}
}
