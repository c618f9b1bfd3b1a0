package bus

import (
	"time"

	"github.com/rs/zerolog"
)

// Defaults applied to zero-valued Options fields.
const (
	DefaultCommandTimeout = 60 * time.Second
	DefaultMailboxWarn    = 1000
	// NoTimeout as Options.CommandTimeout disables the default deadline: a call whose context
	// has no deadline may then stay pending until its handler settles it.
	NoTimeout time.Duration = -1
)

// Options configures a Bus. The zero value is ready to use.
type Options struct {
	// Logger receives the bus's logs. Default: the zero zerolog.Logger, which discards everything.
	Logger zerolog.Logger

	// Debug logs every register, publish, subscribe and command at debug level (Widgets' debug).
	Debug bool

	// CommandTimeout is the deadline applied to a call whose context has none.
	// Default (0): DefaultCommandTimeout (60 s). NoTimeout disables it.
	CommandTimeout time.Duration

	// MailboxWarn is the mailbox depth at which a warning is logged and published on
	// CXBus.error (kind "mailboxWarning"), once per crossing. Default (0): 1000. Negative: never.
	MailboxWarn int

	// MailboxLimit is a hard limit on a plugin's mailbox depth. 0 (default) means unbounded:
	// nothing is ever dropped. When set, a call that would overflow is rejected with
	// ErrMailboxFull and an event delivery that would overflow is reported on CXBus.error
	// (kind "slowConsumer") and logged — never dropped silently.
	MailboxLimit int

	// Now is the clock used for call and event times and for deadlines. Default: the system
	// clock, read as time.Now but cheaper (the wall clock is re-read every second, so a step of
	// the system clock shows within a second).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.CommandTimeout == 0 {
		o.CommandTimeout = DefaultCommandTimeout
	}
	if o.MailboxWarn == 0 {
		o.MailboxWarn = DefaultMailboxWarn
	}
	if o.Now == nil {
		o.Now = newFastClock().Now
	}
	return o
}
