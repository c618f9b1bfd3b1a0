package wire

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// FileLimitsNoticeText is the text of the Notice that carries the file limits.
const FileLimitsNoticeText = "file-client-cfg-get"

// File-limit userData keys (§8). All values travel as strings.
const (
	KeyDownloadAttempts       = "download-attempts"
	KeyUploadMaxFiles         = "upload-max-files"
	KeyUploadMaxFileSize      = "upload-max-file-size"
	KeyUploadMaxTotalSize     = "upload-max-total-size"
	KeyUploadNeedAgent        = "upload-need-agent"
	KeyUploadFileTypes        = "upload-file-types"
	KeyUsedUploadMaxFiles     = "used-upload-max-files"
	KeyUsedUploadMaxTotalSize = "used-upload-max-total-size"
	KeyUsedDownloadAttempts   = "used-download-attempts"
	KeyDeleteFile             = "delete-file"
)

// FileLimits are the file-transfer limits and current usage of a session.
type FileLimits struct {
	UploadMaxFiles     int
	UploadMaxFileSize  int64
	UploadMaxTotalSize int64
	// UploadFileTypes are lower-case extensions without the dot.
	UploadFileTypes  []string
	UploadNeedAgent  bool
	DownloadAttempts int
	DeleteFile       string

	UsedUploadMaxFiles     int
	UsedUploadMaxTotalSize int64
	UsedDownloadAttempts   int
}

// DefaultFileTypes is the example list of the GMS documentation.
const DefaultFileTypes = "bmp:csv:doc:docx:gif:htm:jpg:pdf:png:ppt:pptx:tif:txt:xls:xlsx"

// DefaultFileLimits returns the Chat Server defaults with the documented
// example values (3 files, 2 MiB, 5 MiB, 10 downloads, need agent, "odd").
func DefaultFileLimits() FileLimits {
	return FileLimits{
		UploadMaxFiles:     3,
		UploadMaxFileSize:  2 << 20,
		UploadMaxTotalSize: 5 << 20,
		UploadFileTypes:    strings.Split(DefaultFileTypes, ":"),
		UploadNeedAgent:    true,
		DownloadAttempts:   10,
		DeleteFile:         "odd",
	}
}

// UserData returns the limits as the Notice's userData.
func (l FileLimits) UserData() map[string]string {
	return map[string]string{
		KeyUploadMaxFiles:         strconv.Itoa(l.UploadMaxFiles),
		KeyUploadMaxFileSize:      strconv.FormatInt(l.UploadMaxFileSize, 10),
		KeyUploadMaxTotalSize:     strconv.FormatInt(l.UploadMaxTotalSize, 10),
		KeyUploadFileTypes:        strings.Join(l.UploadFileTypes, ":"),
		KeyUploadNeedAgent:        strconv.FormatBool(l.UploadNeedAgent),
		KeyDownloadAttempts:       strconv.Itoa(l.DownloadAttempts),
		KeyDeleteFile:             l.DeleteFile,
		KeyUsedUploadMaxFiles:     strconv.Itoa(l.UsedUploadMaxFiles),
		KeyUsedUploadMaxTotalSize: strconv.FormatInt(l.UsedUploadMaxTotalSize, 10),
		KeyUsedDownloadAttempts:   strconv.Itoa(l.UsedDownloadAttempts),
	}
}

// ParseFileLimits reads limits from the Notice's userData. Absent keys stay
// zero (no limit for the max-* keys); a present key with a bad value is an error.
func ParseFileLimits(ud map[string]string) (FileLimits, error) {
	var l FileLimits
	var maxFiles, dl, usedFiles, usedDl int64
	ints := []struct {
		key  string
		dst  *int64
		bits int
	}{
		{KeyUploadMaxFiles, &maxFiles, 32},
		{KeyUploadMaxFileSize, &l.UploadMaxFileSize, 64},
		{KeyUploadMaxTotalSize, &l.UploadMaxTotalSize, 64},
		{KeyDownloadAttempts, &dl, 32},
		{KeyUsedUploadMaxFiles, &usedFiles, 32},
		{KeyUsedUploadMaxTotalSize, &l.UsedUploadMaxTotalSize, 64},
		{KeyUsedDownloadAttempts, &usedDl, 32},
	}
	for _, f := range ints {
		s, ok := ud[f.key]
		if !ok || strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, f.bits)
		if err != nil || n < 0 {
			return FileLimits{}, fmt.Errorf("wire: file limits: %s: want an integer ≥ 0", f.key)
		}
		*f.dst = n
	}
	l.UploadMaxFiles, l.DownloadAttempts = int(maxFiles), int(dl)
	l.UsedUploadMaxFiles, l.UsedDownloadAttempts = int(usedFiles), int(usedDl)
	if s, ok := ud[KeyUploadNeedAgent]; ok && strings.TrimSpace(s) != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return FileLimits{}, fmt.Errorf("wire: file limits: %s: want true or false", KeyUploadNeedAgent)
		}
		l.UploadNeedAgent = b
	}
	if s := strings.TrimSpace(ud[KeyUploadFileTypes]); s != "" {
		for _, t := range strings.Split(s, ":") {
			if t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), ".")); t != "" {
				l.UploadFileTypes = append(l.UploadFileTypes, t)
			}
		}
	}
	l.DeleteFile = ud[KeyDeleteFile]
	return l, nil
}

// FileLimits finds the file-limits Notice (text "file-client-cfg-get") in r
// and parses it. ok is false when r holds none.
func (r *Response) FileLimits() (l FileLimits, ok bool, err error) {
	for i := range r.Messages {
		e := &r.Messages[i]
		if e.Type == EventNotice && e.Text == FileLimitsNoticeText {
			l, err = ParseFileLimits(e.UserData)
			return l, err == nil, err
		}
	}
	return FileLimits{}, false, nil
}

// TypeAllowed reports whether name's extension is in UploadFileTypes (every
// type is allowed when the list is empty). The match ignores case.
func (l FileLimits) TypeAllowed(name string) bool {
	if len(l.UploadFileTypes) == 0 {
		return true
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	if ext == "" {
		return false
	}
	for _, t := range l.UploadFileTypes {
		if strings.EqualFold(t, ext) {
			return true
		}
	}
	return false
}

// CheckUpload pre-validates one upload against the limits and the current
// usage, in the server's order: 201 (count, advice = max files), 202 (one
// file larger than upload-max-file-size, advice = that size; or the total
// over upload-max-total-size, advice = that total), 203 (type, advice = the
// allowed types). It returns nil when the upload fits. A zero limit means none.
func (l FileLimits) CheckUpload(name string, size int64) *Error {
	if l.UploadMaxFiles > 0 && l.UsedUploadMaxFiles+1 > l.UploadMaxFiles {
		return &Error{Code: CodeTooManyFiles, Advice: FlexString(strconv.Itoa(l.UploadMaxFiles))}
	}
	if l.UploadMaxFileSize > 0 && size > l.UploadMaxFileSize {
		return &Error{Code: CodeTotalSizeExceeded, Advice: FlexString(strconv.FormatInt(l.UploadMaxFileSize, 10))}
	}
	if l.UploadMaxTotalSize > 0 && l.UsedUploadMaxTotalSize+size > l.UploadMaxTotalSize {
		return &Error{Code: CodeTotalSizeExceeded, Advice: FlexString(strconv.FormatInt(l.UploadMaxTotalSize, 10))}
	}
	if !l.TypeAllowed(name) {
		return &Error{Code: CodeFileTypeNotAllowed, Advice: FlexString(strings.Join(l.UploadFileTypes, ":"))}
	}
	return nil
}
