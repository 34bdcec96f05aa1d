package chat

import (
	"errors"
	"fmt"
	"slices"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ProtocolVersion is the envelope's "v". docs/protocol.md describes every
// message.
const ProtocolVersion = 1

// Message types, client to server.
const (
	TypeSubscribe = "subscribe"
	TypeSend      = "send"
	TypeRead      = "read"
	TypeTyping    = "typing"
	TypePing      = "ping"
	TypeStatus    = "status"   // the user is away or back
	TypePresence  = "presence" // also a server frame
)

// Message types, server to client.
const (
	TypeMessage    = "message"
	TypeAck        = "ack"
	TypeSubscribed = "subscribed"
	TypeError      = "error"
	TypePong       = "pong"
	// TypePresenceCount answers "presence" for a large conversation.
	TypePresenceCount = "presence_count"
	// TypeUnsubscribed: the user is no longer a member of a conversation;
	// nothing more of it is sent (rights.go).
	TypeUnsubscribed = "unsubscribed"
)

// Error codes sent in an "error" message.
const (
	CodeBadRequest = "bad_request"
	CodeNotFound   = "not_found"
	CodeTooLong    = "too_long"
	CodeInternal   = "internal"
	CodeMuted      = "muted"
	CodeReadOnly   = "read_only"
	CodeClosed     = "closed"
	// CodeAttachment: a file the sender cannot read, or over 10 MiB.
	CodeAttachment = "attachment"
	// CodeBusy: too many messages wait to be stored; nothing was stored,
	// the client may send again (same client_id) in a moment.
	CodeBusy = "busy"
)

// errorText is each code's French message for the user.
var errorText = map[string]string{
	CodeBadRequest: "Requête invalide.",
	CodeNotFound:   "Conversation introuvable.",
	CodeTooLong:    "Message trop long (4 000 caractères au plus).",
	CodeInternal:   "Erreur du serveur, réessayez dans un instant.",
	CodeMuted:      "Un modérateur vous a retiré la parole pour un moment : votre message n'est pas envoyé.",
	CodeReadOnly:   "Seuls les enseignants et la vie scolaire peuvent écrire dans cette conversation.",
	CodeClosed:     "La conversation est fermée à cette heure-ci : réessayez pendant les heures d'ouverture.",
	CodeAttachment: "Pièce jointe refusée : fichier introuvable ou de plus de 10 Mo.",
	CodeBusy:       "Trop de messages en cours d'envoi : réessayez dans un instant.",
}

// MaxSubscribe is the most conversations one subscribe may name.
const MaxSubscribe = 500

// envelope is every frame: {"v":1,"type":"…","id":7,"data":{…}}. id is
// chosen by the client and echoed in the replies to that request.
type envelope struct {
	V    int            `json:"v"`
	Type string         `json:"type"`
	ID   int64          `json:"id,omitzero"`
	Data jsontext.Value `json:"data,omitzero"`
}

// SubscribeItem names a conversation and the last seq the client has.
type SubscribeItem struct {
	ID       int64 `json:"id"`
	AfterSeq int64 `json:"after_seq"`
	// Notify: a subscription for notifications only (the home page's
	// badge): new messages only, those posted outside the conversation's
	// opening hours sent once they open (quiet.go).
	Notify bool `json:"notify,omitempty"`
}

type subscribeData struct {
	Conversations []SubscribeItem `json:"conversations"`
}

type sendData struct {
	Conversation int64  `json:"conversation"`
	ClientID     string `json:"client_id"`
	Body         string `json:"body"`
	// ReplyTo: the seq of the message answered (optional).
	ReplyTo int64 `json:"reply_to"`
	// Attachments: ids of files the sender may read (optional, at most
	// MaxAttachments).
	Attachments []int64 `json:"attachments"`
}

type readData struct {
	Conversation int64 `json:"conversation"`
	Seq          int64 `json:"seq"`
}

type typingData struct {
	Conversation int64 `json:"conversation"`
}

type statusData struct {
	State string `json:"state"` // "online" | "away"
}

// request is a decoded client frame; exactly the field of its Type is set.
type request struct {
	Type      string
	ID        int64
	Subscribe *subscribeData
	Send      *sendData
	Read      *readData
	Typing    *typingData
	Presence  *typingData // same fields: a conversation
	Status    *statusData
}

// errBadFrame is what decodeRequest returns for any refused frame.
var errBadFrame = errors.New("chat: bad frame")

// strict refuses unknown members; duplicate names and invalid UTF-8 are
// refused by this JSON package's defaults.
var strict = json.RejectUnknownMembers(true)

// decodeRequest decodes and checks one client frame.
func decodeRequest(b []byte) (request, error) {
	var env envelope
	if err := json.Unmarshal(b, &env, strict); err != nil {
		return request{}, fmt.Errorf("%w: %v", errBadFrame, err)
	}
	if env.V != ProtocolVersion {
		return request{}, fmt.Errorf("%w: version %d", errBadFrame, env.V)
	}
	if string(env.Data) == "null" {
		env.Data = nil // "data": null is no data
	}
	r := request{Type: env.Type, ID: env.ID}
	var target any
	switch env.Type {
	case TypeSubscribe:
		r.Subscribe = new(subscribeData)
		target = r.Subscribe
	case TypeSend:
		r.Send = new(sendData)
		target = r.Send
	case TypeRead:
		r.Read = new(readData)
		target = r.Read
	case TypeTyping:
		r.Typing = new(typingData)
		target = r.Typing
	case TypePresence:
		r.Presence = new(typingData)
		target = r.Presence
	case TypeStatus:
		r.Status = new(statusData)
		target = r.Status
	case TypePing:
		if len(env.Data) != 0 {
			return request{}, fmt.Errorf("%w: ping has no data", errBadFrame)
		}
		return r, nil
	default:
		return request{}, fmt.Errorf("%w: type %q", errBadFrame, env.Type)
	}
	if len(env.Data) == 0 {
		return request{}, fmt.Errorf("%w: %s without data", errBadFrame, env.Type)
	}
	if err := json.Unmarshal(env.Data, target, strict); err != nil {
		return request{}, fmt.Errorf("%w: %s: %v", errBadFrame, env.Type, err)
	}
	if err := r.check(); err != nil {
		return request{}, fmt.Errorf("%w: %s: %v", errBadFrame, env.Type, err)
	}
	return r, nil
}

// check validates the fields; body length and client_id are left to the
// store so that they get their own error codes.
func (r request) check() error {
	switch {
	case r.Subscribe != nil:
		if len(r.Subscribe.Conversations) == 0 || len(r.Subscribe.Conversations) > MaxSubscribe {
			return errors.New("conversations count")
		}
		for _, c := range r.Subscribe.Conversations {
			if c.ID <= 0 || c.AfterSeq < 0 {
				return errors.New("conversation id or after_seq")
			}
		}
	case r.Send != nil:
		if r.Send.Conversation <= 0 {
			return errors.New("conversation")
		}
		if r.Send.ReplyTo < 0 {
			return errors.New("reply_to")
		}
		if len(r.Send.Attachments) > MaxAttachments {
			return errors.New("attachments count")
		}
		for i, id := range r.Send.Attachments {
			if id <= 0 || slices.Contains(r.Send.Attachments[:i], id) {
				return errors.New("attachment id")
			}
		}
	case r.Read != nil:
		if r.Read.Conversation <= 0 || r.Read.Seq < 0 {
			return errors.New("conversation or seq")
		}
	case r.Typing != nil:
		if r.Typing.Conversation <= 0 {
			return errors.New("conversation")
		}
	case r.Presence != nil:
		if r.Presence.Conversation <= 0 {
			return errors.New("conversation")
		}
	case r.Status != nil:
		if r.Status.State != "online" && r.Status.State != "away" {
			return errors.New("state")
		}
	}
	return nil
}

// Server frames.

type outEnvelope struct {
	V    int    `json:"v"`
	Type string `json:"type"`
	ID   int64  `json:"id,omitzero"`
	Data any    `json:"data,omitzero"`
}

// MessageData is the data of a "message" frame.
type MessageData struct {
	Conversation int64  `json:"conversation"`
	Seq          int64  `json:"seq"`
	Sender       int64  `json:"sender"`
	Body         string `json:"body"`
	AtMs         int64  `json:"at_ms"`
	ClientID     string `json:"client_id"`
	EditedAtMs   int64  `json:"edited_at_ms,omitzero"`
	DeletedAtMs  int64  `json:"deleted_at_ms,omitzero"`
	ReplyTo      int64  `json:"reply_to,omitzero"`
	// Attachments are downloaded from
	// /messagerie/{conversation}/pieces-jointes/{seq}/{n}, n from 1.
	Attachments []AttachmentData `json:"attachments,omitempty"`
}

// AttachmentData describes an attachment in a "message" frame.
type AttachmentData struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
}

