package gms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// cometClient is a bayeux client listening on the service channel.
type cometClient struct {
	t      testing.TB
	cl     *bayeux.Client
	notes  chan *wire.Response
	states chan bayeux.StateEvent
	ch     string
}

func newComet(t testing.TB, s *Server, transport string) *cometClient {
	t.Helper()
	return newCometAck(t, s, transport, false)
}

// newCometAck: ack=true asks for the ack extension, which keeps long-polling
// deliveries in connect replies, so they arrive in order.
func newCometAck(t testing.TB, s *Server, transport string, ack bool) *cometClient {
	t.Helper()
	cc := &cometClient{t: t, notes: make(chan *wire.Response, 1000), states: make(chan bayeux.StateEvent, 100), ch: wire.ServiceChannel(svc)}
	cl, err := bayeux.NewClient(s.CometDURL(), bayeux.Options{Transports: []string{transport},
		BackoffIncrement: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, AckExtension: ack,
		OnState: func(e bayeux.StateEvent) {
			select {
			case cc.states <- e:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	cc.cl = cl
	if _, err := cl.AddListener(cc.ch, func(m *bayeux.Message) {
		r, err := wire.DecodeResponse(m.Data)
		if err != nil {
			t.Errorf("notification: %v: %s", err, m.Data)
			return
		}
		cc.notes <- r
	}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Handshake(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cc
}

func (cc *cometClient) publish(r wire.Request) {
	cc.t.Helper()
	data, err := r.MarshalCometD()
	if err != nil {
		cc.t.Fatal(err)
	}
	if _, err := cc.cl.Publish(testCtx(cc.t), cc.ch, data); err != nil {
		cc.t.Fatalf("publish %s: %v", r.Operation, err)
	}
}

func (cc *cometClient) next() *wire.Response {
	cc.t.Helper()
	select {
	case r := <-cc.notes:
		return r
	case <-time.After(15 * time.Second):
		cc.t.Fatal("no notification")
		return nil
	}
}

func (cc *cometClient) none() {
	cc.t.Helper()
	select {
	case r := <-cc.notes:
		cc.t.Fatalf("unexpected notification %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
}

// waitState waits for one of the state kinds and returns the one seen.
func (cc *cometClient) waitState(kinds ...bayeux.StateKind) bayeux.StateKind {
	cc.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case e := <-cc.states:
			if slices.Contains(kinds, e.Kind) {
				return e.Kind
			}
		case <-deadline:
			cc.t.Fatalf("no %v state", kinds)
		}
	}
}

var transportsUnderTest = []string{bayeux.TransportWebSocket, bayeux.TransportLongPolling}

func TestCometDOperations(t *testing.T) {
	for _, tr := range transportsUnderTest {
		t.Run(tr, func(t *testing.T) {
			s, _ := newSim(t, Options{})
			cc := newComet(t, s, tr)
			cc.publish(wire.Request{Operation: wire.OpRequestChat, FirstName: "Joan", LastName: "Smith", Subject: "Savings",
				UserData: map[string]string{"push_notification_deviceid": "dev1", "push_notification_type": "fcm", "key1": "v"}})
			r := cc.next()
			var k wire.Keys
			k.Apply(r)
			if r.StatusCode != 0 || len(r.Messages) != 1 || r.Messages[0].Type != wire.EventParticipantJoined || r.NextPosition != 2 || k.ChatID == "" {
				t.Fatalf("requestChat answer %+v", r)
			}
			c := s.Chat(k.ChatID)
			if c.Mode() != ModeCometD || c.CometDSession() != cc.cl.ClientID() || c.PushKeys()["push_notification_deviceid"] != "dev1" {
				t.Fatalf("chat %s %s %v", c.Mode(), c.CometDSession(), c.PushKeys())
			}

			// Unsolicited: one event per notification.
			a, _ := c.JoinAgent("Ann")
			a.Send("hello")
			for _, want := range []wire.EventType{wire.EventParticipantJoined, wire.EventMessage} {
				n := cc.next()
				if len(n.Messages) != 1 || n.Messages[0].Type != want || n.NextPosition != n.Messages[0].Index+1 || n.SecureKey != k.SecureKey {
					t.Fatalf("unsolicited %s: %+v", want, n)
				}
			}

			// Operations: the answer carries the operation's own event only (secureKey only, as ≥ 8.5.112).
			ops := []struct {
				req  wire.Request
				want wire.EventType // "" = no event
			}{
				{wire.Request{Operation: wire.OpSendMessage, Message: "Hi", MessageType: "text"}, wire.EventMessage},
				{wire.Request{Operation: wire.OpStartTyping, Message: "hel"}, wire.EventTypingStarted},
				{wire.Request{Operation: wire.OpStopTyping, Message: "hello"}, wire.EventTypingStopped},
				{wire.Request{Operation: wire.OpPushURL, PushURL: "http://www.genesys.com"}, wire.EventPushURL},
				{wire.Request{Operation: wire.OpUpdateNickname, Nickname: "MyNewNickname"}, wire.EventNicknameUpdated},
				{wire.Request{Operation: wire.OpCustomNotice, Message: "ORDER UPDATE", EventAttributes: map[string]any{"a": "b"}}, wire.EventCustomNotice},
				{wire.Request{Operation: wire.OpUpdateData, UserData: map[string]string{"key3": "value3"}}, ""},
				{wire.Request{Operation: wire.OpReadReceipt, TranscriptPosition: 3}, ""},
			}
			for _, o := range ops {
				o.req.SecureKey = k.SecureKey
				cc.publish(o.req)
				n := cc.next()
				if n.StatusCode != 0 {
					t.Fatalf("%s: %+v", o.req.Operation, n)
				}
				if o.want == "" {
					if len(n.Messages) != 0 {
						t.Fatalf("%s: events %+v", o.req.Operation, n.Messages)
					}
					continue
				}
				if len(n.Messages) != 1 || n.Messages[0].Type != o.want || n.NextPosition != n.Messages[0].Index+1 {
					t.Fatalf("%s: %+v", o.req.Operation, n)
				}
			}
			cc.none() // own events are not delivered a second time
			if c.ReadIndex() != 3 || c.UserData()["key3"] != "value3" || c.Client().Nickname != "MyNewNickname" {
				t.Fatal("operations not applied")
			}

			// requestNotifications: events ≥ transcriptPosition, all four ids accepted.
			cc.publish(wire.Request{Operation: wire.OpRequestNotifications, ChatID: k.ChatID, UserID: k.UserID, Alias: k.Alias,
				SecureKey: k.SecureKey, TranscriptPosition: 4})
			n := cc.next()
			if len(n.Messages) == 0 || n.Messages[0].Index != 4 || n.Messages[len(n.Messages)-1].Index != n.NextPosition-1 {
				t.Fatalf("requestNotifications %+v", n)
			}

			// Errors: unknown key, bad requestChat, REST-only operation.
			cc.publish(wire.Request{Operation: wire.OpSendMessage, Message: "x", SecureKey: "0000000000000000"})
			if n := cc.next(); n.StatusCode != 2 || !n.ChatEnded || n.Errors[0].Code != wire.CodeSessionNotFound {
				t.Fatalf("unknown key %+v", n)
			}
			cc.publish(wire.Request{Operation: wire.OpRequestChat})
			if n := cc.next(); n.StatusCode != 2 || n.Errors[0].Code != wire.CodeNicknameRequired {
				t.Fatalf("no name %+v", n)
			}
			if _, err := cc.cl.Publish(testCtx(t), cc.ch, map[string]any{"operation": "refresh", "secureKey": k.SecureKey}); err != nil {
				t.Fatal(err)
			}
			if n := cc.next(); n.StatusCode != 2 || n.Errors[0].Code != wire.CodeInvalidRequest {
				t.Fatalf("refresh over CometD %+v", n)
			}

			// Agent ends: the last unsolicited notification says chatEnded.
			c.End()
			if n := cc.next(); !n.ChatEnded || len(n.Messages) != 1 || n.Messages[0].Type != wire.EventParticipantLeft {
				t.Fatalf("end %+v", n)
			}
		})
	}
}

func TestCometDDisconnectAndOptions(t *testing.T) {
	s, _ := newSim(t, Options{CometDDeprecatedIDs: true, CometDMonitored: true})
	cc := newComet(t, s, bayeux.TransportWebSocket)
	cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: "J"})
	r := cc.next()
	if r.UserID != wire.Deprecated || r.ChatID != wire.Deprecated || r.Monitored == nil || *r.Monitored {
		t.Fatalf("%+v", r)
	}
	var k wire.Keys
	k.Apply(r)
	if k.ChatID != "" || k.SecureKey == "" {
		t.Fatalf("keys %v", k)
	}
	cc.publish(wire.Request{Operation: wire.OpDisconnect, SecureKey: k.SecureKey})
	n := cc.next()
	if !n.ChatEnded || n.SecureKey != "" || n.UserID != "" || len(n.Messages) != 0 || n.StatusCode != 0 {
		t.Fatalf("disconnect %+v", n)
	}
	cc.none()
	c := s.Chats()[0]
	if ended, why := c.Ended(); !ended || why != EndClient || last(c).Type != wire.EventParticipantLeft {
		t.Fatal("not ended by client")
	}
}

func TestCometDAuth(t *testing.T) {
	s, _ := newSim(t, Options{BasicAuth: &Credentials{Username: "user1", Password: "pass1"}})
	cc := newComet(t, s, bayeux.TransportLongPolling)
	for _, tt := range []struct {
		auth *wire.Auth
		ok   bool
	}{
		{nil, false},
		{&wire.Auth{Username: "user1", Password: "nope"}, false},
		{&wire.Auth{Username: "user1", Password: "pass1"}, true},
		{&wire.Auth{Encoded: "dXNlcjE6cGFzczE="}, true},
	} {
		cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: "J", Auth: tt.auth})
		n := cc.next()
		if (n.StatusCode == 0) != tt.ok || (!tt.ok && n.Errors[0].Code != wire.CodeNotAuthorized) {
			t.Fatalf("auth %v: %+v", tt.auth, n)
		}
	}
}

// TestCometDResume: the server forgets the Bayeux session; the client
// handshakes again and requestNotifications rebinds the chat and returns what
// was missed (including a dropped notification).
func TestCometDResume(t *testing.T) {
	for _, tr := range transportsUnderTest {
		t.Run(tr, func(t *testing.T) {
			s, _ := newSim(t, Options{})
			cc := newComet(t, s, tr)
			cc.waitState(bayeux.EventConnected)
			cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: "J"})
			var k wire.Keys
			k.Apply(cc.next())
			c := s.Chat(k.ChatID)
			a, _ := c.JoinAgent("Ann")
			cc.next()

			s.DropNotifications(1)
			a.Send("dropped")
			cc.none()

			old := cc.cl.ClientID()
			c.ForgetCometD()
			cc.waitState(bayeux.EventReestablished)
			if c.CometDSession() != "" {
				t.Fatal("chat still bound to the forgotten session")
			}
			a.Send("while away") // nobody bound: kept for requestNotifications
			nk := c.MoveChatServer(MoveOptions{})
			cc.publish(wire.Request{Operation: wire.OpRequestNotifications, SecureKey: k.SecureKey, TranscriptPosition: 3})
			n := cc.next()
			if len(n.Messages) != 2 || n.Messages[0].Text != "dropped" || n.Messages[1].Text != "while away" ||
				n.SecureKey != nk.SecureKey || n.Alias != nk.Alias {
				t.Fatalf("resume answer %+v", n)
			}
			if c.CometDSession() == old || c.CometDSession() != cc.cl.ClientID() {
				t.Fatal("not rebound")
			}
			a.Send("after")
			if n := cc.next(); n.Messages[0].Text != "after" {
				t.Fatalf("%+v", n)
			}
		})
	}
}

