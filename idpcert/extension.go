package idpcert

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
)

// maxExtensionDepth bounds the walk through nested extension values, so a
// crafted certificate cannot make it recurse without end.
const maxExtensionDepth = 16

// extensionHasPrivateKey reports whether any extension of cert carries a
// private key, as PEM text or as DER at any depth of its value. Certificates
// are stored and shown whole, so a key hidden there would be kept and handed
// to every reader; no real extension holds one.
func extensionHasPrivateKey(cert *x509.Certificate) bool {
	for _, ext := range cert.Extensions {
		if bytes.Contains(bytes.ToUpper(ext.Value), []byte("PRIVATE KEY")) || containsKeyDER(ext.Value, 0) {
			return true
		}
	}
	return false
}

// containsKeyDER walks the DER elements in der, descending into constructed
// elements and into OCTET and BIT STRINGs (which extensions use to wrap
// DER), and reports whether one of them is a private key.
func containsKeyDER(der []byte, depth int) bool {
	if depth > maxExtensionDepth {
		return false
	}
	for rest := der; len(rest) > 0; {
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			return false // not DER (any more): nothing further to read as a key
		}
		if isNestedPrivateKey(e.FullBytes) {
			return true
		}
		inner := e.Bytes
		switch {
		case e.IsCompound:
		case e.Class == asn1.ClassUniversal && e.Tag == asn1.TagOctetString:
		case e.Class == asn1.ClassUniversal && e.Tag == asn1.TagBitString && len(inner) > 0:
			inner = inner[1:] // the count of unused bits
		default:
			continue
		}
		if containsKeyDER(inner, depth+1) {
			return true
		}
	}
	return false
}

// isNestedPrivateKey is stricter than isPrivateKey, whose "SEQUENCE that
// starts with a small INTEGER" matches ordinary extension values too (a
// basicConstraints with only a path length). It accepts what Go's key
// parsers accept, encrypted PKCS#8, and the shapes of the keys they refuse:
// PKCS#1 (nine INTEGERs), PKCS#8 (version, AlgorithmIdentifier, OCTET
// STRING) and SEC1 (version 1, OCTET STRING).
func isNestedPrivateKey(der []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return true
	}
	if isEncryptedKey(der) {
		return true
	}
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 ||
		seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence {
		return false
	}
	var elems []asn1.RawValue
	for rest := seq.Bytes; len(rest) > 0; {
		var e asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &e); err != nil {
			return false
		}
		elems = append(elems, e)
	}
	universal := func(i, tag int) bool {
		return i < len(elems) && elems[i].Class == asn1.ClassUniversal && elems[i].Tag == tag
	}
	if !universal(0, asn1.TagInteger) || len(elems[0].Bytes) != 1 || elems[0].Bytes[0] > 1 {
		return false
	}
	if universal(1, asn1.TagOctetString) && elems[0].Bytes[0] == 1 {
		return true // SEC1
	}
	if universal(1, asn1.TagSequence) && universal(2, asn1.TagOctetString) {
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(elems[1].Bytes, &oid); err == nil {
			return true // PKCS#8
		}
	}
	if len(elems) < 9 {
		return false
	}
	for i := range 9 {
		if !universal(i, asn1.TagInteger) {
			return false
		}
	}
	return true // PKCS#1
}
