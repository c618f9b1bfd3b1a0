package purecloud

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func checkHeaders(t *testing.T, name string, r resp) {
	t.Helper()
	corr := r.header.Get(wire.HeaderCorrelationID)
	if len(corr) != 36 {
		t.Errorf("%s: inin-correlation-id %q", name, corr)
	}
	if len(r.body) > 0 && r.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: Content-Type %q", name, r.header.Get("Content-Type"))
	}
	if r.status >= 400 {
		var e wire.ErrorBody
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatalf("%s: error body %q", name, r.body)
		}
		if e.ContextID != corr || e.Status != r.status || e.Message == "" || e.Details == nil || e.Errors == nil {
			t.Errorf("%s: ErrorBody %+v (corr %s)", name, e, corr)
		}
		if !strings.Contains(string(r.body), `"details":[`) || !strings.Contains(string(r.body), `"errors":[]`) {
			t.Errorf("%s: details/errors not arrays: %s", name, r.body)
		}
	}
}

// TestEndpointsStatuses drives every operation through its success and
// error statuses.
func TestEndpointsStatuses(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a := createChat(t, s)
	b := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	conv := s.Conversation(a.conv())
	if err := conv.Wait(testCtx(t), func(c *Conversation) bool { return c.AgentState() == wire.StateConnected }); err != nil {
		t.Fatal(err)
	}
	msg := a.send("first")
	mr, err := conv.OfferMediaRequest([]wire.MediaRequestType{wire.MediaCobrowse}, false)
	if err != nil {
		t.Fatal(err)
	}
	cid, me, jwt := a.conv(), a.me(), a.info.JWT
	other := conv.AgentID()
	bad := func(tok string) string { return tok[:len(tok)-4] + "AAAA" }
	cases := []struct {
		name   string
		method string
		path   string
		jwt    string
		body   any
		status int
		code   string
	}{
		// #2
		{"members ok", "GET", wire.MembersPath(cid), jwt, nil, 200, ""},
		{"members no auth", "GET", wire.MembersPath(cid), "", nil, 401, wire.CodeBadCredentials},
		{"members bad sig", "GET", wire.MembersPath(cid), bad(jwt), nil, 401, wire.CodeBadCredentials},
		{"members junk token", "GET", wire.MembersPath(cid), "junk", nil, 401, wire.CodeBadCredentials},
		{"members other conv token", "GET", wire.MembersPath(cid), b.info.JWT, nil, 403, wire.CodeNotAuthorized},
		{"members pageSize 0", "GET", wire.MembersPath(cid) + "?pageSize=0", jwt, nil, 400, wire.CodeInvalidValue},
		{"members pageSize 101", "GET", wire.MembersPath(cid) + "?pageSize=101", jwt, nil, 400, wire.CodeInvalidValue},
		{"members pageNumber 0", "GET", wire.MembersPath(cid) + "?pageNumber=0", jwt, nil, 400, wire.CodeInvalidValue},
		{"members exclude junk", "GET", wire.MembersPath(cid) + "?excludeDisconnectedMembers=maybe", jwt, nil, 400, wire.CodeInvalidValue},
		// #3
		{"member ok", "GET", wire.MemberPath(cid, me), jwt, nil, 200, ""},
		{"member agent ok", "GET", wire.MemberPath(cid, other), jwt, nil, 200, ""},
		{"member unknown", "GET", wire.MemberPath(cid, "nope"), jwt, nil, 404, wire.CodeNotFound},
		{"member no auth", "GET", wire.MemberPath(cid, me), "", nil, 401, wire.CodeBadCredentials},
		// #4 (success case last, below)
		{"delete other member", "DELETE", wire.MemberPath(cid, other), jwt, nil, 403, wire.CodeNotAuthorized},
		{"delete no auth", "DELETE", wire.MemberPath(cid, me), "", nil, 401, wire.CodeBadCredentials},
		// #5
		{"send ok", "POST", wire.MemberMessagesPath(cid, me), jwt, wire.CreateWebChatMessageRequest{Body: "x"}, 200, ""},
		{"send notice ok", "POST", wire.MemberMessagesPath(cid, me), jwt, wire.CreateWebChatMessageRequest{Body: "x", BodyType: wire.BodyNotice}, 200, ""},
		{"send as other", "POST", wire.MemberMessagesPath(cid, other), jwt, wire.CreateWebChatMessageRequest{Body: "x"}, 403, wire.CodeNotAuthorized},
		{"send empty", "POST", wire.MemberMessagesPath(cid, me), jwt, wire.CreateWebChatMessageRequest{}, 400, wire.CodeInvalidValue},
		{"send too long", "POST", wire.MemberMessagesPath(cid, me), jwt, wire.CreateWebChatMessageRequest{Body: strings.Repeat("é", 4001)}, 400, wire.CodeInvalidValue},
		{"send 4000 ok", "POST", wire.MemberMessagesPath(cid, me), jwt, wire.CreateWebChatMessageRequest{Body: strings.Repeat("é", 4000)}, 200, ""},
		{"send surrogates too long", "POST", wire.MemberMessagesPath(cid, me), jwt, wire.CreateWebChatMessageRequest{Body: strings.Repeat("😀", 2001)}, 400, wire.CodeInvalidValue},
		{"send not json", "POST", wire.MemberMessagesPath(cid, me), jwt, "body=x", 400, wire.CodeBadRequest},
		{"send null", "POST", wire.MemberMessagesPath(cid, me), jwt, "null", 400, wire.CodeBadRequest},
		{"send wrong type", "POST", wire.MemberMessagesPath(cid, me), jwt, `{"body":5}`, 400, wire.CodeBadRequest},
		{"send no auth", "POST", wire.MemberMessagesPath(cid, me), "", wire.CreateWebChatMessageRequest{Body: "x"}, 401, wire.CodeBadCredentials},
		{"send too large", "POST", wire.MemberMessagesPath(cid, me), jwt, `{"body":"` + strings.Repeat("a", 70000) + `"}`, 413, wire.CodeRequestTooLarge},
		// #6
		{"typing ok", "POST", wire.MemberTypingPath(cid, me), jwt, nil, 200, ""},
		{"typing null body", "POST", wire.MemberTypingPath(cid, me), jwt, "null", 200, ""},
		{"typing {} body", "POST", wire.MemberTypingPath(cid, me), jwt, "{}", 200, ""},
		{"typing as other", "POST", wire.MemberTypingPath(cid, other), jwt, nil, 403, wire.CodeNotAuthorized},
		// #7
		{"messages ok", "GET", wire.MessagesPath(cid), jwt, nil, 200, ""},
		{"messages maxResults 0", "GET", wire.MessagesPath(cid) + "?maxResults=0", jwt, nil, 400, wire.CodeInvalidValue},
		{"messages maxResults 101", "GET", wire.MessagesPath(cid) + "?maxResults=101", jwt, nil, 400, wire.CodeInvalidValue},
		{"messages maxResults junk", "GET", wire.MessagesPath(cid) + "?maxResults=ten", jwt, nil, 400, wire.CodeInvalidValue},
		{"messages sortOrder junk", "GET", wire.MessagesPath(cid) + "?sortOrder=up", jwt, nil, 400, wire.CodeInvalidValue},
		{"messages unknown after", "GET", wire.MessagesPath(cid) + "?after=nope", jwt, nil, 400, wire.CodeInvalidValue},
		{"messages unknown before", "GET", wire.MessagesPath(cid) + "?before=nope", jwt, nil, 400, wire.CodeInvalidValue},
		{"messages other conv", "GET", wire.MessagesPath(cid), b.info.JWT, nil, 403, wire.CodeNotAuthorized},
		// #8
		{"message ok", "GET", wire.MessagePath(cid, msg.ID), jwt, nil, 200, ""},
		{"message unknown", "GET", wire.MessagePath(cid, "nope"), jwt, nil, 404, wire.CodeNotFound},
		// #9-#11
		{"mediarequests ok", "GET", wire.MediaRequestsPath(cid), jwt, nil, 200, ""},
		{"mediarequest ok", "GET", wire.MediaRequestPath(cid, mr.ID), jwt, nil, 200, ""},
		{"mediarequest unknown", "GET", wire.MediaRequestPath(cid, "nope"), jwt, nil, 404, wire.CodeNotFound},
		{"patch bad state", "PATCH", wire.MediaRequestPath(cid, mr.ID), jwt, wire.WebChatGuestMediaRequest{State: wire.MediaPending}, 400, wire.CodeInvalidValue},
		{"patch unknown", "PATCH", wire.MediaRequestPath(cid, "nope"), jwt, wire.WebChatGuestMediaRequest{State: wire.MediaAccepted}, 404, wire.CodeNotFound},
		{"patch ok", "PATCH", wire.MediaRequestPath(cid, mr.ID), jwt, wire.WebChatGuestMediaRequest{State: wire.MediaAccepted}, 200, ""},
		{"patch again", "PATCH", wire.MediaRequestPath(cid, mr.ID), jwt, wire.WebChatGuestMediaRequest{State: wire.MediaDeclined}, 409, wire.CodeConflict},
		// routing
		{"wrong method", "PUT", wire.MembersPath(cid), jwt, nil, 404, wire.CodeNotFound},
		{"unknown path", "GET", wire.ConversationPath(cid) + "/files", jwt, nil, 404, wire.CodeNotFound},
		{"collection GET", "GET", wire.ConversationsPath, jwt, nil, 404, wire.CodeNotFound},
		{"double slash", "GET", wire.ConversationsPath + "//members", jwt, nil, 404, wire.CodeNotFound},
		{"outside api", "GET", "/api/v2/users/me", jwt, nil, 404, wire.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, s.URL+tc.path, tc.jwt, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			checkHeaders(t, tc.name, r)
			if tc.code != "" {
				if e := r.errBody(t); e.Code != tc.code {
					t.Fatalf("code %q, want %q", e.Code, tc.code)
				}
			}
		})
	}
	// The lower-case scheme is accepted.
	req, _ := http.NewRequest("GET", s.URL+wire.MemberPath(cid, me), nil)
	req.Header.Set("Authorization", "bearer "+jwt)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("lower-case bearer: %v %v", res, err)
	}
	res.Body.Close()
	// 415 for a wrong Content-Type.
	req, _ = http.NewRequest("POST", s.URL+wire.MemberMessagesPath(cid, me), strings.NewReader(`{"body":"x"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+jwt)
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 415 {
		t.Fatalf("415: %v %v", res, err)
	}
	res.Body.Close()

	// #4 ends the chat; then #4-#6 answer chat.error.conversation.state and GETs work.
	r := do(t, "DELETE", s.URL+wire.MemberPath(cid, me), jwt, nil)
	if r.status != 204 || len(r.body) != 0 || r.header.Get(wire.HeaderCorrelationID) == "" {
		t.Fatalf("delete: %d %q", r.status, r.body)
	}
	for _, tc := range []struct{ m, p string }{
		{"DELETE", wire.MemberPath(cid, me)},
		{"POST", wire.MemberMessagesPath(cid, me)},
		{"POST", wire.MemberTypingPath(cid, me)},
	} {
		r := do(t, tc.m, s.URL+tc.p, jwt, wire.CreateWebChatMessageRequest{Body: "late"})
		if r.status != 400 || r.errBody(t).Code != wire.CodeConversationState {
			t.Fatalf("%s %s after end: %d %s", tc.m, tc.p, r.status, r.body)
		}
	}
	r = do(t, "GET", s.URL+wire.MemberPath(cid, me), jwt, nil)
	var g wire.WebChatMemberInfo
	_ = json.Unmarshal(r.body, &g)
	if r.status != 200 || g.State != wire.StateDisconnected || g.LeaveDate == nil {
		t.Fatalf("guest after end: %d %s", r.status, r.body)
	}
	if ended, why := conv.Ended(); !ended || why != EndByGuest {
		t.Fatalf("Ended %v %v", ended, why)
	}
}

func TestCreateValidation(t *testing.T) {
	o := fastOpts()
	o.Deployments = []Deployment{
		{ID: "dep-1", OrganizationID: "org-1", Queues: []string{"Chat Queue"}},
		{ID: "dep-auth", OrganizationID: "org-1", AuthenticationRequired: true},
	}
	s := newTestServer(t, o)
	mod := func(f func(r *wire.CreateWebChatConversationRequest)) *wire.CreateWebChatConversationRequest {
		r := createReq()
		f(r)
		return r
	}
	signed := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"ok", createReq(), 200, "", nil},
		{"queue lower-case type", mod(func(r *wire.CreateWebChatConversationRequest) { r.RoutingTarget.TargetType = "queue" }), 200, "", nil},
		{"missing everything", `{}`, 400, wire.CodeInvalidValue, []string{"organizationId", "deploymentId", "routingTarget", "memberInfo"}},
		{"missing displayName", mod(func(r *wire.CreateWebChatConversationRequest) { r.MemberInfo.DisplayName = "" }), 400, wire.CodeInvalidValue, []string{"memberInfo.displayName"}},
		{"missing target", mod(func(r *wire.CreateWebChatConversationRequest) { r.RoutingTarget = &wire.WebChatRoutingTarget{} }), 400, wire.CodeInvalidValue, []string{"routingTarget.targetType", "routingTarget.targetAddress"}},
		{"bad target type", mod(func(r *wire.CreateWebChatConversationRequest) { r.RoutingTarget.TargetType = "TEAM" }), 400, wire.CodeInvalidValue, []string{"routingTarget.targetType"}},
		{"journey missing customer", mod(func(r *wire.CreateWebChatConversationRequest) { r.JourneyContext = &wire.JourneyContext{} }), 400, wire.CodeInvalidValue, []string{"journeyContext.customer"}},
		{"journey ok", mod(func(r *wire.CreateWebChatConversationRequest) {
			r.JourneyContext = &wire.JourneyContext{Customer: &wire.JourneyCustomer{ID: "c", IDType: "cookie"}}
		}), 200, "", nil},
		{"not json", `{"organizationId":`, 400, wire.CodeBadRequest, nil},
		{"array", `[]`, 400, wire.CodeBadRequest, nil},
		{"trailing data", `{} {}`, 400, wire.CodeBadRequest, nil},
		{"unknown fields ignored", `{"organizationId":"org-1","deploymentId":"dep-1","routingTarget":{"targetType":"QUEUE","targetAddress":"Chat Queue"},"memberInfo":{"displayName":"G","role":"CUSTOMER"},"extra":1}`, 200, "", nil},
		{"unknown deployment", mod(func(r *wire.CreateWebChatConversationRequest) { r.DeploymentID = "dep-x" }), 400, wire.CodeBadRequest, nil},
		{"wrong org", mod(func(r *wire.CreateWebChatConversationRequest) { r.OrganizationID = "org-x" }), 400, wire.CodeBadRequest, nil},
		{"unknown queue", mod(func(r *wire.CreateWebChatConversationRequest) { r.RoutingTarget.TargetAddress = "Other" }), 400, wire.CodeBadRequest, nil},
		{"auth required", mod(func(r *wire.CreateWebChatConversationRequest) { r.DeploymentID = "dep-auth" }), 400, wire.CodeDeploymentRequireAuth, nil},
		{"auth bad token", mod(func(r *wire.CreateWebChatConversationRequest) { r.DeploymentID, r.MemberAuthToken = "dep-auth", "nope" }), 400, wire.CodeDeploymentRequireAuth, nil},
		{"auth ok", mod(func(r *wire.CreateWebChatConversationRequest) { r.DeploymentID, r.MemberAuthToken = "dep-auth", signed }), 200, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "POST", s.URL+wire.ConversationsPath, "", tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d want %d: %s", r.status, tc.status, r.body)
			}
			checkHeaders(t, tc.name, r)
			if tc.status == 200 {
				var c wire.CreateWebChatConversationResponse
				_ = json.Unmarshal(r.body, &c)
				if c.ID == "" || c.JWT == "" || c.Member == nil || c.Member.ID == "" || c.Member.Role != "" ||
					c.EventStreamURI != "ws://"+strings.TrimPrefix(s.URL, "http://")+"/v1/token/"+c.JWT {
					t.Fatalf("response %s", r.body)
				}
				return
			}
			e := r.errBody(t)
			if e.Code != tc.code {
				t.Fatalf("code %q want %q", e.Code, tc.code)
			}
			var got []string
			for _, d := range e.Details {
				got = append(got, d.FieldName)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v want %v", got, tc.fields)
			}
		})
	}
	// A valid memberAuthToken marks the guest authenticated.
	last := s.Conversations()[len(s.Conversations())-1]
	if m := last.Members()[0]; !m.AuthenticatedGuest || m.Role != wire.RoleCustomer {
		t.Fatalf("guest %+v", m)
	}
}

func TestJWTClaimsAndExpiry(t *testing.T) {
	clk := NewVirtualClock(time.Date(2020, 8, 5, 13, 0, 0, 0, time.UTC))
	o := fastOpts()
	o.Clock = clk
	o.JWTTTL = time.Hour
	s := newTestServer(t, o)
	a := createChat(t, s)
	h, c, _, _, err := wire.ParseJWT(a.info.JWT)
	if err != nil {
		t.Fatal(err)
	}
	if h.Alg != "RS256" || h.Typ != "JWT" || len(h.Kid) != 36 {
		t.Fatalf("header %+v", h)
	}
	if c.Iss != wire.JWTIssuer || c.Org != "org-1" || c.Data.Conv != a.conv() || c.Data.Did != "dep-1" || c.Data.Sub != a.me() ||
		c.Iat != clk.Now().Unix() || c.Exp != c.Iat+3600 {
		t.Fatalf("claims %+v", c)
	}
	if r := do(t, "GET", a.url(wire.MemberPath(a.conv(), a.me())), a.info.JWT, nil); r.status != 200 {
		t.Fatalf("before expiry: %d", r.status)
	}
	clk.Advance(time.Hour)
	r := do(t, "GET", a.url(wire.MemberPath(a.conv(), a.me())), a.info.JWT, nil)
	if r.status != 401 {
		t.Fatalf("after expiry: %d %s", r.status, r.body)
	}
	st := a.attachRaw(t)
	if code, text := st.closeCode(); code != wire.CloseConnectError || text != wire.CloseReasonConnectError(a.conv()) {
		t.Fatalf("attach expired: %d %q", code, text)
	}
	// ExpireToken revokes a live token at once.
	b := createChat(t, s)
	s.Conversation(b.conv()).ExpireToken()
	if r := do(t, "GET", b.url(wire.MembersPath(b.conv())), b.info.JWT, nil); r.status != 401 {
		t.Fatalf("revoked: %d", r.status)
	}
}
