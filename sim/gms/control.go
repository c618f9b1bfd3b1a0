package gms

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cxbus/webchat/transports/gms/wire"
)

// The HTTP control API (JSON), under ControlPrefix ("/_sim/"):
//
//	GET  /_sim/chats                             list of chats
//	GET  /_sim/chats/{chatId}                    one chat with its transcript
//	POST /_sim/chats/{chatId}/join               {"name","type":"agent|supervisor|bot"} → {"participantId"}
//	POST /_sim/chats/{chatId}/end | idleAlert | idleClose | lose | dropCometD | forgetCometD
//	POST /_sim/chats/{chatId}/move               {"keepSecureKey","newUserId"} → {"alias","userId"}
//	POST /_sim/chats/{chatId}/agents/{participantId}/{action}
//	     send {"text","messageType","eventAttributes"} · typing {"typing","text"} · notice {"text"}
//	     customNotice {"text","eventAttributes"} · pushUrl {"url"} · nickname {"nickname"}
//	     file {"name","content"(base64),"userData"} → {"fileId"} · leave · transfer {"name"} → {"participantId"}
//	POST /_sim/faults  {"offline":n,"offlineFor":"10s","fail":n,"failStatus":503,"failOperation":"fileUpload","delay":"2s",
//	                    "dropNotifications":n,"duplicate":bool,"dropCometD":true,"forgetCometD":true,"restart":true}
//
// Errors answer {"error":"…"} with 400 (bad body), 404 (unknown chat or
// agent) or 409 (chat ended, agent left). Secure keys are never returned.

type ctlAgent struct {
	ParticipantID string `json:"participantId"`
	Name          string `json:"name"`
	Type          string `json:"type"`
	Bot           bool   `json:"bot,omitempty"`
}

type ctlFile struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Owner     string `json:"owner"`
	Downloads int    `json:"downloads"`
	Deleted   bool   `json:"deleted,omitempty"`
}

type ctlChat struct {
	ChatID        string            `json:"chatId"`
	UserID        string            `json:"userId"`
	Alias         string            `json:"alias"`
	Service       string            `json:"service"`
	Mode          Mode              `json:"mode"`
	Nickname      string            `json:"nickname"`
	Ended         bool              `json:"ended"`
	EndReason     EndReason         `json:"endReason,omitempty"`
	Agents        []ctlAgent        `json:"agents"`
	CometDSession string            `json:"cometdSession,omitempty"`
	ReadIndex     int               `json:"readIndex"`
	Preview       string            `json:"preview,omitempty"`
	UserData      map[string]string `json:"userData,omitempty"`
	Files         []ctlFile         `json:"files,omitempty"`
	Transcript    []wire.Event      `json:"transcript,omitempty"`
}

func (c *Chat) snapshot(full bool) ctlChat {
	k := c.Keys()
	ended, reason := c.Ended()
	out := ctlChat{ChatID: c.id, UserID: k.UserID, Alias: k.Alias, Service: c.service, Mode: c.mode,
		Nickname: c.Client().Nickname, Ended: ended, EndReason: reason, Agents: []ctlAgent{},
		CometDSession: c.CometDSession(), ReadIndex: c.ReadIndex(), Preview: c.Preview()}
	for _, a := range c.Agents() {
		out.Agents = append(out.Agents, ctlAgent{ParticipantID: a.ParticipantID(), Name: a.Name(), Type: string(a.Type()), Bot: a.Bot()})
	}
	if full {
		out.UserData = c.UserData()
		out.Transcript = c.Transcript()
		for _, f := range c.Files() {
			out.Files = append(out.Files, ctlFile{ID: f.ID, Name: f.Name, Size: f.Size, Owner: string(f.Owner), Downloads: f.Downloads, Deleted: f.Deleted})
		}
	}
	return out
}

type ctlError struct {
	status int
	msg    string
}

func (e *ctlError) Error() string { return e.msg }

func ctlErr(status int, format string, a ...any) error {
	return &ctlError{status: status, msg: fmt.Sprintf(format, a...)}
}

