package idpcert

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"testing"

	"github.com/ssod/ssod"
)

// Private keys pasted without their BEGIN/END lines still name themselves
// by shape, and must be refused as keys.
func TestBareKeyBodiesAreRejectedAsKeys(t *testing.T) {
	encrypted, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, make([]byte, 64)})
	if err != nil {
		t.Fatal(err)
	}
	openssh := append([]byte("openssh-key-v1\x00"), make([]byte, 64)...)
	for name, der := range map[string][]byte{"encrypted PKCS#8": encrypted, "OpenSSH": openssh} {
		_, err := Parse(base64.StdEncoding.EncodeToString(der))
		if ssod.CodeOf(err) != ssod.EPrivateKeyRejected {
			t.Errorf("%s body: %v, want private_key_rejected", name, err)
		}
	}
	// Other algorithm identifiers with bytes are not keys.
	other, _ := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 5, 4, 3}}, []byte("x")})
	if _, err := Parse(base64.StdEncoding.EncodeToString(other)); ssod.CodeOf(err) != ssod.EInvalidCertificate {
		t.Errorf("non-key structure: %v, want invalid_certificate", err)
	}
}
