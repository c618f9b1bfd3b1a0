package purecloud

import (
	"strings"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// startRoutingL runs the script's lifecycle after the first attach (§12.5):
// WORKFLOW joins, greets and leaves; ACD joins; the agent rings after
// AlertDelay and answers after AnswerDelay; ACD leaves; the agent greets.
func (c *Conversation) startRoutingL() {
	sc := c.script
	c.scheduleL(c.s.set.routing, func() {
		if sc.Workflow {
			wf := c.addMemberL(wire.RoleWorkflow, sc.WorkflowName, "")
			c.joinL(wf)
			if sc.WorkflowGreeting != "" {
				c.postL(wf, sc.WorkflowGreeting, wire.BodyNotice)
			}
			c.leaveL(wf)
		}
		if sc.ACD {
			c.acd = c.addMemberL(wire.RoleACD, "", "")
			c.joinL(c.acd)
		}
		if sc.Agent != nil {
			c.routeAgentL(*sc.Agent, c.s.set.alert, c.s.set.answer, sc.AgentGreeting)
		}
	})
}

// routeAgentL adds an agent: ALERTING after alert, CONNECTED with
// member-join after answer more, then the ACD member leaves and the agent
// says greeting. Zero delays run at once, in this call.
func (c *Conversation) routeAgentL(p AgentProfile, alert, answer time.Duration, greeting string) {
	ring := func() {
		a := c.addMemberL(wire.RoleAgent, p.Name, p.AvatarURL)
		c.agent = a
		c.memberChangeL(a, wire.StateAlerting)
		connect := func() {
			if a.LeaveDate != nil {
				return
			}
			c.joinL(a)
			if c.acd != nil {
				c.leaveL(c.acd)
			}
			if greeting != "" {
				c.postL(a, greeting, wire.BodyStandard)
			}
		}
		if answer > 0 {
			c.scheduleL(answer, connect)
		} else {
			connect()
		}
	}
	if alert > 0 {
		c.scheduleL(alert, ring)
	} else {
		ring()
	}
}

// echoing reports whether the echo bot is on (a per-conversation override
// wins over the script).
func (c *Conversation) echoingL() bool {
	if c.echo != nil {
		return *c.echo
	}
	return c.script.Echo
}

// onGuestMessageL runs the scripted answers to a guest message: the first
// matching Reply, else the echo bot, and the OnGuestMessage hook. Answers
// need a CONNECTED agent.
func (c *Conversation) onGuestMessageL(m wire.WebChatMessage) {
	a := c.agent
	if a == nil || a.State != wire.StateConnected {
		return
	}
	sc := c.script
	var r *Reply
	for i := range sc.Replies {
		if sc.Replies[i].Match == "" || strings.Contains(strings.ToLower(m.Body), strings.ToLower(sc.Replies[i].Match)) {
			r = &sc.Replies[i]
			break
		}
	}
	if r == nil && c.echoingL() {
		r = &Reply{Text: sc.EchoPrefix + m.Body, Delay: sc.ReplyDelay, Typing: sc.ReplyTyping}
	}
	if r != nil {
		c.sayL(a, r.Text, wire.BodyStandard, r.Typing, r.Delay)
	}
	if hook := sc.OnGuestMessage; hook != nil {
		c.s.goTracked(func() { hook(c, m) })
	}
}

// sayL makes member a say text (optionally after a typing indicator and a
// delay). With a delay the message is posted later, if a is still in the
// chat; it returns nil then.
func (c *Conversation) sayL(a *wire.WebChatMemberInfo, text string, bt wire.BodyType, typing bool, delay time.Duration) *wire.WebChatMessage {
	if typing {
		c.typingL(a)
	}
	if delay <= 0 {
		return c.postL(a, text, bt)
	}
	c.scheduleL(delay, func() {
		if a.LeaveDate == nil {
			c.postL(a, text, bt)
		}
	})
	return nil
}
