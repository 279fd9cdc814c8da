package ssod_test

import (
	"testing"

	"github.com/ssod/ssod"
)

func TestNextExpiryEvent(t *testing.T) {
	const now, day = int64(1_800_000_000), int64(86400)
	cert := func(notAfter int64, enabled bool) ssod.Certificate {
		return ssod.Certificate{Enabled: enabled, X509: ssod.X509{NotBefore: now - 100*day, NotAfter: notAfter}}
	}
	expiring := func(d int) ssod.ExpiryMark { return ssod.ExpiryMark{Event: ssod.EventSigningExpiring, DaysLeft: d} }
	broken := ssod.ExpiryMark{Event: ssod.EventSigningBroken}
	renewed := ssod.ExpiryMark{Event: ssod.EventSigningRenewed}
	for _, tc := range []struct {
		name      string
		certs     []ssod.Certificate
		sent      []ssod.ExpiryMark
		wantEvent string // "" for none
		wantDays  int
	}{
		{"far away", []ssod.Certificate{cert(now+200*day, true)}, nil, "", 0},
		{"just inside 90 days", []ssod.Certificate{cert(now+90*day, true)}, nil, ssod.EventSigningExpiring, 90},
		{"first seen within 7: only 7", []ssod.Certificate{cert(now+5*day, true)}, nil, ssod.EventSigningExpiring, 7},
		{"7 already sent", []ssod.Certificate{cert(now+5*day, true)}, []ssod.ExpiryMark{expiring(90), expiring(7)}, "", 0},
		{"90 sent, now within 30", []ssod.Certificate{cert(now+29*day, true)}, []ssod.ExpiryMark{expiring(90)}, ssod.EventSigningExpiring, 30},
		{"last day", []ssod.Certificate{cert(now+3600, true)}, []ssod.ExpiryMark{expiring(7)}, ssod.EventSigningExpiring, 1},
		{"expired", []ssod.Certificate{cert(now-1, true)}, []ssod.ExpiryMark{expiring(1)}, ssod.EventSigningBroken, 0},
		{"expired, never warned", []ssod.Certificate{cert(now-1, true)}, nil, ssod.EventSigningBroken, 0},
		{"only disabled certificates", []ssod.Certificate{cert(now+200*day, false)}, nil, ssod.EventSigningBroken, 0},
		{"no certificate, never warned", nil, nil, "", 0},
		{"certificates deleted after a warning", nil, []ssod.ExpiryMark{expiring(30)}, ssod.EventSigningBroken, 0},
		{"broken sent once", nil, []ssod.ExpiryMark{expiring(30), broken}, "", 0},
		{"new certificate after 7", []ssod.Certificate{cert(now+5*day, true), cert(now+365*day, true)}, []ssod.ExpiryMark{expiring(90), expiring(7)}, ssod.EventSigningRenewed, 0},
		{"new certificate after broken", []ssod.Certificate{cert(now+20*day, true)}, []ssod.ExpiryMark{broken}, ssod.EventSigningRenewed, 0},
		{"moved out but not past the threshold sent", []ssod.Certificate{cert(now+80*day, true)}, []ssod.ExpiryMark{expiring(90)}, "", 0},
		{"new window after renewal fires again", []ssod.Certificate{cert(now+20*day, true)}, []ssod.ExpiryMark{renewed}, ssod.EventSigningExpiring, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ssod.ExpiryWatch{AccountID: 1, IntegrationID: "i", Epoch: 3, Sent: tc.sent, Certificates: tc.certs}
			ev, ok := ssod.NextExpiryEvent(w, now)
			if tc.wantEvent == "" {
				if ok {
					t.Fatalf("got %s %d, want none", ev.Event, ev.DaysLeft)
				}
				return
			}
			if !ok || ev.Event != tc.wantEvent || ev.DaysLeft != tc.wantDays {
				t.Fatalf("got %q %d (%v), want %s %d", ev.Event, ev.DaysLeft, ok, tc.wantEvent, tc.wantDays)
			}
			if ev.Epoch != 3 || ev.Timestamp != now || ev.IntegrationID != "i" || ev.AccountID != 1 {
				t.Errorf("event %+v does not carry the watch's identity and now", ev)
			}
			if h, ok := ssod.SigningHorizon(tc.certs, now); ok != (ev.SigningValidUntil != nil) || ok && *ev.SigningValidUntil != h {
				t.Errorf("signing_valid_until %v, horizon %d %v", ev.SigningValidUntil, h, ok)
			}
		})
	}
}
