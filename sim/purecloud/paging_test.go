package purecloud

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func getMsgs(t *testing.T, a *chat, query string) wire.WebChatMessageEntityList {
	t.Helper()
	r := do(t, "GET", a.url(wire.MessagesPath(a.conv())+query), a.info.JWT, nil)
	if r.status != 200 {
		t.Fatalf("GET messages%s: %d %s", query, r.status, r.body)
	}
	var l wire.WebChatMessageEntityList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func bodies(l wire.WebChatMessageEntityList) string {
	var out []string
	for _, m := range l.Entities {
		out = append(out, m.Body)
	}
	return strings.Join(out, ",")
}

func TestMessagesPaging(t *testing.T) {
	o := fastOpts()
	o.Script = &Script{} // no agent: only guest messages
	s := newTestServer(t, o)
	a := createChat(t, s)
	ids := map[string]string{}
	for i := 1; i <= 9; i++ {
		m := a.send(fmt.Sprint(i))
		ids[m.Body] = m.ID
	}
	cases := []struct {
		name, query  string
		want         string
		next, prev   string // expected cursor params ("" = omitted)
		wantPageSize int
	}{
		{"default", "", "1,2,3,4,5,6,7,8,9", "", "", 100},
		{"asc first 3", "?maxResults=3", "1,2,3", "after=3", "", 3},
		{"desc newest 3", "?maxResults=3&sortOrder=descending", "9,8,7", "before=7", "", 3},
		{"after", "?after=" + ids["3"] + "&maxResults=2", "4,5", "after=5", "before=4", 2},
		{"after desc order", "?after=" + ids["3"] + "&maxResults=2&sortOrder=descending", "5,4", "", "after=5", 2}, // next keeps after=3: nothing lies between
		{"before", "?before=" + ids["7"] + "&maxResults=2", "5,6", "", "before=5", 2},                              // next keeps before=7: nothing lies between
		{"before desc", "?before=" + ids["7"] + "&maxResults=2&sortOrder=descending", "6,5", "before=5", "after=6", 2},
		{"between", "?after=" + ids["2"] + "&before=" + ids["8"] + "&maxResults=3", "3,4,5", "after=5", "before=3", 3},
		{"between exhausted", "?after=" + ids["5"] + "&before=" + ids["8"], "6,7", "", "before=6", 100},
		{"after last", "?after=" + ids["9"], "", "", "", 100},
		{"before first", "?before=" + ids["1"], "", "", "", 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := getMsgs(t, a, tc.query)
			if got := bodies(l); got != tc.want {
				t.Fatalf("bodies %q want %q", got, tc.want)
			}
			if l.PageSize != tc.wantPageSize || l.SelfURI != wire.MessagesPath(a.conv())+tc.query {
				t.Fatalf("pageSize %d selfUri %q", l.PageSize, l.SelfURI)
			}
			check := func(what, link, want string) {
				if want == "" {
					if link != "" {
						t.Fatalf("%s = %q, want omitted", what, link)
					}
					return
				}
				if link == "" {
					t.Fatalf("%s omitted, want %s", what, want)
				}
				u, err := url.Parse(link)
				if err != nil || u.Path != wire.MessagesPath(a.conv()) {
					t.Fatalf("%s = %q", what, link)
				}
				k, v, _ := strings.Cut(want, "=")
				if u.Query().Get(k) != ids[v] {
					t.Fatalf("%s = %q, want %s", what, link, want)
				}
			}
			check("next", l.Next, tc.next)
			check("previousPage", l.PreviousPage, tc.prev)
		})
	}
	// Following next from the start visits every message once, in order.
	var seen []string
	q := "?maxResults=2"
	for i := 0; i < 20; i++ {
		l := getMsgs(t, a, q)
		for _, m := range l.Entities {
			seen = append(seen, m.Body)
		}
		if l.Next == "" {
			break
		}
		u, _ := url.Parse(l.Next)
		q = "?" + u.RawQuery
	}
	if strings.Join(seen, ",") != "1,2,3,4,5,6,7,8,9" {
		t.Fatalf("walk: %v", seen)
	}
	// Walking backwards with before (the Widgets history view).
	seen = nil
	q = "?maxResults=4&sortOrder=descending"
	for i := 0; i < 20; i++ {
		l := getMsgs(t, a, q)
		for _, m := range l.Entities {
			seen = append(seen, m.Body)
		}
		if l.Next == "" {
			break
		}
		u, _ := url.Parse(l.Next)
		q = "?" + u.RawQuery
	}
	if strings.Join(seen, ",") != "9,8,7,6,5,4,3,2,1" {
		t.Fatalf("walk back: %v", seen)
	}
}

