package purecloud

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// controlPrefix is the path prefix of the control API (docs/simulator.md).
const controlPrefix = "/_sim"

// ConversationSummary is the control API's view of a conversation.
type ConversationSummary struct {
	ID           string                   `json:"id"`
	GuestID      string                   `json:"guestId"`
	DeploymentID string                   `json:"deploymentId"`
	Queue        string                   `json:"queue"`
	AgentID      string                   `json:"agentId,omitempty"`
	AgentState   wire.MemberState         `json:"agentState,omitempty"`
	Attached     int                      `json:"attached"`
	Ended        bool                     `json:"ended"`
	EndReason    EndReason                `json:"endReason,omitempty"`
	Members      []wire.WebChatMemberInfo `json:"members,omitempty"`
	Messages     []wire.WebChatMessage    `json:"messages,omitempty"`
}

// Summary returns the conversation's state; full adds members and messages.
func (c *Conversation) Summary(full bool) ConversationSummary {
	ended, why := c.Ended()
	sum := ConversationSummary{ID: c.id, GuestID: c.guest.ID, DeploymentID: c.deploymentID, Queue: c.queue,
		AgentID: c.AgentID(), AgentState: c.AgentState(), Attached: c.Attached(), Ended: ended, EndReason: why}
	if full {
		sum.Members, sum.Messages = c.Members(), c.Messages()
	}
	return sum
}

type ctlAgent struct {
	Name      string `json:"name"`
	AvatarURL string `json:"avatarUrl"`
	RingMs    int64  `json:"ringMs"`
	Greeting  string `json:"greeting"`
}

type ctlSay struct {
	Text    string `json:"text"`
	Notice  bool   `json:"notice"`
	Typing  bool   `json:"typing"`
	DelayMs int64  `json:"delayMs"`
}

