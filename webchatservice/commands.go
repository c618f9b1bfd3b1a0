package webchatservice

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// Command names (short; the bus name is "WebChatService.<name>").
const (
	CmdConfigure                  = "configure"
	CmdStartChat                  = "startChat"
	CmdEndChat                    = "endChat"
	CmdSendMessage                = "sendMessage"
	CmdSendCustomNotice           = "sendCustomNotice"
	CmdSendTyping                 = "sendTyping"
	CmdSendFilteredMessage        = "sendFilteredMessage"
	CmdAddPrefilter               = "addPrefilter"
	CmdUpdateUserData             = "updateUserData"
	CmdPoll                       = "poll"
	CmdStartPoll                  = "startPoll"
	CmdStopPoll                   = "stopPoll"
	CmdResetPollExceptions        = "resetPollExceptions"
	CmdRestore                    = "restore"
	CmdGetTranscript              = "getTranscript"
	CmdGetAgents                  = "getAgents"
	CmdGetStats                   = "getStats"
	CmdSendFile                   = "sendFile"
	CmdDownloadFile               = "downloadFile"
	CmdGetFileLimits              = "getFileLimits"
	CmdGetSessionData             = "getSessionData"
	CmdFetchHistory               = "fetchHistory"
	CmdRegisterTypingPreviewInput = "registerTypingPreviewInput"
	CmdRegisterPreProcessor       = "registerPreProcessor"
	CmdVerifySession              = "verifySession"
	CmdSleep                      = "sleep"
	CmdWake                       = "wake"
)

// Commands lists every command the service registers.
var Commands = []string{
	CmdConfigure, CmdStartChat, CmdEndChat, CmdSendMessage, CmdSendCustomNotice, CmdSendTyping,
	CmdSendFilteredMessage, CmdAddPrefilter, CmdUpdateUserData, CmdPoll, CmdStartPoll, CmdStopPoll,
	CmdResetPollExceptions, CmdRestore, CmdGetTranscript, CmdGetAgents, CmdGetStats, CmdSendFile,
	CmdDownloadFile, CmdGetFileLimits, CmdGetSessionData, CmdFetchHistory, CmdRegisterTypingPreviewInput,
	CmdRegisterPreProcessor, CmdVerifySession, CmdSleep, CmdWake,
}

// PrivateCommands are the commands only WebChatService may call (restore is private in
// non-async mode only, which its handler enforces).
var PrivateCommands = []string{CmdPoll}

func (s *Service) registerCommands() error {
	handlers := map[string]bus.Handler{
		CmdConfigure:                  s.cmdConfigure,
		CmdStartChat:                  s.needConfig(s.cmdStartChat),
		CmdEndChat:                    s.needConfig(s.cmdEndChat),
		CmdSendMessage:                s.needConfig(s.cmdSendMessage),
		CmdSendCustomNotice:           s.needConfig(s.cmdSendCustomNotice),
		CmdSendTyping:                 s.needConfig(s.cmdSendTyping),
		CmdSendFilteredMessage:        s.needConfig(s.cmdSendFilteredMessage),
		CmdAddPrefilter:               s.cmdAddPrefilter,
		CmdUpdateUserData:             s.cmdUpdateUserData,
		CmdStartPoll:                  s.needConfig(s.cmdStartPoll),
		CmdStopPoll:                   s.needConfig(s.cmdStopPoll),
		CmdResetPollExceptions:        s.needConfig(s.cmdResetPollExceptions),
		CmdRestore:                    s.needConfig(s.cmdRestore),
		CmdGetTranscript:              s.cmdGetTranscript,
		CmdGetAgents:                  s.cmdGetAgents,
		CmdGetStats:                   s.cmdGetStats,
		CmdSendFile:                   s.needConfig(s.cmdSendFile),
		CmdDownloadFile:               s.needConfig(s.cmdDownloadFile),
		CmdGetFileLimits:              s.needConfig(s.cmdGetFileLimits),
		CmdGetSessionData:             s.cmdGetSessionData,
		CmdFetchHistory:               s.needConfig(s.cmdFetchHistory),
		CmdRegisterTypingPreviewInput: s.cmdRegisterTypingPreviewInput,
		CmdRegisterPreProcessor:       s.cmdRegisterPreProcessor,
		CmdVerifySession:              s.cmdVerifySession,
		CmdSleep:                      s.cmdSleep,
		CmdWake:                       s.cmdWake,
	}
	for _, name := range Commands {
		if name == CmdPoll {
			continue
		}
		if err := s.plugin.RegisterCommand(name, handlers[name]); err != nil {
			return err
		}
	}
	return s.plugin.RegisterCommand(CmdPoll, s.needConfig(s.cmdPoll), bus.Private())
}

