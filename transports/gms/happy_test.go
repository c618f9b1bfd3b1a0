package gms

import (
	"errors"
	"testing"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

func TestHappyPath(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, _, c, chat := startModeChat(t, mk, simgms.Options{HexParticipantIDs: true})
		if got := chat.UserData()["customerId"]; got != "42" {
			t.Errorf("userData customerId = %q, want 42 (JSON-encoded number)", got)
		}
		evs := c.rec.Events()
		if evs[0].Kind != transports.EventConnected {
			t.Fatalf("first event %v, want connected", evs[0])
		}

		ann, err := chat.JoinAgent("Ann")
		if err != nil {
			t.Fatal(err)
		}
		if err := ann.Typing(true, "Hel"); err != nil {
			t.Fatal(err)
		}
		if err := ann.Send("Hello Joan"); err != nil {
			t.Fatal(err)
		}
		evs = c.rec.WaitFor(t, "agent message", msgWith(transports.TypeMessage, transports.ParticipantAgent, "Hello Joan"))
		var typing *transports.Typing
		for _, e := range evs {
			if e.Kind == transports.EventTyping {
				typing = e.Typing
			}
		}
		if typing == nil || typing.State != transports.TypingStarted || typing.From.Name != "Ann" || typing.From.ID != ann.ParticipantID() || typing.Preview != "Hel" {
			t.Fatalf("typing event = %+v", typing)
		}
		for _, m := range messages(evs) {
			if m.From.Type == transports.ParticipantAgent && m.From.ID != ann.ParticipantID() {
				t.Fatalf("agent id %q, want the hex string %q", m.From.ID, ann.ParticipantID())
			}
		}

		if err := c.Typing(ctx, "I have a q", true); err != nil {
			t.Fatal(err)
		}
		if err := c.Typing(ctx, "I have a question", false); err != nil {
			t.Fatal(err)
		}
		sent, err := c.Send(ctx, transports.Outgoing{Text: "I have a question", ParentMessageID: "00048aAPEQJ8000U:3"})
		if err != nil {
			t.Fatal(err)
		}
		if sent.Index == 0 || sent.ID != chat.ID()+":"+itoa(sent.Index) || sent.Deduplicated || len(sent.Answer) == 0 {
			t.Fatalf("Sent = %+v", sent)
		}
		if _, err := c.SendCustomNotice(ctx, "ORDER UPDATE", map[string]any{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		if err := c.UpdateUserData(ctx, map[string]any{"cart": []int{1, 2}, "tier": "gold"}); err != nil {
			t.Fatal(err)
		}
		if err := c.UpdateNickname(ctx, "Joanna"); err != nil {
			t.Fatal(err)
		}
		if err := c.PushURL(ctx, "https://example.com/offer"); err != nil {
			t.Fatal(err)
		}
		if err := c.ReadReceipt(ctx, sent.Index); err != nil {
			t.Fatal(err)
		}
		c.rec.WaitFor(t, "own events", func(evs []transports.Event) bool {
			return hasMessage(evs, transports.TypeMessage, transports.ParticipantClient, "I have a question") &&
				hasMessage(evs, transports.TypeCustomNotice, transports.ParticipantClient, "ORDER UPDATE") &&
				hasMessage(evs, transports.TypeNicknameUpdated, transports.ParticipantClient, "Joanna") &&
				hasMessage(evs, transports.TypePushURL, transports.ParticipantClient, "https://example.com/offer")
		})
		if ud := chat.UserData(); ud["tier"] != "gold" || ud["cart"] != "[1,2]" {
			t.Errorf("sim userData = %v", ud)
		}
		if chat.ReadIndex() != int(sent.Index) {
			t.Errorf("read index %d, want %d", chat.ReadIndex(), sent.Index)
		}
		var parent any
		for _, e := range chat.Transcript() {
			if e.Type == wire.EventMessage && e.Text == "I have a question" {
				gp, _ := e.EventAttributes["general-properties"].(map[string]any)
				parent = gp["related-event-id"]
			}
		}
		if parent != "00048aAPEQJ8000U:3" {
			t.Errorf("related-event-id = %v", parent)
		}
		var typings []string
		for _, e := range chat.Transcript() {
			if e.From != nil && e.From.Type == wire.PartyClient && (e.Type == wire.EventTypingStarted || e.Type == wire.EventTypingStopped) {
				typings = append(typings, string(e.Type)+":"+e.Text)
			}
		}
		if len(typings) != 2 || typings[0] != "TypingStarted:I have a q" || typings[1] != "TypingStopped:I have a question" {
			t.Errorf("client typing on the wire = %v", typings)
		}

		waitIndex(t, c, chat)
		cur := c.Cursor()
		if last := chat.Transcript(); cur.Index != int64(last[len(last)-1].Index) {
			t.Errorf("cursor %+v, last index %d", cur, last[len(last)-1].Index)
		}
		if err := c.End(ctx); err != nil {
			t.Fatalf("End: %v", err)
		}
		evs = c.rec.WaitClosed(t)
		lastEv := evs[len(evs)-1]
		if lastEv.Kind != transports.EventEnded || lastEv.Reason != transports.EndedByClient {
			t.Fatalf("last event %v, want ended(client)", lastEv)
		}
		if n := count(evs, transports.EventEnded); n != 1 {
			t.Fatalf("%d ended events", n)
		}
		if ended, why := chat.Ended(); !ended || why != simgms.EndClient {
			t.Fatalf("sim chat ended=%v reason=%v", ended, why)
		}
		checkTranscript(t, c, chat)
		if _, err := c.Send(ctx, transports.Outgoing{Text: "late"}); !errors.Is(err, transports.ErrSessionEnded) {
			t.Fatalf("Send after end: %v", err)
		}
		if err := c.End(ctx); !errors.Is(err, transports.ErrSessionEnded) {
			t.Fatalf("End after end: %v", err)
		}
	})
}
