package webchatservice_test

// Events of §4 in mode P with their payloads: ready, started, ajaxResponse, capabilitiesChanged,
// messageReceived, the participant events, typing, connection, sessionLost, ended, error.
// Restore events: restore_flow_test.go; prefilter/preprocessor effects: events_filters_test.go.

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

const pcCaps = `{"async":false,"asyncClose":false,"fileUpload":false,"pagination":true}`

// ready is retained: a subscriber that comes after the service still gets it, once.
func TestEventReadyRetained(t *testing.T) {
	s := newTS(t, webchatservice.Options{Config: offlineConfig(nil)})
	late, err := s.bus.RegisterPlugin("Late")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan bus.Event, 4)
	if _, err := late.Subscribe("WebChatService.ready", func(e bus.Event) { got <- e }); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if dump(e.Data) != `{}` || e.Publisher != webchatservice.PluginName {
			t.Errorf("ready %s from %s", dump(e.Data), e.Publisher)
		}
	case <-time.After(wait):
		t.Fatal("no retained ready")
	}
	s.sync()
	if n := s.log.count(webchatservice.EventReady); n != 1 {
		t.Errorf("ready published %d times", n)
	}
	// capabilitiesChanged at configure [ours: all modes], before ready.
	caps, ci := s.log.waitFrom(t, 0, webchatservice.EventCapabilitiesChanged, nil)
	_, ri := s.log.waitFrom(t, 0, webchatservice.EventReady, nil)
	if dump(caps.Data) != pcCaps || ci > ri {
		t.Errorf("capabilitiesChanged %s at %d, ready at %d", dump(caps.Data), ci, ri)
	}
	if c, _ := s.app.Get("WebChatService.capabilities"); dump(c) != pcCaps {
		t.Errorf("data capabilities %s", dump(c))
	}
}

