package gms

import (
	"maps"
	"strings"

	"github.com/cxbus/webchat/transports/gms/wire"
)

// Agent is a party on the agent side of a chat: an agent, a supervisor or
// a bot. Its methods add events to the transcript (delivered to CometD
// clients at once, to REST clients on their next refresh).
type Agent struct {
	c     *Chat
	party wire.Party
	bot   bool
	left  bool
}

// Name returns the agent's nickname.
func (a *Agent) Name() string {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	return a.party.Nickname
}

// ParticipantID returns the agent's participantId.
func (a *Agent) ParticipantID() string { return string(a.party.ParticipantID) }

// Type returns Agent or Supervisor (a bot is an Agent with the BOT style).
func (a *Agent) Type() wire.PartyType { return a.party.Type }

// Bot reports whether the agent is a bot.
func (a *Agent) Bot() bool { return a.bot }

func (a *Agent) partyPtr() *wire.Party {
	p := a.party
	return &p
}

// attrs returns the eventAttributes every event of the party carries
// (GCTI_SYSTEM.party-info.style=BOT for a bot).
func (a *Agent) attrs() map[string]any {
	if !a.bot {
		return nil
	}
	return map[string]any{"GCTI_SYSTEM": map[string]any{"party-info": map[string]any{"style": "BOT"}}}
}

func mergeAttrs(base, extra map[string]any) map[string]any {
	if base == nil {
		return maps.Clone(extra)
	}
	out := maps.Clone(base)
	maps.Copy(out, extra)
	return out
}

// JoinAgent makes an agent join the chat (ParticipantJoined).
func (c *Chat) JoinAgent(name string) (*Agent, error) { return c.join(name, wire.PartyAgent, false) }

// JoinSupervisor makes a supervisor join the chat.
func (c *Chat) JoinSupervisor(name string) (*Agent, error) {
	return c.join(name, wire.PartySupervisor, false)
}

// JoinBot makes a bot join the chat (an Agent whose events carry
// eventAttributes GCTI_SYSTEM.party-info.style=BOT).
func (c *Chat) JoinBot(name string) (*Agent, error) { return c.join(name, wire.PartyAgent, true) }

func (c *Chat) join(name string, t wire.PartyType, bot bool) (*Agent, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joinL(name, t, bot)
}

func (c *Chat) joinL(name string, t wire.PartyType, bot bool) (*Agent, error) {
	if c.ended {
		return nil, ErrChatEnded
	}
	if strings.TrimSpace(name) == "" {
		name = string(t)
	}
	a := &Agent{c: c, party: wire.Party{Nickname: name, ParticipantID: c.newPIDL(), Type: t}, bot: bot}
	c.agents = append(c.agents, a)
	c.appendL(wire.Event{Type: wire.EventParticipantJoined, From: a.partyPtr(), EventAttributes: a.attrs()}, actAlways, false)
	return a, nil
}

// Agent returns the present agent with participantId id, or nil.
func (c *Chat) Agent(id string) *Agent {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.agents {
		if string(a.party.ParticipantID) == id {
			return a
		}
	}
	return nil
}

// do runs f under the chat's lock when the agent is still in an open chat.
func (a *Agent) do(f func()) error {
	a.c.mu.Lock()
	defer a.c.mu.Unlock()
	if a.c.ended {
		return ErrChatEnded
	}
	if a.left {
		return ErrAgentLeft
	}
	f()
	return nil
}

func (a *Agent) emitL(t wire.EventType, text string, act activity, extra map[string]any, ud map[string]string) wire.Event {
	return a.c.appendL(wire.Event{Type: t, From: a.partyPtr(), Text: text,
		EventAttributes: mergeAttrs(a.attrs(), extra), UserData: ud}, act, false)
}

// Send posts a Message (messageType "text").
func (a *Agent) Send(text string) error { return a.SendWith(text, "text", nil) }

// SendWith posts a Message with a messageType and eventAttributes (e.g.
// structured content, or general-properties.related-event-id for a reply).
func (a *Agent) SendWith(text, messageType string, attrs map[string]any) error {
	return a.do(func() {
		ev := wire.Event{Type: wire.EventMessage, From: a.partyPtr(), Text: text, MessageType: messageType,
			EventAttributes: mergeAttrs(a.attrs(), attrs)}
		a.c.appendL(ev, actAlways, false)
	})
}

// Typing sends TypingStarted (on) or TypingStopped with an optional preview.
func (a *Agent) Typing(on bool, preview string) error {
	t := wire.EventTypingStopped
	if on {
		t = wire.EventTypingStarted
	}
	return a.do(func() { a.emitL(t, preview, actTyping, nil, nil) })
}

