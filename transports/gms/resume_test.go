package gms

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
)

// TestResume: a transport closed mid-chat (process restart) is replaced by a
// new one resumed from the persisted SessionData and Cursor; it delivers
// exactly what came after the cursor.
func TestResume(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, s, c, chat := startModeChat(t, mk, simgms.Options{})
		ann, _ := chat.JoinAgent("Ann")
		ann.Send("one")
		c.rec.WaitFor(t, "one", msgWith(transports.TypeMessage, transports.ParticipantAgent, "one"))
		// Persist as a store would (JSON), then "crash".
		raw, err := json.Marshal(c.SessionData())
		if err != nil {
			t.Fatal(err)
		}
		cur := c.Cursor()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		evs := c.rec.WaitClosed(t)
		if count(evs, transports.EventEnded) != 0 {
			t.Fatal("Close reported an end")
		}
		if ended, _ := chat.Ended(); ended {
			t.Fatal("Close ended the chat on the server")
		}
		ann.Send("two")
		ann.Send("three")

		var sd transports.SessionData
		if err := json.Unmarshal(raw, &sd); err != nil {
			t.Fatal(err)
		}
		c2 := newClient(t, mk(s))
		if err := c2.Resume(ctx, sd, cur); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		evs = c2.rec.WaitFor(t, "three", msgWith(transports.TypeMessage, transports.ParticipantAgent, "three"))
		if evs[0].Kind != transports.EventConnected {
			t.Fatalf("first event %v", evs[0])
		}
		for _, m := range messages(evs) {
			if m.Index <= cur.Index {
				t.Fatalf("replayed index %d (cursor %d)", m.Index, cur.Index)
			}
		}
		if _, err := c2.Send(ctx, transports.Outgoing{Text: "resumed"}); err != nil {
			t.Fatal(err)
		}
		waitIndex(t, c2, chat)
		got := messages(c2.rec.Events())
		if got[0].Index != cur.Index+1 {
			t.Fatalf("first resumed index %d, want %d", got[0].Index, cur.Index+1)
		}
	})
}

// TestResumeEnded: resuming a chat that ended meanwhile fails with
// ErrSessionEnded and leaves the transport unstarted.
func TestResumeEnded(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx, s, c, chat := startModeChat(t, mk, simgms.Options{})
		sd, cur := c.SessionData(), c.Cursor()
		c.Close()
		chat.End()
		c2 := newClient(t, mk(s))
		err := c2.Resume(ctx, sd, cur)
		if !errors.Is(err, transports.ErrSessionEnded) {
			t.Fatalf("Resume: %v, want ErrSessionEnded", err)
		}
		if err := c2.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestResumeOffline: a resume answered statusCode 1 keeps the session and
// reports the Chat Server offline at once (restoredOffline); it comes back.
func TestResumeOffline(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	c := newClient(t, restConfig(s))
	chat := c.startChat(t, ctx, s)
	sd, cur := c.SessionData(), c.Cursor()
	c.Close()
	s.ChatServerOffline(1)
	c2 := newClient(t, restConfig(s))
	if err := c2.Resume(ctx, sd, cur); err != nil {
		t.Fatal(err)
	}
	ann, _ := chat.JoinAgent("Ann")
	ann.Send("back")
	c2.rec.WaitFor(t, "back", msgWith(transports.TypeMessage, transports.ParticipantAgent, "back"))
	c2.rec.WaitFor(t, "online", hasKind(transports.EventServerOnline))
	evs := c2.rec.Events()
	onceEach(t, evs, transports.EventServerOffline, transports.EventServerOnline)
}

// TestResumeBadSessionData: missing keys or another transport's data.
func TestResumeBadSessionData(t *testing.T) {
	s := startSim(t, simgms.Options{})
	for _, sd := range []transports.SessionData{
		{},
		{Transport: transports.TypePureCloud, Values: map[string]string{KeySessionID: "a", KeySecureKey: "b"}},
		{Transport: transports.TypeGMS, Values: map[string]string{KeySessionID: "a"}},
	} {
		c := newClient(t, restConfig(s))
		if err := c.Resume(testCtx(t), sd, transports.Cursor{}); !errors.Is(err, transports.ErrInvalidConfig) {
			t.Errorf("Resume(%v) = %v", sd, err)
		}
	}
}

// TestAsyncHistory: an asynchronous CometD chat resumed without a cursor
// delivers the last page; fetchHistory pages backwards to the start.
func TestAsyncHistory(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	cfg := cometConfig(s, true)
	cfg.Async = AsyncConfig{Enabled: true, MaxMessagePageSize: 5}
	c := newClient(t, cfg)
	if !c.Capabilities().Async || !c.Capabilities().History {
		t.Fatalf("capabilities %+v", c.Capabilities())
	}
	chat := c.startChat(t, ctx, s)
	if chat.UserData()[AsyncModeKey] != "true" {
		t.Fatalf("userData %v", chat.UserData())
	}
	if _, err := c.FetchHistory(ctx); !errors.Is(err, transports.ErrNoMoreMessages) {
		t.Fatalf("history of a new chat: %v", err)
	}
	ann, _ := chat.JoinAgent("Ann")
	for i := 0; i < 11; i++ {
		ann.Send(fmt.Sprint("m", i))
	}
	waitIndex(t, c, chat)
	sd := c.SessionData()
	c.Close()
	last := int64(chat.Transcript()[len(chat.Transcript())-1].Index) // 13: join, agent join, 11 messages

	c2 := newClient(t, cfg)
	if err := c2.Resume(ctx, sd, transports.Cursor{}); err != nil {
		t.Fatal(err)
	}
	evs := c2.rec.WaitFor(t, "tail", func(evs []transports.Event) bool { return len(messages(evs)) >= 5 })
	tail := messages(evs)
	if len(tail) != 5 || tail[0].Index != last-4 || tail[4].Index != last {
		t.Fatalf("tail %v", indexes(tail))
	}
	var pages [][]int64
	for {
		p, err := c2.FetchHistory(ctx)
		if errors.Is(err, transports.ErrNoMoreMessages) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, indexes(p.Messages))
		if len(pages) > 5 {
			t.Fatal("history does not end")
		}
	}
	want := fmt.Sprint([][]int64{{4, 5, 6, 7, 8}, {1, 2, 3}})
	if fmt.Sprint(pages) != want {
		t.Fatalf("pages %v, want %v", pages, want)
	}
	// History pages never reach the live stream.
	if n := len(messages(c2.rec.Events())); n != 5 {
		t.Fatalf("%d live messages after history", n)
	}
}

// TestHistoryRejections: REST and non-async chats have no history.
func TestHistoryRejections(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	for _, cfg := range []Config{restConfig(s), cometConfig(s, true)} {
		c := newClient(t, cfg)
		if _, err := c.FetchHistory(ctx); !errors.Is(err, transports.ErrHistoryAsyncOnly) {
			t.Fatalf("before start: %v", err)
		}
		c.startChat(t, ctx, s)
		if _, err := c.FetchHistory(ctx); !errors.Is(err, transports.ErrHistoryAsyncOnly) {
			t.Fatalf("%s: %v", c.Mode(), err)
		}
	}
	c := newClient(t, restConfig(s))
	if _, err := c.Start(ctx, transports.StartRequest{Nickname: "x", Async: true}); !errors.Is(err, ErrAsyncOnlyCometD) {
		t.Fatalf("async start in REST: %v", err)
	}
}

func indexes(ms []transports.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Index
	}
	return out
}
