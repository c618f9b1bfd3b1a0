package bayeux

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawLP is a minimal long-polling peer written against the wire format only, so the
// server is tested independently of our client.
type rawLP struct {
	t   *testing.T
	url string
	hc  *http.Client
}

func newRawLP(t *testing.T, url string) *rawLP {
	jar, _ := cookiejar.New(nil)
	return &rawLP{t: t, url: url, hc: &http.Client{Jar: jar, Timeout: 60 * time.Second}}
}

func (p *rawLP) post(body string) (int, []*Message) {
	p.t.Helper()
	code, msgs, err := p.postE(body)
	if err != nil {
		p.t.Fatal(err)
	}
	return code, msgs
}

// postE is post for goroutines other than the test's (no t.Fatal there); a failure is
// returned, and a nil message slice reads as a failed test in the caller.
func (p *rawLP) postE(body string) (int, []*Message, error) {
	resp, err := p.hc.Post(p.url, "application/json;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("post: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, nil
	}
	msgs, err := DecodeMessages(b)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("decode %s: %v", b, err)
	}
	return resp.StatusCode, msgs, nil
}

func (p *rawLP) handshake() string {
	p.t.Helper()
	code, msgs := p.post(`[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]`)
	if code != 200 || len(msgs) != 1 || !msgs[0].Successful || msgs[0].ClientID == "" {
		p.t.Fatalf("handshake: %d %+v", code, msgs)
	}
	return msgs[0].ClientID
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestServerLongPollingServiceDeliveryInResponse(t *testing.T) {
	srv := NewServer(ServerOptions{Timeout: 5 * time.Second})
	defer srv.Close()
	srv.HandleService("/service/echo", func(ctx context.Context, s *ServerSession, m *Message) error {
		return s.Deliver(m.Channel, m.Data)
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	p := newRawLP(t, hs.URL+"/cometd")
	id := p.handshake()
	code, msgs := p.post(`[{"id":"2","channel":"/meta/connect","clientId":"` + id + `","connectionType":"long-polling","advice":{"timeout":0}}]`)
	if code != 200 || len(msgs) != 1 || !msgs[0].Successful || msgs[0].ID != "2" {
		t.Fatalf("connect: %d %s", code, mustJSON(msgs))
	}
	code, msgs = p.post(`[{"id":3,"channel":"/service/echo","clientId":"` + id + `","data":{"x":1}}]`)
	if code != 200 || len(msgs) != 2 {
		t.Fatalf("publish: %d %s", code, mustJSON(msgs))
	}
	if msgs[0].Channel != "/service/echo" || !bytes.Equal(msgs[0].Data, []byte(`{"x":1}`)) || msgs[0].IsReply() {
		t.Fatalf("delivery first: %s", mustJSON(msgs))
	}
	if !msgs[1].Successful || msgs[1].ID != "3" {
		t.Fatalf("ack: %s", mustJSON(msgs))
	}
}