type ctlFault struct {
	Action     string `json:"action"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	DurationMs int64  `json:"durationMs"`
	Count      int    `json:"count"`
	Later      bool   `json:"later"`
}

type ctlHTTPFault struct {
	HTTPFault
	DelayMs int64 `json:"delayMs"`
}

type ctlError struct {
	Error string `json:"error"`
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// serveControl serves the control API under /_sim/.
func (s *Simulator) serveControl(w http.ResponseWriter, r *http.Request) {
	corr := newCorrelation(s)
	reply := func(status int, v any) { s.writeJSON(w, corr, status, v) }
	fail := func(status int, err error) { reply(status, ctlError{Error: err.Error()}) }
	if s.opts.DisableControlAPI || (!s.opts.ControlAPIAnyHost && !tcpAddrIsLoopback(r.RemoteAddr)) {
		fail(http.StatusNotFound, errors.New("control API disabled"))
		return
	}
	seg := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, controlPrefix), "/"), "/")
	decode := func(v any) bool {
		data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil && len(strings.TrimSpace(string(data))) > 0 {
			err = json.Unmarshal(data, v)
		}
		if err != nil {
			fail(http.StatusBadRequest, errors.New("body: "+err.Error()))
			return false
		}
		return true
	}
	post := r.Method == http.MethodPost
	switch {
	case len(seg) == 1 && seg[0] == "health":
		reply(http.StatusOK, map[string]any{"ok": true, "closed": s.isClosed()})
		return
	case len(seg) == 1 && seg[0] == "conversations" && r.Method == http.MethodGet:
		list := []ConversationSummary{}
		for _, c := range s.Conversations() {
			list = append(list, c.Summary(false))
		}
		reply(http.StatusOK, list)
		return
	case len(seg) == 1 && seg[0] == "faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		reply(http.StatusOK, map[string]any{"ok": true})
		return
	case len(seg) == 2 && seg[0] == "faults" && post:
		switch seg[1] {
		case "http":
			var f ctlHTTPFault
			if !decode(&f) {
				return
			}
			f.HTTPFault.Delay = ms(f.DelayMs)
			s.InjectHTTP(f.HTTPFault)
		case "delivery":
			var d DeliveryFaults
			if !decode(&d) {
				return
			}
			s.SetDeliveryFaults(d)
		case "sockets":
			var v struct {
				Abrupt bool `json:"abrupt"`
			}
			if !decode(&v) {
				return
			}
			reply(http.StatusOK, map[string]any{"dropped": s.DropAllSockets(v.Abrupt)})
			return
		case "refuse-reconnects":
			var v struct {
				DurationMs int64 `json:"durationMs"`
			}
			if !decode(&v) {
				return
			}
			s.RefuseReconnects(ms(v.DurationMs))
		default:
			fail(http.StatusNotFound, errors.New("unknown fault kind "+seg[1]))
			return
		}
		reply(http.StatusOK, map[string]any{"ok": true})
		return
	case len(seg) == 2 && seg[0] == "clock" && seg[1] == "advance" && post:
		vc, ok := s.clock.(*VirtualClock)
		if !ok {
			fail(http.StatusConflict, errors.New("the simulator runs on the real clock"))
			return
		}
		var v struct {
			Ms int64 `json:"ms"`
		}
		if !decode(&v) {
			return
		}
		vc.Advance(ms(v.Ms))
		reply(http.StatusOK, map[string]any{"now": wire.NewTime(vc.Now())})
		return
	case len(seg) >= 2 && seg[0] == "conversations":
	default:
		fail(http.StatusNotFound, errors.New("unknown control path"))
		return
	}
	c := s.conversation(seg[1])
	if seg[1] == "latest" {
		if all := s.Conversations(); len(all) > 0 {
			c = all[len(all)-1]
		}
	}
	if c == nil {
		fail(http.StatusNotFound, errors.New("unknown conversation"))
		return
	}
	action := strings.Join(seg[2:], "/")
	if action == "" && r.Method == http.MethodGet {
		reply(http.StatusOK, c.Summary(true))
		return
	}
	if !post {
		fail(http.StatusMethodNotAllowed, errors.New("use POST"))
		return
	}
	var err error
	var out any = map[string]any{"ok": true}
	switch action {
	case "agent/join", "agent/transfer":
		var a ctlAgent
		if !decode(&a) {
			return
		}
		if a.Name == "" {
			a.Name = "Agent"
		}
		p, o := AgentProfile{Name: a.Name, AvatarURL: a.AvatarURL}, JoinOptions{Ring: ms(a.RingMs), Greeting: a.Greeting}
		var id string
		if action == "agent/join" {
			id, err = c.JoinAgent(p, o)
		} else {
			id, err = c.Transfer(p, o)
		}
		out = map[string]any{"agentId": id}
	case "agent/say":
		var v ctlSay
		if !decode(&v) {
			return
		}
		var m *wire.WebChatMessage
		m, err = c.Say(v.Text, SayOptions{Notice: v.Notice, Typing: v.Typing, Delay: ms(v.DelayMs)})
		if m != nil {
			out = m
		}
	case "agent/typing":
		err = c.Typing()
	case "agent/leave":
		err = c.LeaveAgent()
	case "notice":
		var v ctlSay
		if !decode(&v) {
			return
		}
		err = c.SystemNotice(v.Text)
	case "end":
		err = c.End()
	case "echo":
		var v struct {
			Enabled bool `json:"enabled"`
		}
		if !decode(&v) {
			return
		}
		c.SetEcho(v.Enabled)
	case "mediarequests":
		var v struct {
			Types    []wire.MediaRequestType `json:"types"`
			Announce bool                    `json:"announce"`
		}
		if !decode(&v) {
			return
		}
		out, err = c.OfferMediaRequest(v.Types, v.Announce)
	case "faults":
		var f ctlFault
		if !decode(&f) {
			return
		}
		out, err = c.applyControlFault(f)
	default:
		fail(http.StatusNotFound, errors.New("unknown conversation action "+action))
		return
	}
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, ErrEmpty) || strings.Contains(err.Error(), "must be") || strings.Contains(err.Error(), "unknown") {
			status = http.StatusBadRequest
		}
		fail(status, err)
		return
	}
	reply(http.StatusOK, out)
}

func (c *Conversation) applyControlFault(f ctlFault) (any, error) {
	n := f.Count
	if n <= 0 {
		n = 1
	}
	switch f.Action {
	case "drop":
		code := f.Code
		if code == 0 {
			code = 1001
		}
		return map[string]int{"sockets": c.DropSockets(code, f.Reason)}, nil
	case "abort":
		return map[string]int{"sockets": c.AbortSockets()}, nil
	case "stall":
		return map[string]int{"sockets": c.StallSockets()}, nil
	case "socket-closing":
		return map[string]int{"sockets": c.SendSocketClosing()}, nil
	case "refuse-reconnects":
		c.RefuseReconnects(ms(f.DurationMs))
	case "expire-token":
		c.ExpireToken()
	case "duplicate":
		c.DuplicateNext(n, f.Later)
	case "reorder":
		c.ReorderNext(n)
	case "duplicate-connected":
		return map[string]bool{"ok": true}, c.DuplicateConnected()
	default:
		return nil, errors.New("unknown fault action " + f.Action)
	}
	return map[string]bool{"ok": true}, nil
}
