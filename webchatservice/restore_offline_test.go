package webchatservice_test

import (
	"testing"

	"github.com/cxbus/webchat/restore"
	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/webchatservice"
)

// TestRestoredOfflineGMSREST: a restore answered statusCode 1 (Chat Server offline) keeps the
// session and publishes restoredOffline instead of restored; chatServerBackOnline follows when
// the Chat Server answers again (spec §4, §6.6 step 5). The transport's offline answer and the
// restore's result travel different paths; the service orders them, so this is deterministic.
func TestRestoredOfflineGMSREST(t *testing.T) {
	for range 3 { // a scheduling-dependent bug would show up across repetitions
		sim := gmsSim(t, simgms.Options{})
		store := restore.NewMemoryStore()
		cfg := gmsModes[0].cfg(sim, map[string]any{"onlineAfter": 1})
		gmsFirstSessionOpts(t, sim, cfg, store, "gms-offline")
		sim.ChatServerOffline(1 << 20)
		b := newTS(t, gmsOptions(cfg, store, "gms-offline"))
		b.wait(webchatservice.EventRestoredOffline)
		if b.log.count(webchatservice.EventRestored) != 0 {
			t.Fatalf("restored published as well as restoredOffline: %v", b.log.names())
		}
		if active, err := b.cmd(webchatservice.CmdVerifySession, nil); err != nil || !active.(webchatservice.VerifySessionResult).SessionActive {
			t.Fatalf("session not kept: %v %v", active, err)
		}
		sim.ChatServerOffline(0)
		b.wait(webchatservice.EventChatServerBackOnline)
		b.close()
	}
}
