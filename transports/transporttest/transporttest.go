// Package transporttest holds helpers for tests of transports: reading what a transport's
// event stream delivered. Both transports of this module and applications testing their own
// transport use it.
package transporttest

import "github.com/cxbus/webchat/transports"

// Count returns how many events of kind k evs holds.
func Count(evs []transports.Event, k transports.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// Messages returns every message the events delivered, in order.
func Messages(evs []transports.Event) []transports.Message {
	var out []transports.Message
	for _, e := range evs {
		if e.Kind == transports.EventMessages {
			out = append(out, e.Messages...)
		}
	}
	return out
}
