package purecloud_test

import (
	"errors"
	"strings"
	"testing"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
)

func TestHappyPath(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	tr, rec := newClient(t, baseConfig(srv.URL))
	conv := startChat(t, ctx, srv, tr, rec)

	evs := rec.Events()
	first := messages(evs)[0]
	if first.Type != transports.TypeParticipantJoined || first.From.Type != transports.ParticipantClient || first.From.Name != "Joan" || !first.Synthetic {
		t.Fatalf("first message = %+v, want the synthetic client join", first)
	}
	for _, m := range messages(evs) {
		if m.Type == transports.TypeParticipantJoined && m.From.Type == transports.ParticipantAgent {
			if m.From.Name != "Alex" || m.From.Avatar == "" || m.From.ID != conv.AgentID() {
				t.Fatalf("agent join from = %+v", m.From)
			}
		}
		if m.From.Type == transports.ParticipantExternal || m.From.Type == transports.ParticipantSystem {
			t.Fatalf("ACD member leaked: %+v", m)
		}
	}

	sent, err := tr.Send(ctx, transports.Outgoing{Text: "hello"})
	if err != nil || sent.ID == "" {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	rec.WaitFor(t, "own message", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom("hello", transports.ParticipantClient))
	})

	if _, err := conv.Say("Hi Joan, how can I help?", simpc.SayOptions{Typing: true}); err != nil {
		t.Fatal(err)
	}
	evs = rec.WaitFor(t, "agent message", func(evs []transports.Event) bool {
		return hasMessage(evs, textFrom("Hi Joan, how can I help?", transports.ParticipantAgent))
	})
	var states []transports.TypingState
	for _, e := range evs {
		if e.Kind == transports.EventTyping {
			states = append(states, e.Typing.State)
			if e.Typing.From.Type != transports.ParticipantAgent || e.Typing.From.Name != "Alex" {
				t.Fatalf("typing from %+v", e.Typing.From)
			}
		}
	}
	if len(states) != 2 || states[0] != transports.TypingStarted || states[1] != transports.TypingStopped {
		t.Fatalf("typing states %v, want [started stopped]", states)
	}
	if err := tr.Typing(ctx, "I am typ", true); err != nil {
		t.Fatal(err)
	}
	if c := tr.Cursor(); c.ID == "" {
		t.Fatal("cursor did not move")
	}
	sd := tr.SessionData()
	if sd.Get("lastMessageId") != tr.Cursor().ID || strings.Contains(sd.String(), sd.Get("jwt")) {
		t.Fatalf("session data %v", sd)
	}
	checkTranscript(t, conv, rec, true)

	if err := tr.End(ctx); err != nil {
		t.Fatal(err)
	}
	ev := rec.WaitKind(t, transports.EventEnded)
	if ev.Reason != transports.EndedByClient {
		t.Fatalf("ended reason %q, want client", ev.Reason)
	}
	<-rec.Done()
	if ended, why := conv.Ended(); !ended || why != simpc.EndByGuest {
		t.Fatalf("simulator: ended=%v reason=%v", ended, why)
	}
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "late"}); !errors.Is(err, transports.ErrSessionEnded) {
		t.Fatalf("Send after end: %v", err)
	}
	if err := tr.End(ctx); !errors.Is(err, transports.ErrSessionEnded) {
		t.Fatalf("End after end: %v", err)
	}
}
