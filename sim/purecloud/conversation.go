package purecloud

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Conversation is one simulated chat. Its methods drive the agent side
// (agent.go), inject faults (faults.go) and read the state for assertions.
type Conversation struct {
	s            *Simulator
	id           string
	deploymentID string
	orgID        string
	queue        string
	token        string // the guest JWT (never logged)
	script       *Script
	created      time.Time

	mu           sync.Mutex
	guest        *wire.WebChatMemberInfo
	members      []*wire.WebChatMemberInfo
	byID         map[string]*wire.WebChatMemberInfo
	msgs         []*wire.WebChatMessage
	msgIdx       map[string]int
	lastTS       time.Time
	media        []*wire.WebChatGuestMediaRequest
	sockets      map[*socket]struct{}
	attachedOnce bool
	ended        bool
	endReason    EndReason
	agent        *wire.WebChatMemberInfo // current agent (ALERTING or CONNECTED)
	acd          *wire.WebChatMemberInfo
	timers       map[Timer]struct{}
	idleT        Timer
	detachT      Timer
	echo         *bool
	revokedAt    int64 // tokens issued at or before this unix second are expired (0: none)
	revoked      bool
	refuseUntil  time.Time
	delivery     deliveryPlan
	frames       int // chat envelopes emitted
	changed      chan struct{}
}

// EndReason says why a conversation ended.
type EndReason string

// End reasons.
const (
	EndByGuest  EndReason = "guest"  // DELETE of the guest's own member
	EndByAgent  EndReason = "agent"  // Conversation.End, control API end
	EndByIdle   EndReason = "idle"   // IdleTimeout without a guest message or typing
	EndByDetach EndReason = "detach" // DetachTimeout without a guest socket
)

func newConversation(s *Simulator, req *wire.CreateWebChatConversationRequest, script *Script, authenticated bool) *Conversation {
	now := s.clock.Now()
	c := &Conversation{
		s:            s,
		id:           s.newID(),
		deploymentID: req.DeploymentID,
		orgID:        req.OrganizationID,
		queue:        req.RoutingTarget.TargetAddress,
		script:       script,
		created:      now,
		byID:         make(map[string]*wire.WebChatMemberInfo),
		msgIdx:       make(map[string]int),
		sockets:      make(map[*socket]struct{}),
		timers:       make(map[Timer]struct{}),
		changed:      make(chan struct{}),
	}
	mi := req.MemberInfo
	g := &wire.WebChatMemberInfo{
		ID:                 s.newID(),
		DisplayName:        mi.DisplayName,
		FirstName:          mi.FirstName,
		LastName:           mi.LastName,
		Email:              mi.Email,
		PhoneNumber:        mi.PhoneNumber,
		AvatarImageURL:     mi.AvatarImageURL,
		Role:               wire.RoleCustomer,
		JoinDate:           wire.TimePtr(c.stamp(now)),
		AuthenticatedGuest: authenticated,
		CustomFields:       copyMap(mi.CustomFields),
		State:              wire.StateDisconnected,
	}
	c.guest = g
	c.members = append(c.members, g)
	c.byID[g.ID] = g
	return c
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ID is the conversation id.
func (c *Conversation) ID() string { return c.id }

// GuestID is the guest's member id.
func (c *Conversation) GuestID() string { return c.guest.ID }

// DeploymentID and Queue are the create request's deployment and queue.
func (c *Conversation) DeploymentID() string { return c.deploymentID }

// Queue is the routing target address of the create request.
func (c *Conversation) Queue() string { return c.queue }

// stamp returns t truncated to milliseconds and strictly after every
// earlier stamp of the conversation (messages, typing, member changes), so
// timestamp order alone equals transcript and emission order.
func (c *Conversation) stamp(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Millisecond)
	if !t.After(c.lastTS) {
		t = c.lastTS.Add(time.Millisecond)
	}
	c.lastTS = t
	return t
}

// notifyL wakes Wait callers; c.mu held.
func (c *Conversation) notifyL() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Wait blocks until cond returns true (checked now and after every change
// of the conversation) or ctx ends. cond runs without the conversation's
// lock held, so it may call any read method.
func (c *Conversation) Wait(ctx context.Context, cond func(*Conversation) bool) error {
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
	}
}

// Ended reports whether the conversation has ended and why.
func (c *Conversation) Ended() (bool, EndReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended, c.endReason
}

// Attached is the number of event-stream sockets attached now.
func (c *Conversation) Attached() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sockets)
}