// A chat from start to the agent ending it: every event once, in order, with its payload.
func TestEventsChatLifecycle(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))

	started := s.wait(webchatservice.EventStarted).Data.(webchatservice.Started)
	data, _ := started["data"].(map[string]any)
	if data["jwt"] != transports.Redacted || data["WebSocketUrl"] != transports.Redacted || data["conversationId"] != conv.ID() || data["memberId"] != conv.GuestID() {
		t.Errorf("started %s", dump(started))
	}
	ajax := s.wait(webchatservice.EventAjaxResponse).Data
	if b := []byte(dump(ajax)); !bytes.Contains(b, []byte(conv.ID())) || !bytes.Contains(b, []byte(`"jwt":"[redacted]"`)) {
		t.Errorf("ajaxResponse %s, want the create answer without the JWT", b)
	}
	caps := s.log.all(webchatservice.EventCapabilitiesChanged)
	if len(caps) != 2 || dump(caps[1].Data) != pcCaps {
		t.Errorf("capabilitiesChanged %d times (configure + start), last %s", len(caps), dump(caps[len(caps)-1].Data))
	}

	cc := s.wait(webchatservice.EventClientConnected).Data.(webchatservice.Participants)
	if cc.Message.Type != transports.TypeParticipantJoined || cc.Message.From.Type != transports.ParticipantClient ||
		cc.Message.From.ID != conv.GuestID() || cc.NumAgentsConnected != 0 || len(cc.Agents) != 0 {
		t.Errorf("clientConnected %s", dump(cc))
	}
	ac := s.wait(webchatservice.EventAgentConnected).Data.(webchatservice.Participants)
	agentID := conv.AgentID()
	if ac.Message.Type != transports.TypeParticipantJoined || ac.Message.From.Type != transports.ParticipantAgent ||
		ac.Message.From.ID != agentID || ac.Message.From.Name != "Alex" || ac.NumAgentsConnected != 1 ||
		!ac.Agents[agentID].Connected || ac.Agents[agentID].Name != "Alex" {
		t.Errorf("agentConnected %s (agent %s)", dump(ac), agentID)
	}
	// Once per state change: a repeated CONNECTED changes nothing.
	if err := conv.DuplicateConnected(); err != nil {
		t.Fatal(err)
	}

	// messageReceived: normalized messages and the raw items.
	if _, err := conv.Say("How can I help?", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	mr := s.waitMsg("How can I help?", false)
	if len(mr.Messages) != len(mr.OriginalMessages) || mr.Restoring || mr.OldMessages {
		t.Fatalf("messageReceived %s", dump(mr))
	}
	for i, m := range mr.Messages {
		if m.Text != "How can I help?" {
			continue
		}
		if m.Type != transports.TypeMessage || m.ID == "" || m.From.ID != agentID || m.From.Type != transports.ParticipantAgent ||
			m.From.Name != "Alex" || m.Timestamp.IsZero() || m.Index != m.Timestamp.UnixMilli() {
			t.Errorf("message %s", dump(m))
		}
		if !bytes.Contains(mr.OriginalMessages[i], []byte(`"body":"How can I help?"`)) || !bytes.Contains(mr.OriginalMessages[i], []byte(m.ID)) {
			t.Errorf("original %s", mr.OriginalMessages[i])
		}
	}
	if mr.SessionData["conversationId"] != conv.ID() || mr.SessionData["jwt"] != transports.Redacted {
		t.Errorf("sessionData %v", mr.SessionData)
	}
	if b := []byte(dump(mr)); bytes.Contains(b, []byte(`"oldMessages"`)) {
		t.Logf("oldMessages present in a live batch: %s", b)
	}

	// The agent ends the chat: agentDisconnected, clientDisconnected, ended.
	from := s.log.len()
	if err := conv.End(); err != nil {
		t.Fatal(err)
	}
	_, ei := s.log.waitFrom(t, from, webchatservice.EventEnded, nil)
	ad, adi := s.log.waitFrom(t, from, webchatservice.EventAgentDisconnected, nil)
	cd, cdi := s.log.waitFrom(t, from, webchatservice.EventClientDisconnected, nil)
	if !(adi < cdi && cdi < ei) {
		t.Errorf("order: agentDisconnected %d, clientDisconnected %d, ended %d; events %v", adi, cdi, ei, s.log.names())
	}
	if p := ad.Data.(webchatservice.Participants); p.NumAgentsConnected != 0 || p.Agents[agentID].Connected || p.Message.Type != transports.TypeParticipantLeft {
		t.Errorf("agentDisconnected %s", dump(p))
	}
	if p := cd.Data.(webchatservice.Participants); p.Message.Type != transports.TypeParticipantLeft || p.NumAgentsConnected != 0 {
		t.Errorf("clientDisconnected %s", dump(p))
	}
	s.sync()
	for _, ev := range []string{webchatservice.EventStarted, webchatservice.EventAjaxResponse, webchatservice.EventClientConnected,
		webchatservice.EventAgentConnected, webchatservice.EventAgentDisconnected, webchatservice.EventClientDisconnected, webchatservice.EventEnded} {
		if n := s.log.count(ev); n != 1 {
			t.Errorf("%s published %d times; events %v", ev, n, s.log.names())
		}
	}
	if e := s.log.all(webchatservice.EventEnded)[0]; dump(e.Data) != `{}` {
		t.Errorf("ended %s", dump(e.Data))
	}
	if active, _ := s.app.Get("WebChatService.sessionActive"); active != false {
		t.Errorf("data sessionActive = %v", active)
	}
}

// endChat with an agent connected: agentDisconnected and clientDisconnected with
// numAgentsConnected 0, then ended.
func TestEventsEndChatSequence(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, _ := active(t, sim, pcOptions(sim, nil))
	from := s.log.len()
	s.must(webchatservice.CmdEndChat, nil)
	_, ei := s.log.waitFrom(t, from, webchatservice.EventEnded, nil)
	ad, adi := s.log.waitFrom(t, from, webchatservice.EventAgentDisconnected, nil)
	cd, cdi := s.log.waitFrom(t, from, webchatservice.EventClientDisconnected, nil)
	if !(adi < cdi && cdi < ei) {
		t.Errorf("order %v", s.log.names()[from:])
	}
	for _, e := range []bus.Event{ad, cd} {
		if p := e.Data.(webchatservice.Participants); p.NumAgentsConnected != 0 {
			t.Errorf("%s %s", e.Name, dump(p))
		}
	}
	s.sync()
	if n := s.log.count(webchatservice.EventAgentDisconnected); n != 1 {
		t.Errorf("agentDisconnected %d times", n)
	}
}

// Transfer: the old agent leaves, the new one joins; the chat goes on.
func TestEventsTransfer(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	old := conv.AgentID()
	from := s.log.len()
	newID, err := conv.Transfer(simpc.AgentProfile{Name: "Blake"}, simpc.JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ad, _ := s.log.waitFrom(t, from, webchatservice.EventAgentDisconnected, nil)
	ac, _ := s.log.waitFrom(t, from, webchatservice.EventAgentConnected, nil)
	if p := ad.Data.(webchatservice.Participants); p.Message.From.ID != old || p.Agents[old].Connected {
		t.Errorf("agentDisconnected %s", dump(p))
	}
	p := ac.Data.(webchatservice.Participants)
	if p.Message.From.ID != newID || p.Message.From.Name != "Blake" || p.NumAgentsConnected != 1 || len(p.Agents) != 2 {
		t.Errorf("agentConnected %s", dump(p))
	}
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "still there?"})
	s.sync()
	if n := s.log.count(webchatservice.EventEnded); n != 0 {
		t.Error("ended after a transfer")
	}
}

