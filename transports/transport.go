package transports

import (
	"context"
	"encoding/json"
	"io"
	"time"
)

// Registry type names of the transports of this module.
const (
	TypePureCloud = "purecloud-v2-sockets"
	TypeGMS       = "gms"
)

// Transport runs one chat session with a contact center.
//
// Lifecycle: New → Start (or Resume) → Send/Typing/optional operations → End
// (or the server ends the chat) → Close. Events delivers the ordered,
// de-duplicated event stream from the first Start/Resume call until EventEnded
// or Close; the channel is closed afterwards. Consumers must keep draining it
// (the transport buffers but applies backpressure rather than dropping).
//
// All methods are safe for concurrent use.
type Transport interface {
	// Type returns the registry type name (e.g. "purecloud-v2-sockets").
	Type() string
	// Capabilities reports what the transport supports; constant for its life.
	Capabilities() Capabilities
	// Start creates the session on the server and connects. It returns once the
	// server has accepted the session (startChat resolution); the connection may
	// still be opening (EventConnected follows). Events the call itself caused
	// (e.g. the first messages of the server's answer) are on the Events channel
	// before it returns, so a consumer reading Events in order sees them before
	// it acts on the result.
	Start(ctx context.Context, req StartRequest) (SessionData, error)
	// Resume reattaches to a session from saved data and backfills everything
	// after the cursor (restore). It fails with ErrSessionEnded when the server
	// says the chat is over (restoreFailed "ended"); a *TransportError with
	// Status 0 is a network failure, other errors a server failure (the
	// session may be resumed later). A reachable server whose chat service is
	// offline (GMS statusCode 1) is a success with EventServerOffline
	// (restoredOffline). As with Start, the events the call caused (backfilled
	// messages, that EventServerOffline) are on the Events channel before it returns.
	Resume(ctx context.Context, sd SessionData, cur Cursor) error
	// Send sends one message. It blocks (bounded by ctx) while the transport is
	// connecting or reconnecting and returns once the server accepted the message
	// or the attempt failed for good; it never silently drops a message.
	Send(ctx context.Context, out Outgoing) (Sent, error)
	// Typing reports the client's typing state. typing=false may be a no-op on
	// the wire (purecloud has no stop call).
	Typing(ctx context.Context, preview string, typing bool) error
	// End ends the chat on the server (Widgets endChat). The event stream then
	// reports EventEnded{Reason: EndedByClient} and closes.
	End(ctx context.Context) error
	// Events returns the event stream (the same channel on every call).
	Events() <-chan Event
	// SessionData returns the current session data (zero before Start/Resume).
	SessionData() SessionData
	// Cursor returns the cursor after the last delivered message.
	Cursor() Cursor
	// Close stops every goroutine and timer and closes the connection without
	// ending the chat on the server (so a later Resume can continue it). It is
	// idempotent.
	Close() error
}

// Capabilities is what a transport supports. The first four fields are the
// Widgets capabilitiesChanged payload ({pagination, fileUpload, async, asyncClose}).
type Capabilities struct {
	Pagination bool `json:"pagination"`
	FileUpload bool `json:"fileUpload"`
	Async      bool `json:"async"`
	AsyncClose bool `json:"asyncClose"`

	FileDownload   bool `json:"fileDownload,omitempty"`
	FileLimits     bool `json:"fileLimits,omitempty"`
	FileDelete     bool `json:"fileDelete,omitempty"`
	CustomNotice   bool `json:"customNotice,omitempty"`
	UpdateUserData bool `json:"updateUserData,omitempty"` // during an active chat
	Polling        bool `json:"polling,omitempty"`
	TypingStop     bool `json:"typingStop,omitempty"` // a typing stop goes on the wire
	Nickname       bool `json:"nickname,omitempty"`
	PushURL        bool `json:"pushUrl,omitempty"`
	ReadReceipt    bool `json:"readReceipt,omitempty"`
	History        bool `json:"history,omitempty"` // fetchHistory available now
}

// Published returns the Widgets capabilitiesChanged payload.
func (c Capabilities) Published() map[string]bool {
	return map[string]bool{"pagination": c.Pagination, "fileUpload": c.FileUpload, "async": c.Async, "asyncClose": c.AsyncClose}
}

