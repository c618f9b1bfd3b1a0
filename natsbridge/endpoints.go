package natsbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/cxbus/webchat/webchatservice"
	"github.com/nats-io/nats.go/micro"
)

// --- sessions --------------------------------------------------------------------------------

type openRequest struct {
	Config json.RawMessage `json:"config,omitempty"`
}

// OpenResult is the result of sessions.open.
type OpenResult struct {
	ID   string `json:"id"`
	Node string `json:"node"`
}

// serveDetached answers req off the NATS dispatcher, as an in-flight request Shutdown waits
// for; after Shutdown began it answers ErrClosed.
func (b *Bridge) serveDetached(req micro.Request, endpoint string, serve func(responder)) {
	r := b.detach(req, endpoint)
	if !b.track(func() { serve(r) }) {
		r.Fail(replyError(ErrClosed))
	}
}

func (b *Bridge) onOpen(req micro.Request) { b.serveDetached(req, "open", b.open) }

func (b *Bridge) open(r responder) {
	var o openRequest
	if err := b.decode(r.Data(), &o); err != nil {
		r.Fail(replyError(err))
		return
	}
	oo := webchatservice.OpenOptions{}
	if len(o.Config) > 0 {
		if !b.opts.AllowSessionConfig {
			r.Fail(&ReplyError{Code: 403, Message: ErrNotAllowed.Error() + ": a per-session config (AllowSessionConfig is off)"})
			return
		}
		oo.Config = o.Config
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	oo.ID = webchatservice.NewSessionID()
	if b.own != nil {
		if err := b.own.claim(ctx, oo.ID); err != nil {
			r.Fail(replyError(err))
			return
		}
	}
	s, err := b.opts.Host.Open(ctx, oo)
	if err != nil {
		if b.own != nil {
			b.own.release(ctx, oo.ID)
		}
		r.Fail(replyError(err))
		return
	}
	b.succeed(r, OpenResult{ID: s.ID, Node: b.opts.NodeID})
}

type closeRequest struct {
	ID string `json:"id"`
}

func (b *Bridge) onClose(req micro.Request) { b.serveDetached(req, "close", b.closeSession) }

// closeSession ends the chat (if one is active), closes the session, deletes its snapshot and
// releases its lease. A session owned by another node is forwarded there.
func (b *Bridge) closeSession(r responder) {
	var o closeRequest
	if err := b.decode(r.Data(), &o); err != nil {
		r.Fail(replyError(err))
		return
	}
	if o.ID == "" {
		r.Fail(replyError(fmt.Errorf("%w: id is required", ErrBadPayload)))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	s, err := b.opts.Host.Get(o.ID)
	if err != nil {
		b.route(ctx, r, o.ID)
		return
	}
	if active, _ := s.Client.VerifySession(ctx); active {
		if err := s.Client.EndChat(ctx); err != nil {
			b.log.Debug().Err(err).Str("session", o.ID).Msg("natsbridge: endChat on close failed")
		}
	}
	err = b.opts.Host.Close(ctx, o.ID)
	if b.own != nil {
		b.own.forget(ctx, o.ID)
	}
	if err != nil {
		r.Fail(replyError(err))
		return
	}
	b.succeed(r, map[string]any{"id": o.ID, "closed": true})
}

// SessionInfo is one entry of sessions.list.
type SessionInfo struct {
	ID   string `json:"id"`
	Node string `json:"node,omitempty"`
}

func (b *Bridge) onList(req micro.Request) { b.serveDetached(req, "list", b.list) }

func (b *Bridge) list(r responder) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	defer cancel()
	var list []SessionInfo
	if b.own != nil {
		l, err := b.own.list(ctx)
		if err != nil {
			r.Fail(replyError(err))
			return
		}
		list = l
	} else {
		for _, id := range b.opts.Host.List() {
			list = append(list, SessionInfo{ID: id, Node: b.opts.NodeID})
		}
	}
	if list == nil {
		list = []SessionInfo{}
	}
	b.succeed(r, map[string]any{"sessions": list})
}

// decode reads an optional JSON object payload.
func (b *Bridge) decode(data []byte, v any) error {
	if len(data) > b.opts.MaxPayload {
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrPayloadTooLarge, len(data), b.opts.MaxPayload)
	}
	if len(data) == 0 || isJSONNull(data) {
		return nil
	}
	if !isJSONObject(data) {
		return ErrBadPayload
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadPayload, err)
	}
	return nil
}

// --- commands --------------------------------------------------------------------------------

func (b *Bridge) onCommand(req micro.Request) {
	b.command(microReq{req})
}

// command dispatches a bridged command. The call enters the session's bus here, in subscription
// order, so commands of one session keep their order; the reply is awaited off the NATS
// dispatcher.
func (b *Bridge) command(r responder) {
	session, command, err := b.subj.ParseCommand(r.Subject())
	if err != nil {
		r.Fail(replyError(err))
		return
	}
	data := r.Data()
	if isJSONNull(data) {
		data = nil // "no options", as on the bus
	}
	switch {
	case len(data) > b.opts.MaxPayload:
		r.Fail(replyError(fmt.Errorf("%w: %d bytes (limit %d)", ErrPayloadTooLarge, len(data), b.opts.MaxPayload)))
		return
	case !b.allow[command]:
		r.Fail(replyError(fmt.Errorf("%w: %s", ErrNotAllowed, command)))
		return
	case len(data) > 0 && !isJSONObject(data):
		r.Fail(&ReplyError{Code: 400, Message: "Invalid command options: a JSON object is required."})
		return
	}
	s, err := b.opts.Host.Get(session)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
		r := b.detachFor(r, "command")
		if !b.track(func() { defer cancel(); b.route(ctx, r, session) }) {
			cancel()
			r.Fail(replyError(ErrClosed))
		}
		return
	}
	p := s.Bus.Plugin(PluginName)
	if p == nil {
		r.Fail(replyError(fmt.Errorf("%w: %s (not bridged)", ErrUnknownSession, session)))
		return
	}
	var opts any
	if len(data) > 0 {
		opts = json.RawMessage(slices.Clone(data))
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.CommandTimeout)
	res := p.CommandAsync(ctx, command, opts)
	r = b.detachFor(r, "command")
	if !b.track(func() {
		defer cancel()
		v, err := res.Wait(ctx)
		if err != nil {
			r.Fail(replyError(err))
			return
		}
		b.succeed(r, v)
	}) {
		cancel()
		r.Fail(replyError(ErrClosed))
	}
}

// attach is the Host extension: it registers the bridge's plugin on a new session's bus and
// publishes every event of the bus on NATS.
func (b *Bridge) attach(s *webchatservice.Session) error {
	p, err := s.Bus.RegisterPlugin(PluginName)
	if err != nil {
		return err
	}
	pub := newEventPublisher(b, s.ID)
	if _, err := p.Subscribe(">", pub.publish); err != nil {
		return err
	}
	return p.Ready()
}

func isJSONNull(data []byte) bool {
	return string(bytes.TrimSpace(data)) == "null"
}

func isJSONObject(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return json.Valid(data)
		}
		return false
	}
	return false
}
