// Package gms is the GMS (Genesys Mobile Services) Chat API Version 2
// transport, registered as "gms" in package transports: the client that
// WebChatService uses when `transport.type` is absent (Widgets' GMS modes).
//
// It runs one chat session in one of two modes, chosen by cometD.enabled:
//
//   - REST polling: form-encoded POSTs under dataURL; a poll loop (one poll
//     in flight, dynamic rates pollRate/pollRateMin/pollRateMax/pollRateMult,
//     pollRateSleep while sleeping) reads the transcript with refresh;
//     Poller and Sleeper are available.
//   - CometD: one Bayeux session (package bayeux, WebSocket first with
//     long-polling fallback, its own cookie jar) per chat; operations are
//     published on /service/chatV2/<service> and GMS answers with
//     notifications on the same channel. After every reconnect or
//     re-handshake the transport publishes requestNotifications with the
//     cursor, so nothing is missed; gaps in the indexes of unsolicited
//     notifications are verified the same way before they are accepted.
//
// In both modes the session keys (chatId, userId, secureKey, alias) are
// refreshed from every answer (EventSessionData when they change), the
// cursor is max(nextPosition, lastIndex+1), events at or below the last
// processed index are dropped, participant ids stay strings, message ids are
// "<chatId>:<index>", statusCode 1 answers drive a connectivity state machine
// with hysteresis (EventServerOffline/EventServerOnline once per outage), and
// sends are retried until they are answered, never dropped; after an
// ambiguous failure the transcript is searched first, so nothing is sent
// twice.
//
// Configuration is the Widgets `webchat` section (see Config); the behaviour
// and the differences from Widgets are described in docs/transports/gms.md.
// Secure keys, Basic credentials, API keys and Authorization headers are
// never logged and never put in error texts.
package gms

import "github.com/cxbus/webchat/transports"

// The optional interfaces the transport implements (Capabilities says which
// are usable in the configured mode).
var (
	_ transports.Transport       = (*Transport)(nil)
	_ transports.Files           = (*Transport)(nil)
	_ transports.Notices         = (*Transport)(nil)
	_ transports.UserDataUpdater = (*Transport)(nil)
	_ transports.Nicknamer       = (*Transport)(nil)
	_ transports.URLPusher       = (*Transport)(nil)
	_ transports.ReadReceipter   = (*Transport)(nil)
	_ transports.History         = (*Transport)(nil)
	_ transports.Poller          = (*Transport)(nil)
	_ transports.Sleeper         = (*Transport)(nil)
)
