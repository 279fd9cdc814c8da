// Package idpcert turns what a user pastes into the public_certificate field
// (an IdP's signing certificate, as PEM or as bare base64 of the DER) into an
// ssod.X509.
//
// The input may by mistake be a private key, so no error, log line or stored
// value ever contains any of it: error messages are fixed texts.
package idpcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/ssod/ssod"
)

// MaxInputSize is the largest public_certificate accepted (16 KiB).
const MaxInputSize = 16 << 10

// maxRSABits bounds RSA keys: every SAML signature check costs time that grows
// with the modulus, so a huge key is a cheap way to make logins expensive.
const maxRSABits = 8192

const field = "public_certificate"

// Parse reads one X.509 certificate pasted as PEM or as bare base64 DER and
// returns canonical PEM and its validity window.
//
// Errors are *ssod.Error on field public_certificate with code ETooLarge,
// EPrivateKeyRejected or EInvalidCertificate.
func Parse(input string) (ssod.X509, error) {
	// Before any parsing, so that no work is done on oversized input.
	if len(input) > MaxInputSize {
		return ssod.X509{}, ssod.FieldErrorf(ssod.ETooLarge, field,
			"public_certificate must be at most %d bytes; paste only the IdP's signing certificate", MaxInputSize)
	}
	// Covers every PEM private key block (RSA, EC, ENCRYPTED, OPENSSH, PKCS#8)
	// and the same words in any case or anywhere else: no certificate
	// contains them, so rejecting them costs nothing.
	if strings.Contains(strings.ToUpper(input), "PRIVATE KEY") {
		return ssod.X509{}, errPrivateKey()
	}
	s := strings.TrimSpace(input)
	var der []byte
	var err error
	switch {
	case s == "":
		return ssod.X509{}, invalid("public_certificate is empty; paste the IdP's signing certificate as PEM or base64")
	case strings.HasPrefix(s, "-----BEGIN"):
		der, err = decodePEM([]byte(s))
	case strings.Contains(s, "-----BEGIN"):
		return ssod.X509{}, invalid("public_certificate has text before the -----BEGIN CERTIFICATE----- line; remove it")
	default:
		der, err = decodeBase64(s)
	}
	if err != nil {
		return ssod.X509{}, err
	}
	cert, err := parseDER(der)
	if err != nil {
		return ssod.X509{}, err
	}
	return ssod.X509{
		PEM:       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		NotBefore: cert.NotBefore.Unix(),
		NotAfter:  cert.NotAfter.Unix(),
	}, nil
}

// decodePEM returns the DER of the single CERTIFICATE block that s, which
// starts with "-----BEGIN", consists of. Every block is decoded first so that
// a private key hidden in any of them is reported as such.
func decodePEM(s []byte) ([]byte, error) {
	var blocks []*pem.Block
	for rest := s; len(rest) > 0; {
		if !bytes.HasPrefix(rest, []byte("-----BEGIN")) {
			return nil, invalid("public_certificate has text after the -----END CERTIFICATE----- line; remove it")
		}
		block, after := pem.Decode(rest)
		// pem.Decode skips a malformed block and returns the next one; the
		// consumed text holding a second BEGIN line means that happened.
		if block == nil || bytes.Count(rest[:len(rest)-len(after)], []byte("-----BEGIN")) != 1 {
			return nil, invalid("public_certificate is not valid PEM; check the BEGIN and END lines and the base64 between them")
		}
		if hasPrivateKey(block.Bytes) {
			return nil, errPrivateKey()
		}
		blocks = append(blocks, block)
		rest = bytes.TrimSpace(after)
	}
	switch b := blocks[0]; {
	case b.Type == "CERTIFICATE REQUEST" || b.Type == "NEW CERTIFICATE REQUEST":
		return nil, invalid("public_certificate is a certificate signing request, not a certificate; paste the certificate the IdP signs with")
	case strings.Contains(b.Type, "PUBLIC KEY"):
		return nil, invalid("public_certificate is a public key, not a certificate; paste the certificate that holds it")
	case b.Type != "CERTIFICATE":
		return nil, invalid("public_certificate must be a -----BEGIN CERTIFICATE----- block")
	case len(b.Headers) > 0:
		return nil, invalid("public_certificate must not have PEM headers; paste the certificate as the IdP shows it")
	case len(blocks) > 1:
		return nil, errNotOne()
	}
	return blocks[0].Bytes, nil
}

