package webchatservice_test

// Events of §4 in the GMS modes: supervisor and bot participants, agent typing, idleAlert and
// idleClose, chatServerWentOffline / chatServerBackOnline, disconnected / reconnected, polling
// events, ajaxResponse, capabilitiesChanged, the end sequence, string participant ids.

import (
	"strings"
	"testing"
	"time"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

func TestEventsGMSParticipants(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{HexParticipantIDs: true})
			s, chat := gmsActive(t, sim, mode.cfg(sim, nil))
			agent := chat.Agents()[0]
			ac := s.wait(webchatservice.EventAgentConnected).Data.(webchatservice.Participants)
			if ac.Message.From.ID != agent.ParticipantID() || len(ac.Message.From.ID) != 16 || ac.NumAgentsConnected != 1 || ac.Message.From.Name != "Gina" {
				t.Errorf("agentConnected %s (agent id %s: hex ids stay strings)", dump(ac), agent.ParticipantID())
			}

			sup, err := chat.JoinSupervisor("Sam")
			if err != nil {
				t.Fatal(err)
			}
			sc := s.wait(webchatservice.EventSupervisorConnected).Data.(webchatservice.Participants)
			if sc.Message.From.Type != transports.ParticipantSupervisor || !sc.Agents[sup.ParticipantID()].Supervisor || sc.NumAgentsConnected != 2 {
				t.Errorf("supervisorConnected %s", dump(sc))
			}
			bot, err := chat.JoinBot("Botty")
			if err != nil {
				t.Fatal(err)
			}
			bc := s.wait(webchatservice.EventBotConnected).Data.(webchatservice.Participants)
			if bc.Message.From.Type != transports.ParticipantBot || bc.Message.From.ID != bot.ParticipantID() || bc.NumAgentsConnected != 2 {
				t.Errorf("botConnected %s", dump(bc))
			}
			if err := bot.Leave(); err != nil {
				t.Fatal(err)
			}
			s.wait(webchatservice.EventBotDisconnected)

			// Agent typing: started with the typing message, stopped by TypingStopped or a message.
			if err := agent.Typing(true, "let me che"); err != nil {
				t.Fatal(err)
			}
			ts := s.wait(webchatservice.EventAgentTypingStarted).Data.(webchatservice.Message)
			if ts.Type != transports.TypeTypingStarted || ts.From.ID != agent.ParticipantID() {
				t.Errorf("agentTypingStarted %s", dump(ts))
			}
			if err := agent.Send("checked"); err != nil {
				t.Fatal(err)
			}
			s.wait(webchatservice.EventAgentTypingStopped)
			s.waitMsg("checked", false)

			// endChat: supervisorDisconnected, agentDisconnected, clientDisconnected, ended.
			from := s.log.len()
			s.must(webchatservice.CmdEndChat, nil)
			_, ei := s.log.waitFrom(t, from, webchatservice.EventEnded, nil)
			_, si := s.log.waitFrom(t, from, webchatservice.EventSupervisorDisconnected, nil)
			_, ai := s.log.waitFrom(t, from, webchatservice.EventAgentDisconnected, nil)
			_, ci := s.log.waitFrom(t, from, webchatservice.EventClientDisconnected, nil)
			if !(si < ai && ai < ci && ci < ei) {
				t.Errorf("end order %v", s.log.names()[from:])
			}
			if mode.name == "R" {
				if _, pi := s.log.waitFrom(t, from, webchatservice.EventPollingStopped, nil); pi > ei {
					t.Errorf("pollingStopped after ended: %v", s.log.names()[from:])
				}
			}
		})
	}
}

func TestEventsGMSIdle(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{})
			s, chat := gmsActive(t, sim, mode.cfg(sim, nil))
			if err := chat.IdleAlert(); err != nil {
				t.Fatal(err)
			}
			ia := s.wait(webchatservice.EventIdleAlert).Data.(webchatservice.IdleAlert)
			if ia.SecondsLeft <= 0 {
				t.Errorf("idleAlert %s", dump(ia))
			}
			if err := chat.IdleClose(); err != nil {
				t.Fatal(err)
			}
			_, ci := s.log.waitFrom(t, 0, webchatservice.EventIdleClose, nil)
			_, ei := s.log.waitFrom(t, 0, webchatservice.EventEnded, nil)
			if ci > ei {
				t.Errorf("idleClose after ended: %v", s.log.names())
			}
		})
	}
}

