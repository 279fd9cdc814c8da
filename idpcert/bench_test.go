package idpcert

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse measures Parse on the real IdP certificates, as pasted:
// PEM, and the bare base64 an IdP's metadata shows.
func BenchmarkParse(b *testing.B) {
	dir := idpCertsDir(b)
	for _, file := range []string{"okta_cert.pem", "onelogin_cert.pem", "adfs_idp_signing_cert.pem", "auth0_cert.pem"} {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			b.Fatal(err)
		}
		x, err := Parse(string(raw))
		if err != nil {
			b.Fatalf("%s: %v", file, err)
		}
		b.Run(file+"/pem", func(b *testing.B) {
			input := string(raw)
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(input); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(file+"/base64", func(b *testing.B) {
			input := bareBase64(x.PEM)
			b.SetBytes(int64(len(input)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(input); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bareBase64 strips the BEGIN and END lines of a canonical PEM, leaving the
// wrapped base64 body.
func bareBase64(pemText string) string {
	const begin, end = "-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n"
	return pemText[len(begin) : len(pemText)-len(end)]
}
