package purecloud

import (
	"net/http"
	"strings"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// create serves #1 (anonymous).
func (s *Simulator) create(k *call) (int, any, *apiError) {
	var req wire.CreateWebChatConversationRequest
	if err := s.readJSON(k, &req); err != nil {
		return 0, nil, err
	}
	if err := validateCreate(&req); err != nil {
		return 0, nil, err
	}
	authenticated := false
	if len(s.opts.Deployments) > 0 {
		d := s.deployment(req.DeploymentID)
		switch {
		case d == nil:
			return 0, nil, errBadRequest("The deployment is unknown.")
		case d.OrganizationID != "" && d.OrganizationID != req.OrganizationID:
			return 0, nil, errBadRequest("The organization does not own this deployment.")
		case len(d.Queues) > 0 && !contains(d.Queues, req.RoutingTarget.TargetAddress):
			return 0, nil, errBadRequest("The routing target queue is unknown.")
		}
		if d.AuthenticationRequired {
			if !s.memberAuthValid(req.DeploymentID, req.MemberAuthToken) {
				return 0, nil, &apiError{status: 400, code: wire.CodeDeploymentRequireAuth,
					msg: "The deployment requires an authenticated guest."}
			}
			authenticated = true
		}
	}
	if !authenticated && req.MemberAuthToken != "" && s.memberAuthValid(req.DeploymentID, req.MemberAuthToken) {
		authenticated = true
	}
	script := s.opts.Script
	if s.opts.ScriptFor != nil {
		if sc := s.opts.ScriptFor(&req); sc != nil {
			script = sc
		}
	}
	if script == nil {
		script = DefaultScript()
	}
	c := newConversation(s, &req, script, authenticated)
	tok, _, err := s.issueJWT(c.id, req.DeploymentID, c.guest.ID, req.OrganizationID)
	if err != nil {
		return 0, nil, &apiError{status: 500, code: wire.CodeInternalServerError, msg: "The token could not be issued."}
	}
	c.token = tok
	if err := s.register(c); err != nil {
		return 0, nil, &apiError{status: 503, code: wire.CodeServiceUnavailable}
	}
	c.mu.Lock()
	c.touchL()
	c.armDetachL()
	c.mu.Unlock()
	return http.StatusOK, &wire.CreateWebChatConversationResponse{
		ID:             c.id,
		JWT:            tok,
		EventStreamURI: s.streamBase(k.r) + wire.EventStreamPathPrefix + tok,
		Member:         &wire.WebChatMemberInfo{ID: c.guest.ID},
	}, nil
}

func (s *Simulator) streamBase(r *http.Request) string {
	if b := s.opts.EventStreamBase; b != "" {
		return strings.TrimRight(b, "/")
	}
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return scheme + "://" + r.Host
}

func (s *Simulator) deployment(id string) *Deployment {
	for i := range s.opts.Deployments {
		if s.opts.Deployments[i].ID == id {
			return &s.opts.Deployments[i]
		}
	}
	return nil
}

func (s *Simulator) memberAuthValid(deploymentID, tok string) bool {
	if tok == "" {
		return false
	}
	if s.opts.VerifyMemberAuthToken != nil {
		return s.opts.VerifyMemberAuthToken(deploymentID, tok)
	}
	_, _, _, _, err := wire.ParseJWT(tok)
	return err == nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// validateCreate checks every required field of §4.1-4.4.
func validateCreate(req *wire.CreateWebChatConversationRequest) *apiError {
	var missing []string
	need := func(ok bool, field string) {
		if !ok {
			missing = append(missing, field)
		}
	}
	need(req.OrganizationID != "", "organizationId")
	need(req.DeploymentID != "", "deploymentId")
	if rt := req.RoutingTarget; rt == nil {
		need(false, "routingTarget")
	} else {
		need(rt.TargetType != "", "routingTarget.targetType")
		need(rt.TargetAddress != "", "routingTarget.targetAddress")
	}
	if mi := req.MemberInfo; mi == nil {
		need(false, "memberInfo")
	} else {
		need(mi.DisplayName != "", "memberInfo.displayName")
	}
	if jc := req.JourneyContext; jc != nil {
		if jc.Customer == nil {
			need(false, "journeyContext.customer")
		} else {
			need(jc.Customer.ID != "", "journeyContext.customer.id")
			need(jc.Customer.IDType != "", "journeyContext.customer.idType")
		}
		if cs := jc.CustomerSession; cs != nil {
			need(cs.ID != "", "journeyContext.customerSession.id")
			need(cs.Type != "", "journeyContext.customerSession.type")
		}
		if ta := jc.TriggeringAction; ta != nil {
			need(ta.ID != "", "journeyContext.triggeringAction.id")
			if ta.ActionMap == nil {
				need(false, "journeyContext.triggeringAction.actionMap")
			} else {
				need(ta.ActionMap.ID != "", "journeyContext.triggeringAction.actionMap.id")
			}
		}
	}
	if len(missing) > 0 {
		return errInvalid("Missing required field(s): "+strings.Join(missing, ", ")+".", missing...)
	}
	if !req.RoutingTarget.TargetType.IsQueue() {
		return errInvalid("routingTarget.targetType must be QUEUE.", "routingTarget.targetType")
	}
	return nil
}

// getMember serves #3.
func (s *Simulator) getMember(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.byID[k.rt.member]
	if m == nil {
		return 0, nil, errNotFound()
	}
	cp := *m
	return http.StatusOK, &cp, nil
}

// deleteMember serves #4: the guest leaves, which ends the chat.
func (s *Simulator) deleteMember(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.guest.LeaveDate != nil {
		return 0, nil, errState()
	}
	c.endL(EndByGuest)
	return http.StatusNoContent, nil, nil
}

// postMessage serves #5.
func (s *Simulator) postMessage(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	gone := c.ended || c.guest.LeaveDate != nil
	c.mu.Unlock()
	if gone {
		return 0, nil, errState()
	}
	var req wire.CreateWebChatMessageRequest
	if err := s.readJSON(k, &req); err != nil {
		return 0, nil, err
	}
	if req.Body == "" {
		return 0, nil, errInvalid("The message body is required.", "body")
	}
	if n := wire.BodyLength(req.Body); n > wire.MaxBodyLength {
		return 0, nil, errInvalid("Message bodies are limited to 4,000 characters.", "body")
	}
	bt := req.BodyType
	switch {
	case bt == "":
		bt = wire.BodyStandard
	case !bt.GuestMaySend():
		if s.opts.Strict {
			return 0, nil, errInvalid("bodyType must be standard or notice.", "bodyType")
		}
		bt = wire.BodyStandard
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.guest.LeaveDate != nil {
		return 0, nil, errState()
	}
	m := c.postL(c.guest, req.Body, bt)
	c.touchL()
	c.onGuestMessageL(*m)
	return http.StatusOK, m, nil
}

// postTyping serves #6; any request body is ignored.
func (s *Simulator) postTyping(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.guest.LeaveDate != nil {
		return 0, nil, errState()
	}
	t := c.typingL(c.guest)
	c.touchL()
	return http.StatusOK, t, nil
}

// getMessage serves #8.
func (s *Simulator) getMessage(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.msgIdx[k.rt.msg]
	if !ok {
		return 0, nil, errNotFound()
	}
	cp := *c.msgs[i]
	return http.StatusOK, &cp, nil
}

// getMediaRequests serves #9.
func (s *Simulator) getMediaRequests(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &wire.WebChatGuestMediaRequestEntityList{Entities: make([]wire.WebChatGuestMediaRequest, 0, len(c.media))}
	for _, m := range c.media {
		out.Entities = append(out.Entities, *m)
	}
	return http.StatusOK, out, nil
}

func (c *Conversation) mediaL(id string) *wire.WebChatGuestMediaRequest {
	for _, m := range c.media {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// getMediaRequest serves #10.
func (s *Simulator) getMediaRequest(k *call) (int, any, *apiError) {
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.mediaL(k.rt.mediaR)
	if m == nil {
		return 0, nil, errNotFound()
	}
	cp := *m
	return http.StatusOK, &cp, nil
}

// patchMediaRequest serves #11: PENDING → ACCEPTED, DECLINED or ERRORED.
func (s *Simulator) patchMediaRequest(k *call) (int, any, *apiError) {
	var req wire.WebChatGuestMediaRequest
	if err := s.readJSON(k, &req); err != nil {
		return 0, nil, err
	}
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.mediaL(k.rt.mediaR)
	if m == nil {
		return 0, nil, errNotFound()
	}
	if !req.State.GuestMaySet() {
		return 0, nil, errInvalid("state must be ACCEPTED, DECLINED or ERRORED.", "state")
	}
	if m.State != wire.MediaPending {
		return 0, nil, &apiError{status: http.StatusConflict, code: wire.CodeConflict,
			msg: "The media request is no longer PENDING."}
	}
	m.State = req.State
	c.notifyL()
	cp := *m
	return http.StatusOK, &cp, nil
}
