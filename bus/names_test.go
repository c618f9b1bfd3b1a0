package bus

import (
	"strings"
	"testing"
)

func TestResolveCommand(t *testing.T) {
	cases := []struct {
		caller, name, full, plugin string
		ok                         bool
	}{
		{"WebChat", "open", "WebChat.open", "WebChat", true},
		{"X", "WebChatService.startChat", "WebChatService.startChat", "WebChatService", true},
		{"X", "a.b.c", "", "", false},
		{"X", "", "", "", false},
		{"X", ".a", "", "", false},
		{"X", "a.", "", "", false},
		{"X", "a b.c", "", "", false},
		{"X", "a.*", "", "", false},
	}
	for _, c := range cases {
		full, plugin, err := ResolveCommand(c.caller, c.name)
		if (err == nil) != c.ok || full != c.full || plugin != c.plugin {
			t.Errorf("%s/%q: %q %q %v", c.caller, c.name, full, plugin, err)
		}
	}
}

func TestMatchEvent(t *testing.T) {
	cases := []struct {
		pattern, event string
		want           bool
	}{
		{"WebChatService.*", "WebChatService.started", true},
		{"WebChatService.*", "WebChatService.data.sleeping", false},
		{"WebChatService.>", "WebChatService.data.sleeping", true},
		{"WebChatService.>", "WebChatService.started", true},
		{"*.ready", "App.ready", true},
		{"*.ready", "App.data.ready", false},
		{"*", "App.ready", true},
		{"App.data.*", "App.data.pageFocus", true},
		{"App.data.pageFocus", "App.data.pageFocus", true},
		{"App.data.pageFocus", "App.data.pageHidden", false},
		{"*.*.*", "A.b", false},
		{"A.*.c", "A.b.c", true},
		{"A.*.c", "A.b.d", false},
		{"A.b", "A.b.c", false},
		{"A.b.>", "A.b", false},
	}
	for _, c := range cases {
		got, err := MatchEvent(c.pattern, c.event)
		if err != nil || got != c.want {
			t.Errorf("%s ~ %s: %v %v", c.pattern, c.event, got, err)
		}
	}
}

// FuzzNames checks that name parsing never panics and that the parsers agree with each other.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"WebChatService.startChat", "open", "a.b.c", "*.ready", "WebChatService.>", ">", "*", "", ".", "a..b", "A.data.k:'v.w'"} {
		f.Add(s, "WebChatService.data.sleeping")
	}
	f.Fuzz(func(t *testing.T, name, event string) {
		if full, plugin, err := ResolveCommand("Caller", name); err == nil {
			if strings.Count(full, ".") != 1 || !strings.HasPrefix(full, plugin+".") || ValidatePluginName(plugin) != nil {
				t.Fatalf("ResolveCommand(%q) = %q, %q", name, full, plugin)
			}
		}
		p, err := ParsePattern(name)
		if err != nil {
			return
		}
		ok, err := MatchEvent(name, event)
		if err != nil {
			t.Fatalf("ParsePattern accepted %q but MatchEvent failed: %v", name, err)
		}
		if p.exact && ok && event != name {
			t.Fatalf("exact %q matched %q", name, event)
		}
		if validEventName(event) != (validateEventName(event) == nil) {
			t.Fatalf("event name validators disagree on %q", event)
		}
		// Every event matches the catch-all patterns.
		if dot := strings.IndexByte(event, '.'); dot > 0 && dot < len(event)-1 {
			if all, _ := MatchEvent(">", event); !all {
				t.Fatalf("> did not match %q", event)
			}
		}
	})
}
