package webchatservice

import (
	"encoding/json"
	"io"
)

// StartChatOptions are the startChat options (spec §3.4).
type StartChatOptions struct {
	Nickname  string `json:"nickname,omitempty"`
	FirstName string `json:"firstname,omitempty"`
	LastName  string `json:"lastname,omitempty"`
	Email     string `json:"email,omitempty"`
	Subject   string `json:"subject,omitempty"`
	// UserData is merged over the configured userData: an object, or JSON object text.
	UserData any `json:"userData,omitempty"`
	// Async starts an asynchronous chat (GMS CometD only).
	Async bool `json:"async,omitempty"`
	// Form holds the entry-form fields (Genesys Cloud).
	Form map[string]string `json:"form,omitempty"`
	// InteractionData is deep-merged over transport.interactionData (Genesys Cloud).
	InteractionData json.RawMessage `json:"interactionData,omitempty"`
	// DeploymentKey and OrgGUID override the configured ones (Genesys Cloud).
	DeploymentKey string `json:"deploymentKey,omitempty"`
	OrgGUID       string `json:"orgGuid,omitempty"`
}

// SendMessageOptions are the sendMessage options (spec §3.6).
type SendMessageOptions struct {
	// Message is the text (required, a non-blank string).
	Message any `json:"message"`
	// Type is the GMS message type (default "text").
	Type string `json:"type,omitempty"`
	// ParentMessageID is the id of the message this one replies to (GMS).
	ParentMessageID string `json:"parentMessageID,omitempty"`
}

// SendFilteredMessageOptions are the sendFilteredMessage options (spec §3.9).
type SendFilteredMessageOptions struct {
	Message any `json:"message"`
	// Regex is the filter that hides the message from the customer's transcript: a JavaScript
	// literal ("/^code:/i"), a Go pattern, or {source, flags}.
	Regex any `json:"regex"`
}

// AddPrefilterOptions are the addPrefilter options: one filter or a list.
type AddPrefilterOptions struct {
	Filters any `json:"filters"`
}

// SendCustomNoticeOptions are the sendCustomNotice options.
type SendCustomNoticeOptions struct {
	Message string `json:"message,omitempty"`
}

// SendTypingOptions are the sendTyping options (spec §3.8).
type SendTypingOptions struct {
	// Message is the preview text; default: the registered preview input's current text.
	Message string `json:"message,omitempty"`
	// MessageAlt accepts the reference page's spelling "Message".
	MessageAlt string `json:"Message,omitempty"`
	// IsTyping false stops typing at once; default true.
	IsTyping *bool `json:"isTyping,omitempty"`
}

// RestoreOptions are the restore options (spec §3.13).
type RestoreOptions struct {
	// SessionData is the stored session of an async chat (GMS {sessionID, userId, secureKey, alias}).
	SessionData any `json:"sessionData,omitempty"`
	Async       *struct {
		Enabled bool `json:"enabled"`
	} `json:"async,omitempty"`
}

// File is one file to upload with sendFile.
type File struct {
	Name        string    `json:"name"`
	ContentType string    `json:"contentType,omitempty"`
	Size        int64     `json:"size"`
	Reader      io.Reader `json:"-"`
	Description string    `json:"description,omitempty"`
}

// SendFileOptions are the sendFile options; only the first file is sent (Widgets).
type SendFileOptions struct {
	Files []File `json:"files"`
}

// DownloadFileOptions are the downloadFile options.
type DownloadFileOptions struct {
	FileID   string `json:"fileId" validate:"required"`
	FileName string `json:"fileName,omitempty"`
}

// DownloadedFile is the downloadFile resolution: the file's details and its content.
type DownloadedFile struct {
	FileID      string `json:"fileId"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	// Body is the file content.
	Body []byte `json:"body"`
}

// WakeOptions are the wake options.
type WakeOptions struct {
	ResetIdleState bool `json:"resetIdleState,omitempty"`
}

// Transcript is the getTranscript resolution.
type Transcript struct {
	Messages         []Message         `json:"messages"`
	OriginalMessages []json.RawMessage `json:"originalMessages"`
}

// AgentsResult is the getAgents resolution.
type AgentsResult struct {
	Agents map[string]Agent `json:"agents"`
}

// Stats is the getStats resolution; StartTime, EndTime and Duration are false when there are no
// messages (Widgets), else epoch ms / ms.
type Stats struct {
	Agents    map[string]Agent `json:"agents"`
	StartTime any              `json:"startTime"`
	EndTime   any              `json:"endTime"`
	Duration  any              `json:"duration"`
}

// VerifySessionResult is the verifySession resolution.
type VerifySessionResult struct {
	SessionActive bool `json:"sessionActive"`
}
