// Package ssod holds the domain of the ssod service: SSO integrations, their
// IdP signing certificates, the accounts that own them and the API keys that
// act for those accounts. It imports no infrastructure; the sqlite, postgres
// and httpapi packages implement and serve what is declared here.
package ssod

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a stable, machine-readable error code. It is sent to API clients as
// the error_id of the contract's error array, so values never change.
type Code string

// Error codes of the wire contract (README, "API": the error_id list).
const (
	ERequired             Code = "required"
	EInvalid              Code = "invalid"
	EInvalidCertificate   Code = "invalid_certificate"
	EPrivateKeyRejected   Code = "private_key_rejected"
	ENotFound             Code = "not_found"
	EConflict             Code = "conflict"
	EUnauthorized         Code = "unauthorized"
	EForbidden            Code = "forbidden"
	ERateLimited          Code = "rate_limited"
	ETooLarge             Code = "too_large"
	EUnsupportedMediaType Code = "unsupported_media_type"
	EMethodNotAllowed     Code = "method_not_allowed"
	EInternal             Code = "internal"
	// EUnavailable is only answered by a fault injected in test mode.
	EUnavailable Code = "unavailable"
)

// Error is one problem the caller can act on. Field names the request field
// at fault, or is empty when the problem is not about one field.
type Error struct {
	Code    Code
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Field, e.Message, e.Code)
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

// Errorf returns an *Error not tied to a field.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error about one request field.
func FieldErrorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Errors is several problems reported at once, so that a client learns about
// every bad field in a single round trip.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Err returns es as an error, or nil when it holds no problem. It keeps callers
// from returning a non-nil error interface wrapping an empty list.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// ProblemsOf unwraps err into the problems to show a client. Anything that is
// not a domain error becomes a single EInternal problem whose message reveals
// nothing of err.
func ProblemsOf(err error) []*Error {
	var es Errors
	if errors.As(err, &es) && len(es) > 0 {
		return es
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return []*Error{{Code: EInternal, Message: "internal server error"}}
}

// CodeOf returns the code of the first problem in err, EInternal for errors
// that are not domain errors, and "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return ProblemsOf(err)[0].Code
}