func agentErr(err error) error {
	if errors.Is(err, ErrChatEnded) || errors.Is(err, ErrAgentLeft) {
		return ctlErr(http.StatusConflict, "%v", err)
	}
	return err
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	if !s.opts.ControlAPIAnyHost && !isLoopback(r.RemoteAddr) {
		http.Error(w, "gms: control API is loopback only", http.StatusForbidden)
		return
	}
	res, err := s.control(r)
	if err != nil {
		st := http.StatusBadRequest
		var ce *ctlError
		if errors.As(err, &ce) {
			st = ce.status
		}
		s.writeJSON(w, st, map[string]string{"error": err.Error()})
		return
	}
	if res == nil {
		res = map[string]any{}
	}
	s.writeJSON(w, http.StatusOK, res)
}

// ctlBody is the union of the control API's request bodies.
type ctlBody struct {
	Name            string            `json:"name"`
	Type            string            `json:"type"`
	Text            string            `json:"text"`
	MessageType     string            `json:"messageType"`
	EventAttributes map[string]any    `json:"eventAttributes"`
	Typing          bool              `json:"typing"`
	URL             string            `json:"url"`
	Nickname        string            `json:"nickname"`
	Content         string            `json:"content"`
	UserData        map[string]string `json:"userData"`
	KeepSecureKey   bool              `json:"keepSecureKey"`
	NewUserID       bool              `json:"newUserId"`

	Offline           *int    `json:"offline"`
	OfflineFor        *string `json:"offlineFor"`
	Fail              *int    `json:"fail"`
	FailStatus        int     `json:"failStatus"`
	FailOperation     string  `json:"failOperation"`
	Delay             *string `json:"delay"`
	DropNotifications *int    `json:"dropNotifications"`
	Duplicate         *bool   `json:"duplicate"`
	DropCometD        bool    `json:"dropCometD"`
	ForgetCometD      bool    `json:"forgetCometD"`
	Restart           bool    `json:"restart"`
}

func (s *Server) control(r *http.Request) (any, error) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, ControlPrefix), "/"), "/")
	var body ctlBody
	if r.Method == http.MethodPost {
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 8<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
			return nil, ctlErr(http.StatusBadRequest, "gms: control body: %v", err)
		}
	} else if r.Method != http.MethodGet {
		return nil, ctlErr(http.StatusMethodNotAllowed, "gms: use GET or POST")
	}
	switch {
	case len(parts) == 1 && parts[0] == "faults" && r.Method == http.MethodPost:
		return nil, s.applyFaults(body)
	case len(parts) == 1 && parts[0] == "chats" && r.Method == http.MethodGet:
		out := []ctlChat{}
		for _, c := range s.Chats() {
			out = append(out, c.snapshot(false))
		}
		return out, nil
	case len(parts) >= 2 && parts[0] == "chats":
		c := s.Chat(parts[1])
		if c == nil {
			return nil, ctlErr(http.StatusNotFound, "gms: no chat %q", parts[1])
		}
		if len(parts) == 2 && r.Method == http.MethodGet {
			return c.snapshot(true), nil
		}
		if r.Method != http.MethodPost {
			return nil, ctlErr(http.StatusMethodNotAllowed, "gms: use POST")
		}
		if len(parts) == 3 {
			return s.chatAction(c, parts[2], body)
		}
		if len(parts) == 5 && parts[2] == "agents" {
			a := c.Agent(parts[3])
			if a == nil {
				return nil, ctlErr(http.StatusNotFound, "gms: no agent %q in the chat", parts[3])
			}
			return agentAction(a, parts[4], body)
		}
	}
	return nil, ctlErr(http.StatusNotFound, "gms: unknown control path %q", r.URL.Path)
}

