package wire

import (
	"strings"
	"testing"
)

func TestCheckUpload(t *testing.T) {
	base := DefaultFileLimits()
	tests := []struct {
		name   string
		mod    func(*FileLimits)
		file   string
		size   int64
		code   int
		advice string
	}{
		{"fits", nil, "a.txt", 100, 0, ""},
		{"upper-case ext", nil, "A.PDF", 100, 0, ""},
		{"too many", func(l *FileLimits) { l.UsedUploadMaxFiles = 3 }, "a.txt", 1, CodeTooManyFiles, "3"},
		{"one too large", nil, "a.txt", 2<<20 + 1, CodeTotalSizeExceeded, "2097152"},
		{"total too large", func(l *FileLimits) { l.UsedUploadMaxTotalSize = 4 << 20 }, "a.txt", 1<<20 + 1, CodeTotalSizeExceeded, "5242880"},
		{"type", nil, "a.exe", 1, CodeFileTypeNotAllowed, DefaultFileTypes},
		{"no ext", nil, "README", 1, CodeFileTypeNotAllowed, DefaultFileTypes},
		{"any type when list empty", func(l *FileLimits) { l.UploadFileTypes = nil }, "a.exe", 1, 0, ""},
		{"zero limits mean none", func(l *FileLimits) { *l = FileLimits{} }, "x", 1 << 40, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := base
			l.UploadFileTypes = append([]string(nil), base.UploadFileTypes...)
			if tt.mod != nil {
				tt.mod(&l)
			}
			e := l.CheckUpload(tt.file, tt.size)
			if tt.code == 0 {
				if e != nil {
					t.Fatalf("unexpected %v", e)
				}
				return
			}
			if e == nil || e.Code != tt.code || string(e.Advice) != tt.advice {
				t.Fatalf("got %v, want %d (%s)", e, tt.code, tt.advice)
			}
		})
	}
}

func TestParseFileLimits(t *testing.T) {
	l := DefaultFileLimits()
	l.UsedUploadMaxFiles, l.UsedUploadMaxTotalSize, l.UsedDownloadAttempts = 1, 300, 2
	back, err := ParseFileLimits(l.UserData())
	if err != nil {
		t.Fatal(err)
	}
	if back.UsedUploadMaxFiles != 1 || back.UsedUploadMaxTotalSize != 300 || back.UsedDownloadAttempts != 2 || !back.UploadNeedAgent {
		t.Fatalf("%+v", back)
	}
	for _, bad := range []map[string]string{
		{KeyUploadMaxFiles: "x"},
		{KeyUploadMaxFileSize: "-1"},
		{KeyUploadNeedAgent: "maybe"},
		{KeyUsedDownloadAttempts: "99999999999"},
	} {
		if _, err := ParseFileLimits(bad); err == nil || !strings.HasPrefix(err.Error(), "wire: file limits: ") {
			t.Fatalf("%v: err = %v", bad, err)
		}
	}
}
