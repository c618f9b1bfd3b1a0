//lint:file-ignore ST1005 the rejection strings are the exact Genesys Widgets texts (capitalized, with a period)

package gms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// ErrFileDownloadNotConfigured is the rejection of downloadFile in CometD
// mode without cometD.apiURL (the exact Widgets string).
var ErrFileDownloadNotConfigured = errors.New("Could not download file. Please ensure WebChat is configured properly.")

// maxUnknownUpload bounds an upload whose size was not given and whose
// limits carry no maximum.
const maxUnknownUpload = 64 << 20

// fileCall runs one file operation: REST under /{chatId}/file…, CometD as a
// multipart POST to cometD.apiURL (chat-ntf) with operation and secureKey.
func (t *Transport) fileCall(ctx context.Context, req *wire.Request, b *body, download func(*http.Response) error) (*answer, error) {
	if t.set.mode == ModeREST {
		if b == nil {
			b = &body{}
		}
		return t.restCall(ctx, req, 0, b, download)
	}
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return nil, err
	}
	t.reqSeq++
	seq := t.reqSeq
	req.SetKeys(t.keys)
	t.mu.Unlock()
	form, err := req.NtfForm()
	if err != nil {
		return nil, &transports.TransportError{Operation: string(req.Operation), Err: err}
	}
	bd := body{multi: true}
	if b != nil {
		bd = *b
	}
	bd.form, bd.multi = form, true
	timeout := t.set.ajaxTimeout
	if req.Operation == wire.OpFileUpload {
		timeout = t.set.uploadTimeout
	}
	res, err := t.post(ctx, req.Operation, t.set.apiURL, bd, false, timeout, download)
	if res.ans == nil {
		return nil, err
	}
	a := res.ans
	t.mu.Lock()
	t.applyLocked(a, answerInfo{op: req.Operation, seq: seq, status: res.status})
	ended := t.life.Phase == transports.PhaseEnded
	t.mu.Unlock()
	if a.resp.StatusCode != wire.StatusOK {
		ae := apiError(req.Operation, res.status, a)
		if ended {
			return a, sessionEndedErr(ae)
		}
		return a, ae
	}
	return a, err
}

func (t *Transport) filesAvailable(op transports.FileOp) error {
	if t.set.mode == ModeCometD && t.set.apiURL == "" {
		if op == transports.FileOpDownload {
			return ErrFileDownloadNotConfigured
		}
		return transports.FileOpError(op)
	}
	return nil
}

// FileLimits reads the upload limits and current usage (the
// "file-client-cfg-get" Notice).
func (t *Transport) FileLimits(ctx context.Context) (transports.FileLimits, error) {
	if err := t.filesAvailable(transports.FileOpLimits); err != nil {
		return transports.FileLimits{}, err
	}
	l, raw, err := t.fileLimits(ctx)
	if err != nil {
		return transports.FileLimits{}, err
	}
	return toLimits(l, raw), nil
}

func (t *Transport) fileLimits(ctx context.Context) (wire.FileLimits, []byte, error) {
	a, err := t.fileCall(ctx, &wire.Request{Operation: wire.OpFileGetLimits}, nil, nil)
	if err != nil {
		return wire.FileLimits{}, nil, err
	}
	l, ok, err := a.resp.FileLimits()
	if err != nil || !ok {
		if err == nil {
			err = errors.New("the answer holds no file-client-cfg-get Notice")
		}
		return wire.FileLimits{}, nil, &transports.TransportError{Operation: string(wire.OpFileGetLimits), Status: http.StatusOK,
			Body: transports.RedactJSON(a.body, nil), Err: fmt.Errorf("%w: %w", transports.ErrMalformed, err)}
	}
	var raw []byte
	for i := range a.resp.Messages {
		if a.resp.Messages[i].Text == wire.FileLimitsNoticeText {
			raw = a.rawAt(i)
		}
	}
	return l, raw, nil
}

func toLimits(l wire.FileLimits, raw []byte) transports.FileLimits {
	return transports.FileLimits{
		MaxFiles: l.UploadMaxFiles, MaxFileSize: l.UploadMaxFileSize, MaxTotalSize: l.UploadMaxTotalSize,
		FileTypes: append([]string(nil), l.UploadFileTypes...), NeedAgent: l.UploadNeedAgent,
		DownloadLimit: l.DownloadAttempts, UsedFiles: l.UsedUploadMaxFiles, UsedTotalSize: l.UsedUploadMaxTotalSize,
		UsedDownloads: l.UsedDownloadAttempts, DeleteFileRule: l.DeleteFile, Raw: raw,
	}
}

