package ssod

// Severities order what NextExpiryEvent compares: nothing crossed, each
// threshold from the widest to the tightest, broken.
const (
	severityNone   = 0
	severityBroken = len(ExpiryThresholds) + 1
)

// thresholdSeverity is the tightest threshold crossed with left seconds to
// go: 1 for 90 days … 4 for 1 day, 0 for none.
func thresholdSeverity(left int64) int {
	sev := severityNone
	for i, d := range ExpiryThresholds {
		if left <= int64(d)*86400 {
			sev = i + 1
		}
	}
	return sev
}

// markSeverity ranks an event already queued; a renewed event ranks as
// nothing, since it opens a window in which nothing has been sent yet.
func markSeverity(m ExpiryMark) int {
	switch m.Event {
	case EventSigningBroken:
		return severityBroken
	case EventSigningExpiring:
		for i, d := range ExpiryThresholds {
			if d == m.DaysLeft {
				return i + 1
			}
		}
	}
	return severityNone
}

// NextExpiryEvent is the one event w calls for at now (Unix seconds), if
// any; the caller fills in EventID. The rules (README, "Expiry webhook"):
//   - Only the tightest threshold crossed is sent, and only when it is
//     tighter than every event already sent in the window: an integration
//     first seen 5 days from its horizon gets one 7-day event, not 90, 30
//     and 7.
//   - Broken is sent once the horizon has passed or no enabled, started
//     certificate remains, but not for an integration that has no
//     certificate and was never warned of: one being set up is not broken.
//   - When the horizon has moved out past the tightest event sent, renewed
//     is sent; storing it starts a new window (Epoch+1), in which the
//     thresholds fire again, starting with the one the new horizon is
//     already within.
func NextExpiryEvent(w ExpiryWatch, now int64) (ExpiryEvent, bool) {
	horizon, ok := SigningHorizon(w.Certificates, now)
	cur := severityBroken
	if ok {
		cur = thresholdSeverity(horizon - now)
	}
	sent := severityNone
	for _, m := range w.Sent {
		sent = max(sent, markSeverity(m))
	}
	ev := ExpiryEvent{AccountID: w.AccountID, IntegrationID: w.IntegrationID, Epoch: w.Epoch, Timestamp: now}
	if ok {
		ev.SigningValidUntil = &horizon
	}
	switch {
	case cur > sent && cur == severityBroken:
		if len(w.Certificates) == 0 && sent == severityNone {
			return ExpiryEvent{}, false
		}
		ev.Event = EventSigningBroken
	case cur > sent:
		ev.Event, ev.DaysLeft = EventSigningExpiring, ExpiryThresholds[cur-1]
	case cur < sent:
		ev.Event = EventSigningRenewed
	default:
		return ExpiryEvent{}, false
	}
	return ev, true
}
