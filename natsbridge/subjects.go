package natsbridge

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the first token of every subject.
const DefaultPrefix = "webchat"

// Subjects builds and parses the bridge's subjects for one prefix:
//
//	<prefix>.sessions.open | .close | .list        session management (request-reply)
//	<prefix>.<session>.cmd.<Plugin>.<command>       a bus command (request-reply, JSON options)
//	<prefix>.<session>.evt.<Plugin>.<event...>      the session's bus events
//	<prefix>.node.<node>.cmd.<session>.<P>.<c>      a command forwarded to the owning node
type Subjects struct{ Prefix string }

// Open, Close and List are the session management subjects.
func (s Subjects) Open() string  { return s.Prefix + ".sessions.open" }
func (s Subjects) Close() string { return s.Prefix + ".sessions.close" }
func (s Subjects) List() string  { return s.Prefix + ".sessions.list" }

// Command is the subject of a command ("WebChatService.sendMessage") of a session.
func (s Subjects) Command(session, command string) string {
	return s.Prefix + "." + session + ".cmd." + command
}

// Event is the subject of a full event name ("WebChatService.messageReceived") of a session.
func (s Subjects) Event(session, event string) string {
	return s.Prefix + "." + session + ".evt." + event
}

// Events is the wildcard for every event of a session ("*" for all sessions).
func (s Subjects) Events(session string) string { return s.Prefix + "." + session + ".evt.>" }

// StoredEvent is the subject of the event stream's copy of a session event,
// <prefix>.stored.<session>.evt.<Plugin>.<event> (see EventStream); not for live subscribers.
func (s Subjects) StoredEvent(session, event string) string {
	return s.Prefix + ".stored." + session + ".evt." + event
}

// StoredEvents matches the event stream's copies of a session's events ("*": every session).
func (s Subjects) StoredEvents(session string) string {
	return s.Prefix + ".stored." + session + ".evt.>"
}

// AllCommands is the wildcard the command endpoint listens on.
func (s Subjects) AllCommands() string { return s.Prefix + ".*.cmd.>" }

// Node is the subject prefix of commands forwarded to a node.
func (s Subjects) Node(node string) string { return s.Prefix + ".node." + node + ".cmd" }

// ParseCommand splits a command subject into the session id and the full command name
// (Plugin.command). It fails for anything else, naming what is wrong.
func (s Subjects) ParseCommand(subject string) (session, command string, err error) {
	rest, ok := strings.CutPrefix(subject, s.Prefix+".")
	if !ok {
		return "", "", fmt.Errorf("%w: %q does not start with %q", ErrBadSubject, subject, s.Prefix+".")
	}
	session, rest, ok = strings.Cut(rest, ".")
	if !ok || session == "" {
		return "", "", fmt.Errorf("%w: %q has no session token", ErrBadSubject, subject)
	}
	rest, ok = strings.CutPrefix(rest, "cmd.")
	if !ok {
		return "", "", fmt.Errorf("%w: %q is not a command subject", ErrBadSubject, subject)
	}
	plugin, cmd, ok := strings.Cut(rest, ".")
	if !ok || plugin == "" || cmd == "" || strings.Contains(cmd, ".") {
		return "", "", fmt.Errorf("%w: %q: want <prefix>.<session>.cmd.<Plugin>.<command>", ErrBadSubject, subject)
	}
	return session, plugin + "." + cmd, nil
}

// validToken reports whether s can be one subject token (no '.', wildcards or white space).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' || c == '*' || c == '>' || c <= ' ' || c == 0x7f:
			return false
		}
	}
	return true
}

// validPrefix reports whether p is one or more valid tokens.
func validPrefix(p string) bool {
	for tok := range strings.SplitSeq(p, ".") {
		if !validToken(tok) {
			return false
		}
	}
	return p != ""
}
