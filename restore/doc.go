// Package restore persists session snapshots so a WebChatService session can be restored
// after a process restart (the WebChatService contract §6.6 and §6.8).
//
// A [Snapshot] holds what a restore needs: the transport's session data (secrets: JWT,
// secureKey), the transcript cursor, the last server contact (restoreTimeout is measured from
// it), custom prefilters, userData, the transcript before preprocessing, agents, stats, the
// queued outgoing messages and a saved-at time. Transport session data and cursor are
// json.RawMessage, so this package depends on no other package of the project.
//
// A [Store] loads, saves and deletes snapshots by session id with compare-and-set revisions:
// Save(ctx, s, expected) succeeds only when the stored revision is expected (0: none may
// exist) and returns the new one; a lost race is a [*ConflictError] matching [ErrConflict],
// and the caller reloads and retries. Implementations:
//
//   - [NewMemoryStore]: in memory, the default for embedding;
//   - [NewFileStore]: one JSON file per session in a directory, written atomically (temp file,
//     fsync, rename, directory fsync) and safe for several processes (flock);
//   - [Encrypt]: wraps any store and seals snapshots with AES-256-GCM under a 32-byte key.
//
// [Expired] and [LoadFresh] apply restoreTimeout (default [DefaultRestoreTimeout], 60 s).
// Session ids are checked by [ValidateID] in every store, so an id can never name a path
// outside a file store's directory. Never log a Snapshot: its SessionData is secret.
package restore
