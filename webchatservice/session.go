package webchatservice

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/cxbus/webchat/prefilter"
	"github.com/cxbus/webchat/transports"
)

// newTransport builds a transport for a new chat or restore and starts pumping its events into
// the mailbox. Events of an earlier transport (older generation) are ignored.
func (s *Service) newTransport() (transports.Transport, error) {
	tr, err := transports.New(s.set.transportType, s.set.raw, s.transportOptions())
	if err != nil {
		return nil, transportConfigError(err)
	}
	s.gen++
	s.tr = tr
	s.pump = newPump(s, s.gen, tr.Events())
	return tr, nil
}

// pump moves one transport's events into the service's mailbox, in order. Its barrier lets the
// outcome of a call (Start, Resume) enter the mailbox after every event the transport emitted
// before the call returned, so e.g. a restore's offline answer is seen before the restore's
// result, whatever the goroutine scheduling.
type pump struct {
	barrier chan func()
	done    chan struct{}
}

func newPump(s *Service, gen int, events <-chan transports.Event) *pump {
	p := &pump{barrier: make(chan func(), 4), done: make(chan struct{})}
	post := func(ev transports.Event) bool {
		return s.plugin.Post(func() { s.onTransportEvent(gen, ev) }) == nil
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(p.done)
		defer func() { // run barrier functions that arrived after the stream ended
			for {
				select {
				case fn := <-p.barrier:
					s.plugin.Post(fn)
				default:
					return
				}
			}
		}()
		for {
			select {
			case ev, ok := <-events:
				if !ok || !post(ev) {
					return
				}
			case fn := <-p.barrier:
				for drained := false; !drained; {
					select {
					case ev, ok := <-events:
						if !ok {
							s.plugin.Post(fn)
							return
						}
						if !post(ev) {
							return
						}
					default:
						drained = true
					}
				}
				s.plugin.Post(fn)
			}
		}
	}()
	return p
}

// after runs fn in the mailbox once the events the transport emitted so far are queued there.
func (p *pump) after(s *Service, fn func()) {
	select {
	case p.barrier <- fn:
	case <-p.done:
		s.plugin.Post(fn)
	}
}

// goTransport runs work (a call on the transport) outside the mailbox and then `then` in the
// mailbox, after the events the transport emitted before work returned.
func (s *Service) goTransport(p *pump, work func(), then func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		work()
		p.after(s, then)
	}()
}

// dropTransport closes the current transport; its late events are ignored.
func (s *Service) dropTransport() {
	if s.tr != nil {
		s.tr.Close()
	}
	s.tr = nil
	s.gen++
}

// resetSession clears what belongs to one chat before a new one starts (the transcript of the
// previous chat is kept for getTranscript until then).
func (s *Service) resetSession() {
	s.transcript = nil
	s.agents = map[string]*Agent{}
	s.clientOnline = false
	s.agentTyping = false
	s.cursor = transports.Cursor{}
	s.sd = transports.SessionData{}
	s.connected = false
	s.offline = false
	s.sleeping = false
	s.polling = false
	s.heldEvents = nil
}

// sessionStarted runs when startChat succeeded.
func (s *Service) sessionStarted(sd transports.SessionData) {
	s.state = stateActive
	s.sd = sd
	s.lastContact = s.clock.Now()
	s.setData(DataSessionActive, true)
	s.setData(DataSessionData, s.sessionDataPublic())
	s.publish(EventStarted, s.startedPayload(), false)
	if len(sd.Answer) > 0 {
		s.publish(EventAjaxResponse, redactedAnswer(sd.Answer), false)
	}
	s.publishCapabilities()
	if s.caps.Polling {
		s.polling = true
		s.publish(EventPollingStarted, nil, false)
	}
	held := s.heldEvents
	s.heldEvents = nil
	for _, ev := range held {
		s.onTransportEvent(s.gen, ev)
	}
	s.persistSoon()
	s.armKeepAlive()
	s.kickOutbox()
}

