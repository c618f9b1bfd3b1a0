package purecloud

import (
	"context"
	"sync"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// member is what the client knows about a conversation member.
type member struct {
	role   wire.MemberRole // "" = unknown (lookup pending or failed)
	name   string
	avatar string
	state  wire.MemberState
	// Loop-owned participant flags: a ParticipantJoined/Left was delivered.
	joined, left bool
	// joinedUnknown: its join was delivered while the role was unknown.
	joinedUnknown bool
	failedAt      time.Time
}

// memberCache maps member id → member, with coalesced #3 lookups.
type memberCache struct {
	mu       sync.Mutex
	m        map[string]*member
	inflight map[string]chan struct{}
}

// lookupRetryAfter is how long a failed lookup is not retried.
const lookupRetryAfter = 5 * time.Second

func (c *memberCache) init() {
	c.m = make(map[string]*member)
	c.inflight = make(map[string]chan struct{})
}

func (c *memberCache) put(id string, m *member) {
	c.mu.Lock()
	c.m[id] = m
	c.mu.Unlock()
}

// get returns a copy of the member (ok=false when unknown).
func (c *memberCache) get(id string) (member, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[id]
	if !ok {
		return member{}, false
	}
	return *m, true
}

// update applies f to the member (creating it) under the lock.
func (c *memberCache) update(id string, f func(m *member)) member {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[id]
	if !ok {
		m = &member{}
		c.m[id] = m
	}
	f(m)
	return *m
}

// learn merges a full WebChatMemberInfo (#2/#3) into the cache.
func (c *memberCache) learn(info *wire.WebChatMemberInfo) member {
	return c.update(info.ID, func(m *member) {
		if info.Role != "" {
			m.role = info.Role
		}
		if info.DisplayName != "" {
			m.name = info.DisplayName
		}
		if info.AvatarImageURL != "" {
			m.avatar = info.AvatarImageURL
		}
		if info.State != "" {
			m.state = info.State
		}
		m.failedAt = time.Time{}
	})
}

// resolve returns the member with its role, looking it up with #3 (once,
// coalesced, short deadline) when the role is unknown. A failed lookup
// leaves the role unknown and is retried on a later sighting.
func (t *Transport) resolve(ctx context.Context, id string) member {
	for {
		c := &t.members
		c.mu.Lock()
		m, ok := c.m[id]
		if ok && (m.role != "" || (!m.failedAt.IsZero() && t.clock.Now().Sub(m.failedAt) < lookupRetryAfter)) {
			cp := *m
			c.mu.Unlock()
			return cp
		}
		if ch := c.inflight[id]; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				cp, _ := c.get(id)
				return cp
			}
		}
		ch := make(chan struct{})
		c.inflight[id] = ch
		c.mu.Unlock()

		k := t.snapshotKeys()
		lctx, cancel := context.WithTimeout(ctx, t.set.ajaxTimeout)
		info, err := t.rest.getMember(lctx, k.jwt, k.conv, id, 2)
		cancel()
		var out member
		if err == nil && info.ID == "" {
			info.ID = id
		}
		if err == nil {
			out = c.learn(info)
		} else {
			t.log.Debug().Err(err).Str("member", id).Msg("purecloud: member lookup failed")
			out = c.update(id, func(m *member) { m.failedAt = t.clock.Now() })
		}
		c.mu.Lock()
		delete(c.inflight, id)
		close(ch)
		c.mu.Unlock()
		return out
	}
}

// from builds the normalized sender for a member (§11.2).
func (t *Transport) from(id string, m member, bt wire.BodyType) transports.From {
	f := transports.From{ID: id, Name: m.name, Avatar: m.avatar}
	switch m.role {
	case wire.RoleAgent:
		f.Type = transports.ParticipantAgent
	case wire.RoleWorkflow:
		if bt == wire.BodyNotice {
			f.Type = transports.ParticipantExternal
		} else {
			f.Type = transports.ParticipantBot
		}
	case wire.RoleACD:
		f.Type = transports.ParticipantExternal
	case wire.RoleCustomer:
		f.Type = transports.ParticipantClient
	default:
		f.Type = transports.ParticipantUnknown
	}
	return f
}