func TestCometDDropConnection(t *testing.T) {
	s, _ := newSim(t, Options{})
	cc := newComet(t, s, bayeux.TransportWebSocket)
	cc.waitState(bayeux.EventConnected)
	cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: "J"})
	var k wire.Keys
	k.Apply(cc.next())
	c := s.Chat(k.ChatID)
	c.DropCometD()
	// Back on a new socket; under load the server may have expired the session meanwhile, and
	// the client re-handshakes (reestablished) instead of reconnecting: then, as a GMS client
	// does, it binds the new session to the chat with requestNotifications.
	if cc.waitState(bayeux.EventReconnected, bayeux.EventReestablished) == bayeux.EventReestablished {
		cc.publish(wire.Request{Operation: wire.OpRequestNotifications, SecureKey: k.SecureKey, TranscriptPosition: 2})
		cc.next()
	}
	a, _ := c.JoinAgent("Ann")
	_ = a
	if n := cc.next(); n.Messages[0].Type != wire.EventParticipantJoined {
		t.Fatalf("%+v", n)
	}
	s.ChatServerOffline(1)
	cc.publish(wire.Request{Operation: wire.OpSendMessage, Message: "x", SecureKey: k.SecureKey})
	if n := cc.next(); n.StatusCode != 1 {
		t.Fatalf("offline %+v", n)
	}
}

