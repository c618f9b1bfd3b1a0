package gms

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// Mode is how a chat was started.
type Mode string

// Chat modes.
const (
	ModeREST   Mode = "rest"
	ModeCometD Mode = "cometd"
)

// EndReason says why a chat ended.
type EndReason string

// End reasons.
const (
	EndClient EndReason = "client"       // the client sent disconnect
	EndAgent  EndReason = "agent"        // Chat.End (agent side)
	EndIdle   EndReason = "idle"         // inactivity control closed it
	EndFlex   EndReason = "flex-timeout" // flex-disconnect-timeout
	EndLost   EndReason = "lost"         // Chat.Lose: GMS forgot the chat
)

// Errors of the agent-side API.
var (
	ErrChatEnded = errors.New("gms: chat ended")
	ErrAgentLeft = errors.New("gms: agent has left the chat")
)

var chatSeq atomic.Int64

// Chat is one chat session in the simulator. Its methods are safe for
// concurrent use; getters return copies.
type Chat struct {
	s       *Server
	seq     int64
	id      string
	service string
	mode    Mode
	script  *Script

	mu         sync.Mutex
	userID     string
	secureKey  string
	alias      string
	client     wire.Party
	request    wire.Request // the requestChat parameters (keys and auth cleared)
	userData   map[string]string
	pushKeys   map[string]string
	transcript []wire.Event
	lastIndex  int
	count      int
	agents     []*Agent
	ended      bool
	reason     EndReason
	readIndex  int
	preview    string
	files      map[string]*file
	fileOrder  []string
	limits     wire.FileLimits
	bound      *bayeux.ServerSession
	idleT      *simTimer
	idleStage  int
	flexT      *simTimer
	changed    chan struct{}
	pidN       int

	scriptPending []wire.Event // client messages before the script's agent joined
}

func (s *Server) newChat(service string, mode Mode, req *wire.Request) *Chat {
	c := &Chat{
		s: s, seq: chatSeq.Add(1), id: s.newChatID(), service: service, mode: mode,
		userID: s.newHex16(true), secureKey: s.newHex16(false), alias: s.newAlias(""),
		files: map[string]*file{}, limits: s.st.limits, changed: make(chan struct{}),
	}
	c.request = *req
	c.request.SetKeys(wire.Keys{})
	c.request.Auth = nil
	c.request.UserData = nil
	c.userData = maps.Clone(req.UserData)
	if c.userData == nil {
		c.userData = map[string]string{}
	}
	c.pushKeys = pushKeys(req.UserData)
	nick := strings.TrimSpace(req.Nickname)
	if nick == "" {
		nick = strings.TrimSpace(req.FirstName + " " + req.LastName)
	}
	c.client = wire.Party{Nickname: nick, ParticipantID: c.newPIDL(), Type: wire.PartyClient}
	c.script = s.opts.Script
	if s.opts.ScriptFor != nil {
		if sc := s.opts.ScriptFor(c); sc != nil {
			c.script = sc
		}
	}
	if c.script == nil {
		c.script = DefaultScript()
	}
	return c
}

func pushKeys(ud map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range ud {
		if strings.HasPrefix(k, "push_notification_") {
			out[k] = v
		}
	}
	return out
}

// newPIDL returns the next participantId: 1, 2, 3, … or 16 hex digits.
func (c *Chat) newPIDL() wire.FlexString {
	if c.s.opts.HexParticipantIDs {
		return wire.FlexString("00" + c.s.newHex16(true)[2:])
	}
	c.pidN++
	return wire.FlexString(itoa(c.pidN))
}

// ID returns the chatId.
func (c *Chat) ID() string { return c.id }

// Service returns the chat service name.
func (c *Chat) Service() string { return c.service }

// Mode returns how the chat was started.
func (c *Chat) Mode() Mode { return c.mode }

// Keys returns the current session keys (secureKey included: handle with care).
func (c *Chat) Keys() wire.Keys {
	c.mu.Lock()
	defer c.mu.Unlock()
	return wire.Keys{ChatID: c.id, UserID: c.userID, SecureKey: c.secureKey, Alias: c.alias}
}

// Client returns the client party (nickname as updated).
func (c *Chat) Client() wire.Party {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// Request returns the requestChat parameters (without keys, auth and userData).
func (c *Chat) Request() wire.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.request
}

// UserData returns the chat's user data (requestChat, updateData).
func (c *Chat) UserData() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.userData)
}

// PushKeys returns the push_notification_* keys recorded from requestChat.
func (c *Chat) PushKeys() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.pushKeys)
}

