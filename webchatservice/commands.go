package webchatservice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/prefilter"
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

// --- startChat / endChat ----------------------------------------------------------------------

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

// --- messages ---------------------------------------------------------------------------------

func (s *Service) cmdSendMessage(ctx context.Context, c *bus.Call) (any, error) {
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	o, err := bus.DecodeOptions[SendMessageOptions](c.Options)
	if err != nil {
		return nil, ErrNoMessageText
	}
	out, err := s.outgoingFor(o)
	if err != nil {
		return nil, err
	}
	return nil, s.enqueue(c, out)
}

// outgoingFor validates sendMessage options into an Outgoing.
func (s *Service) outgoingFor(o SendMessageOptions) (transports.Outgoing, error) {
	text, ok := o.Message.(string)
	if !ok || strings.TrimSpace(text) == "" {
		return transports.Outgoing{}, ErrNoMessageText
	}
	if limit := s.set.cfg.MaxMessageLength; limit > 0 && utf8.RuneCountInString(text) > limit {
		return transports.Outgoing{}, &MessageTooLongError{Limit: limit}
	}
	return transports.Outgoing{Text: text, Type: o.Type, ParentMessageID: o.ParentMessageID}, nil
}

func (s *Service) cmdSendFilteredMessage(ctx context.Context, c *bus.Call) (any, error) {
	if s.state != stateActive {
		return nil, ErrNoActiveChatSession
	}
	o, err := bus.DecodeOptions[SendFilteredMessageOptions](c.Options)
	if err != nil {
		return nil, ErrNoMessageText
	}
	filters, err := parseFilters(o.Regex)
	if err != nil {
		return nil, err
	}
	out, err := s.outgoingFor(SendMessageOptions{Message: o.Message})
	if err != nil {
		return nil, err
	}
	if s.filters.Add(filters...) > 0 {
		s.persistSoon()
	}
	return nil, s.enqueue(c, out)
}

func (s *Service) cmdAddPrefilter(ctx context.Context, c *bus.Call) (any, error) {
	o, err := bus.DecodeOptions[AddPrefilterOptions](c.Options)
	if err != nil {
		return nil, ErrInvalidFilters
	}
	filters, err := parseFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	if s.filters.Add(filters...) > 0 {
		s.persistSoon()
	}
	return s.filters.Filters(), nil
}

// parseFilters parses the filters/regex option (prefilter.ParseValue forms) into the contract's
// rejection on any problem, keeping the cause for errors.Is/As.
func parseFilters(v any) ([]*prefilter.Filter, error) {
	filters, err := prefilter.ParseValue(v)
	if err != nil {
		return nil, withCause(ErrInvalidFilters, err)
	}
	return filters, nil
}

func (s *Service) cmdSendCustomNotice(ctx context.Context, c *bus.Call) (any, error) {
	if s.tr == nil && !s.caps.CustomNotice {
		return nil, transports.ErrCustomNoticeUnsupported
	}
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	n, err := transports.AsNotices(s.tr)
	if err != nil {
		return nil, err
	}
	o, err := bus.DecodeOptions[SendCustomNoticeOptions](c.Options)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) {
		sent, err := n.SendCustomNotice(ctx, o.Message, nil)
		if err != nil {
			return nil, err
		}
		return redactedAnswer(sent.Answer), nil
	}, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdUpdateUserData(ctx context.Context, c *bus.Call) (any, error) {
	data, err := parseUserData(c.Options)
	if err != nil {
		return nil, err
	}
	if s.state == stateActive {
		u, err := transports.AsUserDataUpdater(s.tr)
		if err != nil {
			return nil, err
		}
		s.mergeUserData(data)
		s.deferIO(c, func(ctx context.Context) (any, error) {
			return nil, u.UpdateUserData(ctx, data)
		}, s.reportFailure)
		return nil, nil
	}
	s.mergeUserData(data)
	return s.copyUserData(), nil
}

func (s *Service) mergeUserData(data map[string]any) {
	for k, v := range data {
		s.userData[k] = v
	}
	s.setData(DataUserData, s.copyUserData())
	s.persistSoon()
}

func (s *Service) copyUserData() map[string]any {
	m := make(map[string]any, len(s.userData))
	for k, v := range s.userData {
		m[k] = v
	}
	return m
}

// --- polling (GMS REST) -----------------------------------------------------------------------

func (s *Service) poller(unsupported error) (transports.Poller, error) {
	if !s.caps.Polling {
		return nil, unsupported
	}
	if s.state != stateActive {
		return nil, ErrNoActiveChatSession
	}
	p, err := transports.AsPoller(s.tr)
	if err != nil {
		return nil, unsupported
	}
	return p, nil
}

func (s *Service) cmdPoll(ctx context.Context, c *bus.Call) (any, error) {
	p, err := s.poller(transports.ErrPollingUnsupported)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return nil, p.Poll(ctx) }, nil)
	return nil, nil
}