func (s *Service) startedPayload() Started {
	vals := s.sd.Redacted().Values
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		m[k] = v
	}
	if s.set.mode == ModePureCloud {
		return Started{"data": m}
	}
	return Started(m)
}

// onTransportEvent handles one event of the transport of generation gen, in the mailbox.
func (s *Service) onTransportEvent(gen int, ev transports.Event) {
	if gen != s.gen || s.closed {
		return
	}
	// While a restore resolves, events wait so that restored comes first (the pump's barrier
	// guarantees they are here before the restore's result). An offline answer is the restore's
	// own outcome (restoredOffline) and the end ends it.
	if (s.restoring || s.state == stateStarting) && ev.Kind != transports.EventEnded && ev.Kind != transports.EventServerOffline {
		// Events the transport emitted while starting (e.g. the first messages of the
		// request-chat answer) wait so that started comes first.
		s.heldEvents = append(s.heldEvents, ev)
		return
	}
	s.lastContact = s.clock.Now()
	switch ev.Kind {
	case transports.EventMessages:
		s.onMessages(ev.Messages, false)
		if !ev.Cursor.IsZero() {
			s.cursor = ev.Cursor
		}
		s.persistSoon()
	case transports.EventTyping:
		s.onAgentTyping(ev.Typing)
	case transports.EventConnected:
		s.connected = true
		s.kickOutbox()
	case transports.EventDisconnected:
		if s.connected || s.state == stateActive {
			s.connected = false
			s.publish(EventDisconnected, nil, false)
		}
	case transports.EventReconnected:
		s.connected = true
		s.publish(EventReconnected, nil, false)
		s.kickOutbox()
	case transports.EventServerOffline:
		if s.restoring {
			// The restore's answer says the chat server is offline: the session is kept and
			// restoredOffline replaces restored; chatServerBackOnline follows when it returns.
			s.restoredOffline = true
			s.offline = true
			return
		}
		if !s.offline {
			s.offline = true
			s.publish(EventChatServerWentOffline, nil, false)
		}
	case transports.EventServerOnline:
		if s.offline {
			s.offline = false
			s.publish(EventChatServerBackOnline, nil, false)
		}
	case transports.EventServerTimeout:
		s.publish(EventChatServerTimeout, nil, false)
	case transports.EventIdleAlert:
		s.publish(EventIdleAlert, IdleAlert{SecondsLeft: ev.IdleSecondsLeft}, false)
	case transports.EventIdleClose:
		s.publish(EventIdleClose, nil, false)
	case transports.EventTransfer:
		s.log.Debug().Msg("webchatservice: agent transferred the chat")
	case transports.EventSessionData:
		if ev.SessionData != nil {
			s.sd = *ev.SessionData
			s.setData(DataSessionData, s.sessionDataPublic())
			s.persistSoon()
		}
	case transports.EventError:
		s.publishError(ev.Err)
	case transports.EventEnded:
		if s.state == stateActive || s.state == stateEnding || s.state == stateStarting {
			if ev.Reason == transports.EndedSessionLost {
				s.publish(EventSessionLost, SessionLost{Error: errText(ev.Err)}, false)
			}
			s.endSession(ev.Reason, ev.Err)
		}
	}
}

// onMessages publishes a batch: participant state first, then one messageReceived with the
// visible messages (prefiltered ones left out, preprocessors applied).
func (s *Service) onMessages(msgs []Message, restoring bool) {
	visible := make([]entry, 0, len(msgs))
	for _, m := range msgs {
		s.trackParticipants(m)
		if m.From.Type == transports.ParticipantAgent || m.From.Type == transports.ParticipantSupervisor {
			if m.Type == transports.TypeMessage || m.Type == transports.TypePushURL || m.Type == transports.TypeNotice {
				s.agentStoppedTyping()
			}
		}
		if m.Type == transports.TypeMessage && s.filtered(m.Text) {
			continue
		}
		visible = append(visible, entry{original: m})
	}
	if len(visible) == 0 {
		return
	}
	for i := range visible {
		visible[i].processed = s.preprocess(visible[i].original)
	}
	s.transcript = append(s.transcript, visible...)
	s.publishBatch(visible, restoring, false)
}

