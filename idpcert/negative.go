package idpcert

import (
	"crypto/x509"
	"encoding/asn1"
	"math/big"
)

// parseNegativeSerial parses a certificate that Go refuses only because its
// serial number is negative, as some IdPs' self-signed certificates have
// (RFC 5280 forbids it, but Microsoft's tools made them for years).
//
// GODEBUG x509negativeserial=1 would do the same for the whole process,
// including TLS with PostgreSQL and Redis, where a malformed certificate
// should stay refused. Here the serial matters to nothing: ssod trusts an
// uploaded certificate for its key and window, never checks its signature or
// its revocation. So a copy with the serial replaced by 1 is parsed, and the
// returned certificate keeps the original DER (stored as uploaded) and serial.
// Any other defect still fails, since the copy is parsed in full.
func parseNegativeSerial(der []byte) (*x509.Certificate, bool) {
	var outer struct {
		TBS       asn1.RawValue
		Algorithm asn1.RawValue
		Signature asn1.RawValue
	}
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) > 0 {
		return nil, false
	}
	tbs := outer.TBS.Bytes
	var elems []asn1.RawValue
	for len(tbs) > 0 {
		var e asn1.RawValue
		var err error
		if tbs, err = asn1.Unmarshal(tbs, &e); err != nil {
			return nil, false
		}
		elems = append(elems, e)
	}
	// The serial is the first element, or the second after an explicit [0]
	// version.
	i := 0
	if len(elems) > 0 && elems[0].Class == asn1.ClassContextSpecific && elems[0].Tag == 0 {
		i = 1
	}
	if i >= len(elems) || elems[i].Class != asn1.ClassUniversal || elems[i].Tag != asn1.TagInteger ||
		len(elems[i].Bytes) == 0 || elems[i].Bytes[0]&0x80 == 0 {
		return nil, false
	}
	serial := negativeInteger(elems[i].Bytes)
	elems[i] = asn1.RawValue{FullBytes: []byte{asn1.TagInteger, 1, 1}}
	var body []byte
	for _, e := range elems {
		b, err := asn1.Marshal(e)
		if err != nil {
			return nil, false
		}
		body = append(body, b...)
	}
	outer.TBS = asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body}
	patched, err := asn1.Marshal(outer)
	if err != nil {
		return nil, false
	}
	cert, err := x509.ParseCertificate(patched)
	if err != nil {
		return nil, false
	}
	cert.Raw = der
	cert.SerialNumber = serial
	return cert, true
}

// negativeInteger decodes b, the two's-complement content of a DER INTEGER
// whose sign bit is set.
func negativeInteger(b []byte) *big.Int {
	inverted := make([]byte, len(b))
	for i, c := range b {
		inverted[i] = ^c
	}
	n := new(big.Int).SetBytes(inverted)
	return n.Add(n, big.NewInt(1)).Neg(n)
}
