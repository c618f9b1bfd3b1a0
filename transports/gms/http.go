package gms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// defaultHTTPClient is used when Options.HTTPClient is nil; per-request
// deadlines come from ajaxTimeout.
var defaultHTTPClient = &http.Client{}

// httpResult is the outcome of one POST: the HTTP status and, when the body
// was a Chat V2 response, the decoded answer.
type httpResult struct {
	status int
	ans    *answer
	header http.Header
}

// body is a request body: url-encoded fields, or multipart fields plus an
// optional file part.
type body struct {
	form     url.Values
	multi    bool
	fileName string
	fileType string
	file     io.Reader
}

func (b body) encode() (io.Reader, string, error) {
	if !b.multi {
		return strings.NewReader(b.form.Encode()), "application/x-www-form-urlencoded", nil
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := wire.WriteFields(mw, b.form); err != nil {
		return nil, "", err
	}
	if b.file != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, wire.FieldFile, escapeQuotes(b.fileName))}
		ct := b.fileType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h["Content-Type"] = []string{ct}
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := io.Copy(w, b.file); err != nil {
			return nil, "", fmt.Errorf("gms: reading the file to upload: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return &buf, mw.FormDataContentType(), nil
}

func escapeQuotes(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "").Replace(s)
}

// post sends one POST to target. rest selects the REST header set (apikey).
// timeout 0 means no deadline of our own. The error is a
// *transports.TransportError for network failures, timeouts and HTTP
// statuses other than 200 (the answer is still returned when the body was a
// Chat V2 response), and for a malformed 200 body. download, when non-nil,
// receives a 200 body that is not JSON.
func (t *Transport) post(ctx context.Context, op wire.Operation, target string, b body, rest bool, timeout time.Duration, download func(*http.Response) error) (httpResult, error) {
	if timeout > 0 && t.hc.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	rd, ct, err := b.encode()
	if err != nil {
		return httpResult{}, &transports.TransportError{Operation: string(op), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, rd)
	if err != nil {
		return httpResult{}, &transports.TransportError{Operation: string(op), Err: fmt.Errorf("gms: bad URL for %s", op)}
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	for k, v := range t.set.header {
		req.Header[k] = v
	}
	if rest && t.set.apikey != "" {
		req.Header.Set("apikey", t.set.apikey)
	}
	res, err := t.hc.Do(req)
	if err != nil {
		return httpResult{}, &transports.TransportError{Operation: string(op), Err: scrub(err)}
	}
	defer res.Body.Close()
	out := httpResult{status: res.StatusCode, header: res.Header}
	isJSON := strings.HasPrefix(strings.ToLower(res.Header.Get("Content-Type")), "application/json")
	if res.StatusCode == http.StatusOK && download != nil && !isJSON {
		if err := download(res); err != nil {
			return out, &transports.TransportError{Operation: string(op), Status: res.StatusCode, Err: err}
		}
		return out, nil
	}
	raw, rerr := io.ReadAll(io.LimitReader(res.Body, wire.MaxResponseSize+1))
	if rerr != nil {
		return out, &transports.TransportError{Operation: string(op), Status: res.StatusCode, Err: scrub(rerr)}
	}
	if len(raw) > 0 && (isJSON || bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))) {
		if a, derr := decodeAnswer(raw); derr == nil {
			out.ans = a
		} else if res.StatusCode == http.StatusOK {
			return out, &transports.TransportError{Operation: string(op), Status: res.StatusCode,
				Body: transports.RedactJSON(raw, nil), Err: fmt.Errorf("%w: %w", transports.ErrMalformed, derr)}
		}
	} else if res.StatusCode == http.StatusOK {
		return out, &transports.TransportError{Operation: string(op), Status: res.StatusCode,
			Err: fmt.Errorf("%w: the answer is not a Chat V2 response", transports.ErrMalformed)}
	}
	if res.StatusCode != http.StatusOK {
		te := &transports.TransportError{Operation: string(op), Status: res.StatusCode}
		if out.ans != nil {
			fillFromAnswer(te, out.ans)
		} else {
			te.Message = http.StatusText(res.StatusCode)
		}
		if d, ok := transports.ParseRetryAfter(res.Header.Get("Retry-After"), t.clock.Now()); ok {
			te.RetryAfter = d
		}
		classify(te)
		return out, te
	}
	return out, nil
}

// fillFromAnswer copies the API status and errors of a into te.
func fillFromAnswer(te *transports.TransportError, a *answer) {
	te.StatusCode = int(a.resp.StatusCode)
	for _, e := range a.resp.Errors {
		te.Errors = append(te.Errors, transports.ErrorDetail{Code: e.Code, Advice: string(e.Advice)})
	}
	te.Body = transports.RedactJSON(a.body, nil)
}

// classify sets the Widgets errorReason (webchatservice.md §6.10).
func classify(te *transports.TransportError) {
	if te.ErrorReason != "" {
		return
	}
	for _, e := range te.Errors {
		if e.Code == wire.CodeInvalidService {
			te.ErrorReason = "InvalidService"
			return
		}
	}
	switch te.Status {
	case http.StatusNotFound, http.StatusInternalServerError, http.StatusBadGateway:
		if len(te.Errors) == 0 {
			te.ErrorReason = "InvalidService"
		}
	}
}

// apiError is the error of an answer whose statusCode is not 0.
func apiError(op wire.Operation, status int, a *answer) *transports.TransportError {
	te := &transports.TransportError{Operation: string(op), Status: status}
	fillFromAnswer(te, a)
	if e := a.resp.Err(); e != nil {
		te.Err = e
	}
	classify(te)
	return te
}

// transportFailure reports whether err means GMS could not be reached (a
// network error, a timeout or an HTTP 5xx without a Chat V2 answer): such
// failures feed the connectivity state machine and may be retried.
func transportFailure(err error, res httpResult) bool {
	var te *transports.TransportError
	if !errors.As(err, &te) {
		return false
	}
	if te.Status == 0 {
		return true
	}
	return te.Status >= 500 && res.ans == nil
}

// scrub removes the URL (which may carry ids) from url.Error texts.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("gms: %s request: %w", strings.ToLower(ue.Op), context.DeadlineExceeded)
		}
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("gms: %s request: %w", strings.ToLower(ue.Op), context.Canceled)
		}
		return fmt.Errorf("gms: %s request: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}
