package webchatservice_test

// Resolutions of poll (private), startPoll, stopPoll, resetPollExceptions (§3.11, §3.12) and of
// sendFile, downloadFile, getFileLimits (§3.15, §3.16) in the GMS modes R and C.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cxbus/webchat/bus"
	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms"
	"github.com/cxbus/webchat/transports/gms/wire"
	"github.com/cxbus/webchat/webchatservice"
)

func TestResolutionsGMSPollR(t *testing.T) {
	sim := gmsSim(t, simgms.Options{})
	cfg := gmsModes[0].cfg(sim, nil)

	t.Run("no session", func(t *testing.T) {
		s := newTS(t, webchatservice.Options{Config: cfg})
		_, err := s.self(webchatservice.CmdPoll, nil)
		rejects(t, err, webchatservice.ErrNoActiveChatSession, "No active chat session.")
		for _, cmd := range []string{webchatservice.CmdStartPoll, webchatservice.CmdStopPoll} {
			_, err := s.cmd(cmd, nil)
			rejects(t, err, webchatservice.ErrNoActiveChatSession, "No active chat session.")
		}
		if _, err := s.cmd(webchatservice.CmdResetPollExceptions, nil); err != nil {
			t.Errorf("resetPollExceptions resolves always: %v", err)
		}
	})

	s, _ := gmsActive(t, sim, cfg)

	t.Run("poll resolved: refresh answered (WebChatService)", func(t *testing.T) {
		// The automatic poller may hold the one poll slot for a moment.
		var v any
		err := transports.ErrPollInFlight
		for i := 0; i < 100 && errors.Is(err, transports.ErrPollInFlight); i++ {
			if i > 0 {
				time.Sleep(10 * time.Millisecond)
			}
			v, err = s.self(webchatservice.CmdPoll, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		var answer struct {
			StatusCode *int   `json:"statusCode"`
			SecureKey  string `json:"secureKey"`
		}
		if raw, ok := v.(json.RawMessage); !ok || json.Unmarshal(raw, &answer) != nil || answer.StatusCode == nil ||
			*answer.StatusCode != 0 || answer.SecureKey != transports.Redacted {
			t.Fatalf("poll resolution %s, want the refresh answer without the secureKey", dump(v))
		}
		_, err = s.cmd(webchatservice.CmdPoll, nil)
		rejects(t, err, bus.ErrAccessDenied, "Access Denied to private command. Only WebChatService is allowed to invoke this command.")
	})

	t.Run("poll rejected: a poll is in flight", func(t *testing.T) {
		sim.SetDelay(800 * time.Millisecond)
		defer sim.SetDelay(0)
		a := s.svc.Plugin().CommandAsync(ctxT(t), "WebChatService.poll", nil)
		b := s.svc.Plugin().CommandAsync(ctxT(t), "WebChatService.poll", nil)
		_, ea := a.Wait(ctxT(t))
		_, eb := b.Wait(ctxT(t))
		inFlight := 0
		for _, err := range []error{ea, eb} {
			switch {
			case err == nil:
			case errors.Is(err, transports.ErrPollInFlight):
				inFlight++
				rejects(t, err, transports.ErrPollInFlight, "previous poll has not finished.")
			default:
				t.Errorf("poll: %v", err)
			}
		}
		if inFlight == 0 {
			t.Error("two concurrent polls both ran")
		}
	})

	t.Run("startPoll, stopPoll", func(t *testing.T) {
		from := s.log.len()
		s.must(webchatservice.CmdStartPoll, nil) // already polling: resolves, no event
		s.must(webchatservice.CmdStopPoll, nil)
		s.log.waitFrom(t, from, webchatservice.EventPollingStopped, nil)
		_, err := s.cmd(webchatservice.CmdStopPoll, nil)
		rejects(t, err, transports.ErrNotPolling, "Not currently polling. Ignoring command.")
		s.must(webchatservice.CmdStartPoll, nil)
		s.log.waitFrom(t, from, webchatservice.EventPollingStarted, nil)
		s.must(webchatservice.CmdStartPoll, nil)
		s.sync()
		started, stopped := 0, 0
		for _, n := range s.log.names()[from:] {
			switch n {
			case webchatservice.EventPollingStarted:
				started++
			case webchatservice.EventPollingStopped:
				stopped++
			}
		}
		if started != 1 || stopped != 1 {
			t.Errorf("pollingStarted %d, pollingStopped %d; want 1 and 1 (only real changes)", started, stopped)
		}
		if _, err := s.cmd(webchatservice.CmdResetPollExceptions, nil); err != nil {
			t.Error(err)
		}
	})

	t.Run("poll rejected: AJAX exception", func(t *testing.T) {
		sim.FailRequests(1000, 400)
		defer sim.FailRequests(0, 0)
		var err error
		for i := 0; i < 3; i++ { // the poll loop may hold the in-flight slot
			if _, err = s.self(webchatservice.CmdPoll, nil); !errors.Is(err, transports.ErrPollInFlight) {
				break
			}
		}
		var te *transports.TransportError
		if !errors.As(err, &te) {
			t.Fatalf("rejection %v (%T), want a TransportError", err, err)
		}
	})
}

func TestResolutionsGMSPollC(t *testing.T) {
	sim := gmsSim(t, simgms.Options{})
	for _, name := range []string{"no session", "active"} {
		t.Run(name, func(t *testing.T) {
			var s *ts
			if name == "active" {
				s, _ = gmsActive(t, sim, gmsModes[1].cfg(sim, nil))
			} else {
				s = newTS(t, webchatservice.Options{Config: gmsModes[1].cfg(sim, nil)})
			}
			_, err := s.self(webchatservice.CmdPoll, nil)
			rejects(t, err, transports.ErrPollingUnsupported, "This transport doesn't support polling.")
			for _, cmd := range []string{webchatservice.CmdStartPoll, webchatservice.CmdStopPoll} {
				_, err := s.cmd(cmd, nil)
				rejects(t, err, transports.ErrPollingUnsupported, "This transport doesn't support polling.")
			}
			_, err = s.cmd(webchatservice.CmdResetPollExceptions, nil)
			rejects(t, err, transports.ErrResetPollExceptionsUnsupported, "This transport doesn't support resetPollExceptions command.")
		})
	}
}

func textFile(name, content string) webchatservice.SendFileOptions {
	return webchatservice.SendFileOptions{Files: []webchatservice.File{{Name: name, ContentType: "text/plain", Size: int64(len(content)), Reader: strings.NewReader(content)}}}
}

func fileErrorCode(t *testing.T, err error) int {
	t.Helper()
	var te *transports.TransportError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		t.Fatalf("rejection %v (%T), want a TransportError with errors[]", err, err)
	}
	return te.Errors[0].Code
}

func TestResolutionsGMSFiles(t *testing.T) {
	for _, mode := range gmsModes {
		t.Run(mode.name, func(t *testing.T) {
			limits := wire.DefaultFileLimits()
			limits.UploadMaxFiles, limits.UploadMaxFileSize = 2, 64
			sim := gmsSim(t, simgms.Options{FileLimits: &limits})

			t.Run("rejected: no active session", func(t *testing.T) {
				s := newTS(t, webchatservice.Options{Config: mode.cfg(sim, nil)})
				for _, tc := range []struct {
					cmd  string
					opts any
				}{{webchatservice.CmdSendFile, textFile("a.txt", "hi")}, {webchatservice.CmdDownloadFile, map[string]any{"fileId": "1"}}, {webchatservice.CmdGetFileLimits, nil}} {
					_, err := s.cmd(tc.cmd, tc.opts)
					rejects(t, err, webchatservice.ErrNoActiveChat, "There is no active chat session.")
				}
			})

			s, chat := gmsActive(t, sim, mode.cfg(sim, nil))

			t.Run("getFileLimits resolved", func(t *testing.T) {
				v := s.must(webchatservice.CmdGetFileLimits, nil)
				fl, ok := v.(transports.FileLimits)
				if !ok || fl.MaxFiles != 2 || fl.MaxFileSize != 64 || len(fl.FileTypes) == 0 {
					t.Errorf("limits %s", dump(v))
				}
			})

			t.Run("sendFile resolved: valid type and size", func(t *testing.T) {
				if _, err := s.cmd(webchatservice.CmdSendFile, textFile("notes.txt", "hello file")); err != nil {
					t.Fatal(err)
				}
				if fs := chat.Files(); len(fs) != 1 {
					t.Errorf("files on the server: %d", len(fs))
				}
			})

			t.Run("sendFile rejected: invalid type (203)", func(t *testing.T) {
				_, err := s.cmd(webchatservice.CmdSendFile, textFile("run.exe", "MZ"))
				if code := fileErrorCode(t, err); code != 203 {
					t.Errorf("code %d, want 203", code)
				}
			})

			t.Run("sendFile rejected: size limit exceeded (202)", func(t *testing.T) {
				_, err := s.cmd(webchatservice.CmdSendFile, textFile("big.txt", strings.Repeat("x", 65)))
				if code := fileErrorCode(t, err); code != 202 {
					t.Errorf("code %d, want 202", code)
				}
			})

			t.Run("sendFile rejected: number of uploads exceeded (201)", func(t *testing.T) {
				s.must(webchatservice.CmdSendFile, textFile("two.txt", "2"))
				_, err := s.cmd(webchatservice.CmdSendFile, textFile("three.txt", "3"))
				if code := fileErrorCode(t, err); code != 201 {
					t.Errorf("code %d, want 201", code)
				}
				if fs := chat.Files(); len(fs) != 2 {
					t.Errorf("files on the server: %d, want 2 (rejected uploads never uploaded)", len(fs))
				}
			})

			t.Run("downloadFile resolved", func(t *testing.T) {
				agents := chat.Agents()
				if len(agents) == 0 {
					t.Fatal("no agent")
				}
				id, err := agents[0].UploadFile("from-agent.txt", []byte("agent content"), nil)
				if err != nil {
					t.Fatal(err)
				}
				v := s.must(webchatservice.CmdDownloadFile, map[string]any{"fileId": id, "fileName": "ignored.txt"})
				d, ok := v.(webchatservice.DownloadedFile)
				if !ok || !bytes.Equal(d.Body, []byte("agent content")) || d.FileID != id || d.Size != int64(len("agent content")) {
					t.Errorf("download %s", dump(v))
				}
			})
		})
	}

	// The HTTP-error rows: the rejection is the (AJAX Response Object) as a TransportError with the
	// status, and the session goes on.
	for _, mode := range gmsModes {
		t.Run(mode.name+" HTTP errors", func(t *testing.T) {
			sim := gmsSim(t, simgms.Options{})
			s, chat := gmsActive(t, sim, mode.cfg(sim, nil))
			httpError := func(t *testing.T, err error, status int) {
				t.Helper()
				var te *transports.TransportError
				if !errors.As(err, &te) || te.Status != status {
					t.Fatalf("rejection %v, want a TransportError with HTTP %d", err, status)
				}
			}

			t.Run("sendFile rejected: unknown error", func(t *testing.T) {
				sim.FailOperation(wire.OpFileUpload, 1, 500)
				_, err := s.cmd(webchatservice.CmdSendFile, textFile("notes.txt", "hello file"))
				httpError(t, err, 500)
				if fs := chat.Files(); len(fs) != 0 {
					t.Errorf("files on the server: %d after a failed upload", len(fs))
				}
			})

			t.Run("getFileLimits rejected: HTTP error", func(t *testing.T) {
				sim.FailOperation(wire.OpFileGetLimits, 1, 503)
				_, err := s.cmd(webchatservice.CmdGetFileLimits, nil)
				httpError(t, err, 503)
			})

			t.Run("downloadFile rejected: HTTP error", func(t *testing.T) {
				id, err := chat.Agents()[0].UploadFile("from-agent.txt", []byte("agent content"), nil)
				if err != nil {
					t.Fatal(err)
				}
				sim.FailOperation(wire.OpFileDownload, 1, 502)
				_, err = s.cmd(webchatservice.CmdDownloadFile, map[string]any{"fileId": id})
				httpError(t, err, 502)
			})

			t.Run("downloadFile rejected: unknown file (HTTP 500 with referenceId)", func(t *testing.T) {
				_, err := s.cmd(webchatservice.CmdDownloadFile, map[string]any{"fileId": "no-such-file"})
				httpError(t, err, 500)
			})

			t.Run("the session goes on", func(t *testing.T) {
				s.must(webchatservice.CmdSendFile, textFile("retry.txt", "second try"))
				if fs := chat.Files(); len(fs) != 2 { // the agent's and the retry
					t.Errorf("files on the server: %d, want 2", len(fs))
				}
				s.must(webchatservice.CmdSendMessage, map[string]any{"message": "still here"})
				s.waitMsg("echo: still here", false)
			})
		})
	}

	t.Run("C downloadFile rejected: no apiURL", func(t *testing.T) {
		sim := gmsSim(t, simgms.Options{})
		cfg := gmsModes[1].cfg(sim, nil)
		cfg["cometD"].(map[string]any)["apiURL"] = ""
		s, _ := gmsActive(t, sim, cfg)
		_, err := s.cmd(webchatservice.CmdDownloadFile, map[string]any{"fileId": "1"})
		rejects(t, err, gms.ErrFileDownloadNotConfigured, "Could not download file. Please ensure WebChat is configured properly.")
	})
}