func (s *Service) cmdStartPoll(ctx context.Context, c *bus.Call) (any, error) {
	p, err := s.poller(transports.ErrPollingUnsupported)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return p.StartPoll(ctx) }, func(v any, err error) (any, error) {
		if err == nil && v.(bool) {
			s.polling = true
			s.publish(EventPollingStarted, nil, false)
		}
		return nil, err
	})
	return nil, nil
}

func (s *Service) cmdStopPoll(ctx context.Context, c *bus.Call) (any, error) {
	p, err := s.poller(transports.ErrPollingUnsupported)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return nil, p.StopPoll(ctx) }, func(_ any, err error) (any, error) {
		if err == nil {
			s.polling = false
			s.publish(EventPollingStopped, nil, false)
		}
		return nil, err
	})
	return nil, nil
}

func (s *Service) cmdResetPollExceptions(ctx context.Context, c *bus.Call) (any, error) {
	if !s.caps.Polling {
		return nil, transports.ErrResetPollExceptionsUnsupported
	}
	if p, err := transports.AsPoller(s.tr); err == nil {
		p.ResetPollExceptions()
	}
	return nil, nil
}

// --- read-only --------------------------------------------------------------------------------

func (s *Service) cmdGetTranscript(ctx context.Context, c *bus.Call) (any, error) {
	t := Transcript{Messages: make([]Message, 0, len(s.transcript)), OriginalMessages: make([]json.RawMessage, 0, len(s.transcript))}
	for _, e := range s.transcript {
		t.Messages = append(t.Messages, e.processed)
		t.OriginalMessages = append(t.OriginalMessages, original(e.original))
	}
	return t, nil
}

func (s *Service) cmdGetAgents(ctx context.Context, c *bus.Call) (any, error) {
	return AgentsResult{Agents: s.agentsMap()}, nil
}

func (s *Service) cmdGetStats(ctx context.Context, c *bus.Call) (any, error) {
	st := Stats{Agents: s.agentsMap(), StartTime: false, EndTime: false, Duration: false}
	if n := len(s.transcript); n > 0 {
		start := s.transcript[0].original.Timestamp.UnixMilli()
		end := s.transcript[n-1].original.Timestamp.UnixMilli()
		st.StartTime, st.EndTime, st.Duration = start, end, end-start
	}
	return st, nil
}

func (s *Service) cmdGetSessionData(ctx context.Context, c *bus.Call) (any, error) {
	if s.sd.IsZero() {
		return s.emptySessionData(), nil
	}
	out := s.emptySessionData()
	for k, v := range s.sd.Map() {
		out[k] = v
	}
	return out, nil
}

// --- files (GMS) ------------------------------------------------------------------------------

func (s *Service) files(op transports.FileOp) (transports.Files, error) {
	if !s.caps.FileUpload && !s.caps.FileDownload && !s.caps.FileLimits {
		return nil, transports.FileOpError(op)
	}
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	f, ok := s.tr.(transports.Files)
	if !ok {
		return nil, transports.FileOpError(op)
	}
	return f, nil
}

func (s *Service) cmdSendFile(ctx context.Context, c *bus.Call) (any, error) {
	f, err := s.files(transports.FileOpUpload)
	if err != nil {
		return nil, err
	}
	o, err := bus.DecodeOptions[SendFileOptions](c.Options)
	if err != nil {
		return nil, err
	}
	if len(o.Files) == 0 || o.Files[0].Reader == nil {
		return nil, fmt.Errorf("%w: files: one file with a reader is required", bus.ErrInvalidOptions)
	}
	file := o.Files[0]
	s.wakeIfSleeping()
	s.deferIO(c, func(ctx context.Context) (any, error) {
		res, err := f.UploadFile(ctx, transports.FileUpload{Name: file.Name, ContentType: file.ContentType, Size: file.Size, Body: file.Reader, Description: file.Description})
		if err != nil {
			return nil, err
		}
		return redactedAnswer(res.Answer), nil
	}, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdDownloadFile(ctx context.Context, c *bus.Call) (any, error) {
	f, err := s.files(transports.FileOpDownload)
	if err != nil {
		return nil, err
	}
	o, err := bus.DecodeOptions[DownloadFileOptions](c.Options)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) {
		var buf bytes.Buffer
		d, err := f.DownloadFile(ctx, o.FileID, &buf)
		if err != nil {
			return nil, err
		}
		return DownloadedFile{FileID: o.FileID, Name: d.Name, ContentType: d.ContentType, Size: int64(buf.Len()), Body: buf.Bytes()}, nil
	}, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdGetFileLimits(ctx context.Context, c *bus.Call) (any, error) {
	f, err := s.files(transports.FileOpLimits)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return f.FileLimits(ctx) }, s.reportFailure)
	return nil, nil
}

// --- history ----------------------------------------------------------------------------------