// AckData is the data of an "ack" frame.
type AckData struct {
	Conversation int64  `json:"conversation"`
	ClientID     string `json:"client_id"`
	Seq          int64  `json:"seq"`
}

// SubscribedData is the data of a "subscribed" frame: replay is over, live
// messages follow.
type SubscribedData struct {
	Conversation int64 `json:"conversation"`
	Seq          int64 `json:"seq"`
}

// TypingData is the data of a server "typing" frame.
type TypingData struct {
	Conversation int64 `json:"conversation"`
	User         int64 `json:"user"`
}

// MemberPresence is one member's state: "online", "away" or "offline".
type MemberPresence struct {
	User  int64  `json:"user"`
	State string `json:"state"`
}

// PresenceData is the data of a server "presence" frame: every member of a
// small conversation (answering a request), or one member who changed.
type PresenceData struct {
	Conversation int64            `json:"conversation"`
	Members      []MemberPresence `json:"members"`
}

// PresenceCountData is the data of a "presence_count" frame: a large
// conversation's counts.
type PresenceCountData struct {
	Conversation int64 `json:"conversation"`
	Members      int   `json:"members"`
	Online       int   `json:"online"`
	Away         int   `json:"away"`
}

// UnsubscribedData is the data of an "unsubscribed" frame.
type UnsubscribedData struct {
	Conversation int64 `json:"conversation"`
}

// ErrorData is the data of an "error" frame; Message is French.
type ErrorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func encode(typ string, id int64, data any) []byte {
	b, err := json.Marshal(outEnvelope{V: ProtocolVersion, Type: typ, ID: id, Data: data})
	if err != nil {
		panic("chat: encode " + typ + ": " + err.Error()) // our own types always encode
	}
	return b
}

func encodeMessage(m Message) []byte {
	d := MessageData{Conversation: m.ConversationID, Seq: m.Seq, Sender: m.SenderID,
		Body: m.Body, AtMs: m.CreatedAtMs, ClientID: m.ClientID, EditedAtMs: m.EditedAtMs, DeletedAtMs: m.DeletedAtMs,
		ReplyTo: m.ReplyTo}
	if m.DeletedAtMs == 0 {
		for _, a := range m.Attachments {
			d.Attachments = append(d.Attachments, AttachmentData{Name: a.Name, Size: a.Size, ContentType: a.ContentType})
		}
	}
	return encode(TypeMessage, 0, d)
}

func encodeError(id int64, code string) []byte {
	return encode(TypeError, id, ErrorData{Code: code, Message: errorText[code]})
}
