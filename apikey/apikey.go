// Package apikey makes and checks SendGrid-shaped API keys:
// "SG." + 22-character key ID + "." + 43-character secret (69 characters).
// Only a SHA-256 hash of the secret is ever stored: the secret carries 256
// random bits, so a slow password hash would add cost without adding safety.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
)

// Lengths of a key and of its parts.
const (
	Length       = 69
	IDLength     = 22
	SecretLength = 43
	prefix       = "SG."
)

// New returns a fresh key in plaintext (to show once), its public ID and the
// hash of its secret (to store).
func New() (plaintext, id string, secretHash []byte, err error) {
	var raw [16 + 32]byte
	// An ID that began with '-' would read as a flag in `ssod keys revoke
	// ID`, so such draws are thrown away (1 in 32; the ID is not secret).
	for id == "" || id[0] == '-' || id[0] == '_' {
		if _, err := rand.Read(raw[:]); err != nil {
			return "", "", nil, fmt.Errorf("apikey: read random: %w", err)
		}
		id = base64.RawURLEncoding.EncodeToString(raw[:16])
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[16:])
	return prefix + id + "." + secret, id, HashSecret(secret), nil
}

// Split returns the ID and secret of a key, or ok=false when key does not
// have the shape of one. It looks at nothing but the shape.
func Split(key string) (id, secret string, ok bool) {
	if len(key) != Length || key[:3] != prefix || key[3+IDLength] != '.' {
		return "", "", false
	}
	id, secret = key[3:3+IDLength], key[3+IDLength+1:]
	if !urlSafe(id) || !urlSafe(secret) {
		return "", "", false
	}
	return id, secret, true
}

// HashSecret returns the stored form of a key's secret.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Verify compares a presented secret with a stored hash in constant time.
func Verify(secret string, hash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), hash) == 1
}

func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