func (s *Service) needConfig(h bus.Handler) bus.Handler {
	return func(ctx context.Context, c *bus.Call) (any, error) {
		if s.set == nil {
			return nil, ErrNotConfigured
		}
		if s.closed {
			return nil, ErrClosed
		}
		return h(ctx, c)
	}
}

func (s *Service) cmdConfigure(ctx context.Context, c *bus.Call) (any, error) {
	if s.set != nil {
		return nil, ErrAlreadyConfigured
	}
	opts := c.Options
	if m, ok := opts.(map[string]any); ok {
		if inner, ok := m["webchat"]; ok && len(m) == 1 { // {webchat: {...}} as in _genesys.widgets
			opts = inner
		}
	}
	set, caps, err := s.buildSettings(opts)
	if err != nil {
		return nil, err
	}
	s.set, s.caps = set, caps
	s.seedUserData()
	s.setData(DataMode, string(set.mode))
	s.publishCapabilities()
	return nil, nil
}

func (s *Service) cmdStartChat(ctx context.Context, c *bus.Call) (any, error) {
	if s.restoring {
		// A stored session is being restored: decide once it is (likely: already active).
		c.Defer()
		s.afterRestore = append(s.afterRestore, func() {
			if _, err := s.cmdStartChat(ctx, c); err != nil {
				c.Defer().Reject(err)
			}
		})
		return nil, nil
	}
	if s.state != stateIdle {
		return nil, ErrChatAlreadyActive
	}
	o, err := bus.DecodeOptions[StartChatOptions](c.Options)
	if err != nil {
		return nil, err
	}
	userData, err := parseUserData(o.UserData)
	if err != nil {
		return nil, err
	}
	if o.Async && s.set.mode != ModeCometD {
		return nil, ErrAsyncOnlyCometD
	}
	merged := make(map[string]any, len(s.userData)+len(userData))
	for k, v := range s.userData {
		merged[k] = v
	}
	for k, v := range userData {
		merged[k] = v
	}
	async := o.Async || s.set.async
	if async {
		merged["GCTI_Chat_AsyncMode"] = "true"
	}
	req := transports.StartRequest{
		Nickname: o.Nickname, FirstName: o.FirstName, LastName: o.LastName, Email: o.Email, Subject: o.Subject,
		UserData: merged, Form: o.Form, InteractionData: o.InteractionData,
		DeploymentKey: o.DeploymentKey, OrgGUID: o.OrgGUID, Async: async,
	}
	tr, err := s.newTransport()
	if err != nil {
		return nil, err
	}
	s.wakeIfSleeping()
	s.resetSession()
	s.state = stateStarting
	s.async = async
	gen, pump := s.gen, s.pump
	d := c.Defer()
	var sd transports.SessionData
	s.goTransport(pump, func() { sd, err = tr.Start(d.Context(), req) }, func() {
		if gen != s.gen {
			d.Reject(ErrClosed)
			return
		}
		if err != nil {
			s.dropTransport()
			s.state = stateIdle
			s.heldEvents = nil
			s.publishError(err)
			d.Reject(err)
			return
		}
		s.sessionStarted(sd)
		d.Resolve(redactedAnswer(sd.Answer))
	})
	return nil, nil
}

// parseUserData accepts an object or JSON object text.
func parseUserData(v any) (map[string]any, error) {
	switch u := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return u, nil
	case string:
		if strings.TrimSpace(u) == "" {
			return nil, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(u), &m); err != nil || m == nil {
			return nil, ErrMalformedUserData
		}
		return m, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, ErrMalformedUserData
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, ErrMalformedUserData
	}
	return m, nil
}

func (s *Service) cmdEndChat(ctx context.Context, c *bus.Call) (any, error) {
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	tr := s.tr
	s.state = stateEnding
	s.deferIO(c, func(ctx context.Context) (any, error) {
		return nil, tr.End(ctx)
	}, func(_ any, err error) (any, error) {
		// The session ends locally whatever the server said (spec §3.5).
		s.endSession(transports.EndedByClient, nil)
		if err != nil {
			return nil, err
		}
		return nil, nil
	})
	return nil, nil
}

// reportFailure publishes error for a failed server call and keeps the outcome.
func (s *Service) reportFailure(v any, err error) (any, error) {
	if err != nil {
		s.publishError(err)
	}
	return v, err
}

// redactedAnswer is the server answer without secrets (nil stays nil).
func redactedAnswer(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return transports.RedactJSON(raw, nil)
}
