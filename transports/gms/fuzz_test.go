package gms

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/cxbus/webchat/transports"
)

// fuzzTransport is an active transport with no goroutines and no network:
// answers are fed straight into its answer processing.
func fuzzTransport(t testing.TB, mode Mode) *Transport {
	cfg := Config{DataURL: "http://127.0.0.1:1/genesys/2/chat/s"}
	if mode == ModeCometD {
		cfg = Config{CometD: CometDConfig{Enabled: true, CometURL: "http://127.0.0.1:1/genesys/cometd"}}
	}
	tr, err := New(cfg, transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr.life.Phase = transports.PhaseActive
	tr.keys.ChatID, tr.keys.SecureKey = "chat", "key"
	if mode == ModeCometD {
		tr.cm = newCometd(tr)
	}
	return tr
}

var fuzzSeeds = []string{
	`{"statusCode":0,"alias":"117","userId":"007555677B20000A","secureKey":"4ee15d7e1c343c8e","chatId":"00048aAPEQJ8000U","nextPosition":2,"messages":[{"from":{"nickname":"First Last","participantId":1,"type":"Client"},"index":1,"type":"ParticipantJoined","utcTime":1432845088000}]}`,
	`{"messages":[{"from":{"nickname":"a1001","participantId":3,"type":"Agent"},"index":8,"text":"hello","type":"Message","utcTime":1590051516000}],"chatEnded":false,"statusCode":0,"alias":"0","secureKey":"zpcRUAk","userId":"deprecated","chatId":"deprecated","nextPosition":9,"monitored":false}`,
	`{"statusCode":0,"messages":[{"index":3,"type":"TypingStarted","text":"hel","from":{"nickname":"A","participantId":"007553863DC30029","type":"Agent"}},{"index":5,"type":"IdleAlert","userData":{"next-idle-timer-secs":"45"}},{"index":6,"type":"IdleClose"}],"chatEnded":true}`,
	`{"statusCode":1,"messages":[]}`,
	`{"statusCode":2,"chatEnded":true,"errors":[{"code":300,"advice":"gone"}]}`,
	`{"statusCode":0,"messages":[{"type":"Notice","text":"file-client-cfg-get","userData":{"upload-max-files":"3"}},{"index":"4","type":"FileUploaded","userData":{"file-id":"F","file-size":"12"},"eventAttributes":{"GCTI_SYSTEM":{"party-info":{"style":"BOT"}}},"from":{"type":"Agent"}}],"nextPosition":"7"}`,
}

// FuzzAnswers feeds arbitrary answers (as REST bodies and as CometD
// notifications, several in a row) through the answer processing: it never
// panics, delivers indexes in strictly increasing order, and ends the
// session at most once.
func FuzzAnswers(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Add([]byte(fuzzSeeds[1]+"\n"+fuzzSeeds[0]+"\n"+fuzzSeeds[2]), true)
	f.Fuzz(func(t *testing.T, data []byte, cometd bool) {
		mode := ModeREST
		if cometd {
			mode = ModeCometD
		}
		tr := fuzzTransport(t, mode)
		for _, chunk := range bytes.Split(data, []byte("\n")) {
			a, err := decodeAnswer(chunk)
			if err != nil {
				continue
			}
			tr.mu.Lock()
			if cometd {
				tr.cm.processLocked(a, nil)
			} else {
				tr.applyLocked(a, answerInfo{op: "refresh", suffix: true})
			}
			tr.mu.Unlock()
		}
		if cometd {
			tr.mu.Lock()
			tr.cm.releaseLocked()
			tr.mu.Unlock()
		}
		var last int64
		ended := 0
		for _, ev := range tr.ev.q {
			switch ev.Kind {
			case transports.EventMessages:
				for _, m := range ev.Messages {
					if m.Index <= last {
						t.Fatalf("index %d after %d", m.Index, last)
					}
					last = m.Index
					if m.ID == "" || m.From.Type == "" {
						t.Fatalf("message without id or sender type: %+v", m)
					}
				}
			case transports.EventEnded:
				ended++
			}
		}
		if ended > 1 {
			t.Fatalf("%d ended events", ended)
		}
		if c := tr.tracker.Cursor(); c.Index != last {
			t.Fatalf("cursor %+v after index %d", c, last)
		}
	})
}

// FuzzParseConfig: arbitrary webchat sections are accepted or rejected
// with ErrInvalidConfig, never a panic; accepted ones make a transport.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		`{"dataURL":"http://h/genesys/2/chat/s","pollRate":1500,"pollRateMult":1.5,"userData":{"a":[1,{"b":null}]}}`,
		`{"cometD":{"enabled":true,"cometURL":"wss://h/genesys/cometd","channel":"/service/chatV2/x","apiURL":"https://h/genesys/2/chat-ntf"},"async":{"enabled":true,"maxMessagePageSize":5}}`,
		`{"serverURL":"http://h/","enableUrlTrailingSlash":false,"apikey":"k","enableCustomHeader":true,"authorization":"Bearer x"}`,
		`{"dataURL":"http://h/x","pollExceptionLimit":0,"onlineAfter":1,"headers":{"X-A":"b"},"basicAuth":{"username":"u","password":"p"}}`,
		`[]`, `null`, `{"dataURL":5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(json.RawMessage(data))
		if err != nil {
			return
		}
		tr, err := New(c, transports.Options{})
		if err != nil {
			t.Fatalf("ParseConfig accepted what New rejects: %v", err)
		}
		tr.Close()
	})
}