func TestEventsGMSConnectivityR(t *testing.T) {
	sim := gmsSim(t, simgms.Options{})
	s, chat := gmsActive(t, sim, gmsModes[0].cfg(sim, map[string]any{"pollExceptionLimit": 1}))

	t.Run("chatServerWentOffline / chatServerBackOnline once per outage", func(t *testing.T) {
		from := s.log.len()
		sim.ChatServerOffline(4)
		s.log.waitFrom(t, from, webchatservice.EventChatServerWentOffline, nil)
		s.log.waitFrom(t, from, webchatservice.EventChatServerBackOnline, nil)
		if err := chat.Agents()[0].Send("back"); err != nil {
			t.Fatal(err)
		}
		s.waitMsg("back", false)
		s.sync()
		var off, on int
		for _, n := range s.log.names()[from:] {
			switch n {
			case webchatservice.EventChatServerWentOffline:
				off++
			case webchatservice.EventChatServerBackOnline:
				on++
			}
		}
		if off != 1 || on != 1 {
			t.Errorf("wentOffline %d, backOnline %d: %v", off, on, s.log.names()[from:])
		}
	})

	t.Run("disconnected / reconnected", func(t *testing.T) {
		from := s.log.len()
		sim.FailRequests(3, 503)
		s.log.waitFrom(t, from, webchatservice.EventDisconnected, nil)
		s.log.waitFrom(t, from, webchatservice.EventReconnected, nil)
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": "after the outage"})
		s.waitMsg("echo: after the outage", false)
	})
}

func TestEventsGMSSession(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{})
			s, _ := gmsActive(t, sim, mode.cfg(sim, nil))
			caps := s.log.all(webchatservice.EventCapabilitiesChanged)
			if len(caps) != 2 {
				t.Errorf("capabilitiesChanged %d times (configure + start)", len(caps))
			}
			c := caps[len(caps)-1].Data.(map[string]bool)
			if _, ok := c["asyncClose"]; !ok || !c["fileUpload"] || len(c) != 4 {
				t.Errorf("capabilitiesChanged %s", dump(c))
			}
			polling := s.log.count(webchatservice.EventPollingStarted)
			if (mode.name == "R") != (polling == 1) {
				t.Errorf("pollingStarted %d times in mode %s", polling, mode.name)
			}
			before := s.log.count(webchatservice.EventAjaxResponse)
			s.must(webchatservice.CmdSendMessage, map[string]any{"message": "x"})
			s.waitMsg("echo: x", false)
			s.sync()
			if after := s.log.count(webchatservice.EventAjaxResponse); after <= before {
				t.Errorf("no ajaxResponse for sendMessage (%d → %d)", before, after)
			}
			for _, e := range s.log.all(webchatservice.EventAjaxResponse) {
				if b := dump(e.Data); len(b) > 0 && strings.Contains(b, `"secureKey":"`) && !strings.Contains(b, `"secureKey":"[redacted]"`) {
					t.Errorf("ajaxResponse holds the secureKey: %s", b)
				}
			}
		})
	}
}

// sessionLost in the GMS modes: GMS forgets the live chat (its Chat Server lost it). R notices at
// the next poll (HTTP 404), C at the next operation (statusCode 2, chatEnded); sessionLost comes
// first, ended follows, and the session is inactive.
func TestEventsGMSSessionLost(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{})
			s, chat := gmsActive(t, sim, mode.cfg(sim, nil))
			if err := chat.Lose(); err != nil {
				t.Fatal(err)
			}
			if mode.name == "C" {
				// Nothing arrives unsolicited for a forgotten chat: the next operation finds out.
				if _, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "still there?"}); err == nil {
					t.Fatal("sendMessage to a lost chat resolved")
				}
			}
			lost, li := s.log.waitFrom(t, 0, webchatservice.EventSessionLost, nil)
			_, ei := s.log.waitFrom(t, 0, webchatservice.EventEnded, nil)
			if p := lost.Data.(webchatservice.SessionLost); p.Error == "" || li > ei {
				t.Errorf("sessionLost %s at %d, ended at %d", dump(p), li, ei)
			}
			if n := s.log.count(webchatservice.EventSessionLost); n != 1 {
				t.Errorf("sessionLost published %d times", n)
			}
			if v := s.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":false}` {
				t.Errorf("verifySession %s", dump(v))
			}
			_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "after"})
			rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
		})
	}
}

// chatServerTimeout (mode C): after a reconnect, requestNotifications goes unanswered
// cometD.serverTimeoutAfter times in a row (shortened here from Widgets' 30 × 3 s); the event
// fires once and the chat goes on when GMS answers again.
func TestEventsGMSChatServerTimeout(t *testing.T) {
	sim := gmsSim(t, simgms.Options{})
	cfg := gmsModes[1].cfg(sim, nil)
	cfg["cometD"].(map[string]any)["notificationRetry"] = 100
	cfg["cometD"].(map[string]any)["serverTimeoutAfter"] = 3
	s, chat := gmsActive(t, sim, cfg)
	sim.Bayeux().SetReplyDelay(2 * time.Second) // every requestNotifications outlives its 100 ms
	chat.DropCometD()
	s.wait(webchatservice.EventChatServerTimeout)
	sim.Bayeux().SetReplyDelay(0)
	if err := chat.Agents()[0].Send("back"); err != nil {
		t.Fatal(err)
	}
	s.waitMsg("back", false)
	if n := s.log.count(webchatservice.EventChatServerTimeout); n != 1 {
		t.Errorf("chatServerTimeout published %d times", n)
	}
	if v := s.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":true}` {
		t.Errorf("verifySession %s", dump(v))
	}
}
