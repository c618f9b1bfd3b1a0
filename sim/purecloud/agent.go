package purecloud

import (
	"errors"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Errors of the agent-side API.
var (
	ErrEnded   = errors.New("purecloud: conversation ended")
	ErrNoAgent = errors.New("purecloud: no agent connected")
	ErrAgent   = errors.New("purecloud: an agent is already in the conversation")
	ErrEmpty   = errors.New("purecloud: empty text")
)

// JoinOptions tunes JoinAgent and Transfer.
type JoinOptions struct {
	// Ring is the time the agent stays ALERTING before CONNECTED; zero
	// connects at once (still ALERTING first, then CONNECTED + member-join).
	Ring time.Duration
	// Greeting is said once connected.
	Greeting string
}

// JoinAgent routes an agent to the chat now: member-change ALERTING, then
// (after opts.Ring) CONNECTED and a member-join; an ACD member leaves. It
// returns the agent's member id.
func (c *Conversation) JoinAgent(p AgentProfile, opts JoinOptions) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return "", ErrEnded
	}
	if c.agent != nil {
		return "", ErrAgent
	}
	c.routeAgentL(p, 0, opts.Ring, opts.Greeting)
	return c.agent.ID, nil
}

// SayOptions tunes Say.
type SayOptions struct {
	// Notice sends bodyType notice instead of standard.
	Notice bool
	// Typing sends a typing indicator first; Delay posts the message later.
	Typing bool
	Delay  time.Duration
}

// Say makes the connected agent send text. Without a delay it returns the
// stored message; with one it returns nil and posts later.
func (c *Conversation) Say(text string, opts SayOptions) (*wire.WebChatMessage, error) {
	if text == "" {
		return nil, ErrEmpty
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.connectedAgentL()
	if err != nil {
		return nil, err
	}
	bt := wire.BodyStandard
	if opts.Notice {
		bt = wire.BodyNotice
	}
	return c.sayL(a, text, bt, opts.Typing, opts.Delay), nil
}

// SystemNotice posts a notice from a WORKFLOW member (as Architect flows do)
// that joins, speaks and leaves. It needs no agent.
func (c *Conversation) SystemNotice(text string) error {
	if text == "" {
		return ErrEmpty
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrEnded
	}
	wf := c.addMemberL(wire.RoleWorkflow, c.script.WorkflowName, "")
	c.joinL(wf)
	c.postL(wf, text, wire.BodyNotice)
	c.leaveL(wf)
	return nil
}

// Typing sends a typing indicator from the connected agent.
func (c *Conversation) Typing() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.connectedAgentL()
	if err != nil {
		return err
	}
	c.typingL(a)
	return nil
}

// Transfer replaces the agent: the old one goes DISCONNECTED with a
// member-leave, then the new one goes ALERTING → CONNECTED with a
// member-join. The guest stays. It returns the new agent's member id.
func (c *Conversation) Transfer(to AgentProfile, opts JoinOptions) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return "", ErrEnded
	}
	if c.agent == nil {
		return "", ErrNoAgent
	}
	c.leaveL(c.agent)
	c.routeAgentL(to, 0, opts.Ring, opts.Greeting)
	return c.agent.ID, nil
}

// LeaveAgent makes the agent leave without ending the chat (a requeue):
// DISCONNECTED and member-leave; the guest stays CONNECTED.
func (c *Conversation) LeaveAgent() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrEnded
	}
	if c.agent == nil {
		return ErrNoAgent
	}
	c.leaveL(c.agent)
	return nil
}

// End ends the chat from the agent side: the agent leaves, then the guest's
// member goes DISCONNECTED, and after CloseGrace the sockets close (1001).
func (c *Conversation) End() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.endL(EndByAgent) {
		return ErrEnded
	}
	return nil
}

// SetEcho turns the echo bot on or off for this conversation.
func (c *Conversation) SetEcho(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.echo = &on
}

// OfferMediaRequest adds a PENDING co-browse/screen-share request visible
// in #9/#10; announce also posts a media-request message from the agent.
func (c *Conversation) OfferMediaRequest(types []wire.MediaRequestType, announce bool) (wire.WebChatGuestMediaRequest, error) {
	if len(types) == 0 {
		types = []wire.MediaRequestType{wire.MediaCobrowse}
	}
	for _, t := range types {
		if !t.Valid() {
			return wire.WebChatGuestMediaRequest{}, errors.New("purecloud: media request type must be COBROWSE or SCREENSHARE")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return wire.WebChatGuestMediaRequest{}, ErrEnded
	}
	m := &wire.WebChatGuestMediaRequest{ID: c.s.newID(), Types: append([]wire.MediaRequestType(nil), types...),
		State: wire.MediaPending, CommunicationID: c.guest.ID, SecurityKey: c.s.newID()[:8]}
	m.SelfURI = wire.MediaRequestPath(c.id, m.ID)
	c.media = append(c.media, m)
	if announce {
		sender := c.agent
		if sender == nil {
			sender = c.guest
		}
		c.postL(sender, "", wire.BodyMediaRequest)
	}
	c.notifyL()
	return *m, nil
}

// DuplicateConnected re-sends a member-change CONNECTED for the agent, as
// an agent switching between chats causes (forum 7575).
func (c *Conversation) DuplicateConnected() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.connectedAgentL()
	if err != nil {
		return err
	}
	c.memberChangeL(a, wire.StateConnected)
	return nil
}

func (c *Conversation) connectedAgentL() (*wire.WebChatMemberInfo, error) {
	if c.ended {
		return nil, ErrEnded
	}
	if c.agent == nil || c.agent.State != wire.StateConnected {
		return nil, ErrNoAgent
	}
	return c.agent, nil
}