// botConnected / botDisconnected: P WORKFLOW members, only with botEventsEnabled.
func TestEventsBot(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		t.Run(map[bool]string{true: "botEventsEnabled", false: "default"}[enabled], func(t *testing.T) {
			o := fastSimOptions()
			o.Script = &simpc.Script{Workflow: true, WorkflowName: "Flow", WorkflowGreeting: "Welcome!", Agent: &simpc.AgentProfile{Name: "Alex"}}
			sim := startSim(t, o)
			cfg := pureCloudConfig(sim.URL, nil)
			cfg["transport"].(map[string]any)["botEventsEnabled"] = enabled
			s, _ := active(t, sim, webchatservice.Options{Config: cfg})
			s.waitMsg("Welcome!", false)
			if !enabled {
				s.sync()
				if n := s.log.count(webchatservice.EventBotConnected) + s.log.count(webchatservice.EventBotDisconnected); n != 0 {
					t.Errorf("bot events without botEventsEnabled: %v", s.log.names())
				}
				return
			}
			bc := s.wait(webchatservice.EventBotConnected).Data.(webchatservice.Participants)
			bd := s.wait(webchatservice.EventBotDisconnected).Data.(webchatservice.Participants)
			if bc.Message.From.Type != transports.ParticipantBot || bc.Message.Type != transports.TypeParticipantJoined || !bc.Agents[bc.Message.From.ID].Bot {
				t.Errorf("botConnected %s", dump(bc))
			}
			if bd.Message.From.ID != bc.Message.From.ID || bd.Message.Type != transports.TypeParticipantLeft {
				t.Errorf("botDisconnected %s", dump(bd))
			}
			if bc.NumAgentsConnected != 0 {
				t.Errorf("a bot counted as an agent: %s", dump(bc))
			}
		})
	}
}

// agentTypingStarted / agentTypingStopped / agentTypingTimeout and the agentTyping data key.
func TestEventsAgentTyping(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, map[string]any{"agentTypingTimeout": 300}))

	from := s.log.len()
	if err := conv.Typing(); err != nil {
		t.Fatal(err)
	}
	st, _ := s.log.waitFrom(t, from, webchatservice.EventAgentTypingStarted, nil)
	if m := st.Data.(webchatservice.Message); m.Type != transports.TypeTypingStarted || m.From.ID != conv.AgentID() || m.From.Type != transports.ParticipantAgent {
		t.Errorf("agentTypingStarted %s", dump(m))
	}
	s.sync()
	if v, _ := s.app.Get("WebChatService.agentTyping"); v != true {
		t.Errorf("data agentTyping = %v", v)
	}
	// An agent message stops it.
	if _, err := conv.Say("typed", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	sp, _ := s.log.waitFrom(t, from, webchatservice.EventAgentTypingStopped, nil)
	if m := sp.Data.(webchatservice.Message); m.Type != transports.TypeTypingStopped {
		t.Errorf("agentTypingStopped %s", dump(m))
	}
	s.sync()
	if v, _ := s.app.Get("WebChatService.agentTyping"); v != false {
		t.Errorf("data agentTyping = %v", v)
	}
	// No message within agentTypingTimeout: agentTypingTimeout.
	from = s.log.len()
	if err := conv.Typing(); err != nil {
		t.Fatal(err)
	}
	s.log.waitFrom(t, from, webchatservice.EventAgentTypingStarted, nil)
	to, _ := s.log.waitFrom(t, from, webchatservice.EventAgentTypingTimeout, nil)
	if dump(to.Data) != `{}` {
		t.Errorf("agentTypingTimeout %s", dump(to.Data))
	}
	s.sync()
	if v, _ := s.app.Get("WebChatService.agentTyping"); v != false {
		t.Errorf("data agentTyping = %v after the timeout", v)
	}
	if n := s.log.count(webchatservice.EventAgentTypingStopped); n != 1 {
		t.Errorf("agentTypingStopped %d times", n)
	}
}

