package ssod

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSigningHorizon(t *testing.T) {
	const now = 1_000_000
	cert := func(enabled bool, nb, na int64) Certificate {
		return Certificate{Enabled: enabled, X509: X509{NotBefore: nb, NotAfter: na}}
	}
	tests := []struct {
		name  string
		certs []Certificate
		want  int64
		ok    bool
	}{
		{"no certificates", nil, 0, false},
		{"one valid", []Certificate{cert(true, now-10, now+100)}, now + 100, true},
		{"latest of several", []Certificate{cert(true, now-10, now+100), cert(true, now-5, now+300), cert(true, now-1, now+200)}, now + 300, true},
		{"disabled ignored", []Certificate{cert(true, now-10, now+100), cert(false, now-10, now+900)}, now + 100, true},
		{"only disabled", []Certificate{cert(false, now-10, now+900)}, 0, false},
		{"not yet started ignored", []Certificate{cert(true, now-10, now+100), cert(true, now+1, now+900)}, now + 100, true},
		{"only not yet started", []Certificate{cert(true, now+1, now+900)}, 0, false},
		{"started exactly now", []Certificate{cert(true, now, now+50)}, now + 50, true},
		{"all expired", []Certificate{cert(true, now-100, now-1), cert(true, now-100, now-50)}, 0, false},
		{"expired beside valid", []Certificate{cert(true, now-100, now-1), cert(true, now-100, now+5)}, now + 5, true},
		{"ends exactly now", []Certificate{cert(true, now-100, now)}, now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := SigningHorizon(tt.certs, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("SigningHorizon = %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseExpiryWindow(t *testing.T) {
	good := map[string]time.Duration{
		"30d": 30 * Day, "0d": 0, "0": 0, "1d": Day, "007d": 7 * Day, "3650d": MaxExpiryWindow,
		"12h": 12 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "1.5h": 90 * time.Minute,
		"87600h": MaxExpiryWindow, "45s": 45 * time.Second,
	}
	for in, want := range good {
		if got, err := ParseExpiryWindow(in); err != nil || got != want {
			t.Errorf("ParseExpiryWindow(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "30", "-1d", "+1d", "-1h", "1.5d", " 30d", "30d ", "30D", "1d12h", "3651d", "87601h",
		"99999d", "100000d", "1e3d", "0x1fd", "30days", "1w", "9223372036854775807ns1h", "２d"} {
		_, err := ParseExpiryWindow(in)
		var e *Error
		if !errors.As(err, &e) || e.Field != "within" || e.Code != EInvalid {
			t.Errorf("ParseExpiryWindow(%q) = %v; want an invalid error on within", in, err)
		}
	}
}

// FuzzParseExpiryWindow: whatever the input, the parser answers a window in
// bounds or an error on "within", and a window it accepts reads back the
// same from its Go spelling, and from whole days.
func FuzzParseExpiryWindow(f *testing.F) {
	for _, s := range []string{"30d", "0", "12h", "1h30m", "3650d", "3651d", "-1d", "1.5h", "99999d", "d", "", "1e9h", "0.000000001s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseExpiryWindow(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Field != "within" {
				t.Fatalf("ParseExpiryWindow(%q): error %v does not name within", s, err)
			}
			return
		}
		if d < 0 || d > MaxExpiryWindow {
			t.Fatalf("ParseExpiryWindow(%q) = %v, out of bounds", s, d)
		}
		if again, err := ParseExpiryWindow(d.String()); err != nil || again != d {
			t.Fatalf("ParseExpiryWindow(%q) = %v, but its spelling %q reads %v, %v", s, d, d.String(), again, err)
		}
		if d%Day == 0 {
			days := fmt.Sprintf("%dd", d/Day)
			if again, err := ParseExpiryWindow(days); err != nil || again != d {
				t.Fatalf("ParseExpiryWindow(%q) = %v, but %q reads %v, %v", s, d, days, again, err)
			}
		}
	})
}

func TestSigningStatusAt(t *testing.T) {
	const now = 1_000_000
	tests := []struct {
		horizon int64
		ok      bool
		within  time.Duration
		want    SigningStatus
	}{
		{0, false, 30 * Day, SigningBroken},
		{0, false, 0, SigningBroken},
		{now, true, 0, SigningOK}, // works this second; a window of 0 flags only broken
		{now, true, time.Second, SigningExpiring},
		{now + 59, true, time.Minute, SigningExpiring}, // the first failing second, now+60, is in the window
		{now + 60, true, time.Minute, SigningOK},
		{now + 60, true, time.Minute + 999*time.Millisecond, SigningOK}, // fractions of a second are dropped
		{now + int64(30*Day/time.Second) - 1, true, 30 * Day, SigningExpiring},
		{now + int64(30*Day/time.Second), true, 30 * Day, SigningOK},
	}
	for _, tt := range tests {
		if got := SigningStatusAt(tt.horizon, tt.ok, now, tt.within); got != tt.want {
			t.Errorf("SigningStatusAt(now%+d, %v, %v) = %s, want %s", tt.horizon-now, tt.ok, tt.within, got, tt.want)
		}
	}
}

// windows builds an integration with certificates, each (enabled, not
// before, not after) relative to nothing: absolute Unix seconds.
func windows(id, name string, enabled bool, certs ...[3]int64) IntegrationWindows {
	iw := IntegrationWindows{Integration: Integration{ID: id, AccountID: 1, Name: name, Enabled: enabled}}
	for i, c := range certs {
		iw.Certificates = append(iw.Certificates, Certificate{ID: int64(i + 1), Enabled: c[0] == 1, IntegrationID: id,
			X509: X509{NotBefore: c[1], NotAfter: c[2]}})
	}
	return iw
}

func TestExpiryReport(t *testing.T) {
	const now = 2_000_000_000
	const day = int64(Day / time.Second)
	list := []IntegrationWindows{
		windows("i1", "late", true, [3]int64{1, now - day, now + 90*day}),
		windows("i2", "soon", true, [3]int64{1, now - day, now + 3*day}, [3]int64{0, now - day, now + 900*day}),
		windows("i3", "none", true),
		windows("i4", "expired", true, [3]int64{1, now - 9*day, now - 1}),
		windows("i5", "off-soon", false, [3]int64{1, now - day, now + 2*day}),
		windows("i6", "b-tie", true, [3]int64{1, now - day, now + 90*day}),
		windows("i0", "b-tie", true, [3]int64{1, now - day, now + 90*day}),
		windows("i7", "not-yet", true, [3]int64{1, now + 1, now + 900*day}),
		windows("i8", "aa-broken", true),
	}
	got := ExpiryReport(list, now, 30*Day)
	type row struct {
		id     string
		until  int64
		status SigningStatus
		alert  bool
	}
	want := []row{
		{"i8", 0, SigningBroken, true}, // broken first, by name: aa-broken, expired, none, not-yet
		{"i4", 0, SigningBroken, true},
		{"i3", 0, SigningBroken, true},
		{"i7", 0, SigningBroken, true},
		{"i5", now + 2*day, SigningExpiring, false}, // disabled: rated, not alerting
		{"i2", now + 3*day, SigningExpiring, true},
		{"i0", now + 90*day, SigningOK, false}, // same horizon and name: by id
		{"i6", now + 90*day, SigningOK, false},
		{"i1", now + 90*day, SigningOK, false},
	}
	if len(got) != len(want) {
		t.Fatalf("ExpiryReport returned %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		until := g.ValidUntil
		if g.Status == SigningBroken {
			until = 0
		}
		if g.Integration.ID != w.id || until != w.until || g.Status != w.status || g.Alerting() != w.alert {
			t.Errorf("entry %d = %s until %d %s alerting=%v; want %s until %d %s alerting=%v",
				i, g.Integration.ID, until, g.Status, g.Alerting(), w.id, w.until, w.status, w.alert)
		}
	}
	if len(got[5].Certificates) != 2 {
		t.Errorf("entry for i2 carries %d certificates, want both", len(got[5].Certificates))
	}
	if r := ExpiryReport(list, now, 0); r[4].Status != SigningOK || r[4].Integration.ID != "i5" {
		t.Errorf("with a window of 0, %s is %s; want ok (only broken ones are flagged)", r[4].Integration.ID, r[4].Status)
	}
}

func TestCountSigning(t *testing.T) {
	const now = 2_000_000_000
	const day = int64(Day / time.Second)
	list := []IntegrationWindows{
		windows("broken", "", true),
		windows("expired", "", true, [3]int64{1, now - 9*day, now - 1}),
		windows("disabled-broken", "", false),
		windows("today", "", true, [3]int64{1, now - day, now}),
		windows("6d", "", true, [3]int64{1, now - day, now + 6*day}),
		windows("7d", "", true, [3]int64{1, now - day, now + 7*day}), // the first failing second is past 7 days
		windows("29d", "", true, [3]int64{1, now - day, now + 29*day}),
		windows("disabled-29d", "", false, [3]int64{1, now - day, now + 29*day}),
		windows("31d", "", true, [3]int64{1, now - day, now + 31*day}),
	}
	want := SigningCounts{Broken: 2, Within7d: 2, Within30d: 4}
	if got := CountSigning(list, now); got != want {
		t.Errorf("CountSigning = %+v, want %+v", got, want)
	}
	// Ten days on, the 29-day one is inside 7 days, and the ones before it broke.
	want = SigningCounts{Broken: 5, Within7d: 0, Within30d: 2}
	if got := CountSigning(list, now+10*day); got != want {
		t.Errorf("CountSigning ten days on = %+v, want %+v", got, want)
	}
}

func TestAppendIntegrationWindow(t *testing.T) {
	a, b := Integration{ID: "a"}, Integration{ID: "b"}
	var list []IntegrationWindows
	list = AppendIntegrationWindow(list, a, &Certificate{ID: 1})
	list = AppendIntegrationWindow(list, a, &Certificate{ID: 2})
	list = AppendIntegrationWindow(list, b, nil)
	if len(list) != 2 || len(list[0].Certificates) != 2 || list[1].Certificates == nil || len(list[1].Certificates) != 0 {
		t.Fatalf("AppendIntegrationWindow built %+v", list)
	}
}
