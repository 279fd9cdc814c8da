package ssod

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SigningHorizon is the moment an integration's sign-ins stop working: the
// latest NotAfter among its enabled certificates whose window has started at
// now (Unix seconds). ok is false when there is none, or when that moment is
// already past: either way sign-in is broken now, and a caller reports the
// horizon as null rather than a date in the past, so "broken" has one shape.
//
// A certificate not yet started does not count even if it outlives the
// others: until its window opens ssod rejects assertions it signs, so it
// cannot keep sign-in working today.
func SigningHorizon(certs []Certificate, now int64) (horizon int64, ok bool) {
	for _, c := range certs {
		if !c.Enabled || c.NotBefore > now {
			continue
		}
		if !ok || c.NotAfter > horizon {
			horizon, ok = c.NotAfter, true
		}
	}
	if ok && horizon < now {
		return 0, false
	}
	return horizon, ok
}

// IntegrationWindows is an integration with the validity windows of its
// certificates: what the expiry report and the horizon metrics read, in one
// query for a whole account or deployment.
type IntegrationWindows struct {
	// Integration holds ID, AccountID, Name and Enabled; the other fields
	// are left empty.
	Integration Integration
	// Certificates are by ID, without PEM (see ListCertificateWindows).
	Certificates []Certificate
}

// SigningWindowStore reads what expiry needs across integrations.
type SigningWindowStore interface {
	// ListIntegrationWindows returns the account's integrations (every
	// account's when accountID is 0), by account and then oldest first,
	// each with its certificates' windows, read in one query so that an
	// integration and its certificates come from one snapshot.
	ListIntegrationWindows(ctx context.Context, accountID int64) ([]IntegrationWindows, error)
}

// SigningStatus says where an integration's sign-in stands.
type SigningStatus string

// Signing statuses, as the expiry report sends them.
const (
	SigningBroken   SigningStatus = "broken"   // sign-in does not work now
	SigningExpiring SigningStatus = "expiring" // it stops within the report's window
	SigningOK       SigningStatus = "ok"
)

// SigningStatusAt classifies a horizon (SigningHorizon's answer) at now.
// Expiring means sign-in stops within the window: the horizon, the last
// second that works, is before now + within, so the first second that fails
// is at most now + within. A window of 0 flags broken integrations only.
func SigningStatusAt(horizon int64, ok bool, now int64, within time.Duration) SigningStatus {
	switch {
	case !ok:
		return SigningBroken
	case horizon-now < int64(within/time.Second):
		return SigningExpiring
	}
	return SigningOK
}

// ExpiryEntry is one integration of an expiry report.
type ExpiryEntry struct {
	IntegrationWindows
	// ValidUntil is the signing horizon; meaningless when Status is
	// SigningBroken (there is none).
	ValidUntil int64
	Status     SigningStatus
}

// ExpiryReport rates every integration at now, soonest to break first:
// broken ones (no horizon) first, then by horizon, ties by name and id so
// the order is stable. A disabled integration is rated by its certificates
// like any other, as its signing_valid_until is: it cannot sign in while
// disabled, but enabling it would bring back exactly this state. Whoever
// alerts on the report counts enabled integrations only (Alerting).
func ExpiryReport(list []IntegrationWindows, now int64, within time.Duration) []ExpiryEntry {
	out := make([]ExpiryEntry, len(list))
	for i, iw := range list {
		h, ok := SigningHorizon(iw.Certificates, now)
		out[i] = ExpiryEntry{IntegrationWindows: iw, ValidUntil: h, Status: SigningStatusAt(h, ok, now, within)}
	}
	slices.SortStableFunc(out, func(a, b ExpiryEntry) int {
		ab, bb := a.Status == SigningBroken, b.Status == SigningBroken
		switch {
		case ab != bb:
			if ab {
				return -1
			}
			return 1
		case !ab && a.ValidUntil != b.ValidUntil:
			return cmp.Compare(a.ValidUntil, b.ValidUntil)
		}
		return cmp.Or(cmp.Compare(a.Integration.Name, b.Integration.Name), cmp.Compare(a.Integration.ID, b.Integration.ID))
	})
	return out
}

// Alerting reports whether e should wake someone: an enabled integration
// that is broken or expiring. A disabled one signs nobody in either way.
func (e ExpiryEntry) Alerting() bool {
	return e.Integration.Enabled && e.Status != SigningOK
}

// SigningCounts counts enabled integrations by how soon sign-in breaks, for
// the horizon gauges. Within30d includes Within7d; neither includes Broken.
type SigningCounts struct {
	Broken, Within7d, Within30d int
}

// CountSigning counts the enabled integrations of list at now.
func CountSigning(list []IntegrationWindows, now int64) SigningCounts {
	var c SigningCounts
	for _, iw := range list {
		if !iw.Integration.Enabled {
			continue
		}
		h, ok := SigningHorizon(iw.Certificates, now)
		switch {
		case SigningStatusAt(h, ok, now, 0) == SigningBroken:
			c.Broken++
		case SigningStatusAt(h, ok, now, 7*Day) == SigningExpiring:
			c.Within7d++
			c.Within30d++
		case SigningStatusAt(h, ok, now, 30*Day) == SigningExpiring:
			c.Within30d++
		}
	}
	return c
}

// Day is 24 hours: expiry windows are counted in days of that length, with
// no calendar or daylight saving time in them.
const Day = 24 * time.Hour

// DefaultExpiryWindow is the expiry report's window when none is given.
const DefaultExpiryWindow = 30 * Day

// MaxExpiryWindow bounds the window: ten years is longer than IdP
// certificates live, and keeps every sum with Unix seconds far from
// overflow.
const MaxExpiryWindow = 3650 * Day

// ParseExpiryWindow reads an expiry report's window: a whole number of days
// ("30d") or a Go duration ("12h", "90m", "1h30m"), from 0 to
// MaxExpiryWindow. Fractions of a second are dropped when it is used. The
// error names the field "within".
func ParseExpiryWindow(s string) (time.Duration, error) {
	d, err := parseDaysOrDuration(s)
	if err != nil || d < 0 || d > MaxExpiryWindow {
		return 0, FieldErrorf(EInvalid, "within", "within must be a number of days (30d) or a duration (12h, 90m) from 0 to %dd, not %q",
			MaxExpiryWindow/Day, truncate(s, 40))
	}
	return d, nil
}

func parseDaysOrDuration(s string) (time.Duration, error) {
	digits, isDays := strings.CutSuffix(s, "d")
	if !isDays {
		return time.ParseDuration(s)
	}
	// Digits only: no sign, space or fraction; the length check keeps the
	// number far below what would overflow.
	if digits == "" || len(digits) > 5 || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, errors.New("not a whole number of days")
	}
	n, err := strconv.Atoi(digits)
	return time.Duration(n) * Day, err
}

// truncate shortens what a client sent before it is quoted in a message.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// AppendIntegrationWindow adds one row of a join of integrations with their
// certificates, ordered by integration, to list: c joins the last entry when
// it is of the same integration, else starts a new one. c is nil for an
// integration without certificates. Both stores build
// ListIntegrationWindows's answer with it.
func AppendIntegrationWindow(list []IntegrationWindows, in Integration, c *Certificate) []IntegrationWindows {
	if n := len(list); n == 0 || list[n-1].Integration.ID != in.ID {
		list = append(list, IntegrationWindows{Integration: in, Certificates: []Certificate{}})
	}
	if c != nil {
		last := &list[len(list)-1]
		last.Certificates = append(last.Certificates, *c)
	}
	return list
}
