package gms

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports/gms/wire"
)

func benchPost(b *testing.B, cl *http.Client, u string, body string) {
	res, err := cl.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatal(res.StatusCode)
	}
}

// BenchmarkRESTRefresh is a refresh round trip (form POST → Chat V2 answer
// with 3 events) against the simulator.
func BenchmarkRESTRefresh(b *testing.B) {
	s, _ := newSim(b, Options{FlexDisconnectTimeout: -1})
	k, c := startREST(b, s)
	a, _ := c.JoinAgent("Ann")
	a.Send("hello")
	r := wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 1}
	r.SetKeys(k)
	form, _ := r.Form()
	body := form.Encode()
	u, _ := wire.RESTURL(s.ChatURL(svc), wire.OpRefresh, k.ChatID, "", true)
	cl := &http.Client{}
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, cl, u, body)
	}
}

// BenchmarkRESTRefreshBaseline is the same round trip against a bare
// net/http handler that parses the form and writes a fixed answer of the
// same size: the floor the simulator's own work adds to.
func BenchmarkRESTRefreshBaseline(b *testing.B) {
	s, _ := newSim(b, Options{FlexDisconnectTimeout: -1})
	k, c := startREST(b, s)
	a, _ := c.JoinAgent("Ann")
	a.Send("hello")
	fixed := op(b, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 1}).body
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixed)
	}))
	defer raw.Close()
	body := url.Values{"secureKey": {k.SecureKey}, "userId": {k.UserID}, "alias": {k.Alias}, "transcriptPosition": {"1"}, "message": {""}}.Encode()
	cl := &http.Client{}
	b.ReportAllocs()
	for b.Loop() {
		benchPost(b, cl, raw.URL, body)
	}
}

// BenchmarkCometDSend is sendMessage published over WebSocket until its
// answer notification arrives.
func BenchmarkCometDSend(b *testing.B) {
	s, _ := newSim(b, Options{})
	cc := newComet(b, s, bayeux.TransportWebSocket)
	cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: "J"})
	var k wire.Keys
	k.Apply(cc.next())
	data, _ := (&wire.Request{Operation: wire.OpSendMessage, Message: "hello", SecureKey: k.SecureKey}).MarshalCometD()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cc.cl.Publish(ctx, cc.ch, data); err != nil {
			b.Fatal(err)
		}
		<-cc.notes
	}
}

// BenchmarkCometDSendBaseline is the same publish and answer against a bare
// bayeux server whose handler answers with a fixed notification: the cost of
// the Bayeux layer alone.
func BenchmarkCometDSendBaseline(b *testing.B) {
	srv := bayeux.NewServer(bayeux.ServerOptions{})
	fixed := []byte(`{"statusCode":0,"chatEnded":false,"alias":"101","secureKey":"0123456789abcdef","userId":"0123456789ABCDEF","chatId":"0123456789abcdef","nextPosition":3,"messages":[{"index":2,"type":"Message","utcTime":1,"from":{"nickname":"J","participantId":1,"type":"Client"},"text":"hello"}]}`)
	srv.HandleService(wire.ServiceChannelPrefix+"*", func(ctx context.Context, ss *bayeux.ServerSession, m *bayeux.Message) error {
		return ss.Deliver(m.Channel, fixed)
	})
	hs := httptest.NewServer(srv)
	defer func() { hs.CloseClientConnections(); srv.Close(); hs.Close() }()
	cl, err := bayeux.NewClient(hs.URL, bayeux.Options{Transports: []string{bayeux.TransportWebSocket}})
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	notes := make(chan *wire.Response, 16)
	ch := wire.ServiceChannel(svc)
	cl.AddListener(ch, func(m *bayeux.Message) {
		r, _ := wire.DecodeResponse(m.Data)
		notes <- r
	})
	if err := cl.Handshake(context.Background()); err != nil {
		b.Fatal(err)
	}
	data, _ := (&wire.Request{Operation: wire.OpSendMessage, Message: "hello", SecureKey: "k"}).MarshalCometD()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cl.Publish(ctx, ch, data); err != nil {
			b.Fatal(err)
		}
		<-notes
	}
}
