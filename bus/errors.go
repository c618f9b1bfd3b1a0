package bus

import (
	"context"
	"errors"
)

// Sentinel errors. Every rejection the bus produces is, or wraps, one of these, so callers match
// with errors.Is. Where spec/cxbus.md gives an exact Widgets-style text, the rejection's Error()
// is that text (for example "Command does not exist: WebChatService.foo") and the sentinel is
// reached through Unwrap.
var (
	// ErrCommandNotFound: the target plugin is registered but has no such command.
	ErrCommandNotFound = errors.New("bus: command does not exist")
	// ErrPluginNotFound: the target plugin is not registered and no loader is registered for it.
	ErrPluginNotFound = errors.New("bus: plugin is not registered")
	// ErrAccessDenied: a private command was called by a plugin that is not on its allow-list.
	ErrAccessDenied = errors.New("bus: access denied to private command")
	// ErrCancelledByBefore: a before interceptor cancelled the call.
	ErrCancelledByBefore = errors.New("bus: command cancelled by a before interceptor")
	// ErrPluginDeregistered: the target plugin was deregistered while the call was pending.
	ErrPluginDeregistered = errors.New("bus: plugin was deregistered")
	// ErrHandlerPanic: the command handler panicked.
	ErrHandlerPanic = errors.New("bus: command handler panicked")
	// ErrInterceptorPanic: a before interceptor panicked; the call is rejected.
	ErrInterceptorPanic = errors.New("bus: before interceptor panicked")
	// ErrTimeout: the call's deadline passed (also matches context.DeadlineExceeded).
	ErrTimeout = errors.New("bus: command timed out")
	// ErrCancelled: the caller's context was cancelled (also matches context.Canceled).
	ErrCancelled = errors.New("bus: command cancelled")
	// ErrInvalidOptions: the command options are not a JSON object, or failed validation.
	ErrInvalidOptions = errors.New("bus: invalid command options")
	// ErrInvalidName: a plugin, command, event or pattern name is malformed.
	ErrInvalidName = errors.New("bus: invalid name")
	// ErrNameTaken: RegisterPlugin with a name that is already registered.
	ErrNameTaken = errors.New("bus: plugin name is already taken")
	// ErrLocked: RegisterPlugin while registration is locked.
	ErrLocked = errors.New("bus: registration is locked")
	// ErrNotRegistered: an operation on a plugin handle after Deregister.
	ErrNotRegistered = errors.New("bus: plugin is not registered")
	// ErrNilFunc: a nil handler, callback or interceptor was given.
	ErrNilFunc = errors.New("bus: nil function")
	// ErrMailboxFull: a mailbox reached its hard limit (Options.MailboxLimit); the item was refused.
	ErrMailboxFull = errors.New("bus: mailbox full")
	// ErrClosed: the bus was closed.
	ErrClosed = errors.New("bus: closed")
)

// Error is a rejection with an exact text. Error returns Text; errors.Is matches each wrapped
// error (the sentinel, and the context error for timeouts and cancellations).
type Error struct {
	// Text is the exact message, e.g. "Command does not exist: WebChatService.foo".
	Text string
	// Command is the full command name the error concerns, when there is one.
	Command string
	wrapped []error
}

func (e *Error) Error() string { return e.Text }

// Unwrap returns the sentinel(s) behind the error.
func (e *Error) Unwrap() []error { return e.wrapped }

func newError(text, command string, wrapped ...error) *Error {
	return &Error{Text: text, Command: command, wrapped: wrapped}
}

func errCommandNotFound(cmd string) error {
	return newError("Command does not exist: "+cmd, cmd, ErrCommandNotFound)
}

func errPluginNotFound(plugin, cmd string) error {
	return newError("Plugin is not registered: "+plugin, cmd, ErrPluginNotFound)
}

func errAccessDenied(owner, cmd string) error {
	return newError("Access Denied to private command. Only "+owner+" is allowed to invoke this command.", cmd, ErrAccessDenied)
}

func errCancelledByBefore(cmd string) error {
	return newError("Command was cancelled by a 'before' function.", cmd, ErrCancelledByBefore)
}

func errDeregistered(plugin, cmd string) error {
	return newError("Plugin was deregistered: "+plugin, cmd, ErrPluginDeregistered)
}

func errHandlerPanic(cmd string) error {
	return newError("Command handler panicked: "+cmd, cmd, ErrHandlerPanic)
}

func errInterceptorPanic(cmd string) error {
	return newError("Command was cancelled: a 'before' function panicked: "+cmd, cmd, ErrInterceptorPanic)
}

func errTimedOut(cmd string) error {
	return newError("Command timed out: "+cmd, cmd, ErrTimeout, context.DeadlineExceeded)
}

func errCancelled(cmd string) error {
	return newError("Command cancelled: "+cmd, cmd, ErrCancelled, context.Canceled)
}

func errInvalidOptionsNotObject(cmd string) error {
	return newError("Invalid command options: a JSON object is required.", cmd, ErrInvalidOptions)
}

func errInvalidCommandName(name string) error {
	return newError("Invalid command name: "+name, name, ErrInvalidName)
}

func errInvalidPluginName(name string) error {
	return newError("Invalid plugin name: "+name, "", ErrInvalidName)
}

func errNameTaken(name string) error {
	return newError("Plugin name is already taken: "+name, "", ErrNameTaken)
}

func errLocked() error {
	return newError("Registration is locked.", "", ErrLocked)
}

func errMailboxFull(plugin, what string) error {
	return newError("bus: mailbox full: "+plugin+" (refused "+what+")", what, ErrMailboxFull)
}

// errClosed is returned for calls on a closed bus; its text is exactly "bus: closed".
var errClosed = ErrClosed
