package gms

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

func TestFiles(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx := testCtx(t)
		lim := wire.DefaultFileLimits()
		lim.UploadMaxFiles = 2
		lim.UploadMaxFileSize = 1000
		lim.DeleteFile = "true"
		s := startSim(t, simgms.Options{FileLimits: &lim})
		c := newClient(t, mk(s))
		caps := c.Capabilities()
		if !caps.FileUpload || !caps.FileDownload || !caps.FileLimits || !caps.FileDelete {
			t.Fatalf("capabilities %+v", caps)
		}
		chat := c.startChat(t, ctx, s)
		ann, _ := chat.JoinAgent("Ann")

		l, err := c.FileLimits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l.MaxFiles != 2 || l.MaxFileSize != 1000 || !l.NeedAgent || len(l.FileTypes) == 0 || len(l.Raw) == 0 {
			t.Fatalf("limits %+v", l)
		}

		// Pre-validation: nothing reaches the server.
		for _, tc := range []struct {
			name string
			size int
			code int
		}{
			{"tool.exe", 10, wire.CodeFileTypeNotAllowed},
			{"big.pdf", 1001, wire.CodeTotalSizeExceeded},
		} {
			_, err := c.UploadFile(ctx, transports.FileUpload{Name: tc.name, Body: bytes.NewReader(make([]byte, tc.size))})
			var te *transports.TransportError
			if !errors.As(err, &te) || len(te.Errors) != 1 || te.Errors[0].Code != tc.code || te.ErrorReason != "FileUploadError" {
				t.Fatalf("%s: error %v, want code %d", tc.name, err, tc.code)
			}
		}
		if n := len(chat.Files()); n != 0 {
			t.Fatalf("%d files uploaded by rejected uploads", n)
		}

		res, err := c.UploadFile(ctx, transports.FileUpload{Name: "invoice.pdf", ContentType: "application/pdf",
			Body: strings.NewReader("%PDF-1.4 hello"), Description: "my invoice", UserData: map[string]string{"order": "17"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.FileID == "" {
			t.Fatal("no file id")
		}
		evs := c.rec.WaitFor(t, "FileUploaded", msgWith(transports.TypeFileUploaded, transports.ParticipantClient, ""))
		for _, m := range messages(evs) {
			if m.Type == transports.TypeFileUploaded {
				if m.File == nil || m.File.ID != res.FileID || m.File.Name != "invoice.pdf" || m.File.Size != 14 || m.File.Description != "my invoice" {
					t.Fatalf("file details %+v", m.File)
				}
			}
		}
		if f := chat.Files()[0]; f.UserData["order"] != "17" {
			t.Errorf("upload metadata %v", f.UserData)
		}

		agentFile, err := ann.UploadFile("reply.txt", []byte("from the agent"), nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		d, err := c.DownloadFile(ctx, agentFile, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if buf.String() != "from the agent" || d.Name != "reply.txt" || d.Size != 14 || d.ID != agentFile {
			t.Fatalf("download %+v %q", d, buf.String())
		}
		var te *transports.TransportError
		if _, err := c.DownloadFile(ctx, "nope", &buf); !errors.As(err, &te) || len(te.Errors) == 0 {
			t.Fatalf("download of an unknown file: %v", err)
		}

		if err := c.DeleteFile(ctx, res.FileID); err != nil {
			t.Fatal(err)
		}
		c.rec.WaitFor(t, "FileDeleted", msgWith(transports.TypeFileDeleted, transports.ParticipantClient, ""))
		if err := c.DeleteFile(ctx, agentFile); !errors.As(err, &te) {
			t.Fatalf("deleting the agent's file: %v", err)
		}

		// Two more uploads fit (the delete freed one), the third is refused before upload (201).
		for i := 0; i < 2; i++ {
			if _, err := c.UploadFile(ctx, transports.FileUpload{Name: "a.txt", Body: strings.NewReader("x")}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = c.UploadFile(ctx, transports.FileUpload{Name: "a.txt", Body: strings.NewReader("x")})
		if !errors.As(err, &te) || te.Errors[0].Code != wire.CodeTooManyFiles || te.Errors[0].Advice != "2" {
			t.Fatalf("third upload: %v", err)
		}
	})
}

// TestFilesNeedAgent: the server's refusal (no agent yet) is a structured error.
func TestFilesNeedAgent(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	c := newClient(t, restConfig(s))
	c.startChat(t, ctx, s)
	_, err := c.UploadFile(ctx, transports.FileUpload{Name: "a.txt", Size: 1, Body: strings.NewReader("x")})
	var te *transports.TransportError
	if !errors.As(err, &te) || te.Status != 400 || len(te.Errors) != 1 || te.Errors[0].Code != wire.CodeUploadNeedsAgent {
		t.Fatalf("upload before an agent joined: %v", err)
	}
}

// TestCometDFilesWithoutAPIURL: CometD without cometD.apiURL has no file
// transfer; downloadFile rejects with the Widgets string.
func TestCometDFilesWithoutAPIURL(t *testing.T) {
	ctx := testCtx(t)
	s := startSim(t, simgms.Options{})
	cfg := cometConfig(s, true)
	cfg.CometD.APIURL = ""
	c := newClient(t, cfg)
	caps := c.Capabilities()
	if caps.FileUpload || caps.FileLimits || caps.FileDelete || !caps.FileDownload {
		t.Fatalf("capabilities %+v", caps)
	}
	c.startChat(t, ctx, s)
	var buf bytes.Buffer
	if _, err := c.DownloadFile(ctx, "x", &buf); !errors.Is(err, ErrFileDownloadNotConfigured) ||
		err.Error() != "Could not download file. Please ensure WebChat is configured properly." {
		t.Fatalf("download: %v", err)
	}
	if _, err := c.UploadFile(ctx, transports.FileUpload{Name: "a.txt", Body: strings.NewReader("x")}); !errors.Is(err, transports.ErrFileUploadUnsupported) {
		t.Fatalf("upload: %v", err)
	}
	if _, err := c.FileLimits(ctx); !errors.Is(err, transports.ErrFileLimitsUnsupported) {
		t.Fatalf("limits: %v", err)
	}
}
