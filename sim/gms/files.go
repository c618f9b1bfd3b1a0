package gms

import (
	"maps"
	"strconv"

	"github.com/cxbus/webchat/transports/gms/wire"
)

// file is one uploaded file.
type file struct {
	id        string
	name      string
	content   []byte
	userData  map[string]string
	owner     wire.Party
	downloads int
	deleted   bool
}

func (f *file) eventUserData() map[string]string {
	ud := maps.Clone(f.userData)
	if ud == nil {
		ud = map[string]string{}
	}
	ud[wire.KeyFileName] = f.name
	ud[wire.KeyFileSize] = strconv.Itoa(len(f.content))
	ud[wire.KeyFileID] = f.id
	return ud
}

// FileInfo describes a file of the chat.
type FileInfo struct {
	ID        string
	Name      string
	Size      int
	Owner     wire.PartyType
	Downloads int
	Deleted   bool
	UserData  map[string]string
	Content   []byte
}

// Files returns the chat's files (uploaded by either side), in upload order.
func (c *Chat) Files() []FileInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]FileInfo, 0, len(c.fileOrder))
	for _, id := range c.fileOrder {
		f := c.files[id]
		out = append(out, FileInfo{ID: f.id, Name: f.name, Size: len(f.content), Owner: f.owner.Type,
			Downloads: f.downloads, Deleted: f.deleted, UserData: maps.Clone(f.userData),
			Content: append([]byte(nil), f.content...)})
	}
	return out
}

// FileLimits returns the chat's limits with current usage.
func (c *Chat) FileLimits() wire.FileLimits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limits
}

func (c *Chat) storeFileL(name string, content []byte, ud map[string]string, owner wire.Party) *file {
	f := &file{id: c.s.newHex16(true), name: name, content: append([]byte(nil), content...),
		userData: maps.Clone(ud), owner: owner}
	c.files[f.id] = f
	c.fileOrder = append(c.fileOrder, f.id)
	return f
}

// apiErr is an operation failure: an errors[] entry and the HTTP status of
// the REST answer.
type apiErr struct {
	status int
	code   int
	advice string
}

// limitsL answers fileGetLimits: a Notice (no index) holding the limits.
func (c *Chat) limitsL() wire.Event {
	return wire.Event{Type: wire.EventNotice, From: c.clientParty(), Text: wire.FileLimitsNoticeText,
		UTCTime: c.nowMs(), UserData: c.limits.UserData()}
}

// uploadL stores a client upload after checking the limits; the
// FileUploaded event is delivered unsolicited (the HTTP answer carries only
// userData.file-id).
func (c *Chat) uploadL(name string, content []byte, ud map[string]string) (string, *apiErr) {
	l := c.limits
	codes := c.s.st.codes
	size := int64(len(content))
	if e := l.CheckUpload(name, size); e != nil {
		if e.Code == wire.CodeTotalSizeExceeded && l.UploadMaxFileSize > 0 && size > l.UploadMaxFileSize {
			e.Code = codes.FileTooLarge
		}
		return "", &apiErr{status: 400, code: e.Code, advice: string(e.Advice)}
	}
	if l.UploadNeedAgent && !c.agentJoinedL() {
		return "", &apiErr{status: 400, code: codes.UploadNeedsAgent, advice: "an agent must join before files can be uploaded"}
	}
	f := c.storeFileL(name, content, ud, c.client)
	c.limits.UsedUploadMaxFiles++
	c.limits.UsedUploadMaxTotalSize += size
	c.appendL(wire.Event{Type: wire.EventFileUploaded, From: c.clientParty(), UserData: f.eventUserData()}, actMajor, false)
	return f.id, nil
}

func (c *Chat) agentJoinedL() bool {
	for _, e := range c.transcript {
		if e.Type == wire.EventParticipantJoined && e.From != nil && e.From.Type != wire.PartyClient {
			return true
		}
	}
	return false
}

// downloadL returns a file's bytes, counting the attempt.
func (c *Chat) downloadL(id string) (*file, *apiErr) {
	f, ok := c.files[id]
	if !ok || f.deleted {
		return nil, &apiErr{status: 500, code: c.s.st.codes.FileNotFound, advice: "file not found"}
	}
	if max := c.limits.DownloadAttempts; max > 0 && f.downloads >= max {
		return nil, &apiErr{status: 500, code: c.s.st.codes.DownloadLimit, advice: strconv.Itoa(max)}
	}
	f.downloads++
	c.limits.UsedDownloadAttempts++
	c.changedL()
	return f, nil
}

// deleteL deletes a client file (FileDeleted, delivered unsolicited).
func (c *Chat) deleteL(id string) *apiErr {
	f, ok := c.files[id]
	if !ok || f.deleted {
		return &apiErr{status: 400, code: c.s.st.codes.FileNotFound, advice: "file not found"}
	}
	if f.owner.Type != wire.PartyClient {
		return &apiErr{status: 400, code: c.s.st.codes.DeleteForbidden, advice: "a customer cannot delete a file uploaded by an agent"}
	}
	f.deleted = true
	if c.limits.DeleteFile == "true" {
		c.limits.UsedUploadMaxFiles--
		c.limits.UsedUploadMaxTotalSize -= int64(len(f.content))
	}
	c.appendL(wire.Event{Type: wire.EventFileDeleted, From: c.clientParty(), UserData: map[string]string{wire.KeyFileID: f.id}}, actMajor, false)
	return nil
}
