// Package transports is the contract between the WebChatService layer and the
// contact-center transports (Genesys Cloud guest chat v2 "purecloud-v2-sockets",
// GMS Chat V2 "gms").
//
// A [Transport] runs exactly one chat session. It is created from the registry
// by type name with [New] (transports register themselves with [Register] in
// their init functions), started with [Transport.Start] or resumed from saved
// [SessionData] and a [Cursor] with [Transport.Resume], and reports everything
// that happens on one ordered channel, [Transport.Events].
//
// Guarantees every transport gives (and its tests prove against a simulator):
//
//   - Messages are normalized into one [Message] model (stable string id,
//     ordering index, type, text, timestamp, From{ID, Type, Name}, userData,
//     file details, raw JSON).
//   - Nothing is lost across a reconnect (backfill from the cursor), nothing is
//     delivered twice (dedupe by server id or index), and order is kept.
//   - Reconnects use exponential backoff with full jitter ([Backoff]); there are
//     no reconnect storms.
//   - An outgoing message is either accepted by the server or reported as failed;
//     it is never silently dropped.
//
// Optional features are small interfaces discovered with type assertions
// ([Files], [Notices], [UserDataUpdater], [History], [Poller], [Sleeper],
// [Nicknamer], [URLPusher], [ReadReceipter]). The As* helpers ([AsFiles],
// [AsPoller], …) do the assertion and return the exact Genesys Widgets
// rejection string ("This transport doesn't support …") when a transport lacks
// the feature, so callers never spell those strings themselves.
//
// Shared helpers used by every transport live here once: [Lifecycle] (the
// new/active/ended/closed phase machine with its errors, Done/Closed channels
// and session context), [Backoff] (exponential backoff with full jitter),
// [Seen] (bounded dedupe set), [IndexTracker] (GMS-style index cursor),
// [ParseRetryAfter], and [Clock] with [FakeClock] for tests that must not
// sleep. Package transporttest records a transport's events for tests.
//
// Secrets (JWTs, secure keys) live only in [SessionData] values marked secret;
// [SessionData.Redacted] and [RedactJSON] remove them before data leaves the
// process, and SessionData never prints them (String, zerolog).
package transports
