package wire

// CreateWebChatConversationRequest is the body of POST
// /api/v2/webchat/guest/conversations (#1). Required: organizationId,
// deploymentId, routingTarget, memberInfo.
type CreateWebChatConversationRequest struct {
	OrganizationID  string                `json:"organizationId"`
	DeploymentID    string                `json:"deploymentId"`
	RoutingTarget   *WebChatRoutingTarget `json:"routingTarget"`
	MemberInfo      *GuestMemberInfo      `json:"memberInfo"`
	MemberAuthToken string                `json:"memberAuthToken,omitempty"`
	JourneyContext  *JourneyContext       `json:"journeyContext,omitempty"`
}

// WebChatRoutingTarget says where the chat is routed. Required: targetType,
// targetAddress (in practice the queue name).
type WebChatRoutingTarget struct {
	TargetType    TargetType `json:"targetType"`
	TargetAddress string     `json:"targetAddress"`
	Skills        []string   `json:"skills,omitempty"`
	Language      string     `json:"language,omitempty"`
	Priority      int64      `json:"priority,omitempty"`
}

// GuestMemberInfo describes the guest at create time. Required: displayName.
// There is deliberately no profileImageUrl (renamed avatarImageUrl in 2019).
type GuestMemberInfo struct {
	DisplayName    string            `json:"displayName"`
	FirstName      string            `json:"firstName,omitempty"`
	LastName       string            `json:"lastName,omitempty"`
	Email          string            `json:"email,omitempty"`
	PhoneNumber    string            `json:"phoneNumber,omitempty"`
	AvatarImageURL string            `json:"avatarImageUrl,omitempty"`
	CustomFields   map[string]string `json:"customFields,omitempty"`
}

// JourneyContext links the chat to a Predictive Engagement journey.
// Required: customer.
type JourneyContext struct {
	Customer         *JourneyCustomer        `json:"customer"`
	CustomerSession  *JourneyCustomerSession `json:"customerSession,omitempty"`
	TriggeringAction *JourneyAction          `json:"triggeringAction,omitempty"`
}

// JourneyCustomer identifies the journey customer. Required: id, idType.
type JourneyCustomer struct {
	ID     string `json:"id"`
	IDType string `json:"idType"`
}

// JourneyCustomerSession identifies the journey session. Required: id, type.
type JourneyCustomerSession struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// JourneyAction is the action that triggered the chat. Required: id, actionMap.
type JourneyAction struct {
	ID        string            `json:"id"`
	ActionMap *JourneyActionMap `json:"actionMap"`
}

// JourneyActionMap identifies an action map. Required: id, version.
type JourneyActionMap struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// CreateWebChatConversationResponse is the answer to #1. The real service
// returned a member carrying only its id.
type CreateWebChatConversationResponse struct {
	ID             string             `json:"id,omitempty"`
	JWT            string             `json:"jwt,omitempty"`
	EventStreamURI string             `json:"eventStreamUri,omitempty"`
	Member         *WebChatMemberInfo `json:"member,omitempty"`
}

// WebChatMemberInfo is a chat member. #2 and #3 return full objects; embedded
// as a message sender or a member-change member it carries only id (plus
// state in member-change), so Role may be empty.
type WebChatMemberInfo struct {
	ID                 string            `json:"id,omitempty"`
	DisplayName        string            `json:"displayName,omitempty"`
	FirstName          string            `json:"firstName,omitempty"`
	LastName           string            `json:"lastName,omitempty"`
	Email              string            `json:"email,omitempty"`
	PhoneNumber        string            `json:"phoneNumber,omitempty"`
	AvatarImageURL     string            `json:"avatarImageUrl,omitempty"`
	Role               MemberRole        `json:"role,omitempty"`
	JoinDate           *Time             `json:"joinDate,omitempty"`
	LeaveDate          *Time             `json:"leaveDate,omitempty"`
	AuthenticatedGuest bool              `json:"authenticatedGuest,omitempty"`
	CustomFields       map[string]string `json:"customFields,omitempty"`
	State              MemberState       `json:"state,omitempty"`
}

// CreateWebChatMessageRequest is the body of #5. Required: body (at most
// MaxBodyLength UTF-16 code units). An empty BodyType means standard.
type CreateWebChatMessageRequest struct {
	Body     string   `json:"body"`
	BodyType BodyType `json:"bodyType,omitempty"`
}

// WebChatConversation is the conversation reference embedded in messages and
// typing events.
type WebChatConversation struct {
	ID      string             `json:"id,omitempty"`
	Name    string             `json:"name,omitempty"`
	Member  *WebChatMemberInfo `json:"member,omitempty"`
	SelfURI string             `json:"selfUri,omitempty"`
}

// WebChatMessage is a chat message (REST #5/#7/#8 and the "message" event).
// Its id is the cursor of GET messages' after/before.
type WebChatMessage struct {
	ID           string               `json:"id,omitempty"`
	Name         string               `json:"name,omitempty"`
	Conversation *WebChatConversation `json:"conversation"`
	Sender       *WebChatMemberInfo   `json:"sender"`
	Body         string               `json:"body"`
	BodyType     BodyType             `json:"bodyType"`
	Timestamp    Time                 `json:"timestamp"`
	SelfURI      string               `json:"selfUri,omitempty"`
}

// WebChatTyping is a typing indicator (REST #6 and the "typing-indicator"
// event). ID is an event id, useful to guard against re-delivery.
type WebChatTyping struct {
	ID           string               `json:"id"`
	Conversation *WebChatConversation `json:"conversation"`
	Sender       *WebChatMemberInfo   `json:"sender"`
	Timestamp    Time                 `json:"timestamp"`
}

// WebChatMessageEntityList is a page of GET messages (#7). Next and
// PreviousPage are relative URIs (the simulator's semantics: spec §12.4).
type WebChatMessageEntityList struct {
	PageSize     int              `json:"pageSize"`
	Entities     []WebChatMessage `json:"entities"`
	PreviousPage string           `json:"previousPage,omitempty"`
	Next         string           `json:"next,omitempty"`
	SelfURI      string           `json:"selfUri,omitempty"`
}

// WebChatMemberInfoEntityList is a page of GET members (#2).
type WebChatMemberInfoEntityList struct {
	Entities    []WebChatMemberInfo `json:"entities"`
	PageSize    int                 `json:"pageSize"`
	PageNumber  int                 `json:"pageNumber"`
	Total       int64               `json:"total"`
	PageCount   int                 `json:"pageCount"`
	FirstURI    string              `json:"firstUri,omitempty"`
	SelfURI     string              `json:"selfUri,omitempty"`
	NextURI     string              `json:"nextUri,omitempty"`
	PreviousURI string              `json:"previousUri,omitempty"`
	LastURI     string              `json:"lastUri,omitempty"`
}

// WebChatGuestMediaRequest is a co-browse or screen-share invitation (#9-#11).
// Required: types, state.
type WebChatGuestMediaRequest struct {
	ID              string             `json:"id,omitempty"`
	Name            string             `json:"name,omitempty"`
	Types           []MediaRequestType `json:"types"`
	State           MediaRequestState  `json:"state"`
	CommunicationID string             `json:"communicationId,omitempty"`
	SecurityKey     string             `json:"securityKey,omitempty"`
	SelfURI         string             `json:"selfUri,omitempty"`
}

// WebChatGuestMediaRequestEntityList is the answer to #9.
type WebChatGuestMediaRequestEntityList struct {
	Entities []WebChatGuestMediaRequest `json:"entities"`
}
