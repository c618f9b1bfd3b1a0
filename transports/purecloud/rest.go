package purecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// defaultHTTPClient is shared by every session that gets no Options.HTTPClient,
// so many sessions reuse a few keep-alive connections.
var defaultHTTPClient = func() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: tr}
}()

// maxAnswerBytes bounds a REST answer body.
const maxAnswerBytes = 8 << 20

// rest is the guest API client of one session. It holds no global state;
// the JWT is passed per call and never logged.
type rest struct {
	base    string
	hc      *http.Client
	timeout time.Duration
	log     zerolog.Logger
	clock   transports.Clock
	backoff transports.Backoff
}

// do performs one call. A non-2xx answer becomes a *transports.TransportError
// (with ErrorBody code/message, correlation id and Retry-After).
func (r *rest) do(ctx context.Context, op, method, path string, q url.Values, jwt string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	u := r.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("purecloud: %s: encode request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &transports.TransportError{Operation: op, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if jwt != "" {
		req.Header.Set("Authorization", "Bearer "+jwt)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		// Strip the URL (it never holds the JWT, but keep errors short).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		r.log.Debug().Str("op", op).Err(err).Msg("purecloud: request failed")
		return &transports.TransportError{Operation: op, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	cid := resp.Header.Get(wire.HeaderCorrelationID)
	if err != nil {
		return &transports.TransportError{Operation: op, Status: resp.StatusCode, CorrelationID: cid, Err: err}
	}
	r.log.Debug().Str("op", op).Int("status", resp.StatusCode).Str("correlationId", cid).Msg("purecloud: answer")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		te := &transports.TransportError{Operation: op, Status: resp.StatusCode, CorrelationID: cid,
			Body: transports.RedactJSON(data, nil)}
		var eb wire.ErrorBody
		if json.Unmarshal(data, &eb) == nil {
			te.Code, te.Message = eb.Code, eb.Message
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			if d, ok := transports.ParseRetryAfter(resp.Header.Get(wire.HeaderRetryAfter), r.clock.Now()); ok {
				te.RetryAfter = d
			} else if d, ok := wire.RetryAfterFromMessage(eb.Message); ok {
				te.RetryAfter = d
			}
		}
		return te
	}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return &transports.TransportError{Operation: op, Status: resp.StatusCode, CorrelationID: cid,
				Err: fmt.Errorf("%w: %s answer: %v", transports.ErrMalformed, op, err)}
		}
	}
	return nil
}

// retryPolicy says which failures a call may retry.
type retryPolicy int

const (
	// retryRateLimit retries only 429 (the server did nothing).
	retryRateLimit retryPolicy = iota
	// retrySafe also retries network errors, 408 and 5xx (idempotent calls).
	retrySafe
)

// call runs fn with retries: 429 waits Retry-After (or the message's
// seconds, else backoff) up to transports.MaxRetryAfter; other temporary
// failures back off with jitter when policy allows. attempts ≤ 0 means
// until ctx ends.
func (r *rest) call(ctx context.Context, policy retryPolicy, attempts int, fn func(context.Context) error) error {
	for n := 0; ; n++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		var te *transports.TransportError
		if !errors.As(err, &te) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		var wait time.Duration
		switch {
		case te.Status == http.StatusTooManyRequests:
			wait = te.RetryAfter
			if wait == 0 {
				wait = r.backoff.Delay(n)
			}
			if wait > transports.MaxRetryAfter {
				return fmt.Errorf("%w (%s): %w", transports.ErrRetryAfterTooLong, wait, err)
			}
		case policy == retrySafe && te.Temporary():
			wait = r.backoff.Delay(n)
		default:
			return err
		}
		if attempts > 0 && n+1 >= attempts {
			return err
		}
		if serr := transports.Sleep(ctx, r.clock, wait); serr != nil {
			return err
		}
	}
}

func (r *rest) create(ctx context.Context, req *wire.CreateWebChatConversationRequest) (*wire.CreateWebChatConversationResponse, json.RawMessage, error) {
	var raw json.RawMessage
	err := r.call(ctx, retryRateLimit, 5, func(ctx context.Context) error {
		return r.do(ctx, "postWebchatGuestConversations", http.MethodPost, wire.ConversationsPath, nil, "", req, &raw)
	})
	if err != nil {
		return nil, nil, err
	}
	var out wire.CreateWebChatConversationResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, nil, &transports.TransportError{Operation: "postWebchatGuestConversations", Status: 200, Err: fmt.Errorf("%w: %v", transports.ErrMalformed, err)}
	}
	if out.ID == "" || out.JWT == "" || out.EventStreamURI == "" || out.Member == nil || out.Member.ID == "" {
		return nil, nil, &transports.TransportError{Operation: "postWebchatGuestConversations", Status: 200,
			Err: fmt.Errorf("%w: create answer lacks id, jwt, eventStreamUri or member.id", transports.ErrMalformed)}
	}
	return &out, raw, nil
}