func (s *Service) publishBatch(batch []entry, restoring, old bool) {
	ev := MessageReceived{
		OriginalMessages: make([]json.RawMessage, len(batch)),
		Messages:         make([]Message, len(batch)),
		Restoring:        restoring,
		SessionData:      s.sessionDataPublic(),
		OldMessages:      old,
	}
	for i, e := range batch {
		ev.OriginalMessages[i] = original(e.original)
		ev.Messages[i] = e.processed
	}
	s.publish(EventMessageReceived, ev, false)
}

// publishHistory publishes a fetchHistory page (sorted by index, descending) without adding it
// to the live transcript cursor.
func (s *Service) publishHistory(msgs []Message) {
	batch := make([]entry, 0, len(msgs))
	for _, m := range msgs {
		if m.Type == transports.TypeMessage && s.filtered(m.Text) {
			continue
		}
		batch = append(batch, entry{original: m, processed: s.preprocess(m)})
	}
	if len(batch) == 0 {
		return // a page of hidden items only: nothing to show
	}
	sort.SliceStable(batch, func(i, j int) bool { return batch[i].original.Index > batch[j].original.Index })
	s.publishBatch(batch, false, true)
}

// filtered reports whether a message text is hidden by the standard or a custom prefilter.
func (s *Service) filtered(text string) bool {
	return prefilter.Standard.MatchString(text) || s.filters.Match(text)
}

func (s *Service) preprocess(m Message) Message {
	out, failures := s.preprocessors.Apply(context.Background(), m)
	for _, f := range failures {
		s.log.Warn().Int("preprocessor", f.Index).Str("message", f.MessageID).Bool("panicked", f.Panicked).Msg("webchatservice: preprocessor failed; message published unmodified by it")
		s.publish(EventError, ErrorPayload{Text: f.Error(), TransportError: transports.TransportError{ErrorReason: "PreprocessorFailed", Operation: "registerPreProcessor"}}, false)
	}
	return out
}

