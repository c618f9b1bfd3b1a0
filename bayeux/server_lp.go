package bayeux

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

func (s *Server) serveLongPolling(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "bayeux: long-polling needs POST", http.StatusBadRequest)
		return
	}
	if code := s.takeFailure(); code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	if !s.waitDelay(r.Context()) {
		http.Error(w, "bayeux: request abandoned", http.StatusServiceUnavailable)
		return
	}
	body, err := readBody(w, r, s.opts.MaxMessageSize)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	msgs, err := DecodeMessages(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := conn{transport: TransportLongPolling, r: r}
	if ck, err := r.Cookie(s.opts.CookieName); err == nil {
		c.browser = ck.Value
	}
	for _, m := range msgs {
		if m.Channel == ChannelHandshake && len(msgs) > 1 {
			http.Error(w, "bayeux: handshake must be alone in its request", http.StatusBadRequest)
			return
		}
	}
	if !s.supports(TransportLongPolling) && msgs[0].Channel != ChannelHandshake {
		http.Error(w, "bayeux: long-polling not offered", http.StatusBadRequest)
		return
	}
	var out []*Message
	if msgs[0].Channel == ChannelHandshake {
		rep, ss := s.handshake(r.Context(), c, msgs[0])
		if ss != nil {
			http.SetCookie(w, &http.Cookie{Name: s.opts.CookieName, Value: ss.browser, Path: "/", HttpOnly: true})
		}
		out = []*Message{rep}
	} else {
		out = s.processLongPolling(c, msgs)
		if out == nil {
			return
		}
	}
	writeMessages(w, out)
}

func (s *Server) processLongPolling(c conn, msgs []*Message) []*Message {
	ctx := c.r.Context()
	// A connect alone in its request may be held.
	if len(msgs) == 1 && msgs[0].Channel == ChannelConnect {
		m := msgs[0]
		ss, rep := s.connectRequest(c, m)
		if rep != nil {
			return []*Message{rep}
		}
		if mc := s.multipleClients(ss, m); mc != nil {
			return []*Message{mc}
		}
		if d := s.holdFor(m); d > 0 {
			s.waitHeld(ctx, ss, ss.startHold(), d)
			if ctx.Err() != nil {
				return nil // the client went away: keep the queue for its next connect
			}
		}
		return s.connectReply(ss, m)
	}
	var (
		replies  []*Message
		touched  []*ServerSession
		touchSet = map[*ServerSession]bool{}
	)
	for _, m := range msgs {
		if ss := s.session(c, m); ss != nil && !touchSet[ss] {
			touchSet[ss] = true
			touched = append(touched, ss)
			ss.beginCollect()
		}
		if m.Channel == ChannelConnect {
			ss, rep := s.connectRequest(c, m)
			if rep != nil {
				replies = append(replies, rep)
				continue
			}
			// Not alone: answered at once (never held).
			r := s.connectReply(ss, m)
			replies = append(replies, r...)
			continue
		}
		replies = append(replies, s.processOne(ctx, c, m))
	}
	var deliveries []*Message
	for _, ss := range touched {
		deliveries = append(deliveries, ss.endCollect()...)
	}
	return append(deliveries, replies...)
}

// readBody reads a JSON body, or the "message" field of a form body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errors.New("bayeux: request body too large")
		}
		return nil, errors.New("bayeux: reading request body failed")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/x-www-form-urlencoded" || (ct == "" && strings.HasPrefix(string(body), "message=")) {
		v, err := url.ParseQuery(string(body))
		if err != nil || v.Get("message") == "" {
			return nil, errors.New("bayeux: form body without a message field")
		}
		return []byte(v.Get("message")), nil
	}
	return body, nil
}

func writeMessages(w http.ResponseWriter, msgs []*Message) {
	b, err := json.Marshal(msgs)
	if err != nil {
		http.Error(w, "bayeux: encoding reply failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	_, _ = w.Write(b)
}