func (r *rest) getMember(ctx context.Context, jwt, conv, member string, attempts int) (*wire.WebChatMemberInfo, error) {
	var out wire.WebChatMemberInfo
	err := r.call(ctx, retrySafe, attempts, func(ctx context.Context) error {
		return r.do(ctx, "getWebchatGuestConversationMember", http.MethodGet, wire.MemberPath(conv, member), nil, jwt, nil, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *rest) getMembers(ctx context.Context, jwt, conv string, page int, attempts int) (*wire.WebChatMemberInfoEntityList, error) {
	q := url.Values{}
	q.Set(wire.QueryPageSize, strconv.Itoa(wire.DefaultMembersPageSize))
	q.Set(wire.QueryPageNumber, strconv.Itoa(page))
	q.Set(wire.QueryExcludeDisconnectedMembers, "false")
	var out wire.WebChatMemberInfoEntityList
	err := r.call(ctx, retrySafe, attempts, func(ctx context.Context) error {
		return r.do(ctx, "getWebchatGuestConversationMembers", http.MethodGet, wire.MembersPath(conv), q, jwt, nil, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *rest) deleteMember(ctx context.Context, jwt, conv, member string) error {
	return r.call(ctx, retrySafe, 5, func(ctx context.Context) error {
		return r.do(ctx, "deleteWebchatGuestConversationMember", http.MethodDelete, wire.MemberPath(conv, member), nil, jwt, nil, nil)
	})
}

// postMessage is one attempt of #5 (not idempotent: the caller handles retries).
func (r *rest) postMessage(ctx context.Context, jwt, conv, member, body string) (*wire.WebChatMessage, json.RawMessage, error) {
	var raw json.RawMessage
	err := r.do(ctx, "postWebchatGuestConversationMemberMessages", http.MethodPost, wire.MemberMessagesPath(conv, member), nil, jwt,
		&wire.CreateWebChatMessageRequest{Body: body, BodyType: wire.BodyStandard}, &raw)
	if err != nil {
		return nil, nil, err
	}
	var m wire.WebChatMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.ID == "" {
		return nil, raw, &transports.TransportError{Operation: "postWebchatGuestConversationMemberMessages", Status: 200,
			Err: fmt.Errorf("%w: message answer without id", transports.ErrMalformed)}
	}
	return &m, raw, nil
}

func (r *rest) postTyping(ctx context.Context, jwt, conv, member string) error {
	return r.call(ctx, retrySafe, 3, func(ctx context.Context) error {
		return r.do(ctx, "postWebchatGuestConversationMemberTyping", http.MethodPost, wire.MemberTypingPath(conv, member), nil, jwt, nil, nil)
	})
}

// getMessages is one page of #7.
func (r *rest) getMessages(ctx context.Context, jwt, conv, after, before string, order wire.SortOrder, max, attempts int) (*wire.WebChatMessageEntityList, error) {
	q := url.Values{}
	if after != "" {
		q.Set(wire.QueryAfter, after)
	}
	if before != "" {
		q.Set(wire.QueryBefore, before)
	}
	q.Set(wire.QuerySortOrder, string(order))
	q.Set(wire.QueryMaxResults, strconv.Itoa(max))
	var out wire.WebChatMessageEntityList
	err := r.call(ctx, retrySafe, attempts, func(ctx context.Context) error {
		out = wire.WebChatMessageEntityList{}
		return r.do(ctx, "getWebchatGuestConversationMessages", http.MethodGet, wire.MessagesPath(conv), q, jwt, nil, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Error classification (purecloud-guest-chat.md §7.3, §13.13).

// isConversationState reports a 400 chat.error.conversation.state.
func isConversationState(err error) bool {
	var te *transports.TransportError
	return errors.As(err, &te) && te.Status == http.StatusBadRequest && te.Code == wire.CodeConversationState
}

// statusOf returns the HTTP status of a *TransportError (0 otherwise).
func statusOf(err error) int {
	var te *transports.TransportError
	if errors.As(err, &te) {
		return te.Status
	}
	return 0
}
