package wire

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Endpoint paths on a GMS node.
const (
	// ChatPath is the REST base; operations go to ChatPath/{service}/{chatId}/{op}.
	ChatPath = "/genesys/2/chat"
	// NtfPath is the file-management endpoint of CometD clients (§8).
	NtfPath = "/genesys/2/chat-ntf"
	// CometDPath is the Bayeux endpoint (WebSocket and long-polling).
	CometDPath = "/genesys/cometd"
	// ServiceChannelPrefix prefixes the CometD service channel.
	ServiceChannelPrefix = "/service/chatV2/"
)

// ServiceChannel returns "/service/chatV2/<service>".
func ServiceChannel(service string) string { return ServiceChannelPrefix + service }

// ServiceFromChannel returns the service of a "/service/chatV2/<service>"
// channel, and false for any other channel.
func ServiceFromChannel(channel string) (string, bool) {
	s, ok := strings.CutPrefix(channel, ServiceChannelPrefix)
	if !ok || s == "" || strings.Contains(s, "/") || strings.Contains(s, "*") {
		return "", false
	}
	return s, true
}

// ErrBadPath is matched by every error of ParseRESTPath.
var ErrBadPath = errors.New("wire: not a Chat V2 REST path")

// RESTURL builds the URL of a REST operation (§3.1, §3.2). base is the chat
// base URL, e.g. "http://gms:8080/genesys/2/chat/customer-support" (one
// trailing "/" is stripped). Request Chat goes to base, or base + "/" when
// trailingSlash is set (Widgets' enableUrlTrailingSlash). fileID is used by
// file download and delete only. Path segments are escaped.
func RESTURL(base string, op Operation, chatID, fileID string, trailingSlash bool) (string, error) {
	base = strings.TrimSuffix(base, "/")
	if op == OpRequestChat {
		if trailingSlash {
			return base + "/", nil
		}
		return base, nil
	}
	seg, ok := restSegments[op]
	if !ok {
		return "", fmt.Errorf("wire: operation %q has no REST endpoint", op)
	}
	if chatID == "" {
		return "", fmt.Errorf("wire: operation %q needs a chatId", op)
	}
	u := base + "/" + url.PathEscape(chatID) + "/"
	switch op {
	case OpFileDownload, OpFileDelete:
		if fileID == "" {
			return "", fmt.Errorf("wire: operation %q needs a fileId", op)
		}
		return u + "file/" + url.PathEscape(fileID) + "/" + seg, nil
	}
	return u + seg, nil
}

// restSegments maps an operation to its REST path below /{chatId}/.
var restSegments = map[Operation]string{
	OpRefresh:        "refresh",
	OpSendMessage:    "send",
	OpStartTyping:    "startTyping",
	OpStopTyping:     "stopTyping",
	OpReadReceipt:    "readReceipt",
	OpPushURL:        "pushUrl",
	OpUpdateNickname: "updateNickname",
	OpCustomNotice:   "customNotice",
	OpUpdateData:     "updateData",
	OpDisconnect:     "disconnect",
	OpFileGetLimits:  "file/limits",
	OpFileUpload:     "file",
	OpFileDownload:   "download",
	OpFileDelete:     "delete",
}

// RESTPath is a parsed REST request path.
type RESTPath struct {
	Service string
	ChatID  string // "" for Request Chat
	Op      Operation
	FileID  string // file download and delete
}

// ParseRESTPath parses an (unescaped) URL path below ChatPath:
// "/genesys/2/chat/{service}[/]" is Request Chat, "/…/{service}/{chatId}/{op}"
// the others, "/…/{chatId}/file/limits", "/…/{chatId}/file",
// "/…/{chatId}/file/{fileId}/download|delete" the file operations.
func ParseRESTPath(path string) (RESTPath, error) {
	rest, ok := strings.CutPrefix(path, ChatPath+"/")
	if !ok {
		return RESTPath{}, fmt.Errorf("%w: %q is not below %s/", ErrBadPath, truncate(path, 80), ChatPath)
	}
	parts := strings.Split(rest, "/")
	if len(parts) > 0 && parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1] // one trailing slash
	}
	for _, p := range parts {
		if p == "" {
			return RESTPath{}, fmt.Errorf("%w: empty segment in %q", ErrBadPath, truncate(path, 80))
		}
	}
	p := RESTPath{Service: parts[0]}
	switch len(parts) {
	case 1:
		p.Op = OpRequestChat
		return p, nil
	case 3:
		p.ChatID = parts[1]
		for op, seg := range restSegments {
			if seg == parts[2] && !strings.Contains(seg, "/") && op != OpFileDownload && op != OpFileDelete {
				p.Op = op
				return p, nil
			}
		}
	case 4:
		p.ChatID = parts[1]
		if parts[2] == "file" && parts[3] == "limits" {
			p.Op = OpFileGetLimits
			return p, nil
		}
	case 5:
		p.ChatID = parts[1]
		if parts[2] == "file" {
			p.FileID = parts[3]
			switch parts[4] {
			case "download":
				p.Op = OpFileDownload
				return p, nil
			case "delete":
				p.Op = OpFileDelete
				return p, nil
			}
		}
	}
	return RESTPath{}, fmt.Errorf("%w: unknown operation path %q", ErrBadPath, truncate(path, 80))
}