// StartRequest holds the startChat options (webchatservice.md §3.4). Fields a
// transport does not use are ignored.
type StartRequest struct {
	Nickname  string `json:"nickname,omitempty"`
	FirstName string `json:"firstname,omitempty"`
	LastName  string `json:"lastname,omitempty"`
	Email     string `json:"email,omitempty"`
	Subject   string `json:"subject,omitempty"`
	// UserData is the attached data, already merged over the configured
	// userData by the caller (transports merge their configured defaults under
	// it again, which is harmless). Non-string values are JSON-encoded on wires
	// that only carry strings.
	UserData map[string]any `json:"userData,omitempty"`
	// Form holds extra entry-form fields (purecloud form).
	Form map[string]string `json:"form,omitempty"`
	// InteractionData is deep-merged over the configured transport.interactionData (purecloud).
	InteractionData json.RawMessage `json:"interactionData,omitempty"`
	// DeploymentKey and OrgGUID override the configured values (purecloud).
	DeploymentKey string `json:"deploymentKey,omitempty"`
	OrgGUID       string `json:"orgGuid,omitempty"`
	// Async starts an asynchronous chat (GMS CometD only).
	Async bool `json:"async,omitempty"`
}

// Outgoing is one message to send.
type Outgoing struct {
	// Text is the message text (required, not blank).
	Text string `json:"message"`
	// Type is the GMS messageType (default "text"); ignored by purecloud.
	Type string `json:"type,omitempty"`
	// ParentMessageID is a reply-to id (GMS eventAttributes related-event-id).
	ParentMessageID string `json:"parentMessageID,omitempty"`
	// ClientID is the caller's id for the message (logs, outbox correlation).
	ClientID string `json:"clientId,omitempty"`
	// Since, when set, is the cursor at the time of an earlier attempt whose
	// outcome is unknown (e.g. an outbox entry restored after a crash). Before
	// sending, the transport looks for our own message with the same text after
	// it and, if found, returns that instead of sending again.
	Since *Cursor `json:"since,omitempty"`
}

// Sent is the server's acceptance of an outgoing message.
type Sent struct {
	// ID is the message id (purecloud message id, GMS "<chatId>:<index>" when known).
	ID        string    `json:"id,omitempty"`
	Index     int64     `json:"index,omitempty"`
	Timestamp time.Time `json:"timestamp"`
	// Deduplicated is true when an earlier ambiguous attempt had in fact
	// reached the server, so nothing was sent again.
	Deduplicated bool `json:"deduplicated,omitempty"`
	// Answer is the server answer (the AJAX Response Object). It may hold secrets
	// (GMS secureKey): use RedactJSON before it leaves the process.
	Answer json.RawMessage `json:"-"`
}

// Files is implemented by transports that support file transfer (GMS).
type Files interface {
	FileLimits(ctx context.Context) (FileLimits, error)
	UploadFile(ctx context.Context, f FileUpload) (UploadResult, error)
	// DownloadFile streams the file to w.
	DownloadFile(ctx context.Context, fileID string, w io.Writer) (FileDetails, error)
	DeleteFile(ctx context.Context, fileID string) error
}

// FileLimits are the server's upload limits and current usage (GMS §8).
type FileLimits struct {
	MaxFiles       int      `json:"upload-max-files"`
	MaxFileSize    int64    `json:"upload-max-file-size"`
	MaxTotalSize   int64    `json:"upload-max-total-size"`
	FileTypes      []string `json:"upload-file-types"`
	NeedAgent      bool     `json:"upload-need-agent"`
	DownloadLimit  int      `json:"download-attempts"`
	UsedFiles      int      `json:"used-upload-max-files"`
	UsedTotalSize  int64    `json:"used-upload-max-total-size"`
	UsedDownloads  int      `json:"used-download-attempts"`
	DeleteFileRule string   `json:"delete-file,omitempty"`
	// Raw is the limits notice as received.
	Raw json.RawMessage `json:"-"`
}

// FileUpload is one file to upload.
type FileUpload struct {
	Name        string
	ContentType string
	Size        int64
	Body        io.Reader
	Description string
	UserData    map[string]string
}

// UploadResult is the server's answer to an upload.
type UploadResult struct {
	FileID string          `json:"fileId"`
	Answer json.RawMessage `json:"-"`
}

// Notices is implemented by transports that can send custom notices (GMS).
type Notices interface {
	SendCustomNotice(ctx context.Context, text string, attributes map[string]any) (Sent, error)
}

// UserDataUpdater is implemented by transports that can update attached data
// during an active chat (GMS).
type UserDataUpdater interface {
	UpdateUserData(ctx context.Context, data map[string]any) error
}

// Nicknamer is implemented by transports that can change the client's nickname (GMS).
type Nicknamer interface {
	UpdateNickname(ctx context.Context, nickname string) error
}

