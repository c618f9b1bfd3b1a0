package natsbridge

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// responder is a request from the micro service, a detached one (answered after its micro
// handler returned) or one forwarded from another node: the bridge answers all three alike.
type responder interface {
	Data() []byte
	Subject() string
	Respond(data []byte, hdr nats.Header)
	Fail(re *ReplyError)
}

// microReq answers from inside a micro handler (micro counts its errors).
type microReq struct{ r micro.Request }

func (m microReq) Data() []byte    { return m.r.Data() }
func (m microReq) Subject() string { return m.r.Subject() }
func (m microReq) Respond(data []byte, hdr nats.Header) {
	if code := hdr.Get(micro.ErrorCodeHeader); code != "" {
		m.r.Error(code, hdr.Get(micro.ErrorHeader), data)
		return
	}
	m.r.Respond(data)
}
func (m microReq) Fail(re *ReplyError) {
	body, _ := json.Marshal(Reply{Error: re})
	m.r.Error(fmt.Sprint(re.Code), re.Message, body)
}

// detach returns a responder usable after the micro handler returned: micro reads its request
// object once the handler is done, so later replies go straight to the reply subject, with the
// same micro error headers, and their errors are counted by the bridge (Stats).
func (b *Bridge) detach(req micro.Request, endpoint string) responder {
	return &replyReq{b: b, endpoint: endpoint, subject: req.Subject(), reply: req.Reply(), data: slices.Clone(req.Data())}
}

type replyReq struct {
	b              *Bridge
	endpoint       string
	subject, reply string
	data           []byte
}

func (r *replyReq) Data() []byte    { return r.data }
func (r *replyReq) Subject() string { return r.subject }
func (r *replyReq) Respond(data []byte, hdr nats.Header) {
	if hdr.Get(micro.ErrorCodeHeader) != "" {
		r.b.countError(r.endpoint)
	}
	if r.reply == "" {
		return // a publish, not a request: nobody to answer
	}
	m := nats.NewMsg(r.reply)
	m.Data, m.Header = data, hdr
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	if err := r.b.opts.Conn.PublishMsg(m); err != nil {
		r.b.log.Debug().Err(err).Str("subject", r.subject).Msg("natsbridge: reply not sent")
	}
}
func (r *replyReq) Fail(re *ReplyError) {
	body, _ := json.Marshal(Reply{Error: re})
	r.Respond(body, errorHeader(re))
}

func errorHeader(re *ReplyError) nats.Header {
	h := nats.Header{}
	h.Set(micro.ErrorCodeHeader, fmt.Sprint(re.Code))
	h.Set(micro.ErrorHeader, re.Message)
	return h
}

type forwardedReq struct {
	msg     *nats.Msg
	subject string
}

func (f forwardedReq) Data() []byte    { return f.msg.Data }
func (f forwardedReq) Subject() string { return f.subject }
func (f forwardedReq) Respond(data []byte, hdr nats.Header) {
	m := nats.NewMsg(f.msg.Reply)
	m.Data, m.Header = data, hdr
	f.msg.RespondMsg(m)
}
func (f forwardedReq) Fail(re *ReplyError) {
	body, _ := json.Marshal(Reply{Error: re})
	f.Respond(body, errorHeader(re))
}

// detachFor is detach for a responder that may already be detached.
func (b *Bridge) detachFor(r responder, endpoint string) responder {
	if m, ok := r.(microReq); ok {
		return b.detach(m.r, endpoint)
	}
	return r
}

func (b *Bridge) countError(endpoint string) {
	b.statsMu.Lock()
	b.asyncErrors[endpoint]++
	b.statsMu.Unlock()
}

// endpointStats is the Data of an endpoint in $SRV.STATS: errors answered after the handler
// returned (micro's num_errors counts only the others).
func (b *Bridge) endpointStats(e *micro.Endpoint) any {
	b.statsMu.Lock()
	defer b.statsMu.Unlock()
	return map[string]int64{"async_errors": b.asyncErrors[e.Name]}
}

func (b *Bridge) succeed(r responder, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		r.Fail(replyError(fmt.Errorf("%w: %v", ErrResultEncoding, err)))
		return
	}
	if !b.opts.ExposeSecrets {
		raw = redact(raw)
	}
	body, _ := json.Marshal(Reply{Result: raw})
	r.Respond(body, nil)
}