// AgentID is the member id of the current agent ("" when none).
func (c *Conversation) AgentID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.agent == nil {
		return ""
	}
	return c.agent.ID
}

// AgentState is the state of the current agent ("" when none).
func (c *Conversation) AgentState() wire.MemberState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.agent == nil {
		return ""
	}
	return c.agent.State
}

// Members returns copies of every member in join order.
func (c *Conversation) Members() []wire.WebChatMemberInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]wire.WebChatMemberInfo, len(c.members))
	for i, m := range c.members {
		out[i] = *m
	}
	return out
}

// Messages returns copies of the transcript in order, member-join and
// member-leave included.
func (c *Conversation) Messages() []wire.WebChatMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]wire.WebChatMessage, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = *m
	}
	return out
}

// GuestMessages returns the bodies of the guest's standard and notice
// messages, in order.
func (c *Conversation) GuestMessages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs {
		if m.Sender.ID == c.guest.ID && (m.BodyType == wire.BodyStandard || m.BodyType == wire.BodyNotice) {
			out = append(out, m.Body)
		}
	}
	return out
}

// FramesSent is the number of chat envelopes (not heartbeats) emitted.
func (c *Conversation) FramesSent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames
}

// --- state changes; all *L methods need c.mu held ---

func (c *Conversation) now() time.Time { return c.stamp(c.s.clock.Now()) }

func convRef(id string) *wire.WebChatConversation { return &wire.WebChatConversation{ID: id} }

// emitL sends an envelope to every attached socket.
func (c *Conversation) emitL(env *wire.Envelope) {
	data, err := json.Marshal(env)
	if err != nil {
		c.s.log.Error().Err(err).Msg("purecloud sim: encode envelope")
		return
	}
	c.frames++
	fl := c.delivery.next(c.s)
	for k := range c.sockets {
		k.enqueue(outFrame{data: data, flags: fl})
	}
	c.notifyL()
}

func (c *Conversation) memberChangeL(m *wire.WebChatMemberInfo, st wire.MemberState) {
	m.State = st
	ev := &wire.MemberChangeEvent{
		ID:           c.s.newID(),
		Conversation: convRef(c.id),
		Member:       &wire.WebChatMemberInfo{ID: m.ID, State: st},
		Timestamp:    wire.NewTime(c.now()),
	}
	env, err := wire.MemberChangeEnvelope(c.id, c.s.newID(), ev)
	if err == nil {
		c.emitL(env)
	}
}

// postL stores a message and emits its event; it returns the stored copy.
func (c *Conversation) postL(sender *wire.WebChatMemberInfo, body string, bt wire.BodyType) *wire.WebChatMessage {
	ts := c.now()
	m := &wire.WebChatMessage{
		ID:           c.s.newID(),
		Conversation: &wire.WebChatConversation{ID: c.id, SelfURI: wire.ConversationSelfURI(c.id)},
		Sender:       &wire.WebChatMemberInfo{ID: sender.ID},
		Body:         body,
		BodyType:     bt,
		Timestamp:    wire.NewTime(ts),
	}
	m.SelfURI = wire.MessagePath(c.id, m.ID)
	c.msgIdx[m.ID] = len(c.msgs)
	c.msgs = append(c.msgs, m)
	ev := &wire.WebChatMessage{ID: m.ID, Conversation: convRef(c.id), Sender: &wire.WebChatMemberInfo{ID: sender.ID},
		Body: body, BodyType: bt, Timestamp: m.Timestamp}
	env, err := wire.MessageEnvelope(c.id, c.s.newID(), ev)
	if err == nil {
		c.emitL(env)
	}
	cp := *m
	return &cp
}

// typingL emits a typing indicator from sender and returns the REST form.
func (c *Conversation) typingL(sender *wire.WebChatMemberInfo) *wire.WebChatTyping {
	t := &wire.WebChatTyping{ID: c.s.newID(), Conversation: convRef(c.id),
		Sender: &wire.WebChatMemberInfo{ID: sender.ID}, Timestamp: wire.NewTime(c.now())}
	env, err := wire.TypingEnvelope(c.id, c.s.newID(), t)
	if err == nil {
		c.emitL(env)
	}
	return &wire.WebChatTyping{ID: t.ID, Conversation: &wire.WebChatConversation{ID: c.id, SelfURI: wire.ConversationSelfURI(c.id)},
		Sender: t.Sender, Timestamp: t.Timestamp}
}

