package gms

import (
	"context"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// attrChat is the Bayeux session attribute holding the chat it serves.
const attrChat = "gms.chat"

// serveCometD handles a publish on /service/chatV2/{service}: the answer
// is a notification on the same channel to the publishing session; the
// publish itself is always acknowledged (GMS answers asynchronously).
func (s *Server) serveCometD(ctx context.Context, sess *bayeux.ServerSession, m *bayeux.Message) error {
	service, ok := wire.ServiceFromChannel(m.Channel)
	if !ok {
		return nil
	}
	deliver := func(o outcome) {
		if !o.delivered {
			_ = sess.Deliver(m.Channel, o.resp)
		}
	}
	req, err := wire.ParseCometD(m.Data)
	if err != nil {
		re := err.(*wire.RequestError)
		deliver(failure(0, re.Code, re.Field+": "+re.Msg, false))
		return nil
	}
	if !req.Operation.CometD() {
		deliver(failure(0, s.st.codes.InvalidRequest, "operation: not a Chat V2 CometD operation", false))
		return nil
	}
	if d := s.faults.getDelay(); d > 0 {
		_ = transports.Sleep(ctx, s.clock, d)
	}
	out := s.exec(viaCometD, service, req, sess, nil)
	deliver(out)
	if out.clientMsg != nil && out.chat != nil {
		out.chat.onClientMessage(*out.clientMsg)
	}
	return nil
}

// cometdSessionClosed unbinds the chat of an ended Bayeux session.
func (s *Server) cometdSessionClosed(ss *bayeux.ServerSession) {
	c, _ := ss.Attribute(attrChat).(*Chat)
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.bound == ss {
		c.bound = nil
	}
	c.mu.Unlock()
}