// Transcript returns a copy of every event, in index order.
func (c *Chat) Transcript() []wire.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wire.Event(nil), c.transcript...)
}

// ClientMessages returns the texts of the client's Message events.
func (c *Chat) ClientMessages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.transcript {
		if e.Type == wire.EventMessage && e.From != nil && e.From.Type == wire.PartyClient {
			out = append(out, e.Text)
		}
	}
	return out
}

// Ended reports whether the chat has ended and why.
func (c *Chat) Ended() (bool, EndReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended, c.reason
}

// ReadIndex returns the highest index the client acknowledged with readReceipt.
func (c *Chat) ReadIndex() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readIndex
}

// Preview returns the client's last typing preview (refresh/typing message).
func (c *Chat) Preview() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.preview
}

// Agents returns the agents currently in the chat.
func (c *Chat) Agents() []*Agent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Agent(nil), c.agents...)
}

// CometDSession returns the clientId of the Bayeux session notifications go
// to ("" when none).
func (c *Chat) CometDSession() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bound == nil {
		return ""
	}
	return c.bound.ID()
}

// Wait blocks until cond(c) is true (checked at once and after every change
// of the chat), ctx is done, or the simulator closes. cond runs without the
// chat's lock held, so it may call the getters.
func (c *Chat) Wait(ctx context.Context, cond func(*Chat) bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond(c) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.s.isClosed() && !cond(c) {
			return ErrClosed
		}
	}
}

// WaitEvent waits for an event of type t matching match (nil: any) and returns it.
func (c *Chat) WaitEvent(ctx context.Context, t wire.EventType, match func(wire.Event) bool) (wire.Event, error) {
	var found wire.Event
	err := c.Wait(ctx, func(c *Chat) bool {
		for _, e := range c.Transcript() {
			if e.Type == t && (match == nil || match(e)) {
				found = e
				return true
			}
		}
		return false
	})
	return found, err
}

func (c *Chat) changedL() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// activity kinds for idle control.
type activity int

const (
	actAlways activity = iota
	actTyping
	actMajor // push URL, files
	actCustom
	actOther // nickname, notices
	actNone
)

func (c *Chat) countsL(a activity) bool {
	switch a {
	case actAlways:
		return true
	case actNone:
		return false
	}
	switch c.s.opts.Idle.IncludeNotices {
	case "all":
		return true
	case "typing":
		return a == actTyping
	case "major":
		return a == actMajor
	case "major2":
		return a == actMajor || a == actCustom
	}
	return false
}

func (c *Chat) nowMs() int64 { return c.s.clock.Now().UnixMilli() }

// appendL adds an event to the transcript: it assigns the index (with the
// configured gaps) and utcTime, resets idle control per the activity, and
// delivers it unsolicited to the bound CometD session unless own (the
// operation's own event travels in the operation's answer).
func (c *Chat) appendL(ev wire.Event, a activity, own bool) wire.Event {
	c.count++
	idx := c.lastIndex + 1
	if n := c.s.opts.SkipIndexEvery; n > 0 && c.count%n == 0 {
		idx++
	}
	c.lastIndex = idx
	ev.Index = idx
	ev.UTCTime = c.nowMs()
	c.transcript = append(c.transcript, ev)
	if !c.ended && c.countsL(a) {
		c.resetIdleL()
	}
	if !own {
		c.notifyL([]wire.Event{ev})
	}
	c.changedL()
	return ev
}

// responseL builds an answer with the chat's current state.
func (c *Chat) responseL(mode Mode, events []wire.Event) *wire.Response {
	r := &wire.Response{
		StatusCode: wire.StatusOK, ChatEnded: c.ended,
		ChatID: c.id, UserID: c.userID, SecureKey: c.secureKey, Alias: c.alias,
		NextPosition: c.lastIndex + 1, Messages: events,
	}
	if r.Messages == nil {
		r.Messages = []wire.Event{}
	}
	if mode == ModeCometD {
		if c.s.opts.CometDDeprecatedIDs {
			r.UserID, r.ChatID = wire.Deprecated, wire.Deprecated
		}
		if c.s.opts.CometDMonitored {
			f := false
			r.Monitored = &f
		}
	}
	return r
}

// eventsFromL returns the events with index ≥ pos (all when pos ≤ 0).
func (c *Chat) eventsFromL(pos int) []wire.Event {
	out := []wire.Event{}
	for _, e := range c.transcript {
		if e.Index >= pos {
			out = append(out, e)
		}
	}
	return out
}

