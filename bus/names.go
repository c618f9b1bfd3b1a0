package bus

import (
	"fmt"
	"strings"
	"unicode"
)

// CXBusName is the name under which the bus registers itself as a plugin. Commands issued and
// subscriptions made on the Bus value directly carry this commander/subscriber name.
const CXBusName = "CXBus"

// ValidatePluginName reports whether name may be registered: non-empty, without '.', '*', '>'
// or white space.
func ValidatePluginName(name string) error {
	if name == "" || strings.ContainsAny(name, ".*>") || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return errInvalidPluginName(name)
	}
	return nil
}

// validateShortCommand checks a command name as given to RegisterCommand: one token.
func validateShortCommand(name string) error {
	if name == "" || strings.ContainsAny(name, ".*>") || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return fmt.Errorf("%w: command %q (want one token without '.', '*', '>' or spaces)", ErrInvalidName, name)
	}
	return nil
}

// ResolveCommand turns a command name as written by caller into its full form and the target
// plugin. An un-dotted name means the caller's own plugin ("open" from WebChat is WebChat.open);
// a dotted name must have exactly one dot with a non-empty part on each side.
func ResolveCommand(caller, name string) (full, plugin string, err error) {
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		if validateShortCommand(name) != nil {
			return "", "", errInvalidCommandName(name)
		}
		return caller + "." + name, caller, nil
	}
	plugin, short := name[:dot], name[dot+1:]
	if ValidatePluginName(plugin) != nil || validateShortCommand(short) != nil {
		return "", "", errInvalidCommandName(name)
	}
	return name, plugin, nil
}

// validateEventName checks a short event name as given to Publish: non-empty dot-separated
// tokens, none of them a wildcard.
func validateEventName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty event name", ErrInvalidName)
	}
	for tok := range strings.SplitSeq(name, ".") {
		if tok == "" || tok == "*" || tok == ">" {
			return fmt.Errorf("%w: event %q (empty or wildcard token)", ErrInvalidName, name)
		}
	}
	return nil
}

// pattern is a parsed subscription name: an exact full event name, or a token pattern.
type pattern struct {
	exact   bool
	plugin  string   // exact: the publisher part
	event   string   // exact: the rest
	tokens  []string // pattern: '.'-separated tokens, "*" one token, ">" one or more trailing
	display string
}

// ParsePattern parses a subscription name. Exact names have the form Plugin.event (the event may
// contain more dots). Patterns use '.'-separated tokens where "*" matches exactly one token and
// ">" (last token only) matches one or more trailing tokens: "WebChatService.*", "*.ready",
// "WebChatService.>". A bare "*" matches every event (it is the same as ">").
func ParsePattern(name string) (pattern, error) {
	p := pattern{display: name}
	if name == "*" || name == ">" {
		p.tokens = []string{">"}
		return p, nil
	}
	tokens := strings.Split(name, ".")
	wild := false
	for i, tok := range tokens {
		switch {
		case tok == "":
			return p, fmt.Errorf("%w: subscription %q has an empty token", ErrInvalidName, name)
		case tok == ">":
			if i != len(tokens)-1 {
				return p, fmt.Errorf("%w: subscription %q: '>' must be the last token", ErrInvalidName, name)
			}
			wild = true
		case tok == "*":
			wild = true
		case strings.ContainsAny(tok, "*>") && i == 0:
			return p, fmt.Errorf("%w: subscription %q: wildcards must be whole tokens", ErrInvalidName, name)
		}
	}
	if wild {
		p.tokens = tokens
		return p, nil
	}
	if len(tokens) < 2 {
		return p, fmt.Errorf("%w: subscription %q: want Plugin.event or a pattern", ErrInvalidName, name)
	}
	if err := ValidatePluginName(tokens[0]); err != nil {
		return p, fmt.Errorf("%w: subscription %q: bad plugin part", ErrInvalidName, name)
	}
	p.exact = true
	p.plugin = tokens[0]
	p.event = name[len(tokens[0])+1:]
	return p, nil
}

// matches reports whether the full event name plugin+"."+event matches the token pattern,
// without building that string.
func (p *pattern) matches(plugin, event string) bool {
	if p.exact {
		return p.plugin == plugin && p.event == event
	}
	toks := p.tokens
	// First token: the plugin.
	switch toks[0] {
	case ">":
		return true
	case "*":
	default:
		if toks[0] != plugin {
			return false
		}
	}
	toks = toks[1:]
	rest := event
	for _, tok := range toks {
		if rest == "" {
			return false // the pattern wants more tokens than the name has
		}
		if tok == ">" {
			return true // one or more tokens remain
		}
		var cur string
		if dot := strings.IndexByte(rest, '.'); dot >= 0 {
			cur, rest = rest[:dot], rest[dot+1:]
			if rest == "" {
				return false
			}
		} else {
			cur, rest = rest, ""
		}
		if tok != "*" && tok != cur {
			return false
		}
	}
	return rest == ""
}

// MatchEvent reports whether the full event name matches the subscription name (exact or pattern).
// It is the matching rule the bus uses; exposed for tools that filter event names the same way.
func MatchEvent(subscription, fullEvent string) (bool, error) {
	p, err := ParsePattern(subscription)
	if err != nil {
		return false, err
	}
	dot := strings.IndexByte(fullEvent, '.')
	if dot <= 0 || dot == len(fullEvent)-1 {
		return false, nil
	}
	return p.matches(fullEvent[:dot], fullEvent[dot+1:]), nil
}
