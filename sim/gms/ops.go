package gms

import (
	"maps"
	"net/http"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// via says where an operation arrived.
type via int

const (
	viaREST   via = iota // /genesys/2/chat/{service}/…
	viaNtf               // /genesys/2/chat-ntf (CometD clients' file API)
	viaCometD            // /service/chatV2/{service}
)

// outcome is the result of one operation.
type outcome struct {
	resp      *wire.Response
	status    int // HTTP status (REST, chat-ntf)
	chat      *Chat
	clientMsg *wire.Event // a client Message, for the script
	file      *file       // download
	delivered bool        // the CometD answer was delivered under the chat lock
}

func failure(status, code int, advice string, ended bool) outcome {
	return outcome{status: status, resp: &wire.Response{StatusCode: wire.StatusFailed, ChatEnded: ended,
		Messages: []wire.Event{}, Errors: []wire.Error{{Code: code, Advice: wire.FlexString(advice)}}}}
}

func retryLater() outcome {
	return outcome{status: http.StatusOK, resp: &wire.Response{StatusCode: wire.StatusRetry, Messages: []wire.Event{}}}
}

// upload is the file part of a fileUpload.
type upload struct {
	name    string
	content []byte
}

// exec runs one client operation. For REST, req.ChatID comes from the path.
// Over CometD the answer is delivered to sess under the chat's lock, so it
// is ordered with the chat's unsolicited notifications.
func (s *Server) exec(v via, service string, req *wire.Request, sess *bayeux.ServerSession, up *upload) outcome {
	codes := s.st.codes
	if !s.serviceAllowed(service) {
		return failure(http.StatusNotFound, wire.CodeInvalidService, "unknown chat service", false)
	}
	if s.faults.offline(s.clock.Now()) {
		return retryLater()
	}
	if req.Operation == wire.OpRequestChat {
		return s.requestChat(v, service, req, sess)
	}

	// Find the chat: REST by the chatId of the path, then the key must be
	// one of its keys; CometD and chat-ntf by secureKey.
	var c *Chat
	if v == viaREST {
		if c = s.Chat(req.ChatID); c == nil {
			return failure(http.StatusNotFound, codes.SessionNotFound, "chat session not found", true)
		}
	}
	if err := req.Validate(); err != nil {
		re := err.(*wire.RequestError)
		return failure(http.StatusBadRequest, re.Code, re.Field+": "+re.Msg, false)
	}
	byKey := s.chatByKey(req.SecureKey)
	if c == nil {
		c = byKey
	}
	if c == nil || byKey != c || c.service != service && v != viaNtf ||
		(req.ChatID != "" && req.ChatID != wire.Deprecated && req.ChatID != c.id) {
		return failure(http.StatusOK, codes.SessionNotFound, "chat session not found or secureKey invalid", true)
	}
	channel := wire.ServiceChannel(c.service)

	c.mu.Lock()
	defer c.mu.Unlock()
	out := outcome{status: http.StatusOK, chat: c}
	mode := ModeREST
	if v == viaCometD {
		mode = ModeCometD
	}
	answer := func(events []wire.Event) {
		out.resp = c.responseL(mode, events)
		if req.Operation == wire.OpDisconnect {
			// The disconnect answer has no secureKey and no userId (§2).
			out.resp.SecureKey, out.resp.UserID = "", ""
		}
		if v == viaCometD && sess != nil {
			_ = sess.Deliver(channel, out.resp)
			out.delivered = true
		}
	}
	fail := func(status, code int, advice string, ended bool) outcome {
		o := failure(status, code, advice, ended)
		o.chat = c
		if v == viaCometD && sess != nil {
			_ = sess.Deliver(channel, o.resp)
			o.delivered = true
		}
		return o
	}
	pos := req.TranscriptPosition
	if c.ended {
		switch req.Operation {
		case wire.OpRefresh, wire.OpRequestNotifications:
			answer(c.transcriptL(pos))
			return out
		}
		return fail(http.StatusOK, codes.SessionNotFound, "chat session has ended", true)
	}
	c.touchL(mode)

	var own *wire.Event
	add := func(ev wire.Event, a activity) {
		e := c.appendL(ev, a, v == viaCometD)
		own = &e
	}
	client := c.clientParty()
	switch req.Operation {
	case wire.OpRefresh:
		if v != viaREST {
			return fail(http.StatusBadRequest, codes.InvalidRequest, "refresh is a REST operation", false)
		}
		c.preview = req.Message
	case wire.OpRequestNotifications:
		if v != viaCometD {
			return fail(http.StatusBadRequest, codes.InvalidRequest, "requestNotifications is a CometD operation", false)
		}
		if s.opts.StrictPushKeys && !maps.Equal(pushKeys(req.UserData), c.pushKeys) {
			return fail(http.StatusOK, codes.PushKeysMismatch, "push_notification_* userData differs from requestChat", false)
		}
		c.bindL(sess)
		answer(c.transcriptL(pos))
		return out
	case wire.OpSendMessage:
		add(wire.Event{Type: wire.EventMessage, From: client, Text: req.Message, MessageType: req.MessageType,
			EventAttributes: req.EventAttributes}, actAlways)
		out.clientMsg = own
	case wire.OpStartTyping, wire.OpStopTyping:
		t := wire.EventTypingStarted
		if req.Operation == wire.OpStopTyping {
			t = wire.EventTypingStopped
		}
		c.preview = req.Message
		add(wire.Event{Type: t, From: client, Text: req.Message}, actTyping)
	case wire.OpReadReceipt:
		if pos > c.readIndex {
			c.readIndex = pos
			c.changedL()
		}
	case wire.OpPushURL:
		add(wire.Event{Type: wire.EventPushURL, From: client, Text: req.PushURL}, actMajor)
	case wire.OpUpdateNickname:
		c.client.Nickname = req.Nickname
		add(wire.Event{Type: wire.EventNicknameUpdated, From: c.clientParty(), Text: req.Nickname}, actOther)
	case wire.OpCustomNotice:
		a := actCustom
		if p, _ := req.EventAttributes["purpose"].(string); p == "cancel-idle-timer" {
			a = actAlways
		}
		add(wire.Event{Type: wire.EventCustomNotice, From: client, Text: req.Message, EventAttributes: req.EventAttributes}, a)
	case wire.OpUpdateData:
		maps.Copy(c.userData, req.UserData)
		c.changedL()
	case wire.OpDisconnect:
		c.endL(EndClient, v == viaCometD, wire.Event{Type: wire.EventParticipantLeft, From: client})
		answer(nil)
		return out
	case wire.OpFileGetLimits:
		answer([]wire.Event{c.limitsL()})
		return out
	case wire.OpFileUpload:
		if up == nil {
			return fail(http.StatusBadRequest, codes.InvalidRequest, "file: missing multipart file part", false)
		}
		id, e := c.uploadL(up.name, up.content, req.UserData)
		if e != nil {
			return fail(e.status, e.code, e.advice, false)
		}
		answer(nil)
		out.resp.UserData = map[string]string{wire.KeyFileID: id}
		return out
	case wire.OpFileDownload:
		f, e := c.downloadL(req.FileID)
		if e != nil {
			return fail(e.status, e.code, e.advice, false)
		}
		out.file = f
		return out
	case wire.OpFileDelete:
		if e := c.deleteL(req.FileID); e != nil {
			return fail(e.status, e.code, e.advice, false)
		}
		answer(nil)
		return out
	default:
		return fail(http.StatusBadRequest, codes.InvalidRequest, "unknown operation", false)
	}

	// The answer's events: over CometD the operation's own event (0 or 1);
	// over REST the transcript from transcriptPosition when the request
	// carried one (refresh: always; 0 = all), else none.
	switch {
	case v == viaCometD:
		if own != nil {
			answer([]wire.Event{*own})
		} else {
			answer(nil)
		}
	case req.Operation == wire.OpRefresh || pos > 0:
		answer(c.transcriptL(pos))
	default:
		answer(nil)
	}
	return out
}

// transcriptL returns events ≥ pos; with duplicate delivery on, the event
// before pos is repeated.
func (c *Chat) transcriptL(pos int) []wire.Event {
	evs := c.eventsFromL(pos)
	if pos > 1 && c.s.faults.duplicates() {
		for i := len(c.transcript) - 1; i >= 0; i-- {
			if c.transcript[i].Index < pos {
				evs = append([]wire.Event{c.transcript[i]}, evs...)
				break
			}
		}
	}
	return evs
}

func (s *Server) requestChat(v via, service string, req *wire.Request, sess *bayeux.ServerSession) outcome {
	codes := s.st.codes
	if err := req.Validate(); err != nil {
		re := err.(*wire.RequestError)
		return failure(http.StatusBadRequest, re.Code, re.Msg, false)
	}
	if v == viaCometD && s.opts.BasicAuth != nil {
		u, p, ok := req.Auth.Credentials()
		if !ok || !s.credentialsOK(u, p) {
			return failure(http.StatusUnauthorized, codes.NotAuthorized, "not authorized", false)
		}
	}
	mode := ModeREST
	if v == viaCometD {
		mode = ModeCometD
	}
	c := s.newChat(service, mode, req)
	s.addChat(c)
	c.mu.Lock()
	out := outcome{status: http.StatusOK, chat: c}
	if v == viaCometD {
		c.bindL(sess)
	}
	c.appendL(wire.Event{Type: wire.EventParticipantJoined, From: c.clientParty()}, actAlways, true)
	c.touchL(mode)
	out.resp = c.responseL(mode, c.eventsFromL(0))
	if v == viaCometD && sess != nil {
		_ = sess.Deliver(wire.ServiceChannel(service), out.resp)
		out.delivered = true
	}
	c.mu.Unlock()
	s.log.Debug().Str("chatId", c.id).Str("service", service).Str("mode", string(mode)).Msg("gms: chat requested")
	c.runScript()
	return out
}