// notifyL delivers an unsolicited notification to the bound CometD session.
func (c *Chat) notifyL(events []wire.Event) {
	if c.bound == nil {
		return
	}
	if c.s.faults.takeDrop() {
		return
	}
	_ = c.bound.Deliver(wire.ServiceChannel(c.service), c.responseL(ModeCometD, events))
}

func (c *Chat) systemParty() *wire.Party {
	return &wire.Party{Nickname: DefaultSystemNickname, ParticipantID: "0", Type: wire.PartyExternal}
}

func (c *Chat) clientParty() *wire.Party {
	p := c.client
	return &p
}

// endL ends the chat: final events (may be none), then every agent leaves;
// the last event's notification carries chatEnded:true (an empty
// notification when there is no event). Own final events are not delivered
// unsolicited.
func (c *Chat) endL(reason EndReason, own bool, final ...wire.Event) {
	if c.ended {
		return
	}
	for _, a := range c.agents {
		a.left = true
		final = append(final, wire.Event{Type: wire.EventParticipantLeft, From: a.partyPtr(), EventAttributes: a.attrs()})
	}
	c.agents = nil
	c.stopIdleL()
	c.flexT.Stop()
	c.flexT = nil
	for i, ev := range final {
		if i == len(final)-1 {
			c.ended, c.reason = true, reason
		}
		c.appendL(ev, actNone, own)
	}
	if len(final) == 0 {
		c.ended, c.reason = true, reason
		if !own {
			c.notifyL(nil)
		}
	}
	c.changedL()
	if c.s.st.retention > 0 {
		c.s.after(c.s.st.retention, func() { c.s.forget(c) })
	}
}

// End ends the chat from the agent side: every agent leaves and the client
// sees chatEnded:true.
func (c *Chat) End() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrChatEnded
	}
	c.endL(EndAgent, false)
	return nil
}

// Lose makes GMS forget the live chat at once, as when its Chat Server failed
// and lost the session's state: no event is sent; later REST requests for the
// chat get HTTP 404 and CometD operations statusCode 2 with chatEnded:true
// (error SessionNotFound). Clients see the session as lost.
func (c *Chat) Lose() error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return ErrChatEnded
	}
	for _, a := range c.agents {
		a.left = true
	}
	c.agents = nil
	c.stopIdleL()
	c.flexT.Stop()
	c.flexT = nil
	c.ended, c.reason = true, EndLost
	c.changedL()
	c.mu.Unlock()
	c.s.forget(c)
	return nil
}

// MoveOptions say what changes when a chat moves to another Chat Server.
type MoveOptions struct {
	// KeepSecureKey keeps the secureKey (by default a new one is issued and
	// the old one works for Options.KeyGrace).
	KeepSecureKey bool
	// NewUserID issues a new userId too.
	NewUserID bool
}

// MoveChatServer simulates the session moving to another Chat Server: a new
// alias and (unless KeepSecureKey) a new secureKey, returned in every later
// answer and notification.
func (c *Chat) MoveChatServer(o MoveOptions) wire.Keys {
	c.mu.Lock()
	old := c.alias
	c.mu.Unlock()
	alias := c.s.newAlias(old)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alias = alias
	if !o.KeepSecureKey {
		oldKey := c.secureKey
		c.secureKey = c.s.newHex16(false)
		c.s.rekey(c, oldKey, c.secureKey)
	}
	if o.NewUserID {
		c.userID = c.s.newHex16(true)
	}
	c.changedL()
	return wire.Keys{ChatID: c.id, UserID: c.userID, SecureKey: c.secureKey, Alias: c.alias}
}

// bindL makes sess the receiver of the chat's notifications.
func (c *Chat) bindL(sess *bayeux.ServerSession) {
	if c.bound == sess {
		return
	}
	c.bound = sess
	if sess != nil {
		sess.SetAttribute(attrChat, c)
	}
}

// DropCometD closes the WebSocket connection of the chat's Bayeux session
// (the session survives; long-polling is not affected).
func (c *Chat) DropCometD() {
	c.mu.Lock()
	b := c.bound
	c.mu.Unlock()
	if b != nil {
		b.DropConnection()
	}
}

// ForgetCometD makes the server forget the chat's Bayeux session: the
// client's next request gets 402::Unknown client and must handshake again
// and requestNotifications.
func (c *Chat) ForgetCometD() {
	c.mu.Lock()
	b := c.bound
	c.mu.Unlock()
	if b != nil {
		b.Forget()
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
