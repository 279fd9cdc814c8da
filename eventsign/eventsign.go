// Package eventsign signs webhook payloads as SendGrid's Event Webhook signs
// its own: ECDSA P-256 over the timestamp header's value followed by the
// body, hashed with SHA-256, the ASN.1 DER signature in base64. Receivers
// verify with the public key in base64 PKIX DER, which is what SendGrid's
// libraries (sendgrid-go's helpers/eventwebhook among them) take.
//
// It is pure: no HTTP, no storage, no clock; the caller gives the timestamp.
package eventsign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
)

// The headers SendGrid's Event Webhook sends its signature and timestamp in.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// NewKey makes a P-256 key pair: the private key as PKCS #8 DER, the public
// key as PKIX DER.
func NewKey() (private, public []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("eventsign: generate key: %w", err)
	}
	if private, err = x509.MarshalPKCS8PrivateKey(k); err != nil {
		return nil, nil, fmt.Errorf("eventsign: encode private key: %w", err)
	}
	if public, err = x509.MarshalPKIXPublicKey(&k.PublicKey); err != nil {
		return nil, nil, fmt.Errorf("eventsign: encode public key: %w", err)
	}
	return private, public, nil
}

// Sign returns the base64 signature of timestamp followed by payload under
// the PKCS #8 DER private key.
func Sign(private []byte, timestamp string, payload []byte) (string, error) {
	k, err := x509.ParsePKCS8PrivateKey(private)
	if err != nil {
		return "", fmt.Errorf("eventsign: read private key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return "", errors.New("eventsign: the private key is not ECDSA P-256")
	}
	sig, err := ecdsa.SignASN1(rand.Reader, ek, digest(timestamp, payload))
	if err != nil {
		return "", fmt.Errorf("eventsign: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify reports whether signature (base64) signs timestamp followed by
// payload under the PKIX DER public key.
func Verify(public []byte, timestamp string, payload []byte, signature string) bool {
	k, err := x509.ParsePKIXPublicKey(public)
	if err != nil {
		return false
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	return ecdsa.VerifyASN1(ek, digest(timestamp, payload), sig)
}

func digest(timestamp string, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(payload)
	return h.Sum(nil)
}
