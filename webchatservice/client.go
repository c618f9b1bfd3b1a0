package webchatservice

import (
	"context"
	"errors"
	"fmt"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/prefilter"
)

// Client is a typed Go client of the WebChatService commands and events. It goes through the
// bus like any plugin, so before interceptors, private-command rules and other plugins see its
// calls as they see everyone's.
type Client struct {
	p *bus.Plugin
}

// NewClient returns a client that issues commands as plugin p (its name is the commander).
func NewClient(p *bus.Plugin) *Client { return &Client{p: p} }

// Plugin returns the plugin the client speaks as.
func (c *Client) Plugin() *bus.Plugin { return c.p }

func (c *Client) call(ctx context.Context, cmd string, opts any) (any, error) {
	return c.p.Command(ctx, PluginName+"."+cmd, opts)
}

// StartChat starts a chat; it resolves with the server's answer (secrets redacted).
func (c *Client) StartChat(ctx context.Context, o StartChatOptions) (any, error) {
	return c.call(ctx, CmdStartChat, o)
}

// EndChat ends the chat.
func (c *Client) EndChat(ctx context.Context) error {
	_, err := c.call(ctx, CmdEndChat, nil)
	return err
}

// SendMessage sends text; it resolves once the server accepted it (queued while disconnected).
func (c *Client) SendMessage(ctx context.Context, text string) (any, error) {
	return c.call(ctx, CmdSendMessage, SendMessageOptions{Message: text})
}

// SendMessageWith sends a message with all options.
func (c *Client) SendMessageWith(ctx context.Context, o SendMessageOptions) (any, error) {
	return c.call(ctx, CmdSendMessage, o)
}

// SendFilteredMessage sends text and adds filter (a JS literal or Go pattern) so the customer's
// own transcript hides it.
func (c *Client) SendFilteredMessage(ctx context.Context, text, filter string) (any, error) {
	return c.call(ctx, CmdSendFilteredMessage, SendFilteredMessageOptions{Message: text, Regex: filter})
}

// AddPrefilter adds custom prefilters and returns all of them.
func (c *Client) AddPrefilter(ctx context.Context, filters ...string) ([]*prefilter.Filter, error) {
	v, err := c.call(ctx, CmdAddPrefilter, AddPrefilterOptions{Filters: filters})
	if err != nil {
		return nil, err
	}
	return v.([]*prefilter.Filter), nil
}

// SendCustomNotice sends a custom notice (GMS).
func (c *Client) SendCustomNotice(ctx context.Context, text string) (any, error) {
	return c.call(ctx, CmdSendCustomNotice, SendCustomNoticeOptions{Message: text})
}

// SendTyping reports the client typing with a preview text ("" uses the registered preview input).
func (c *Client) SendTyping(ctx context.Context, preview string) error {
	_, err := c.call(ctx, CmdSendTyping, SendTypingOptions{Message: preview})
	return err
}

// StopTyping stops the client's typing at once.
func (c *Client) StopTyping(ctx context.Context) error {
	off := false
	_, err := c.call(ctx, CmdSendTyping, SendTypingOptions{IsTyping: &off})
	return err
}

// UpdateUserData merges data into the attached data (sent to the server during a GMS chat).
func (c *Client) UpdateUserData(ctx context.Context, data map[string]any) (any, error) {
	return c.call(ctx, CmdUpdateUserData, data)
}

// StartPoll, StopPoll and ResetPollExceptions control GMS REST polling.
func (c *Client) StartPoll(ctx context.Context) error {
	_, err := c.call(ctx, CmdStartPoll, nil)
	return err
}

// StopPoll stops GMS REST polling.
func (c *Client) StopPoll(ctx context.Context) error {
	_, err := c.call(ctx, CmdStopPoll, nil)
	return err
}

// ResetPollExceptions resets the GMS REST poll failure counter.
func (c *Client) ResetPollExceptions(ctx context.Context) error {
	_, err := c.call(ctx, CmdResetPollExceptions, nil)
	return err
}

// Restore restores an async chat from its stored session data (GMS CometD async mode).
func (c *Client) Restore(ctx context.Context, sessionData map[string]any) error {
	_, err := c.call(ctx, CmdRestore, map[string]any{"sessionData": sessionData, "async": map[string]any{"enabled": true}})
	return err
}