// URLPusher is implemented by transports that can push a URL to the agent (GMS).
type URLPusher interface {
	PushURL(ctx context.Context, url string) error
}

// ReadReceipter is implemented by transports that can send read receipts (GMS CometD).
type ReadReceipter interface {
	// ReadReceipt marks the transcript item with this index as read.
	ReadReceipt(ctx context.Context, index int64) error
}

// History is implemented by transports that can page backwards through the
// transcript (fetchHistory). FetchHistory returns the next older page each
// call; ErrNoMoreMessages once everything was fetched, ErrHistoryNotEnabled or
// ErrHistoryAsyncOnly when not available for this session.
type History interface {
	FetchHistory(ctx context.Context) (HistoryPage, error)
}

// HistoryPage is one fetchHistory page.
type HistoryPage struct {
	// Messages are the page's items, oldest first.
	Messages []Message
	// More reports whether older messages remain.
	More bool
	// Answer is the raw server answer.
	Answer json.RawMessage
}

// Poller is implemented by polling transports (GMS REST).
type Poller interface {
	// Poll runs one poll now and returns the server's answer (the Widgets AJAX Response
	// Object, secrets not yet redacted); ErrPollInFlight when one is running.
	Poll(ctx context.Context) (json.RawMessage, error)
	// StartPoll starts polling (idempotent); it reports whether polling actually started.
	StartPoll(ctx context.Context) (started bool, err error)
	// StopPoll stops polling; ErrNotPolling when not polling.
	StopPoll(ctx context.Context) error
	// ResetPollExceptions resets the consecutive-failure counter.
	ResetPollExceptions()
	// Polling reports whether polling is on.
	Polling() bool
}

// Sleeper is implemented by transports with a sleep mode (GMS REST).
type Sleeper interface {
	// Sleep slows polling; it reports whether the transport went to sleep.
	Sleep(ctx context.Context) (bool, error)
	// Wake restores normal polling; resetIdleState sends the cancel-idle-timer notice even when awake.
	Wake(ctx context.Context, resetIdleState bool) (bool, error)
}

// AsFiles returns t's Files, or ErrFileUploadUnsupported. Callers that need the
// download or limits string use [FileOpError].
func AsFiles(t Transport) (Files, error) {
	if f, ok := t.(Files); ok && t.Capabilities().FileUpload {
		return f, nil
	}
	return nil, ErrFileUploadUnsupported
}

// FileOp names a file operation for [FileOpError].
type FileOp int

// File operations.
const (
	FileOpUpload FileOp = iota
	FileOpDownload
	FileOpLimits
	FileOpDelete
)

// FileOpError returns the exact rejection for a file operation on a transport
// without file support.
func FileOpError(op FileOp) error {
	switch op {
	case FileOpDownload:
		return ErrFileDownloadUnsupported
	case FileOpLimits:
		return ErrFileLimitsUnsupported
	default:
		return ErrFileUploadUnsupported
	}
}

// AsNotices returns t's Notices, or ErrCustomNoticeUnsupported.
func AsNotices(t Transport) (Notices, error) {
	if n, ok := t.(Notices); ok && t.Capabilities().CustomNotice {
		return n, nil
	}
	return nil, ErrCustomNoticeUnsupported
}

// AsUserDataUpdater returns t's UserDataUpdater, or ErrUserDataUpdateUnsupported.
func AsUserDataUpdater(t Transport) (UserDataUpdater, error) {
	if u, ok := t.(UserDataUpdater); ok && t.Capabilities().UpdateUserData {
		return u, nil
	}
	return nil, ErrUserDataUpdateUnsupported
}

// AsPoller returns t's Poller, or ErrPollingUnsupported (use
// ErrResetPollExceptionsUnsupported for resetPollExceptions).
func AsPoller(t Transport) (Poller, error) {
	if p, ok := t.(Poller); ok && t.Capabilities().Polling {
		return p, nil
	}
	return nil, ErrPollingUnsupported
}

// AsHistory returns t's History, or ErrHistoryAsyncOnly when t has none.
// A transport with History may still reject a call (ErrHistoryNotEnabled).
func AsHistory(t Transport) (History, error) {
	if h, ok := t.(History); ok {
		return h, nil
	}
	return nil, ErrHistoryAsyncOnly
}

// AsSleeper returns t's Sleeper and true, or nil and false (sleep/wake are
// no-ops on transports without it).
func AsSleeper(t Transport) (Sleeper, bool) {
	s, ok := t.(Sleeper)
	return s, ok
}