func TestTranscriptIncludesJoinLeaveAndOrder(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	conv := s.Conversation(a.conv())
	_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.AgentState() == wire.StateConnected })
	a.send("x")
	l := getMsgs(t, a, "")
	var kinds []string
	for i, m := range l.Entities {
		kinds = append(kinds, string(m.BodyType))
		if i > 0 && !m.Timestamp.After(l.Entities[i-1].Timestamp.Time) {
			t.Fatalf("timestamps not strictly increasing at %d", i)
		}
		if m.SelfURI != wire.MessagePath(a.conv(), m.ID) || m.Conversation.SelfURI != wire.ConversationSelfURI(a.conv()) || m.Sender.Role != "" {
			t.Fatalf("message shape %+v", m)
		}
	}
	want := "member-join,member-join,member-join,member-leave,standard" // guest, ACD, agent, ACD leaves, x
	if strings.Join(kinds, ",") != want {
		t.Fatalf("transcript %v", kinds)
	}
}

func TestMembersPaging(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	conv := s.Conversation(a.conv())
	_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.AgentState() == wire.StateConnected })
	// guest, ACD (left), agent
	get := func(q string) wire.WebChatMemberInfoEntityList {
		r := do(t, "GET", a.url(wire.MembersPath(a.conv())+q), a.info.JWT, nil)
		var l wire.WebChatMemberInfoEntityList
		if r.status != 200 || json.Unmarshal(r.body, &l) != nil {
			t.Fatalf("%d %s", r.status, r.body)
		}
		return l
	}
	l := get("")
	if l.Total != 3 || l.PageSize != 25 || l.PageNumber != 1 || l.PageCount != 1 || len(l.Entities) != 3 || l.NextURI != "" || l.PreviousURI != "" {
		t.Fatalf("default page %+v", l)
	}
	roles := []wire.MemberRole{wire.RoleCustomer, wire.RoleACD, wire.RoleAgent}
	for i, m := range l.Entities {
		if m.Role != roles[i] || m.JoinDate == nil {
			t.Fatalf("member %d: %+v", i, m)
		}
	}
	if g := l.Entities[0]; g.State != wire.StateConnected || g.DisplayName != "Guest" || g.CustomFields["k"] != "v" {
		t.Fatalf("guest %+v", g)
	}
	if acd := l.Entities[1]; acd.State != wire.StateDisconnected || acd.LeaveDate == nil {
		t.Fatalf("acd %+v", acd)
	}
	l = get("?pageSize=2&pageNumber=2")
	if len(l.Entities) != 1 || l.PageCount != 2 || l.Entities[0].Role != wire.RoleAgent || l.NextURI != "" ||
		!strings.Contains(l.PreviousURI, "pageNumber=1") || !strings.Contains(l.FirstURI, "pageNumber=1") || !strings.Contains(l.LastURI, "pageNumber=2") {
		t.Fatalf("page 2 %+v", l)
	}
	l = get("?pageSize=2&pageNumber=1")
	if !strings.Contains(l.NextURI, "pageNumber=2") || !strings.Contains(l.SelfURI, "pageSize=2") {
		t.Fatalf("page 1 %+v", l)
	}
	l = get("?excludeDisconnectedMembers=true")
	if l.Total != 2 || l.Entities[1].Role != wire.RoleAgent {
		t.Fatalf("exclude %+v", l)
	}
	l = get("?pageNumber=9")
	if len(l.Entities) != 0 || l.Total != 3 {
		t.Fatalf("beyond %+v", l)
	}
}