// Notice sends a Notice event.
func (a *Agent) Notice(text string) error {
	return a.do(func() { a.emitL(wire.EventNotice, text, actOther, nil, nil) })
}

// CustomNotice sends a CustomNotice with eventAttributes.
func (a *Agent) CustomNotice(text string, attrs map[string]any) error {
	return a.do(func() { a.emitL(wire.EventCustomNotice, text, actCustom, attrs, nil) })
}

// PushURL pushes a URL to the client (PushUrl event, URL in text).
func (a *Agent) PushURL(url string) error {
	return a.do(func() { a.emitL(wire.EventPushURL, url, actMajor, nil, nil) })
}

// UpdateNickname renames the agent (NicknameUpdated).
func (a *Agent) UpdateNickname(nick string) error {
	return a.do(func() {
		a.party.Nickname = nick
		a.emitL(wire.EventNicknameUpdated, nick, actOther, nil, nil)
	})
}

// UploadFile shares a file with the client (FileUploaded with file-name,
// file-size, file-id and userData). Agent uploads do not count against the
// client's limits.
func (a *Agent) UploadFile(name string, content []byte, userData map[string]string) (fileID string, err error) {
	err = a.do(func() {
		f := a.c.storeFileL(name, content, userData, a.party)
		fileID = f.id
		a.emitL(wire.EventFileUploaded, "", actMajor, nil, f.eventUserData())
	})
	return fileID, err
}

// Leave makes the agent leave (ParticipantLeft). The chat stays open.
func (a *Agent) Leave() error {
	return a.do(func() { a.leaveL() })
}

func (a *Agent) leaveL() {
	a.left = true
	for i, x := range a.c.agents {
		if x == a {
			a.c.agents = append(a.c.agents[:i], a.c.agents[i+1:]...)
			break
		}
	}
	a.c.appendL(wire.Event{Type: wire.EventParticipantLeft, From: a.partyPtr(), EventAttributes: a.attrs()}, actAlways, false)
}

// Transfer hands the chat to a new agent named to: the new agent joins,
// then this one leaves. It returns the new agent.
func (a *Agent) Transfer(to string) (*Agent, error) {
	var n *Agent
	err := a.do(func() {
		n, _ = a.c.joinL(to, wire.PartyAgent, false)
		a.leaveL()
	})
	return n, err
}

// runScript starts the chat's script after requestChat.
func (c *Chat) runScript() {
	sc := c.script
	if sc == nil || sc.Agent == "" {
		return
	}
	c.s.after(pick(sc.JoinDelay, 0), func() {
		a, err := c.join(sc.Agent, wire.PartyAgent, sc.Bot)
		if err != nil {
			return
		}
		if sc.Greeting != "" {
			_ = a.Send(sc.Greeting)
		}
		// Answer what the client said before the agent joined.
		c.mu.Lock()
		pending := c.scriptPending
		c.scriptPending = nil
		c.mu.Unlock()
		for _, ev := range pending {
			c.reply(ev)
		}
	})
}

// onClientMessage runs the script's replies for a client Message (outside locks).
func (c *Chat) onClientMessage(ev wire.Event) {
	sc := c.script
	if sc == nil {
		return
	}
	if sc.OnClientMessage != nil {
		c.s.goOwned(func() { sc.OnClientMessage(c, ev) })
	}
	c.reply(ev)
}

// reply answers a client message with the script's replies or echo; before
// the script's agent has joined the message waits for it.
func (c *Chat) reply(ev wire.Event) {
	sc := c.script
	text, delay, typing, ok := "", pick(sc.ReplyDelay, DefaultReplyDelay), sc.ReplyTyping, false
	low := strings.ToLower(ev.Text)
	for _, r := range sc.Replies {
		if r.Match == "" || strings.Contains(low, strings.ToLower(r.Match)) {
			text, ok = r.Text, true
			if r.Delay != 0 {
				delay = pick(r.Delay, 0)
			}
			typing = typing || r.Typing
			break
		}
	}
	if !ok && sc.Echo {
		text, ok = sc.EchoPrefix+ev.Text, true
	}
	if !ok {
		return
	}
	c.mu.Lock()
	var a *Agent
	if len(c.agents) > 0 {
		a = c.agents[0]
	} else if sc.Agent != "" && !c.ended {
		c.scriptPending = append(c.scriptPending, ev)
	}
	c.mu.Unlock()
	if a == nil {
		return
	}
	if typing {
		_ = a.Typing(true, "")
	}
	c.s.after(delay, func() {
		if typing {
			_ = a.Typing(false, "")
		}
		_ = a.Send(text)
	})
}
