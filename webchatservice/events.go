package webchatservice

import (
	"encoding/json"

	"github.com/cxbus/webchat/transports"
)

// PluginName is the bus namespace of the service.
const PluginName = "WebChatService"

// Message is the normalized message of every transport (spec §5.1).
type Message = transports.Message

// Event names (short; the bus name is "WebChatService.<name>").
const (
	EventReady                  = "ready"
	EventStarted                = "started"
	EventRestored               = "restored"
	EventRestoredOffline        = "restoredOffline"
	EventRestoreTimeout         = "restoreTimeout"
	EventRestoreFailed          = "restoreFailed"
	EventMessageReceived        = "messageReceived"
	EventError                  = "error"
	EventEnded                  = "ended"
	EventDisconnected           = "disconnected"
	EventReconnected            = "reconnected"
	EventClientConnected        = "clientConnected"
	EventClientDisconnected     = "clientDisconnected"
	EventAgentConnected         = "agentConnected"
	EventAgentDisconnected      = "agentDisconnected"
	EventSupervisorConnected    = "supervisorConnected"
	EventSupervisorDisconnected = "supervisorDisconnected"
	EventBotConnected           = "botConnected"
	EventBotDisconnected        = "botDisconnected"
	EventClientTypingStarted    = "clientTypingStarted"
	EventClientTypingStopped    = "clientTypingStopped"
	EventAgentTypingStarted     = "agentTypingStarted"
	EventAgentTypingStopped     = "agentTypingStopped"
	EventAgentTypingTimeout     = "agentTypingTimeout"
	EventPollingStarted         = "pollingStarted"
	EventPollingStopped         = "pollingStopped"
	EventChatServerWentOffline  = "chatServerWentOffline"
	EventChatServerBackOnline   = "chatServerBackOnline"
	EventChatServerTimeout      = "chatServerTimeout"
	EventAjaxResponse           = "ajaxResponse"
	EventSleeping               = "sleeping"
	EventWaking                 = "waking"
	EventCapabilitiesChanged    = "capabilitiesChanged"
	EventSessionLost            = "sessionLost"
	EventIdleAlert              = "idleAlert"
	EventIdleClose              = "idleClose"
)

// Events lists every event the service declares on the bus.
var Events = []string{
	EventReady, EventStarted, EventRestored, EventRestoredOffline, EventRestoreTimeout, EventRestoreFailed,
	EventMessageReceived, EventError, EventEnded, EventDisconnected, EventReconnected,
	EventClientConnected, EventClientDisconnected, EventAgentConnected, EventAgentDisconnected,
	EventSupervisorConnected, EventSupervisorDisconnected, EventBotConnected, EventBotDisconnected,
	EventClientTypingStarted, EventClientTypingStopped, EventAgentTypingStarted, EventAgentTypingStopped,
	EventAgentTypingTimeout, EventPollingStarted, EventPollingStopped, EventChatServerWentOffline,
	EventChatServerBackOnline, EventChatServerTimeout, EventAjaxResponse, EventSleeping, EventWaking,
	EventCapabilitiesChanged, EventSessionLost, EventIdleAlert, EventIdleClose,
}

// Data store keys of the plugin (bus data, spec §1).
const (
	DataSessionActive = "sessionActive"
	DataSessionData   = "sessionData"
	DataUserData      = "userData"
	DataAgentTyping   = "agentTyping"
	DataSleeping      = "sleeping"
	DataCapabilities  = "capabilities"
	DataMode          = "mode"
)

// MessageReceived is the payload of messageReceived (spec §5.2).
type MessageReceived struct {
	// OriginalMessages are the raw transport items of the batch, same order as Messages.
	OriginalMessages []json.RawMessage `json:"originalMessages"`
	// Messages are the normalized messages after preprocessors.
	Messages []Message `json:"messages"`
	// Restoring is true for the replay of the stored transcript at restore.
	Restoring bool `json:"restoring"`
	// SessionData is the getSessionData object, secrets redacted.
	SessionData map[string]string `json:"sessionData"`
	// OldMessages is true for a fetchHistory page (sorted by index, descending).
	OldMessages bool `json:"oldMessages,omitempty"`
}

// Participants is the payload of the participant events (agentConnected, …).
type Participants struct {
	// Message is the join or leave message.
	Message Message `json:"message"`
	// Agents is the getAgents map.
	Agents map[string]Agent `json:"agents"`
	// NumAgentsConnected counts agents (and supervisors) connected now.
	NumAgentsConnected int `json:"numAgentsConnected"`
}

// Agent is one entry of getAgents (ids are strings, times epoch ms; 0 = not yet).
type Agent struct {
	Name             string `json:"name"`
	Connected        bool   `json:"connected"`
	Supervisor       bool   `json:"supervisor"`
	Bot              bool   `json:"bot,omitempty"`
	ConnectedTime    int64  `json:"connectedTime"`
	DisconnectedTime int64  `json:"disconnectedTime"`
}

// Started is the payload of started: the session data with secrets redacted. For Genesys Cloud
// the values are under Data as in Widgets ({data:{jwt, conversationId, …}}); for GMS they are
// the top-level keys {sessionID, userId, secureKey, alias}.
type Started map[string]any

// Restored is the payload of restored.
type Restored struct {
	Async bool `json:"async"`
}

// RestoreFailed is the payload of restoreFailed.
type RestoreFailed struct {
	// Reason is "ended", "network" or "server".
	Reason string `json:"reason"`
	Error  string `json:"error,omitempty"`
}

// ErrorPayload is the payload of the error event: the fields of the failed server call (the
// Widgets AJAX Response Object) without secrets.
type ErrorPayload struct {
	transports.TransportError
	// Message describes the failure when there is no TransportError.
	Text string `json:"text,omitempty"`
}

// IdleAlert is the payload of idleAlert.
type IdleAlert struct {
	SecondsLeft int `json:"secondsLeft"`
}

// SessionLost is the payload of sessionLost.
type SessionLost struct {
	Error string `json:"error,omitempty"`
}
