package gms

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const svc = "customer-support"

// testCtx is a generous deadline for waits on a busy machine.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newSim starts a simulator on a fake clock with no scripted agent unless
// opts.Script is set.
func newSim(t testing.TB, opts Options) (*Server, *transports.FakeClock) {
	t.Helper()
	clk := transports.NewFakeClock(time.Time{})
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.Script == nil {
		opts.Script = &Script{}
	}
	s := NewServer(opts)
	t.Cleanup(func() { s.Close() })
	return s, clk
}

type answer struct {
	status int
	resp   *wire.Response
	body   []byte
	header http.Header
}

func doPost(t testing.TB, target, contentType string, body io.Reader, hdr http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: res.StatusCode, body: b, header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		r, err := wire.DecodeResponse(b)
		if err != nil {
			t.Fatalf("POST %s: %v\n%s", target, err, b)
		}
		a.resp = r
	}
	return a
}

func postForm(t testing.TB, target string, form url.Values, hdr http.Header) answer {
	t.Helper()
	return doPost(t, target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), hdr)
}

func postMultipart(t testing.TB, target string, form url.Values, fileName string, content []byte, hdr http.Header) answer {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := wire.WriteFields(mw, form); err != nil {
		t.Fatal(err)
	}
	if fileName != "" {
		fw, err := mw.CreateFormFile(wire.FieldFile, fileName)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	return doPost(t, target, mw.FormDataContentType(), &buf, hdr)
}

// op posts a REST operation built with wire.Request.
func op(t testing.TB, s *Server, k wire.Keys, r wire.Request) answer {
	t.Helper()
	r.SetKeys(k)
	u, err := wire.RESTURL(s.ChatURL(svc), r.Operation, k.ChatID, r.FileID, true)
	if err != nil {
		t.Fatal(err)
	}
	form, err := r.Form()
	if err != nil {
		t.Fatal(err)
	}
	return postForm(t, u, form, nil)
}

// startREST requests a chat over REST and returns its keys and the chat.
func startREST(t testing.TB, s *Server) (wire.Keys, *Chat) {
	t.Helper()
	a := op(t, s, wire.Keys{}, wire.Request{Operation: wire.OpRequestChat, Nickname: "Joan", Subject: "Savings",
		UserData: map[string]string{"TimeZone": "-480"}})
	if a.status != 200 || a.resp.StatusCode != 0 {
		t.Fatalf("requestChat: %d %s", a.status, a.body)
	}
	var k wire.Keys
	k.Apply(a.resp)
	c := s.Chat(k.ChatID)
	if c == nil {
		t.Fatal("chat not registered")
	}
	return k, c
}
