package ssod

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
