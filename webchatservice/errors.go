//lint:file-ignore ST1005 the rejection strings are the exact Genesys Widgets texts (capitalized, with a period)

package webchatservice

import (
	"errors"
	"fmt"
)

// Rejections with the exact Genesys Widgets strings (spec webchatservice.md §3). Error() is the
// string byte for byte; match with errors.Is. Rejections for operations a transport lacks are
// the transports package's (transports.ErrPollingUnsupported, …), returned as they are.
var (
	ErrInvalidConfiguration          = errors.New("Invalid configuration")
	ErrInvalidTransportConfiguration = errors.New("Invalid transport configuration")
	ErrAsyncOnlyCometD               = errors.New("Invalid configuration. WebChatService supports Async chat only in CometD mode.")
	ErrAlreadyConfigured             = errors.New("WebChatService is already configured.")
	ErrChatAlreadyActive             = errors.New("There is already an active chat session.")
	ErrMalformedUserData             = errors.New("malformed data object provided in userData property.")
	ErrNoActiveChat                  = errors.New("There is no active chat session.")
	// ErrNoActiveChatSession is the shorter text sendFilteredMessage, poll, startPoll and stopPoll use.
	ErrNoActiveChatSession   = errors.New("No active chat session.")
	ErrNoMessageText         = errors.New("No message text provided.")
	ErrNotConnected          = errors.New("Not connected to the chat server. Message was not sent.")
	ErrOutboxFull            = errors.New("Message queue is full. Message was not sent.")
	ErrInvalidFilters        = errors.New("Missing or invalid filters provided. Please provide a regular expression or an array of regular expressions.")
	ErrRestoreAccessDenied   = errors.New("Access Denied to private command. Only WebChatService is allowed to invoke this command in Non-Async mode.")
	ErrAlreadyRestoring      = errors.New("Already restoring. Ignoring request.")
	ErrRestoreWhileActive    = errors.New("Chat session is already active, ignoring restore command.")
	ErrNoSessionToRestore    = errors.New("No chat session found to restore.")
	ErrCustomerDisconnected  = errors.New("customer disconnected, conversation ended")
	ErrConversationState     = errors.New("failed to retrieve conversation state")
	ErrInvalidPreviewInput   = errors.New("Invalid value provided for the input property. An HTML element reference to a textarea or text input is required.")
	ErrTransportNotSupported = errors.New("Transport not supported")
	// ErrMessageTooLong is matched by the "Message length exceeds configured threshold of (<N>)
	// characters" rejection (a *MessageTooLongError).
	ErrMessageTooLong = errors.New("webchatservice: message too long")
	// ErrNoPreprocessor is matched by the "No preprocessor function provided. Type provided was
	// '<DATATYPE>'." rejection.
	ErrNoPreprocessor = errors.New("webchatservice: no preprocessor function")
	// ErrNotConfigured: a command other than configure before the service was configured.
	ErrNotConfigured = errors.New("webchatservice: not configured")
	// ErrClosed: the service (or its session) was closed.
	ErrClosed = errors.New("webchatservice: closed")
	// ErrQueuedAtClose rejects a sendMessage still queued when the service closed: the message
	// was not sent by this process but stays in the snapshot, and the restored session sends it
	// (once). Do not resend it.
	ErrQueuedAtClose = errors.New("webchatservice: closed; the message stays queued and is sent when the session is restored")
)

// MessageTooLongError is the maxMessageLength rejection.
type MessageTooLongError struct{ Limit int }

func (e *MessageTooLongError) Error() string {
	return fmt.Sprintf("Message length exceeds configured threshold of (%d) characters", e.Limit)
}

// Is matches ErrMessageTooLong.
func (e *MessageTooLongError) Is(target error) bool { return target == ErrMessageTooLong }

// NoPreprocessorError is the registerPreProcessor rejection.
type NoPreprocessorError struct{ Type string }

func (e *NoPreprocessorError) Error() string {
	return "No preprocessor function provided. Type provided was '" + e.Type + "'."
}

// Is matches ErrNoPreprocessor.
func (e *NoPreprocessorError) Is(target error) bool { return target == ErrNoPreprocessor }

// ConfigError is a configuration rejection naming each bad field. It matches
// ErrInvalidConfiguration (or ErrInvalidTransportConfiguration for a bad transport.type).
type ConfigError struct {
	Kind   error    // ErrInvalidConfiguration or ErrInvalidTransportConfiguration
	Fields []string // "field: problem"
	Err    error    // the underlying error (e.g. the transport factory's), if any
}

// Error is the contract's exact text for an unsupported transport type ("Invalid transport
// configuration"; the detail is in Fields), else the text followed by each bad field.
func (e *ConfigError) Error() string {
	s := e.Kind.Error()
	if e.Kind == ErrInvalidTransportConfiguration {
		return s
	}
	for i, f := range e.Fields {
		if i == 0 {
			s += ": " + f
		} else {
			s += "; " + f
		}
	}
	if len(e.Fields) == 0 && e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ConfigError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}
