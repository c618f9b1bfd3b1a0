package purecloud

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// intParam reads an int query parameter: def when absent, ok false when
// not an integer or outside lo..hi.
func intParam(q url.Values, name string, def, lo, hi int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// getMembers serves #2: full member objects in join order, paged by number.
func (s *Simulator) getMembers(k *call) (int, any, *apiError) {
	q := k.r.URL.Query()
	size, ok := intParam(q, wire.QueryPageSize, wire.DefaultMembersPageSize, 1, wire.MaxMembersPageSize)
	if !ok {
		return 0, nil, errInvalid("pageSize must be an integer from 1 to 100.", wire.QueryPageSize)
	}
	num, ok := intParam(q, wire.QueryPageNumber, 1, 1, int(^uint32(0)>>1))
	if !ok {
		return 0, nil, errInvalid("pageNumber must be an integer of at least 1.", wire.QueryPageNumber)
	}
	exclude := false
	if v := q.Get(wire.QueryExcludeDisconnectedMembers); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, nil, errInvalid("excludeDisconnectedMembers must be true or false.", wire.QueryExcludeDisconnectedMembers)
		}
		exclude = b
	}
	c := k.c
	c.mu.Lock()
	var all []wire.WebChatMemberInfo
	for _, m := range c.members {
		if exclude && m.State == wire.StateDisconnected {
			continue
		}
		all = append(all, *m)
	}
	c.mu.Unlock()
	total := len(all)
	pages := (total + size - 1) / size
	lo := min((num-1)*size, total)
	hi := min(lo+size, total)
	out := &wire.WebChatMemberInfoEntityList{
		Entities:   append(make([]wire.WebChatMemberInfo, 0, hi-lo), all[lo:hi]...),
		PageSize:   size,
		PageNumber: num,
		Total:      int64(total),
		PageCount:  pages,
	}
	path := wire.MembersPath(c.id)
	uri := func(n int) string {
		v := url.Values{}
		v.Set(wire.QueryPageSize, strconv.Itoa(size))
		v.Set(wire.QueryPageNumber, strconv.Itoa(n))
		if exclude {
			v.Set(wire.QueryExcludeDisconnectedMembers, "true")
		}
		return path + "?" + v.Encode()
	}
	out.SelfURI = uri(num)
	out.FirstURI = uri(1)
	out.LastURI = uri(max(pages, 1))
	if num > 1 {
		out.PreviousURI = uri(min(num-1, max(pages, 1)))
	}
	if num < pages {
		out.NextURI = uri(num + 1)
	}
	return http.StatusOK, out, nil
}

// getMessages serves #7 with the §12.4 semantics.
func (s *Simulator) getMessages(k *call) (int, any, *apiError) {
	q := k.r.URL.Query()
	n, ok := intParam(q, wire.QueryMaxResults, wire.MaxResults, 1, wire.MaxResults)
	if !ok {
		return 0, nil, errInvalid("maxResults must be an integer from 1 to 100.", wire.QueryMaxResults)
	}
	order := wire.SortAscending
	if v := q.Get(wire.QuerySortOrder); v != "" {
		order = wire.SortOrder(v)
		if !order.Valid() {
			return 0, nil, errInvalid("sortOrder must be ascending or descending.", wire.QuerySortOrder)
		}
	}
	after, before := q.Get(wire.QueryAfter), q.Get(wire.QueryBefore)
	c := k.c
	c.mu.Lock()
	defer c.mu.Unlock()
	total := len(c.msgs)
	lo, hi := 0, total // candidate range [lo, hi)
	if after != "" {
		i, ok := c.msgIdx[after]
		if !ok {
			return 0, nil, errInvalid("after is not a message of this conversation.", wire.QueryAfter)
		}
		lo = i + 1
	}
	if before != "" {
		i, ok := c.msgIdx[before]
		if !ok {
			return 0, nil, errInvalid("before is not a message of this conversation.", wire.QueryBefore)
		}
		hi = i
	}
	if hi < lo {
		hi = lo
	}
	from, to := lo, hi // selected [from, to)
	switch {
	case after != "":
		to = min(lo+n, hi)
	case before != "":
		from = max(hi-n, lo)
	case order == wire.SortAscending:
		to = min(lo+n, hi)
	default:
		from = max(hi-n, lo)
	}
	out := &wire.WebChatMessageEntityList{PageSize: n, Entities: make([]wire.WebChatMessage, 0, to-from), SelfURI: k.r.URL.RequestURI()}
	for i := from; i < to; i++ {
		out.Entities = append(out.Entities, *c.msgs[i])
	}
	if order == wire.SortDescending {
		for i, j := 0, len(out.Entities)-1; i < j; i, j = i+1, j-1 {
			out.Entities[i], out.Entities[j] = out.Entities[j], out.Entities[i]
		}
	}
	if to > from {
		path := wire.MessagesPath(c.id)
		link := func(set, drop, id string) string {
			v := url.Values{}
			for key, vals := range q {
				v[key] = vals
			}
			v.Del(drop)
			v.Set(set, id)
			v.Set(wire.QueryMaxResults, strconv.Itoa(n))
			v.Set(wire.QuerySortOrder, string(order))
			return path + "?" + v.Encode()
		}
		newer := to < hi  // messages after the newest selected, within the bound
		older := from > 0 // messages before the oldest selected
		oldest, newest := c.msgs[from].ID, c.msgs[to-1].ID
		if order == wire.SortAscending {
			if newer {
				out.Next = link(wire.QueryAfter, "", newest)
			}
			if older {
				out.PreviousPage = link(wire.QueryBefore, wire.QueryAfter, oldest)
			}
		} else {
			if from > lo {
				out.Next = link(wire.QueryBefore, "", oldest)
			}
			if to < total {
				out.PreviousPage = link(wire.QueryAfter, wire.QueryBefore, newest)
			}
		}
	}
	return http.StatusOK, out, nil
}
