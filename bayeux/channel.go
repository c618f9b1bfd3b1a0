package bayeux

import (
	"fmt"
	"strings"
)

// IsMetaChannel reports whether ch is a /meta/** channel.
func IsMetaChannel(ch string) bool { return ch == "/meta" || strings.HasPrefix(ch, "/meta/") }

// IsServiceChannel reports whether ch is a /service/** channel.
func IsServiceChannel(ch string) bool { return ch == "/service" || strings.HasPrefix(ch, "/service/") }

// IsWildcard reports whether ch ends with a "*" or "**" segment.
func IsWildcard(ch string) bool { return strings.HasSuffix(ch, "/*") || strings.HasSuffix(ch, "/**") }

// ValidateChannel checks a channel name or pattern: "/" segment *("/" segment), segments
// made of letters, digits, space and !#$()*+-.@_{~}, and wildcards ("*" or "**") only as
// the whole last segment.
func ValidateChannel(ch string) error {
	if ch == "" {
		return fmt.Errorf("%w: empty", ErrBadChannel)
	}
	if ch[0] != '/' {
		return fmt.Errorf("%w %q: must start with /", ErrBadChannel, ch)
	}
	segs := strings.Split(ch[1:], "/")
	for i, s := range segs {
		if s == "" {
			return fmt.Errorf("%w %q: empty segment", ErrBadChannel, ch)
		}
		if s == "*" || s == "**" {
			if i != len(segs)-1 {
				return fmt.Errorf("%w %q: wildcard only allowed as the last segment", ErrBadChannel, ch)
			}
			if i == 0 {
				return fmt.Errorf("%w %q: wildcard needs a parent segment", ErrBadChannel, ch)
			}
			continue
		}
		for _, r := range s {
			if !channelRune(r) {
				return fmt.Errorf("%w %q: character %q not allowed", ErrBadChannel, ch, r)
			}
		}
		if strings.Contains(s, "*") {
			return fmt.Errorf("%w %q: '*' only allowed as a whole segment", ErrBadChannel, ch)
		}
	}
	return nil
}

func channelRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune(" !#$()*+-.@_{~}", r)
}

// MatchChannel reports whether channel matches pattern: an exact name, "/a/*" (one more
// segment) or "/a/**" (one or more segments).
func MatchChannel(pattern, channel string) bool {
	switch {
	case strings.HasSuffix(pattern, "/**"):
		prefix := pattern[:len(pattern)-2] // keeps the trailing "/"
		return len(channel) > len(prefix) && strings.HasPrefix(channel, prefix)
	case strings.HasSuffix(pattern, "/*"):
		prefix := pattern[:len(pattern)-1]
		if len(channel) <= len(prefix) || !strings.HasPrefix(channel, prefix) {
			return false
		}
		return !strings.Contains(channel[len(prefix):], "/")
	default:
		return pattern == channel
	}
}