func (s *Server) chatAction(c *Chat, action string, b ctlBody) (any, error) {
	switch action {
	case "join":
		var a *Agent
		var err error
		switch strings.ToLower(b.Type) {
		case "", "agent":
			a, err = c.JoinAgent(b.Name)
		case "supervisor":
			a, err = c.JoinSupervisor(b.Name)
		case "bot":
			a, err = c.JoinBot(b.Name)
		default:
			return nil, ctlErr(http.StatusBadRequest, "gms: type %q is not agent, supervisor or bot", b.Type)
		}
		if err != nil {
			return nil, agentErr(err)
		}
		return map[string]string{"participantId": a.ParticipantID()}, nil
	case "end":
		return nil, agentErr(c.End())
	case "idleAlert":
		return nil, agentErr(c.IdleAlert())
	case "idleClose":
		return nil, agentErr(c.IdleClose())
	case "lose":
		return nil, agentErr(c.Lose())
	case "move":
		k := c.MoveChatServer(MoveOptions{KeepSecureKey: b.KeepSecureKey, NewUserID: b.NewUserID})
		return map[string]string{"alias": k.Alias, "userId": k.UserID}, nil
	case "dropCometD":
		c.DropCometD()
		return nil, nil
	case "forgetCometD":
		c.ForgetCometD()
		return nil, nil
	}
	return nil, ctlErr(http.StatusNotFound, "gms: unknown chat action %q", action)
}

func agentAction(a *Agent, action string, b ctlBody) (any, error) {
	var err error
	switch action {
	case "send":
		mt := b.MessageType
		if mt == "" {
			mt = "text"
		}
		err = a.SendWith(b.Text, mt, b.EventAttributes)
	case "typing":
		err = a.Typing(b.Typing, b.Text)
	case "notice":
		err = a.Notice(b.Text)
	case "customNotice":
		err = a.CustomNotice(b.Text, b.EventAttributes)
	case "pushUrl":
		err = a.PushURL(b.URL)
	case "nickname":
		err = a.UpdateNickname(b.Nickname)
	case "file":
		content, derr := base64.StdEncoding.DecodeString(b.Content)
		if derr != nil {
			return nil, ctlErr(http.StatusBadRequest, "gms: content: want base64")
		}
		id, err := a.UploadFile(b.Name, content, b.UserData)
		if err != nil {
			return nil, agentErr(err)
		}
		return map[string]string{"fileId": id}, nil
	case "leave":
		err = a.Leave()
	case "transfer":
		n, err := a.Transfer(b.Name)
		if err != nil {
			return nil, agentErr(err)
		}
		return map[string]string{"participantId": n.ParticipantID()}, nil
	default:
		return nil, ctlErr(http.StatusNotFound, "gms: unknown agent action %q", action)
	}
	return nil, agentErr(err)
}

func (s *Server) applyFaults(b ctlBody) error {
	dur := func(p *string, name string) (time.Duration, error) {
		d, err := time.ParseDuration(*p)
		if err != nil {
			return 0, ctlErr(http.StatusBadRequest, "gms: %s: want a duration such as \"2s\"", name)
		}
		return d, nil
	}
	if b.OfflineFor != nil {
		d, err := dur(b.OfflineFor, "offlineFor")
		if err != nil {
			return err
		}
		s.ChatServerOfflineFor(d)
	}
	if b.Offline != nil {
		s.ChatServerOffline(*b.Offline)
	}
	if b.Fail != nil {
		st := b.FailStatus
		if st == 0 {
			st = http.StatusInternalServerError
		}
		if st < 400 || st > 599 {
			return ctlErr(http.StatusBadRequest, "gms: failStatus %d is not an HTTP error status", st)
		}
		if b.FailOperation == "" {
			s.FailRequests(*b.Fail, st)
		} else if op := wire.Operation(b.FailOperation); op.REST() || op.File() {
			s.FailOperation(op, *b.Fail, st)
		} else {
			return ctlErr(http.StatusBadRequest, "gms: failOperation %q is not a REST or file operation", b.FailOperation)
		}
	} else if b.FailOperation != "" {
		return ctlErr(http.StatusBadRequest, "gms: failOperation needs fail (the number of requests to fail)")
	}
	if b.Delay != nil {
		d, err := dur(b.Delay, "delay")
		if err != nil {
			return err
		}
		s.SetDelay(d)
	}
	if b.DropNotifications != nil {
		s.DropNotifications(*b.DropNotifications)
	}
	if b.Duplicate != nil {
		s.SetDuplicateDelivery(*b.Duplicate)
	}
	if b.DropCometD {
		s.DropCometDConnections()
	}
	if b.ForgetCometD {
		s.ForgetCometDSessions()
	}
	if b.Restart {
		s.Restart()
	}
	return nil
}