// original is the raw transport item of a message (the message itself when synthetic).
func original(m Message) json.RawMessage {
	if len(m.Raw) > 0 {
		return m.Raw
	}
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// trackParticipants updates agents/client state from a join or leave and publishes the
// participant event once per state change.
func (s *Service) trackParticipants(m Message) {
	if !m.IsParticipantEvent() {
		return
	}
	joined := m.Type == transports.TypeParticipantJoined
	at := m.Timestamp.UnixMilli()
	var event string
	switch m.From.Type {
	case transports.ParticipantClient:
		if s.clientOnline == joined {
			return
		}
		s.clientOnline = joined
		event = pick(joined, EventClientConnected, EventClientDisconnected)
	case transports.ParticipantAgent, transports.ParticipantSupervisor, transports.ParticipantBot:
		if m.From.Type == transports.ParticipantBot && !s.set.botEvents {
			return
		}
		a := s.agents[m.From.ID]
		if a == nil {
			if !joined {
				return // never saw it join: nothing to report
			}
			a = &Agent{}
			s.agents[m.From.ID] = a
		}
		if a.Connected == joined && a.ConnectedTime != 0 {
			return
		}
		a.Name = m.From.Name
		a.Supervisor = m.From.Type == transports.ParticipantSupervisor
		a.Bot = m.From.Type == transports.ParticipantBot
		a.Connected = joined
		if joined {
			a.ConnectedTime, a.DisconnectedTime = at, 0
		} else {
			a.DisconnectedTime = at
			if !a.Supervisor && !a.Bot {
				s.agentStoppedTyping()
			}
		}
		switch {
		case a.Supervisor:
			event = pick(joined, EventSupervisorConnected, EventSupervisorDisconnected)
		case a.Bot:
			event = pick(joined, EventBotConnected, EventBotDisconnected)
		default:
			event = pick(joined, EventAgentConnected, EventAgentDisconnected)
		}
	default:
		return
	}
	s.publish(event, Participants{Message: s.preprocess(m), Agents: s.agentsMap(), NumAgentsConnected: s.numAgentsConnected()}, false)
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func (s *Service) agentsMap() map[string]Agent {
	out := make(map[string]Agent, len(s.agents))
	for id, a := range s.agents {
		out[id] = *a
	}
	return out
}

func (s *Service) numAgentsConnected() int {
	n := 0
	for _, a := range s.agents {
		if a.Connected && !a.Bot {
			n++
		}
	}
	return n
}

func (s *Service) onAgentTyping(t *transports.Typing) {
	if t == nil || t.From.Type == transports.ParticipantClient {
		return
	}
	switch t.State {
	case transports.TypingStarted:
		if !s.agentTyping {
			s.agentTyping = true
			s.setData(DataAgentTyping, true)
		}
		s.publish(EventAgentTypingStarted, Message{Type: transports.TypeTypingStarted, From: t.From, Text: t.Preview, Timestamp: s.clock.Now()}, false)
	case transports.TypingStopped:
		s.agentStoppedTyping()
	case transports.TypingTimeout:
		if s.agentTyping {
			s.agentTyping = false
			s.setData(DataAgentTyping, false)
			s.publish(EventAgentTypingTimeout, nil, false)
		}
	}
}

func (s *Service) agentStoppedTyping() {
	if !s.agentTyping {
		return
	}
	s.agentTyping = false
	s.setData(DataAgentTyping, false)
	s.publish(EventAgentTypingStopped, Message{Type: transports.TypeTypingStopped, Timestamp: s.clock.Now()}, false)
}

// endSession runs the end sequence of spec §6.10 once.
func (s *Service) endSession(reason transports.EndReason, cause error) {
	if s.state == stateIdle {
		return
	}
	s.state = stateIdle
	s.stopKeepAlive()
	if s.polling {
		s.polling = false
		s.publish(EventPollingStopped, nil, false)
	}
	s.stopClientTyping(false)
	s.agentStoppedTyping()
	for _, kind := range []string{EventSupervisorDisconnected, EventAgentDisconnected} {
		for id, a := range s.agents {
			if !a.Connected || a.Bot || (kind == EventSupervisorDisconnected) != a.Supervisor {
				continue
			}
			a.Connected = false
			a.DisconnectedTime = s.clock.Now().UnixMilli()
			s.publish(kind, Participants{Message: Message{Type: transports.TypeParticipantLeft, From: transports.From{ID: id, Type: pickType(a.Supervisor), Name: a.Name}, Timestamp: s.clock.Now(), Synthetic: true}, Agents: s.agentsMap(), NumAgentsConnected: s.numAgentsConnected()}, false)
		}
	}
	if s.clientOnline {
		s.clientOnline = false
		s.publish(EventClientDisconnected, Participants{Message: Message{Type: transports.TypeParticipantLeft, From: transports.From{Type: transports.ParticipantClient}, Timestamp: s.clock.Now(), Synthetic: true}, Agents: s.agentsMap(), NumAgentsConnected: s.numAgentsConnected()}, false)
	}
	s.publish(EventEnded, nil, false)
	s.setData(DataSessionActive, false)
	s.filters.Clear()
	s.rejectOutbox(ErrNoActiveChat)
	s.dropTransport()
	s.sd = transports.SessionData{}
	s.setData(DataSessionData, s.emptySessionData())
	s.deleteSnapshot()
	if cause != nil {
		s.log.Debug().Str("reason", string(reason)).Err(cause).Msg("webchatservice: session ended")
	}
}

func pickType(supervisor bool) transports.ParticipantType {
	if supervisor {
		return transports.ParticipantSupervisor
	}
	return transports.ParticipantAgent
}

// publishError publishes the error event for a failed server call or transport failure.
func (s *Service) publishError(err error) {
	if err == nil {
		return
	}
	var p ErrorPayload
	var te *transports.TransportError
	if errors.As(err, &te) {
		p.TransportError = *te
		p.Err = nil
		p.Body = transports.RedactJSON(te.Body, nil)
	}
	p.Text = err.Error()
	s.publish(EventError, p, false)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
