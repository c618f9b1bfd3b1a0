package wire

// Error codes of errors[] (§9). The documented ones come first; the ones
// marked [inferred] are the simulator's defaults where GMS documents no code:
// a client must not depend on them beyond surfacing code and advice.
const (
	CodeFirstNameRequired  = 102 // first name required (half a name)
	CodeLastNameRequired   = 103 // last name required (half a name)
	CodeNicknameRequired   = 161 // neither nickname nor firstName+lastName
	CodeTooManyFiles       = 201 // advice = upload-max-files
	CodeTotalSizeExceeded  = 202 // advice = bytes (upload-max-total-size, or upload-max-file-size for one file)
	CodeFileTypeNotAllowed = 203 // advice = upload-file-types
	CodeMessageTooLong     = 204 // Widgets drops it from refresh answers
	CodeCannotStartChat    = 240 // cannot start a new chat at this time
	CodeInvalidService     = 306 // treated as an invalid service
	CodeInvalidEmail       = 364 // invalid emailAddress

	CodeInvalidRequest   = 100 // [inferred] a required parameter is missing or malformed
	CodeSessionNotFound  = 300 // [inferred] unknown or ended chat session, or wrong secureKey
	CodeNotAuthorized    = 401 // [inferred] Basic Auth (CometD auth) missing or wrong
	CodeUploadNeedsAgent = 205 // [inferred] upload-need-agent and no agent has joined
	CodeFileNotFound     = 206 // [inferred] unknown file-id
	CodeDownloadLimit    = 207 // [inferred] download-attempts exhausted; advice = the limit
	CodeDeleteForbidden  = 208 // [inferred] a customer cannot delete an agent's file
	CodePushKeysMismatch = 209 // [inferred] requestNotifications push_notification_* keys differ
)
