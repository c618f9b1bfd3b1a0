package gms

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/cxbus/webchat/transports/gms/wire"
)

func uploadREST(t *testing.T, s *Server, k wire.Keys, name string, content []byte, ud map[string]string) answer {
	t.Helper()
	r := wire.Request{Operation: wire.OpFileUpload, UserData: ud}
	r.SetKeys(k)
	form, _ := r.Form()
	u, _ := wire.RESTURL(s.ChatURL(svc), wire.OpFileUpload, k.ChatID, "", true)
	return postMultipart(t, u, form, name, content, nil)
}

func TestFilesREST(t *testing.T) {
	s, _ := newSim(t, Options{})
	k, c := startREST(t, s)

	// Limits: a Notice without index holding the defaults.
	a := op(t, s, k, wire.Request{Operation: wire.OpFileGetLimits})
	l, ok, err := a.resp.FileLimits()
	if !ok || err != nil || l.UploadMaxFiles != 3 || l.UploadMaxFileSize != 2<<20 || !l.UploadNeedAgent || a.resp.Messages[0].Index != 0 {
		t.Fatalf("limits: %v %v %s", ok, err, a.body)
	}

	// No agent yet: upload-need-agent.
	a = uploadREST(t, s, k, "a.txt", []byte("x"), nil)
	if a.status != 400 || a.resp.Errors[0].Code != wire.CodeUploadNeedsAgent {
		t.Fatalf("need agent: %d %s", a.status, a.body)
	}
	agent, _ := c.JoinAgent("Ann")

	tests := []struct {
		name    string
		file    string
		size    int
		status  int
		code    int
		advice  string
		useFile bool
	}{
		{"type not allowed", "a.exe", 10, 400, wire.CodeFileTypeNotAllowed, wire.DefaultFileTypes, true},
		{"one file too large", "big.pdf", 2<<20 + 1, 400, wire.CodeTotalSizeExceeded, "2097152", true},
		{"first", "one.txt", 2 << 20, 200, 0, "", true},
		{"second", "two.pdf", 2 << 20, 200, 0, "", true},
		{"total exceeded", "three.txt", 1<<20 + 1, 400, wire.CodeTotalSizeExceeded, "5242880", true},
		{"third", "three.txt", 10, 200, 0, "", true},
		{"too many", "four.txt", 10, 400, wire.CodeTooManyFiles, "3", true},
		{"no file part", "", 0, 400, wire.CodeInvalidRequest, "", false},
	}
	var ids []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := uploadREST(t, s, k, tt.file, bytes.Repeat([]byte("z"), tt.size), map[string]string{wire.KeyFileDescription: tt.name})
			if a.status != tt.status {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if tt.code != 0 {
				e := a.resp.Errors[0]
				if e.Code != tt.code || (tt.advice != "" && string(e.Advice) != tt.advice) {
					t.Fatalf("error %+v, want %d (%s)", e, tt.code, tt.advice)
				}
				return
			}
			id := a.resp.UserData[wire.KeyFileID]
			if len(id) != 16 {
				t.Fatalf("file-id: %s", a.body)
			}
			ids = append(ids, id)
			e := last(c)
			if e.Type != wire.EventFileUploaded || e.UserData[wire.KeyFileID] != id || e.UserData[wire.KeyFileName] != tt.file ||
				e.UserData[wire.KeyFileDescription] != tt.name {
				t.Fatalf("event %+v", e)
			}
		})
	}
	if n, err := wire.ParseFileLimits(op(t, s, k, wire.Request{Operation: wire.OpFileGetLimits}).resp.Messages[0].UserData); err != nil || n.UsedUploadMaxFiles != 3 || n.UsedUploadMaxTotalSize != 4<<20+10 {
		t.Fatalf("usage %+v %v", n, err)
	}

	// Download counts attempts up to download-attempts.
	for i := 0; i < 10; i++ {
		a := op(t, s, k, wire.Request{Operation: wire.OpFileDownload, FileID: ids[2]})
		if a.status != 200 || string(a.body) != strings.Repeat("z", 10) || a.header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("download %d: %d %q", i, a.status, a.body)
		}
	}
	a = op(t, s, k, wire.Request{Operation: wire.OpFileDownload, FileID: ids[2]})
	if a.status != 500 || a.resp.Errors[0].Code != wire.CodeDownloadLimit || !strings.Contains(string(a.body), `"referenceId"`) {
		t.Fatalf("download limit: %d %s", a.status, a.body)
	}
	a = op(t, s, k, wire.Request{Operation: wire.OpFileDownload, FileID: "NOPE"})
	if a.status != 500 || a.resp.Errors[0].Code != wire.CodeFileNotFound {
		t.Fatalf("unknown file: %d %s", a.status, a.body)
	}

	// Delete: own file ok (FileDeleted), agent file forbidden.
	a = op(t, s, k, wire.Request{Operation: wire.OpFileDelete, FileID: ids[0]})
	if a.status != 200 || a.resp.StatusCode != 0 || last(c).Type != wire.EventFileDeleted || last(c).UserData[wire.KeyFileID] != ids[0] {
		t.Fatalf("delete: %s", a.body)
	}
	agentFile, err := agent.UploadFile("agent.pdf", []byte("pdf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a = op(t, s, k, wire.Request{Operation: wire.OpFileDelete, FileID: agentFile})
	if a.status != 400 || a.resp.Errors[0].Code != wire.CodeDeleteForbidden {
		t.Fatalf("delete agent file: %d %s", a.status, a.body)
	}
	a = op(t, s, k, wire.Request{Operation: wire.OpFileDownload, FileID: agentFile})
	if string(a.body) != "pdf" {
		t.Fatalf("download agent file: %s", a.body)
	}
	if fs := c.Files(); len(fs) != 4 || !fs[0].Deleted || fs[3].Owner != wire.PartyAgent {
		t.Fatalf("files %+v", fs)
	}
}

// TestFilesNtf drives the chat-ntf endpoint the way CometD clients do:
// multipart (Widgets) and url-encoded, "download" alias, fileId in the query.
func TestFilesNtf(t *testing.T) {
	lim := wire.DefaultFileLimits()
	lim.UploadNeedAgent = false
	s, _ := newSim(t, Options{FileLimits: &lim})
	k, c := startREST(t, s)
	ntf := s.NtfURL()

	a := postMultipart(t, ntf, url.Values{"operation": {"fileGetLimits"}, "secureKey": {k.SecureKey}}, "", nil, nil)
	if l, ok, _ := a.resp.FileLimits(); !ok || l.UploadNeedAgent {
		t.Fatalf("limits: %s", a.body)
	}
	a = postMultipart(t, ntf, url.Values{"operation": {"fileUpload"}, "secureKey": {k.SecureKey}, "userData[file-description]": {"March invoice"}}, "inv.pdf", []byte("PDF"), nil)
	id := a.resp.UserData[wire.KeyFileID]
	if a.status != 200 || id == "" || a.resp.SecureKey != k.SecureKey {
		t.Fatalf("upload: %s", a.body)
	}
	a = postForm(t, ntf+"?fileId="+id, url.Values{"operation": {"download"}, "secureKey": {k.SecureKey}}, nil)
	if a.status != 200 || string(a.body) != "PDF" {
		t.Fatalf("download: %d %s", a.status, a.body)
	}
	a = postForm(t, ntf, url.Values{"operation": {"fileDelete"}, "secureKey": {k.SecureKey}, "fileId": {id}}, nil)
	if a.status != 200 || a.resp.StatusCode != 0 {
		t.Fatalf("delete: %s", a.body)
	}
	if c.Files()[0].Deleted != true {
		t.Fatal("not deleted")
	}
	for _, bad := range []url.Values{
		{"operation": {"sendMessage"}, "secureKey": {k.SecureKey}},
		{"secureKey": {k.SecureKey}},
	} {
		if a := postForm(t, ntf, bad, nil); a.status != 400 || a.resp.Errors[0].Code != wire.CodeInvalidRequest {
			t.Fatalf("%v: %d %s", bad, a.status, a.body)
		}
	}
	if a := postForm(t, ntf, url.Values{"operation": {"fileGetLimits"}, "secureKey": {"bad"}}, nil); a.resp.StatusCode != 2 || a.resp.Errors[0].Code != wire.CodeSessionNotFound {
		t.Fatalf("bad key: %s", a.body)
	}
}