// decodeBase64 decodes bare base64 with or without padding, ignoring the
// whitespace that copying from a web page or an XML file leaves in it.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	der, err := enc.DecodeString(s)
	if err != nil {
		return nil, invalid("public_certificate is neither PEM nor base64; paste the certificate as -----BEGIN CERTIFICATE----- PEM or as its base64 body")
	}
	if bytes.HasPrefix(der, opensshKeyMagic) || hasPrivateKey(der) {
		return nil, errPrivateKey()
	}
	return der, nil
}

// parseDER returns the one certificate that der holds, if its key is one ssod
// can verify signatures with at a bounded cost.
func parseDER(der []byte) (*x509.Certificate, error) {
	// The x509 error is not passed on: it may quote parts of the input.
	certs, err := x509.ParseCertificates(der)
	if err != nil {
		if cert, ok := parseNegativeSerial(der); ok {
			certs, err = []*x509.Certificate{cert}, nil
		}
	}
	switch {
	case err != nil || len(certs) == 0:
		return nil, invalid("public_certificate is not a valid X.509 certificate; it may be truncated or damaged, paste it again in full")
	case len(certs) > 1:
		return nil, errNotOne()
	}
	cert := certs[0]
	if extensionHasPrivateKey(cert) {
		return nil, errPrivateKey()
	}
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := pub.N.BitLen(); n > maxRSABits {
			return nil, invalid("public_certificate has a %d-bit RSA key; at most %d bits are accepted because larger keys make every signature check expensive", n, maxRSABits)
		}
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return nil, invalid("public_certificate has an unsupported public key algorithm; use an RSA, ECDSA or Ed25519 certificate")
	}
	return cert, nil
}

// hasPrivateKey reports whether any top-level DER element of der is a
// private key.
func hasPrivateKey(der []byte) bool {
	for rest := der; len(rest) > 0; {
		var elem asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &elem); err != nil {
			return false
		}
		if isPrivateKey(elem.FullBytes) {
			return true
		}
	}
	return false
}

// isPrivateKey reports whether der has the shape that PKCS#1, PKCS#8 and
// SEC1 private keys share: a SEQUENCE whose first element is a small INTEGER,
// the version. Anything x509.ParsePKCS1PrivateKey, ParsePKCS8PrivateKey or
// ParseECPrivateKey accepts has it, and so do the keys they refuse (RSA under
// 1024 bits, unknown PKCS#8 algorithms, OpenSSL's DSA keys, PKCS#12 files),
// and it costs no key validation. No certificate has it: a certificate's
// first element is a SEQUENCE.
func isPrivateKey(der []byte) bool {
	var key struct{ Version int }
	_, err := asn1.Unmarshal(der, &key)
	return err == nil || isEncryptedKey(der)
}

// passwordBasedEncryption prefixes the OIDs of PKCS#5 (PBES1, PBES2) and
// PKCS#12 encryption schemes, the ones an encrypted PKCS#8 key names.
var passwordBasedEncryption = []asn1.ObjectIdentifier{
	{1, 2, 840, 113549, 1, 5},
	{1, 2, 840, 113549, 1, 12, 1},
}

// isEncryptedKey reports whether der is an encrypted PKCS#8 key
// (EncryptedPrivateKeyInfo): a SEQUENCE of an encryption algorithm and the
// encrypted bytes. The key is still a secret: the password may be weak.
func isEncryptedKey(der []byte) bool {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return false
	}
	for _, prefix := range passwordBasedEncryption {
		if len(info.Algorithm.Algorithm) > len(prefix) && info.Algorithm.Algorithm[:len(prefix)].Equal(prefix) {
			return true
		}
	}
	return false
}

// opensshKeyMagic starts the body of every OpenSSH private key.
var opensshKeyMagic = []byte("openssh-key-v1\x00")

func invalid(format string, args ...any) *ssod.Error {
	return ssod.FieldErrorf(ssod.EInvalidCertificate, field, format, args...)
}

func errNotOne() *ssod.Error {
	return invalid("public_certificate must hold exactly one certificate, not a chain; paste only the IdP's signing certificate")
}

func errPrivateKey() *ssod.Error {
	return ssod.FieldErrorf(ssod.EPrivateKeyRejected, field,
		"public_certificate contains a private key, which was not stored; paste only the IdP's signing certificate, and replace the key if it may have been exposed")
}

// Certificate parses a stored certificate (the canonical PEM Parse made) for verifying
// signatures with its key, reading a negative serial number as Parse does.
func Certificate(x ssod.X509) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(x.PEM))
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("idpcert: a stored certificate is not one PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		var ok bool
		if cert, ok = parseNegativeSerial(block.Bytes); !ok {
			return nil, fmt.Errorf("idpcert: a stored certificate does not parse: %w", err)
		}
	}
	return cert, nil
}
