package gms

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cxbus/webchat/bayeux"
	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// benchChat starts a simulator and a chat with a few events through tr.
func benchChat(b *testing.B, cfg func(*simgms.Server) Config) (*client, *simgms.Server, *simgms.Chat) {
	b.Helper()
	s := startSim(b, simgms.Options{})
	c := newClient(b, cfg(s))
	sd, err := c.Start(context.Background(), transports.StartRequest{Nickname: "Joan"})
	if err != nil {
		b.Fatal(err)
	}
	chat := s.Chat(sd.Get(KeySessionID))
	ann, _ := chat.JoinAgent("Ann")
	for i := 0; i < 5; i++ {
		ann.Send(fmt.Sprint("message ", i))
	}
	return c, s, chat
}

// BenchmarkRESTPoll: one refresh through the transport (form, POST, decode,
// keys, cursor, dedupe) …
func BenchmarkRESTPoll(b *testing.B) {
	c, _, _ := benchChat(b, restConfig)
	ctx := context.Background()
	if err := c.StopPoll(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// … and its baseline: the same refresh as a raw http POST (read, no decode).
func BenchmarkRESTPollRawHTTP(b *testing.B) {
	c, s, chat := benchChat(b, restConfig)
	ctx := context.Background()
	if err := c.StopPoll(ctx); err != nil {
		b.Fatal(err)
	}
	req := &wire.Request{Operation: wire.OpRefresh, TranscriptPosition: int(c.Cursor().Index + 1)}
	req.SetKeys(chat.Keys())
	form, _ := req.Form()
	target, _ := wire.RESTURL(s.ChatURL(svc), wire.OpRefresh, chat.ID(), "", true)
	body := form.Encode()
	hc := c.hc
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := hc.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// BenchmarkCometDOperation: one operation through the transport (updateData:
// publish on the service channel, wait for the answer notification) …
func BenchmarkCometDOperation(b *testing.B) {
	c, _, _ := benchChat(b, func(s *simgms.Server) Config { return cometConfig(s, true) })
	ctx := context.Background()
	data := map[string]any{"k": "v"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.UpdateUserData(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}

// … and its baseline: the same publish and reply with a bare bayeux.Client
// (Request on the service channel, no answer processing).
func BenchmarkCometDOperationRawBayeux(b *testing.B) {
	_, s, chat := benchChat(b, func(s *simgms.Server) Config { return cometConfig(s, true) })
	cl, err := bayeux.NewClient(s.CometDURL(), bayeux.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.Handshake(ctx); err != nil {
		b.Fatal(err)
	}
	req := &wire.Request{Operation: wire.OpUpdateData, UserData: map[string]string{"k": "v"}}
	req.SetKeys(chat.Keys())
	data, _ := req.MarshalCometD()
	ch := wire.ServiceChannel(svc)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Request(ctx, ch, json.RawMessage(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}

var benchAnswer = func() []byte {
	r := wire.Response{StatusCode: 0, ChatID: "00048aAPEQJ8000U", UserID: "007555677B20000A", SecureKey: "4ee15d7e1c343c8e", Alias: "117", NextPosition: 11}
	for i := 1; i <= 10; i++ {
		r.Messages = append(r.Messages, wire.Event{Index: i, Type: wire.EventMessage, UTCTime: 1432845088000,
			From: &wire.Party{Nickname: "Ann", ParticipantID: "2", Type: wire.PartyAgent}, Text: fmt.Sprint("message ", i), MessageType: "text"})
	}
	b, _ := json.Marshal(r)
	return b
}()

// BenchmarkApplyAnswer: decode and apply a 10-event answer (keys, dedupe,
// normalization, events) …
func BenchmarkApplyAnswer(b *testing.B) {
	tr := fuzzTransport(b, ModeREST)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchAnswer)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := decodeAnswer(benchAnswer)
		if err != nil {
			b.Fatal(err)
		}
		tr.mu.Lock()
		tr.tracker = transports.NewIndexTracker(transports.Cursor{})
		tr.applyLocked(a, answerInfo{op: wire.OpRefresh, suffix: true})
		tr.ev.q = tr.ev.q[:0]
		tr.mu.Unlock()
	}
}

// … and its baseline: wire.DecodeResponse alone.
func BenchmarkApplyAnswerDecodeOnly(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchAnswer)))
	for i := 0; i < b.N; i++ {
		if _, err := wire.DecodeResponse(benchAnswer); err != nil {
			b.Fatal(err)
		}
	}
}