func (s *Service) cmdFetchHistory(ctx context.Context, c *bus.Call) (any, error) {
	if s.tr == nil {
		if s.set.mode == ModePureCloud {
			return nil, ErrNoActiveChat
		}
		return nil, transports.ErrHistoryAsyncOnly
	}
	h, err := transports.AsHistory(s.tr)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return h.FetchHistory(ctx) }, func(v any, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		page := v.(transports.HistoryPage)
		s.publishHistory(page.Messages)
		return redactedAnswer(page.Answer), nil
	})
	return nil, nil
}

// --- registration hooks -----------------------------------------------------------------------

func (s *Service) cmdRegisterTypingPreviewInput(ctx context.Context, c *bus.Call) (any, error) {
	var input any
	switch o := c.Options.(type) {
	case map[string]any:
		input = o["input"]
	case TypingPreviewInput:
		input = o.Input
	case *TypingPreviewInput:
		input = o.Input
	}
	src, ok := previewSource(input)
	if !ok {
		return nil, ErrInvalidPreviewInput
	}
	s.preview = src
	return nil, nil
}

// TypingPreviewInput are the registerTypingPreviewInput options. Input is the source of the
// preview text: a func() string, or a <-chan string whose latest value is the text.
type TypingPreviewInput struct {
	Input any `json:"-"`
}

func previewSource(v any) (func() string, bool) {
	switch in := v.(type) {
	case func() string:
		return in, in != nil
	case interface{ Text() string }:
		return in.Text, true
	case <-chan string:
		return channelPreview(in), in != nil
	case chan string:
		return channelPreview(in), in != nil
	}
	return nil, false
}

// channelPreview keeps the latest value sent on ch.
func channelPreview(ch <-chan string) func() string {
	var latest string
	return func() string {
		for {
			select {
			case v, ok := <-ch:
				if !ok {
					return latest
				}
				latest = v
			default:
				return latest
			}
		}
	}
}

func (s *Service) cmdRegisterPreProcessor(ctx context.Context, c *bus.Call) (any, error) {
	var fn any
	present := false
	switch o := c.Options.(type) {
	case map[string]any:
		fn, present = o["preprocessor"]
	case PreProcessorOptions:
		fn, present = o.PreProcessor, o.PreProcessor != nil
	case *PreProcessorOptions:
		fn, present = o.PreProcessor, o.PreProcessor != nil
	}
	p, ok := asPreprocessor(fn)
	if !ok {
		typ := "undefined"
		if present && fn != nil {
			typ = fmt.Sprintf("%T", fn)
		}
		return nil, &NoPreprocessorError{Type: typ}
	}
	s.preprocessors.Add(p)
	return fn, nil
}

// PreProcessorOptions are the registerPreProcessor options. PreProcessor is a
// preprocessor.Func, a func(context.Context, *Message) (*Message, error) or a
// func(*Message) *Message.
type PreProcessorOptions struct {
	PreProcessor any `json:"-"`
}

func (s *Service) cmdVerifySession(ctx context.Context, c *bus.Call) (any, error) {
	if s.restoring {
		s.restoreWait = append(s.restoreWait, c.Defer())
		return nil, nil
	}
	return VerifySessionResult{SessionActive: s.state == stateActive}, nil
}

// --- sleep / wake (GMS REST) ------------------------------------------------------------------

func (s *Service) cmdSleep(ctx context.Context, c *bus.Call) (any, error) {
	sl, ok := transports.AsSleeper(s.tr)
	if !ok || s.set == nil || !s.set.cfg.SleepEnabled || s.state != stateActive || s.sleeping || s.async {
		return nil, nil
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return sl.Sleep(ctx) }, func(v any, err error) (any, error) {
		if err == nil && v.(bool) && !s.sleeping {
			s.sleeping = true
			s.publish(EventSleeping, nil, false)
			s.setData(DataSleeping, true)
		}
		return nil, err
	})
	return nil, nil
}

func (s *Service) cmdWake(ctx context.Context, c *bus.Call) (any, error) {
	o, _ := bus.DecodeOptions[WakeOptions](c.Options)
	sl, ok := transports.AsSleeper(s.tr)
	if !ok || s.state != stateActive || !s.sleeping && !o.ResetIdleState {
		return nil, nil
	}
	s.deferIO(c, func(ctx context.Context) (any, error) { return sl.Wake(ctx, o.ResetIdleState) }, func(v any, err error) (any, error) {
		if err == nil && s.sleeping {
			s.sleeping = false
			s.publish(EventWaking, nil, false)
			s.setData(DataSleeping, false)
		}
		return nil, err
	})
	return nil, nil
}

// wakeIfSleeping wakes a sleeping service before startChat, sendMessage and sendFile.
func (s *Service) wakeIfSleeping() {
	if !s.sleeping {
		return
	}
	s.sleeping = false
	s.publish(EventWaking, nil, false)
	s.setData(DataSleeping, false)
	if sl, ok := transports.AsSleeper(s.tr); ok {
		s.goIO(func() {
			if _, err := sl.Wake(context.Background(), false); err != nil {
				s.log.Debug().Err(err).Msg("webchatservice: wake failed")
			}
		}, nil)
	}
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
