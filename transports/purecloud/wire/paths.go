package wire

import (
	"net/url"
	"strings"
	"unicode/utf16"
)

// Paths and query names of the guest API.
const (
	// ConversationsPath is the collection path; every guest path starts with it.
	ConversationsPath = "/api/v2/webchat/guest/conversations"
	// PlatformConversationsPath prefixes WebChatConversation.selfUri, which
	// uses the platform path, not the guest one.
	PlatformConversationsPath = "/api/v2/conversations"
	// EventStreamPathPrefix prefixes the simulator's event stream path
	// (/v1/token/{jwt}); the real host is carrier-pigeon.{domain}.
	EventStreamPathPrefix = "/v1/token/"

	QueryPageSize                   = "pageSize"
	QueryPageNumber                 = "pageNumber"
	QueryExcludeDisconnectedMembers = "excludeDisconnectedMembers"
	QueryAfter                      = "after"
	QueryBefore                     = "before"
	QuerySortOrder                  = "sortOrder"
	QueryMaxResults                 = "maxResults"
)

// Limits of the API.
const (
	// MaxBodyLength is the message body limit in UTF-16 code units.
	MaxBodyLength = 4000
	// MaxResults is the largest maxResults of GET messages, also its default.
	MaxResults = 100
	// DefaultMembersPageSize is the default pageSize of GET members.
	DefaultMembersPageSize = 25
	// MaxMembersPageSize is the simulator's cap on GET members' pageSize.
	MaxMembersPageSize = 100
)

func esc(s string) string { return url.PathEscape(s) }

// ConversationPath is …/{conversationId}.
func ConversationPath(convID string) string { return ConversationsPath + "/" + esc(convID) }

// MembersPath is …/{conversationId}/members (#2).
func MembersPath(convID string) string { return ConversationPath(convID) + "/members" }

// MemberPath is …/{conversationId}/members/{memberId} (#3, #4).
func MemberPath(convID, memberID string) string { return MembersPath(convID) + "/" + esc(memberID) }

// MemberMessagesPath is …/members/{memberId}/messages (#5).
func MemberMessagesPath(convID, memberID string) string {
	return MemberPath(convID, memberID) + "/messages"
}

// MemberTypingPath is …/members/{memberId}/typing (#6).
func MemberTypingPath(convID, memberID string) string {
	return MemberPath(convID, memberID) + "/typing"
}

// MessagesPath is …/{conversationId}/messages (#7).
func MessagesPath(convID string) string { return ConversationPath(convID) + "/messages" }

// MessagePath is …/{conversationId}/messages/{messageId} (#8); also the
// selfUri of a message.
func MessagePath(convID, msgID string) string { return MessagesPath(convID) + "/" + esc(msgID) }

// MediaRequestsPath is …/{conversationId}/mediarequests (#9).
func MediaRequestsPath(convID string) string { return ConversationPath(convID) + "/mediarequests" }

// MediaRequestPath is …/mediarequests/{mediaRequestId} (#10, #11).
func MediaRequestPath(convID, reqID string) string {
	return MediaRequestsPath(convID) + "/" + esc(reqID)
}

// ConversationSelfURI is the selfUri of an embedded conversation:
// /api/v2/conversations/{id}.
func ConversationSelfURI(convID string) string {
	return PlatformConversationsPath + "/" + esc(convID)
}

// BodyLength is the length of s in UTF-16 code units, the unit of the
// 4,000-character body limit.
func BodyLength(s string) int {
	n := 0
	for _, r := range s {
		if utf16.RuneLen(r) == 2 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// IsBearer splits an Authorization header value into its Bearer token. The
// scheme matches case-insensitively; ok is false for any other scheme or an
// empty token.
func IsBearer(header string) (token string, ok bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Regions maps the PureCloudRegionHosts keys to their domains; the API base
// is "https://api." + domain.
var Regions = map[string]string{
	"us_east_1":      "mypurecloud.com",
	"eu_west_1":      "mypurecloud.ie",
	"ap_southeast_2": "mypurecloud.com.au",
	"ap_northeast_1": "mypurecloud.jp",
	"eu_central_1":   "mypurecloud.de",
	"us_west_2":      "usw2.pure.cloud",
	"ca_central_1":   "cac1.pure.cloud",
	"ap_northeast_2": "apne2.pure.cloud",
	"eu_west_2":      "euw2.pure.cloud",
	"ap_south_1":     "aps1.pure.cloud",
	"us_east_2":      "use2.us-gov-pure.cloud",
	"sa_east_1":      "sae1.pure.cloud",
	"me_central_1":   "mec1.pure.cloud",
	"ap_northeast_3": "apne3.pure.cloud",
	"eu_central_2":   "euc2.pure.cloud",
	"mx_central_1":   "mxc1.pure.cloud",
	"ap_southeast_1": "apse1.pure.cloud",
}
