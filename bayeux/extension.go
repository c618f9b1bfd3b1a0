package bayeux

import (
	"encoding/json"
	"sync"
)

// Extension hooks into every message the client sends or receives, in the order the
// extensions were configured (Outgoing) and in the same order for Incoming. A hook may
// change the message (typically its Ext map) and returns false to drop it.
//
// Incoming sees replies and deliveries before they are dispatched; Outgoing sees
// requests after the client filled them (id, clientId) and before they are encoded.
type Extension interface {
	Incoming(m *Message) bool
	Outgoing(m *Message) bool
}

// ExtensionFuncs adapts two functions to an Extension; a nil function passes messages
// through.
type ExtensionFuncs struct {
	In  func(m *Message) bool
	Out func(m *Message) bool
}

// Incoming calls In.
func (e ExtensionFuncs) Incoming(m *Message) bool { return e.In == nil || e.In(m) }

// Outgoing calls Out.
func (e ExtensionFuncs) Outgoing(m *Message) bool { return e.Out == nil || e.Out(m) }

// AckExtension is the client side of the CometD "ack" extension (server-to-client
// delivery guarantee): it asks for acknowledgements on the handshake, sends the last
// batch number received on every connect and records the batch of every connect reply.
// With it, a server resends deliveries whose connect reply was lost. Create one per
// client with NewAckExtension, or set Options.AckExtension.
type AckExtension struct {
	mu        sync.Mutex
	supported bool
	batch     int64
}

// NewAckExtension returns an ack extension for one client.
func NewAckExtension() *AckExtension { return &AckExtension{} }

// Active reports whether the server accepted the extension on the last handshake.
func (a *AckExtension) Active() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.supported
}

// Batch returns the last batch number received.
func (a *AckExtension) Batch() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.batch
}

// Outgoing adds ext.ack to handshakes and connects.
func (a *AckExtension) Outgoing(m *Message) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch m.Channel {
	case ChannelHandshake:
		a.supported = false
		a.batch = 0
		setExt(m, "ack", json.RawMessage("true"))
	case ChannelConnect:
		if a.supported {
			setExt(m, "ack", json.RawMessage(jsonInt(a.batch)))
		}
	}
	return true
}

// Incoming reads the server's ack support and batch numbers.
func (a *AckExtension) Incoming(m *Message) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch m.Channel {
	case ChannelHandshake:
		if m.Successful {
			a.supported = wantsAck(m.Ext["ack"])
		}
	case ChannelConnect:
		if m.Successful && a.supported {
			if raw, ok := m.Ext["ack"]; ok {
				var f float64
				if json.Unmarshal(raw, &f) == nil {
					a.batch = int64(f)
				}
			}
		}
	}
	return true
}

func setExt(m *Message, key string, v json.RawMessage) {
	if m.Ext == nil {
		m.Ext = map[string]json.RawMessage{}
	}
	m.Ext[key] = v
}
