package wire

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// ErrorBody is the error payload of every failed operation. The header
// inin-correlation-id equals ContextID.
type ErrorBody struct {
	Message           string            `json:"message,omitempty"`
	Code              string            `json:"code,omitempty"`
	Status            int               `json:"status,omitempty"`
	EntityID          string            `json:"entityId,omitempty"`
	EntityName        string            `json:"entityName,omitempty"`
	MessageWithParams string            `json:"messageWithParams,omitempty"`
	MessageParams     map[string]string `json:"messageParams,omitempty"`
	ContextID         string            `json:"contextId,omitempty"`
	Details           []Detail          `json:"details"`
	Errors            []ErrorBody       `json:"errors"`
	Limit             *Limit            `json:"limit,omitempty"`
}

// Error returns "<status> <code>: <message>". It never contains a token.
func (e *ErrorBody) Error() string {
	return fmt.Sprintf("purecloud: %d %s: %s", e.Status, e.Code, e.Message)
}

// Detail is an entry of ErrorBody.details.
type Detail struct {
	ErrorCode  string `json:"errorCode,omitempty"`
	FieldName  string `json:"fieldName,omitempty"`
	EntityID   string `json:"entityId,omitempty"`
	EntityName string `json:"entityName,omitempty"`
}

// Limit is ErrorBody.limit (rate limit details).
type Limit struct {
	Key       string `json:"key,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Value     int64  `json:"value,omitempty"`
}

// Error codes. Clients branch only on the HTTP status and on the two chat.*
// codes; the rest are the simulator's choices (spec §3).
const (
	CodeConversationState      = "chat.error.conversation.state"
	CodeDeploymentRequireAuth  = "chat.deployment.require.auth"
	CodeNotFound               = "not.found"
	CodeBadRequest             = "bad.request"
	CodeInvalidValue           = "invalid.value"
	CodeBadCredentials         = "bad.credentials"
	CodeNotAuthorized          = "not.authorized"
	CodeConflict               = "conflict"
	CodeRequestTooLarge        = "request.entity.too.large"
	CodeUnsupportedMediaType   = "unsupported.media.type"
	CodeTooManyRequests        = "too.many.requests"
	CodeInternalServerError    = "internal.server.error"
	CodeServiceUnavailable     = "service.unavailable"
	CodeGatewayTimeout         = "gateway.timeout"
	CodeRequestTimeout         = "request.timeout"
	HeaderCorrelationID        = "inin-correlation-id"
	HeaderRetryAfter           = "Retry-After"
	MessageNoBearer            = "No authentication bearer token specified in authorization header."
	MessageRateLimitFormat     = "Rate limit exceeded the maximum. Retry the request in [%s] seconds"
	MessageSizeLimitFormat     = "The request is over the size limit. Maximum bytes: %s"
	MessageGenericStatusFormat = "The requested operation failed with status %d"
)

// RateLimitMessage returns the swagger 429 message for a wait of seconds.
func RateLimitMessage(seconds int) string {
	return fmt.Sprintf(MessageRateLimitFormat, strconv.Itoa(seconds))
}

var retryInMessage = regexp.MustCompile(`Retry the request in \[(\d{1,6})\] seconds`)

// RetryAfterFromMessage extracts the wait from a 429 message of the swagger
// form. ok is false when the message carries no wait.
func RetryAfterFromMessage(msg string) (d time.Duration, ok bool) {
	m := retryInMessage.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// ParseRetryAfter reads a Retry-After header given in seconds (the platform
// convention). ok is false for an empty, negative or non-numeric value.
func ParseRetryAfter(h string) (d time.Duration, ok bool) {
	if h == "" || len(h) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}
