package wire

import "strings"

// TargetType is WebChatRoutingTarget.targetType. QUEUE is the only value;
// servers match it case-insensitively (real clients sent "queue").
type TargetType string

// TargetTypeQueue is the only routing target type.
const TargetTypeQueue TargetType = "QUEUE"

// IsQueue reports whether t names QUEUE in any letter case.
func (t TargetType) IsQueue() bool { return strings.EqualFold(string(t), string(TargetTypeQueue)) }

// MemberRole is WebChatMemberInfo.role.
type MemberRole string

// Member roles.
const (
	RoleAgent    MemberRole = "AGENT"
	RoleCustomer MemberRole = "CUSTOMER"
	RoleWorkflow MemberRole = "WORKFLOW"
	RoleACD      MemberRole = "ACD"
)

// Valid reports whether r is one of the four swagger roles.
func (r MemberRole) Valid() bool {
	switch r {
	case RoleAgent, RoleCustomer, RoleWorkflow, RoleACD:
		return true
	}
	return false
}

// MemberState is WebChatMemberInfo.state (the member's communication state).
type MemberState string

// Member states.
const (
	StateConnected    MemberState = "CONNECTED"
	StateDisconnected MemberState = "DISCONNECTED"
	StateAlerting     MemberState = "ALERTING"
)

// Valid reports whether s is one of the three swagger states.
func (s MemberState) Valid() bool {
	switch s {
	case StateConnected, StateDisconnected, StateAlerting:
		return true
	}
	return false
}

// BodyType is the bodyType of a message.
type BodyType string

// Body types.
const (
	BodyStandard     BodyType = "standard"
	BodyNotice       BodyType = "notice"
	BodyMemberJoin   BodyType = "member-join"
	BodyMemberLeave  BodyType = "member-leave"
	BodyMediaRequest BodyType = "media-request"
)

// Valid reports whether b is one of the five swagger body types.
func (b BodyType) Valid() bool {
	switch b {
	case BodyStandard, BodyNotice, BodyMemberJoin, BodyMemberLeave, BodyMediaRequest:
		return true
	}
	return false
}

// GuestMaySend reports whether a guest may post a message of this type
// (standard or notice; an empty type means standard).
func (b BodyType) GuestMaySend() bool {
	return b == "" || b == BodyStandard || b == BodyNotice
}

// SortOrder is the sortOrder query value of GET messages.
type SortOrder string

// Sort orders.
const (
	SortAscending  SortOrder = "ascending"
	SortDescending SortOrder = "descending"
)

// Valid reports whether o is ascending or descending.
func (o SortOrder) Valid() bool { return o == SortAscending || o == SortDescending }

// MediaRequestType is an entry of WebChatGuestMediaRequest.types.
type MediaRequestType string

// Media request types (co-browse and screen share; not attachments).
const (
	MediaCobrowse    MediaRequestType = "COBROWSE"
	MediaScreenshare MediaRequestType = "SCREENSHARE"
)

// Valid reports whether t is COBROWSE or SCREENSHARE.
func (t MediaRequestType) Valid() bool { return t == MediaCobrowse || t == MediaScreenshare }

// MediaRequestState is WebChatGuestMediaRequest.state.
type MediaRequestState string

// Media request states.
const (
	MediaPending   MediaRequestState = "PENDING"
	MediaAccepted  MediaRequestState = "ACCEPTED"
	MediaDeclined  MediaRequestState = "DECLINED"
	MediaTimedOut  MediaRequestState = "TIMEDOUT"
	MediaCancelled MediaRequestState = "CANCELLED"
	MediaErrored   MediaRequestState = "ERRORED"
)

// Valid reports whether s is one of the six swagger states.
func (s MediaRequestState) Valid() bool {
	switch s {
	case MediaPending, MediaAccepted, MediaDeclined, MediaTimedOut, MediaCancelled, MediaErrored:
		return true
	}
	return false
}

// GuestMaySet reports whether a guest may PATCH a media request to s
// (ACCEPTED, DECLINED or ERRORED).
func (s MediaRequestState) GuestMaySet() bool {
	return s == MediaAccepted || s == MediaDeclined || s == MediaErrored
}