// clientTypingStarted / clientTypingStopped (the timing rows: resolutions_messages_test.go).
func TestEventsClientTyping(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, _, fc := typingSession(t, sim)
	s.must(webchatservice.CmdSendTyping, map[string]any{"message": "hel"})
	if e := s.wait(webchatservice.EventClientTypingStarted); dump(e.Data) != `{}` {
		t.Errorf("clientTypingStarted %s", dump(e.Data))
	}
	fc.Advance(webchatservice.ClientTypingIdle)
	if e := s.wait(webchatservice.EventClientTypingStopped); dump(e.Data) != `{}` {
		t.Errorf("clientTypingStopped %s", dump(e.Data))
	}
}

// disconnected / reconnected: once each per outage; messages of the gap arrive once.
func TestEventsDisconnectedReconnected(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	goOffline(t, s, sim, conv)
	if _, err := conv.Say("during the outage", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	goOnline(t, s, sim)
	s.waitMsg("during the outage", false)
	s.sync()
	if d, r := s.log.count(webchatservice.EventDisconnected), s.log.count(webchatservice.EventReconnected); d != 1 || r != 1 {
		t.Errorf("disconnected %d, reconnected %d; events %v", d, r, s.log.names())
	}
	if e := s.log.all(webchatservice.EventDisconnected)[0]; dump(e.Data) != `{}` {
		t.Errorf("disconnected %s", dump(e.Data))
	}
	if n := s.received(false)["during the outage"]; n != 1 {
		t.Errorf("gap message delivered %d times", n)
	}
}

// sessionLost: the server answers 404 for the conversation; ended follows.
func TestEventsSessionLost(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, _ := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 404})
	_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "gone?"})
	if err == nil {
		t.Fatal("resolved")
	}
	lost, li := s.log.waitFrom(t, 0, webchatservice.EventSessionLost, nil)
	_, ei := s.log.waitFrom(t, 0, webchatservice.EventEnded, nil)
	if p := lost.Data.(webchatservice.SessionLost); p.Error == "" || li > ei {
		t.Errorf("sessionLost %s at %d, ended at %d", dump(p), li, ei)
	}
	if v := s.must(webchatservice.CmdVerifySession, nil); dump(v) != `{"sessionActive":false}` {
		t.Errorf("verifySession %s", dump(v))
	}
}

// error: a structured TransportError payload without secrets.
func TestEventError(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, _ := active(t, sim, pcOptions(sim, nil))
	s.must(webchatservice.CmdSendMessage, map[string]any{"message": "m0"})
	sim.InjectHTTP(simpc.HTTPFault{Op: simpc.OpPostMessage, Status: 400})
	_, err := s.cmd(webchatservice.CmdSendMessage, map[string]any{"message": "refused"})
	var te *transports.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("rejection %v", err)
	}
	p := s.wait(webchatservice.EventError).Data.(webchatservice.ErrorPayload)
	if p.Status != 400 || p.Code == "" || p.Operation != te.Operation || p.CorrelationID == "" || p.Text == "" {
		t.Errorf("error payload %s", dump(p))
	}
	jwt := s.must(webchatservice.CmdGetSessionData, nil).(map[string]string)["jwt"]
	if bytes.Contains([]byte(dump(p)), []byte(jwt)) {
		t.Error("the error payload holds the JWT")
	}
}

// Events of other modes are never published in mode P.
func TestEventsNotInModeP(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s, conv := active(t, sim, pcOptions(sim, map[string]any{"sleepEnabled": true}))
	s.must(webchatservice.CmdSleep, nil)
	s.must(webchatservice.CmdWake, map[string]any{"resetIdleState": true})
	if _, err := conv.Say("hi", simpc.SayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitMsg("hi", false)
	s.must(webchatservice.CmdEndChat, nil)
	s.sync()
	for _, ev := range []string{webchatservice.EventRestoredOffline, webchatservice.EventSupervisorConnected, webchatservice.EventSupervisorDisconnected,
		webchatservice.EventPollingStarted, webchatservice.EventPollingStopped, webchatservice.EventChatServerWentOffline,
		webchatservice.EventChatServerBackOnline, webchatservice.EventChatServerTimeout, webchatservice.EventSleeping, webchatservice.EventWaking,
		webchatservice.EventIdleAlert, webchatservice.EventIdleClose} {
		if n := s.log.count(ev); n != 0 {
			t.Errorf("%s published in mode P", ev)
		}
	}
	// Every event published is declared.
	declared := map[string]bool{}
	for _, e := range webchatservice.Events {
		declared[e] = true
	}
	for _, n := range s.log.names() {
		if !declared[n] && n != "data" { // WebChatService.data: the bus data store's change event
			t.Errorf("undeclared event %s", n)
		}
	}
}
