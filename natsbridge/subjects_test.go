package natsbridge

import (
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	s := Subjects{Prefix: "webchat"}
	cases := []struct {
		subject, session, command string
		ok                        bool
	}{
		{"webchat.abc.cmd.WebChatService.sendMessage", "abc", "WebChatService.sendMessage", true},
		{"webchat.abc.cmd.WebChatService", "", "", false},
		{"webchat.abc.cmd.WebChatService.a.b", "", "", false},
		{"webchat.abc.evt.WebChatService.ready", "", "", false},
		{"other.abc.cmd.A.b", "", "", false},
		{"webchat..cmd.A.b", "", "", false},
		{"webchat.abc.cmd..b", "", "", false},
		{"webchat", "", "", false},
	}
	for _, c := range cases {
		session, command, err := s.ParseCommand(c.subject)
		if (err == nil) != c.ok || session != c.session || command != c.command {
			t.Errorf("%q: %q %q %v", c.subject, session, command, err)
		}
	}
	if !validPrefix("a.b") || validPrefix("a..b") || validPrefix("a.*") || validPrefix("") || validToken("a b") {
		t.Fatal("prefix/token validation")
	}
}

// FuzzParseCommand: subject parsing never panics and round-trips what it accepts.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"webchat.abc.cmd.WebChatService.sendMessage", "webchat..cmd.A.b", "webchat.x.cmd.A.b.c", ""} {
		f.Add(s)
	}
	s := Subjects{Prefix: "webchat"}
	f.Fuzz(func(t *testing.T, subject string) {
		session, command, err := s.ParseCommand(subject)
		if err != nil {
			return
		}
		if s.Command(session, command) != subject || strings.Count(command, ".") != 1 {
			t.Fatalf("%q parsed to %q %q", subject, session, command)
		}
	})
}
