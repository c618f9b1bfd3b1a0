package gms

import (
	"strconv"

	"github.com/cxbus/webchat/transports/gms/wire"
)

// Idle control (§10) and flex-disconnect-timeout. Timers run on the
// simulator's clock; callbacks take the chat's lock.

func (c *Chat) stopIdleL() {
	c.idleT.Stop()
	c.idleT = nil
	c.idleStage = 0
}

// resetIdleL restarts inactivity control after activity.
func (c *Chat) resetIdleL() {
	if !c.s.opts.Idle.Enabled || c.ended {
		return
	}
	c.stopIdleL()
	c.idleT = c.s.after(c.s.st.idleAlert, c.idleFire)
}

func (c *Chat) idleFire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.idleT = nil
	c.idleStage++
	if c.idleStage == 1 && c.s.st.idleAlert2 > 0 {
		c.idleAlertL("ALERT2", c.s.st.idleAlert2)
		c.idleT = c.s.after(c.s.st.idleAlert2, c.idleFire)
		return
	}
	if c.idleStage == 1 || (c.idleStage == 2 && c.s.st.idleAlert2 > 0) {
		c.idleAlertL("CLOSE", c.s.st.idleC)
		c.idleT = c.s.after(c.s.st.idleC, c.idleFire)
		return
	}
	c.idleCloseL()
}

func (c *Chat) idleAlertL(next string, in interface{ Seconds() float64 }) {
	text := c.s.opts.Idle.AlertText
	if text == "" {
		text = DefaultIdleAlertText
	}
	c.appendL(wire.Event{Type: wire.EventIdleAlert, From: c.systemParty(), Text: text, UserData: map[string]string{
		wire.KeyNextIdleTimerType: next,
		wire.KeyNextIdleTimerSecs: strconv.Itoa(int(in.Seconds())),
	}}, actNone, false)
}

func (c *Chat) idleCloseL() {
	text := c.s.opts.Idle.CloseText
	if text == "" {
		text = DefaultIdleCloseText
	}
	c.endL(EndIdle, false, wire.Event{Type: wire.EventIdleClose, From: c.systemParty(), Text: text})
}

// IdleAlert raises an IdleAlert now (as if timeout-alert had expired), with
// the close countdown of the options; the close follows unless there is activity.
func (c *Chat) IdleAlert() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrChatEnded
	}
	c.stopIdleL()
	c.idleStage = 1
	if c.s.st.idleAlert2 > 0 {
		c.idleStage = 2
	}
	c.idleAlertL("CLOSE", c.s.st.idleC)
	c.idleT = c.s.after(c.s.st.idleC, c.idleFire)
	return nil
}

// IdleClose closes the chat for inactivity now (IdleClose event, chatEnded).
func (c *Chat) IdleClose() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ErrChatEnded
	}
	c.idleCloseL()
	return nil
}

// touchL records a protocol request from the client (flex-disconnect-timeout).
func (c *Chat) touchL(mode Mode) {
	if c.ended || c.s.st.flex <= 0 {
		return
	}
	if c.mode == ModeCometD && !c.s.opts.FlexDisconnectCometD {
		return
	}
	c.flexT.Stop()
	c.flexT = c.s.after(c.s.st.flex, c.flexFire)
}

func (c *Chat) flexFire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.flexT = nil
	c.endL(EndFlex, false, wire.Event{Type: wire.EventParticipantLeft, From: c.clientParty()})
}
