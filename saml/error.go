package saml

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Code is the contract's error_id for a refused SAML response; values never change.
type Code string

// The codes of the contract's checks that this package decides (README, "SAML sign-in"). The caller decides saml_integration_disabled (check 2), the rest of
// saml_in_response_to (check 12) and saml_replay (check 13).
const (
	ErrMalformed    Code = "saml_malformed"
	ErrStatus       Code = "saml_status"
	ErrSignature    Code = "saml_signature"
	ErrIssuer       Code = "saml_issuer"
	ErrDestination  Code = "saml_destination"
	ErrRecipient    Code = "saml_recipient"
	ErrNotYetValid  Code = "saml_not_yet_valid"
	ErrExpired      Code = "saml_expired"
	ErrAudience     Code = "saml_audience"
	ErrSubject      Code = "saml_subject"
	ErrInResponseTo Code = "saml_in_response_to"
)

// Error is a refusal: Code says which check failed, Message says why for people. Messages
// name the failing value (quoted, cut to a bounded length) and never carry XML or key material.
type Error struct {
	Code    Code
	Message string
	// Assertion is set when a check after the signature's refused (5 to 11, or the two
	// InResponseTo disagreeing): the ID, NameID, NameIDFormat and CertificateID of the
	// assertion the verified signature covers, for the login trace (which must never show
	// an unverified NameID). Nil otherwise.
	Assertion *Assertion
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// maxQuoted bounds how much of a document's value a message repeats.
const maxQuoted = 120

// quote renders a value taken from the document for a message: Go-quoted (so control
// characters and markup cannot spill into logs or HTML unescaped) and cut to maxQuoted bytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", s[:cut])
}

// quoteList quotes each value and joins them with ", ".
func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	return strings.Join(q, ", ")
}
