package bayeux

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Advice is the Bayeux "advice" object (§3). Numeric fields are milliseconds and are
// pointers so that "absent" (keep the previous value) differs from 0.
type Advice struct {
	Reconnect       string   `json:"reconnect,omitempty"`
	Interval        *int64   `json:"interval,omitempty"`
	Timeout         *int64   `json:"timeout,omitempty"`
	MaxInterval     *int64   `json:"maxInterval,omitempty"`
	MultipleClients bool     `json:"multiple-clients,omitempty"`
	Hosts           []string `json:"hosts,omitempty"`

	// Transport holds advice nested per transport name, e.g.
	// {"reconnect":"retry","long-polling":{"reconnect":"handshake"}}.
	Transport map[string]*Advice `json:"-"`
}

// Ms returns a pointer to the number of milliseconds in d, for Advice fields.
func Ms(d time.Duration) *int64 {
	v := d.Milliseconds()
	return &v
}

// IntervalDuration returns Interval as a duration (0 when absent).
func (a *Advice) IntervalDuration() time.Duration {
	return msDuration(a.get(func(a *Advice) *int64 { return a.Interval }))
}

// TimeoutDuration returns Timeout as a duration and whether it was present.
func (a *Advice) TimeoutDuration() (time.Duration, bool) {
	p := a.get(func(a *Advice) *int64 { return a.Timeout })
	return msDuration(p), p != nil
}

// MaxIntervalDuration returns MaxInterval as a duration (0 when absent).
func (a *Advice) MaxIntervalDuration() time.Duration {
	return msDuration(a.get(func(a *Advice) *int64 { return a.MaxInterval }))
}

func (a *Advice) get(f func(*Advice) *int64) *int64 {
	if a == nil {
		return nil
	}
	return f(a)
}

func msDuration(p *int64) time.Duration {
	if p == nil || *p < 0 {
		return 0
	}
	return time.Duration(*p) * time.Millisecond
}

// Clone returns a deep copy of a (nil for nil).
func (a *Advice) Clone() *Advice {
	if a == nil {
		return nil
	}
	c := *a
	cp := func(p *int64) *int64 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	c.Interval, c.Timeout, c.MaxInterval = cp(a.Interval), cp(a.Timeout), cp(a.MaxInterval)
	c.Hosts = append([]string(nil), a.Hosts...)
	if a.Transport != nil {
		c.Transport = make(map[string]*Advice, len(a.Transport))
		for k, v := range a.Transport {
			c.Transport[k] = v.Clone()
		}
	}
	return &c
}

// Merge returns a copy of a updated by b field by field: a field absent from b keeps its
// value in a ("advice received always supersedes any previous received advice").
func (a *Advice) Merge(b *Advice) *Advice {
	out := a.Clone()
	if out == nil {
		out = &Advice{}
	}
	if b == nil {
		return out
	}
	if b.Reconnect != "" {
		out.Reconnect = b.Reconnect
	}
	if b.Interval != nil {
		v := *b.Interval
		out.Interval = &v
	}
	if b.Timeout != nil {
		v := *b.Timeout
		out.Timeout = &v
	}
	if b.MaxInterval != nil {
		v := *b.MaxInterval
		out.MaxInterval = &v
	}
	out.MultipleClients = b.MultipleClients
	if b.Hosts != nil {
		out.Hosts = append([]string(nil), b.Hosts...)
	}
	for k, v := range b.Transport {
		if out.Transport == nil {
			out.Transport = map[string]*Advice{}
		}
		out.Transport[k] = out.Transport[k].Merge(v)
	}
	return out
}

// ForTransport returns the effective advice for a transport: the top level overridden
// by the block named after the transport.
func (a *Advice) ForTransport(name string) *Advice {
	if a == nil {
		return nil
	}
	top := a.Clone()
	nested := top.Transport[name]
	top.Transport = nil
	if nested == nil {
		return top
	}
	n := nested.Clone()
	n.Transport = nil
	mc := top.MultipleClients || n.MultipleClients
	out := top.Merge(n)
	out.MultipleClients = mc
	return out
}

type adviceFields struct {
	Reconnect       string   `json:"reconnect,omitempty"`
	Interval        *int64   `json:"interval,omitempty"`
	Timeout         *int64   `json:"timeout,omitempty"`
	MaxInterval     *int64   `json:"maxInterval,omitempty"`
	MultipleClients bool     `json:"multiple-clients,omitempty"`
	Hosts           []string `json:"hosts,omitempty"`
}

// MarshalJSON encodes the advice, with nested per-transport blocks as extra keys.
func (a Advice) MarshalJSON() ([]byte, error) {
	f := adviceFields{a.Reconnect, a.Interval, a.Timeout, a.MaxInterval, a.MultipleClients, a.Hosts}
	b, err := json.Marshal(f)
	if err != nil || len(a.Transport) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range a.Transport {
		if _, clash := m[k]; !clash && v != nil {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON decodes advice tolerantly: numbers may be integers or floats (truncated);
// unknown keys whose value is an object become per-transport blocks; other unknown keys
// are ignored.
func (a *Advice) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("bayeux: bad advice: %w", err)
	}
	*a = Advice{}
	num := func(k string, dst **int64) error {
		v, ok := raw[k]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("bayeux: bad advice %s %s: want a number", k, truncate(string(v), 20))
		}
		i := int64(f)
		*dst = &i
		return nil
	}
	for k, v := range raw {
		switch k {
		case "reconnect":
			if err := json.Unmarshal(v, &a.Reconnect); err != nil {
				return fmt.Errorf("bayeux: bad advice reconnect %s: want a string", truncate(string(v), 20))
			}
		case "interval":
			if err := num(k, &a.Interval); err != nil {
				return err
			}
		case "timeout":
			if err := num(k, &a.Timeout); err != nil {
				return err
			}
		case "maxInterval":
			if err := num(k, &a.MaxInterval); err != nil {
				return err
			}
		case "multiple-clients":
			_ = json.Unmarshal(v, &a.MultipleClients) // non-bool → false
		case "hosts":
			_ = json.Unmarshal(v, &a.Hosts) // non-array → ignored
		default:
			tv := bytes.TrimSpace(v)
			if len(tv) > 0 && tv[0] == '{' {
				var nested Advice
				if err := json.Unmarshal(tv, &nested); err != nil {
					return err
				}
				if a.Transport == nil {
					a.Transport = map[string]*Advice{}
				}
				a.Transport[k] = &nested
			}
		}
	}
	return nil
}