// UploadFile reads the limits, checks the file against them (count, size,
// total, type: a failure is a *transports.TransportError with code 201, 202
// or 203 and the limit in advice, and nothing is uploaded), then uploads it
// as multipart. The FileUploaded event follows on the stream.
func (t *Transport) UploadFile(ctx context.Context, f transports.FileUpload) (transports.UploadResult, error) {
	if err := t.filesAvailable(transports.FileOpUpload); err != nil {
		return transports.UploadResult{}, err
	}
	if f.Body == nil || strings.TrimSpace(f.Name) == "" {
		return transports.UploadResult{}, errors.New("gms: upload: a file name and body are required")
	}
	if err := t.checkActive(); err != nil {
		return transports.UploadResult{}, err
	}
	l, _, err := t.fileLimits(ctx)
	if err != nil {
		return transports.UploadResult{}, err
	}
	rd, size := f.Body, f.Size
	if size <= 0 {
		limit := l.UploadMaxFileSize
		if limit <= 0 {
			limit = maxUnknownUpload
		}
		b, err := io.ReadAll(io.LimitReader(f.Body, limit+1))
		if err != nil {
			return transports.UploadResult{}, fmt.Errorf("gms: upload: reading %s: %w", f.Name, err)
		}
		rd, size = bytes.NewReader(b), int64(len(b))
	}
	if e := l.CheckUpload(f.Name, size); e != nil {
		return transports.UploadResult{}, &transports.TransportError{
			Operation: string(wire.OpFileUpload), StatusCode: int(wire.StatusFailed),
			Errors:      []transports.ErrorDetail{{Code: e.Code, Advice: string(e.Advice)}},
			ErrorReason: "FileUploadError", Message: "the file does not fit the upload limits; nothing was sent",
		}
	}
	ud := map[string]string{}
	for k, v := range f.UserData {
		ud[k] = v
	}
	if f.Description != "" {
		ud[wire.KeyFileDescription] = f.Description
	}
	req := &wire.Request{Operation: wire.OpFileUpload, UserData: ud}
	a, err := t.fileCall(ctx, req, &body{multi: true, fileName: f.Name, fileType: f.ContentType, file: rd}, nil)
	if err != nil {
		var te *transports.TransportError
		if errors.As(err, &te) {
			te.ErrorReason = "FileUploadError"
		}
		return transports.UploadResult{}, err
	}
	t.sentSomething()
	return transports.UploadResult{FileID: a.resp.UserData[wire.KeyFileID], Answer: a.body}, nil
}

// DownloadFile streams a file to w. In CometD mode without cometD.apiURL it
// fails with ErrFileDownloadNotConfigured.
func (t *Transport) DownloadFile(ctx context.Context, fileID string, w io.Writer) (transports.FileDetails, error) {
	if err := t.filesAvailable(transports.FileOpDownload); err != nil {
		return transports.FileDetails{}, err
	}
	if fileID == "" {
		return transports.FileDetails{}, errors.New("gms: download: empty file id")
	}
	d := transports.FileDetails{ID: fileID}
	got := false
	sink := func(res *http.Response) error {
		got = true
		d.ContentType = res.Header.Get("Content-Type")
		if _, params, err := mime.ParseMediaType(res.Header.Get("Content-Disposition")); err == nil {
			d.Name = params["filename"]
		}
		n, err := io.Copy(w, res.Body)
		d.Size = n
		return err
	}
	_, err := t.fileCall(ctx, &wire.Request{Operation: wire.OpFileDownload, FileID: fileID}, nil, sink)
	if err != nil {
		return d, err
	}
	if !got {
		return d, &transports.TransportError{Operation: string(wire.OpFileDownload), Status: http.StatusOK,
			Err: fmt.Errorf("%w: no file in the answer", transports.ErrMalformed)}
	}
	return d, nil
}

// DeleteFile deletes one of the client's files (the FileDeleted event follows).
func (t *Transport) DeleteFile(ctx context.Context, fileID string) error {
	if err := t.filesAvailable(transports.FileOpDelete); err != nil {
		return err
	}
	if fileID == "" {
		return errors.New("gms: delete: empty file id")
	}
	_, err := t.fileCall(ctx, &wire.Request{Operation: wire.OpFileDelete, FileID: fileID}, nil, nil)
	return err
}