// TestCometDOrdering: agent events and operation answers interleave, yet the
// client sees strictly increasing indexes and every event exactly once. Over
// long-polling this needs the ack extension: without it deliveries travel in
// publish replies and connect replies, two HTTP responses the client may
// process in either order.
func TestCometDOrdering(t *testing.T) {
	for _, tr := range transportsUnderTest {
		t.Run(tr, func(t *testing.T) {
			s, _ := newSim(t, Options{})
			cc := newCometAck(t, s, tr, tr == bayeux.TransportLongPolling)
			cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: "J"})
			var k wire.Keys
			k.Apply(cc.next())
			c := s.Chat(k.ChatID)
			a, _ := c.JoinAgent("Ann")
			const n = 40
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := 0; i < n; i++ {
					a.Send(fmt.Sprint("agent ", i))
				}
			}()
			go func() {
				defer wg.Done()
				for i := 0; i < n; i++ {
					data, _ := (&wire.Request{Operation: wire.OpSendMessage, Message: fmt.Sprint("client ", i), SecureKey: k.SecureKey}).MarshalCometD()
					if _, err := cc.cl.Publish(context.Background(), cc.ch, data); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			wg.Wait()
			lastIdx, seen := 1, 0
			for seen < 2*n+1 {
				r := cc.next()
				for _, e := range r.Messages {
					if e.Index <= lastIdx {
						t.Fatalf("index %d after %d", e.Index, lastIdx)
					}
					lastIdx = e.Index
					seen++
				}
			}
			cc.none()
		})
	}
}

func TestCometDBadData(t *testing.T) {
	s, _ := newSim(t, Options{})
	cc := newComet(t, s, bayeux.TransportWebSocket)
	for _, data := range []any{"not an object", map[string]any{"operation": "explode"}, map[string]any{"operation": "sendMessage", "transcriptPosition": "x"}} {
		if _, err := cc.cl.Publish(testCtx(t), cc.ch, data); err != nil {
			t.Fatal(err)
		}
		if n := cc.next(); n.StatusCode != 2 || n.Errors[0].Code != wire.CodeInvalidRequest {
			t.Fatalf("%v: %+v", data, n)
		}
	}
	// A subscribe to the service channel is accepted.
	if _, err := cc.cl.Subscribe(testCtx(t), cc.ch, func(*bayeux.Message) {}); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("subscribe: %v", err)
	}
}