// Transcript returns the transcript (prefiltered messages excluded).
func (c *Client) Transcript(ctx context.Context) (Transcript, error) {
	return typed[Transcript](c.call(ctx, CmdGetTranscript, nil))
}

// Agents returns the participants by id.
func (c *Client) Agents(ctx context.Context) (map[string]Agent, error) {
	r, err := typed[AgentsResult](c.call(ctx, CmdGetAgents, nil))
	return r.Agents, err
}

// Stats returns getStats.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	return typed[Stats](c.call(ctx, CmdGetStats, nil))
}

// SessionData returns getSessionData (in process: secrets included).
func (c *Client) SessionData(ctx context.Context) (map[string]string, error) {
	return typed[map[string]string](c.call(ctx, CmdGetSessionData, nil))
}

// FetchHistory asks for an older page; it arrives as messageReceived with OldMessages.
func (c *Client) FetchHistory(ctx context.Context) (any, error) {
	return c.call(ctx, CmdFetchHistory, nil)
}

// SendFile uploads one file (GMS).
func (c *Client) SendFile(ctx context.Context, f File) (any, error) {
	return c.call(ctx, CmdSendFile, SendFileOptions{Files: []File{f}})
}

// DownloadFile downloads a file (GMS).
func (c *Client) DownloadFile(ctx context.Context, fileID string) (DownloadedFile, error) {
	return typed[DownloadedFile](c.call(ctx, CmdDownloadFile, DownloadFileOptions{FileID: fileID}))
}

// FileLimits returns the upload limits (GMS).
func (c *Client) FileLimits(ctx context.Context) (any, error) {
	return c.call(ctx, CmdGetFileLimits, nil)
}

// RegisterTypingPreviewInput registers the source of the typing preview text.
func (c *Client) RegisterTypingPreviewInput(ctx context.Context, source func() string) error {
	_, err := c.call(ctx, CmdRegisterTypingPreviewInput, map[string]any{"input": source})
	return err
}

// RegisterPreProcessor appends a message preprocessor.
func (c *Client) RegisterPreProcessor(ctx context.Context, fn func(context.Context, *Message) (*Message, error)) error {
	_, err := c.call(ctx, CmdRegisterPreProcessor, map[string]any{"preprocessor": fn})
	return err
}

// VerifySession reports whether a session is active (after any running restore).
func (c *Client) VerifySession(ctx context.Context) (bool, error) {
	r, err := typed[VerifySessionResult](c.call(ctx, CmdVerifySession, nil))
	return r.SessionActive, err
}

// Sleep and Wake slow down and restore GMS REST polling.
func (c *Client) Sleep(ctx context.Context) error {
	_, err := c.call(ctx, CmdSleep, nil)
	return err
}

// Wake restores normal polling; resetIdleState also cancels the server's idle timer.
func (c *Client) Wake(ctx context.Context, resetIdleState bool) error {
	_, err := c.call(ctx, CmdWake, WakeOptions{ResetIdleState: resetIdleState})
	return err
}

// OnMessageReceived subscribes to messageReceived.
func (c *Client) OnMessageReceived(fn func(MessageReceived)) (*bus.Subscription, error) {
	return on(c, EventMessageReceived, fn)
}

// OnParticipants subscribes to a participant event (EventAgentConnected, …).
func (c *Client) OnParticipants(event string, fn func(Participants)) (*bus.Subscription, error) {
	return on(c, event, fn)
}

// OnEvent subscribes to any WebChatService event by short name or pattern ("*" for all of them).
func (c *Client) OnEvent(event string, fn func(bus.Event)) (*bus.Subscription, error) {
	return c.p.Subscribe(PluginName+"."+event, fn)
}

func on[T any](c *Client, event string, fn func(T)) (*bus.Subscription, error) {
	if fn == nil {
		return nil, fmt.Errorf("%w: callback for %s", bus.ErrNilFunc, event)
	}
	return c.p.Subscribe(PluginName+"."+event, func(e bus.Event) {
		if v, ok := e.Data.(T); ok {
			fn(v)
		}
	})
}

func typed[T any](v any, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, errors.New("webchatservice: unexpected result type " + fmt.Sprintf("%T", v))
	}
	return t, nil
}
