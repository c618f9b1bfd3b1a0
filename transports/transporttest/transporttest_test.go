package transporttest

import (
	"testing"

	"github.com/cxbus/webchat/transports"
)

func TestCountAndMessages(t *testing.T) {
	evs := []transports.Event{
		{Kind: transports.EventConnected},
		{Kind: transports.EventMessages, Messages: []transports.Message{{ID: "1"}, {ID: "2"}}},
		{Kind: transports.EventDisconnected},
		{Kind: transports.EventMessages, Messages: []transports.Message{{ID: "3"}}},
	}
	if Count(evs, transports.EventMessages) != 2 || Count(evs, transports.EventEnded) != 0 {
		t.Fatal("Count")
	}
	m := Messages(evs)
	if len(m) != 3 || m[0].ID != "1" || m[2].ID != "3" {
		t.Fatalf("Messages %v", m)
	}
}
