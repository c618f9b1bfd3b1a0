// Package all registers every transport of this module with the transports registry, so a
// WebChatService configuration can pick any of them by transport.type:
//
//	import _ "github.com/cxbus/webchat/transports/all"
//
// It is the same as importing transports/purecloud ("purecloud-v2-sockets") and
// transports/gms ("gms": GMS Chat V2 over REST polling or CometD) for their side effects.
package all

import (
	_ "github.com/cxbus/webchat/transports/gms"       // registers "gms"
	_ "github.com/cxbus/webchat/transports/purecloud" // registers "purecloud-v2-sockets"
)
