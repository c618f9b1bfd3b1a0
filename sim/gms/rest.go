package gms

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

func (s *Server) credentialsOK(user, pass string) bool {
	want := s.opts.BasicAuth
	if want == nil {
		return true
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(want.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(want.Password))
	return u&p == 1
}

// httpGate applies the method, fault, auth and content-type rules shared by
// REST and chat-ntf. It reports whether the request may proceed.
func (s *Server) httpGate(w http.ResponseWriter, r *http.Request, apikey bool) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "gms: only POST is allowed", http.StatusMethodNotAllowed)
		return false
	}
	if st := s.faults.takeFail(); st != 0 {
		http.Error(w, "gms: injected failure", st)
		return false
	}
	if apikey && s.opts.APIKey != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("apikey")), []byte(s.opts.APIKey)) != 1 {
		s.writeJSON(w, http.StatusUnauthorized, failure(0, s.st.codes.NotAuthorized, "missing or invalid apikey", false).resp)
		return false
	}
	if s.opts.BasicAuth != nil {
		u, p, ok := r.BasicAuth()
		if !ok || !s.credentialsOK(u, p) {
			w.Header().Set("WWW-Authenticate", `Basic realm="gms"`)
			s.writeJSON(w, http.StatusUnauthorized, failure(0, s.st.codes.NotAuthorized, "not authorized", false).resp)
			return false
		}
	}
	if !s.opts.LenientContentType {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" {
			http.Error(w, "gms: Content-Type must be application/x-www-form-urlencoded or multipart/form-data", http.StatusUnsupportedMediaType)
			return false
		}
	}
	return true
}

// readForm parses the body (url-encoded or multipart) into r.Form (query
// values included) and returns the upload's file part, if any.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request, fileOp bool) (*upload, int, error) {
	limit := s.st.maxBody
	if fileOp {
		limit = s.uploadLimit()
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, errors.New("gms: request body too large")
		}
		return nil, http.StatusBadRequest, errors.New("gms: malformed form body")
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File[wire.FieldFile]) == 0 {
		return nil, 0, nil
	}
	fh := r.MultipartForm.File[wire.FieldFile][0]
	f, err := fh.Open()
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("gms: unreadable file part")
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, http.StatusBadRequest, errors.New("gms: unreadable file part")
	}
	return &upload{name: fh.Filename, content: b}, 0, nil
}

// uploadLimit bounds upload bodies: one file over the limit still arrives,
// so the answer can be 202 rather than 413.
func (s *Server) uploadLimit() int64 {
	if m := s.st.limits.UploadMaxFileSize; m > 0 {
		return m + 1<<20
	}
	return 64 << 20
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "gms: encoding answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// serveREST serves /genesys/2/chat/{service}/….
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	p, err := wire.ParseRESTPath(r.URL.Path)
	if err != nil {
		http.Error(w, "gms: unknown Chat V2 REST path", http.StatusNotFound)
		return
	}
	if !s.httpGate(w, r, true) {
		return
	}
	up, st, err := s.readForm(w, r, p.Op == wire.OpFileUpload)
	if err != nil {
		http.Error(w, err.Error(), st)
		return
	}
	req, err := wire.ParseForm(p.Op, p.ChatID, p.FileID, r.Form)
	if err != nil {
		re := err.(*wire.RequestError)
		s.writeJSON(w, http.StatusBadRequest, failure(0, re.Code, re.Field+": "+re.Msg, false).resp)
		return
	}
	req.ChatID = p.ChatID // the path wins over a form field
	if st := s.faults.takeOpFail(req.Operation); st != 0 {
		http.Error(w, "gms: injected failure", st)
		return
	}
	out := s.exec(viaREST, p.Service, req, nil, up)
	s.finishHTTP(w, r, out)
}

// serveNtf serves POST /genesys/2/chat-ntf (file operations of CometD clients).
func (s *Server) serveNtf(w http.ResponseWriter, r *http.Request) {
	if !s.httpGate(w, r, false) {
		return
	}
	op := r.URL.Query().Get(wire.FieldOperation)
	isUpload := op == string(wire.OpFileUpload)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		isUpload = true // the operation field is inside the body: allow the upload size
	}
	up, st, err := s.readForm(w, r, isUpload)
	if err != nil {
		http.Error(w, err.Error(), st)
		return
	}
	req, err := wire.ParseNtfForm(r.Form)
	if err != nil {
		re := err.(*wire.RequestError)
		s.writeJSON(w, http.StatusBadRequest, failure(0, re.Code, re.Field+": "+re.Msg, false).resp)
		return
	}
	if st := s.faults.takeOpFail(req.Operation); st != 0 {
		http.Error(w, "gms: injected failure", st)
		return
	}
	service := ""
	if c := s.chatByKey(req.SecureKey); c != nil {
		service = c.service
	}
	if service == "" {
		s.writeJSON(w, http.StatusOK, failure(0, s.st.codes.SessionNotFound, "chat session not found or secureKey invalid", true).resp)
		return
	}
	out := s.exec(viaNtf, service, req, nil, up)
	s.finishHTTP(w, r, out)
}

// finishHTTP applies the delay fault, writes the answer and runs the script.
func (s *Server) finishHTTP(w http.ResponseWriter, r *http.Request, out outcome) {
	if d := s.faults.getDelay(); d > 0 {
		_ = transports.Sleep(r.Context(), s.clock, d)
	}
	if out.clientMsg != nil && out.chat != nil {
		defer out.chat.onClientMessage(*out.clientMsg)
	}
	if out.file != nil {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": out.file.name}))
		w.Header().Set("Content-Length", strconv.Itoa(len(out.file.content)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out.file.content)
		return
	}
	status := out.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusInternalServerError {
		// A failed download: HTTP 500 with the request's referenceId.
		b, err := json.Marshal(out.resp)
		if err == nil && len(b) > 2 {
			b = append(b[:len(b)-1], []byte(`,"referenceId":"`+s.newHex16(true)+`"}`)...)
		}
		s.writeJSON(w, status, json.RawMessage(b))
		return
	}
	s.writeJSON(w, status, out.resp)
}