func (c *Conversation) addMemberL(role wire.MemberRole, name, avatar string) *wire.WebChatMemberInfo {
	m := &wire.WebChatMemberInfo{ID: c.s.newID(), DisplayName: name, AvatarImageURL: avatar, Role: role,
		JoinDate: wire.TimePtr(c.now()), State: wire.StateDisconnected}
	c.members = append(c.members, m)
	c.byID[m.ID] = m
	return m
}

// joinL: member-change CONNECTED, then a member-join message.
func (c *Conversation) joinL(m *wire.WebChatMemberInfo) {
	c.memberChangeL(m, wire.StateConnected)
	c.postL(m, "", wire.BodyMemberJoin)
}

// leaveL: member-change DISCONNECTED, then a member-leave message; leaveDate
// is set for good. A member that already left is left alone.
func (c *Conversation) leaveL(m *wire.WebChatMemberInfo) {
	if m == nil || m.LeaveDate != nil {
		return
	}
	m.LeaveDate = wire.TimePtr(c.now())
	joined := m.State != wire.StateAlerting
	c.memberChangeL(m, wire.StateDisconnected)
	if joined {
		c.postL(m, "", wire.BodyMemberLeave)
	}
	if m == c.agent {
		c.agent = nil
	}
	if m == c.acd {
		c.acd = nil
	}
}

// touchL restarts the idle timer (guest message or typing).
func (c *Conversation) touchL() {
	if c.idleT != nil {
		c.idleT.Stop()
		c.idleT = nil
	}
	if c.ended || c.s.set.idle <= 0 {
		return
	}
	c.idleT = c.s.afterFunc(c.s.set.idle, func() { c.end(EndByIdle) })
}

// armDetachL starts the detach timer when no guest socket is attached.
func (c *Conversation) armDetachL() {
	if c.detachT != nil {
		c.detachT.Stop()
		c.detachT = nil
	}
	if c.ended || len(c.sockets) > 0 || c.s.set.detach <= 0 {
		return
	}
	c.detachT = c.s.afterFunc(c.s.set.detach, func() { c.end(EndByDetach) })
}

// scheduleL runs f with c.mu held after d, unless the conversation ended.
func (c *Conversation) scheduleL(d time.Duration, f func()) {
	var t Timer
	t = c.s.afterFunc(d, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.timers, t)
		if c.ended {
			return
		}
		f()
	})
	c.timers[t] = struct{}{}
}

func (c *Conversation) stopTimersL() {
	for t := range c.timers {
		t.Stop()
	}
	clear(c.timers)
	for _, t := range []*Timer{&c.idleT, &c.detachT} {
		if *t != nil {
			(*t).Stop()
			*t = nil
		}
	}
}

func (c *Conversation) end(r EndReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endL(r)
}

// endL ends the chat: every other member leaves, then the guest leaves
// (member-leave, then member-change DISCONNECTED, the final signal), and
// after CloseGrace every socket closes with 1001.
func (c *Conversation) endL(r EndReason) bool {
	if c.ended {
		return false
	}
	c.ended, c.endReason = true, r
	c.stopTimersL()
	for _, m := range c.members {
		if m != c.guest && m.LeaveDate == nil && m.State != wire.StateDisconnected {
			c.leaveL(m)
		} else if m != c.guest && m.LeaveDate == nil {
			m.LeaveDate = wire.TimePtr(c.now())
		}
	}
	c.agent, c.acd = nil, nil
	g := c.guest
	g.LeaveDate = wire.TimePtr(c.now())
	c.postL(g, "", wire.BodyMemberLeave)
	c.memberChangeL(g, wire.StateDisconnected)
	c.s.afterFunc(c.s.set.grace, func() { c.closeSockets(wire.CloseConversationEnded, wire.CloseReasonEnded) })
	c.notifyL()
	return true
}

func (c *Conversation) closeSockets(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.sockets {
		k.closeWith(code, reason)
	}
}

// shutdown is called by Simulator.Close.
func (c *Conversation) shutdown() {
	c.mu.Lock()
	c.stopTimersL()
	socks := make([]*socket, 0, len(c.sockets))
	for k := range c.sockets {
		socks = append(socks, k)
	}
	c.mu.Unlock()
	for _, k := range socks {
		k.closeWith(1001, "simulator closed")
	}
}

func (c *Conversation) tokenRevoked(cl *wire.JWTClaims) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.revoked && cl.Iat <= c.revokedAt
}
