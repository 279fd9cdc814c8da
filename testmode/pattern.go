package testmode

import "strings"

// matchPath reports whether path matches pattern: a literal path, or a
// route pattern as the API's table spells it, where a segment {name}
// matches any one non-empty segment and {name...} the rest of the path.
func matchPath(pattern, path string) bool {
	if pattern == path {
		return true
	}
	for {
		pseg, prest, pmore := strings.Cut(strings.TrimPrefix(pattern, "/"), "/")
		seg, rest, more := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		wild := strings.HasPrefix(pseg, "{") && strings.HasSuffix(pseg, "}")
		switch {
		case wild && strings.HasSuffix(pseg, "...}"):
			return true
		case wild && seg == "":
			return false
		case !wild && pseg != seg:
			return false
		}
		if pmore != more {
			return false
		}
		if !more {
			return true
		}
		pattern, path = "/"+prest, "/"+rest
	}
}
