package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"preau/db"
	"preau/identity"
)

// Attachments and replies (docs/protocol.md, "Chat"). An attachment is the
// content of one version of a file of the Documents that the sender may
// read, copied when sent into a storage key the message owns (Key): later
// replaces, the pruning of old versions, a rename or a purge of the file
// change nothing to it. Members download it through the conversation, whose
// membership is the only check then.

// Limits on attachments (SECURITY.md, "Files": 10 MiB in chat).
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20
)

// ErrAttachment: a file the sender cannot read, or over MaxAttachmentSize.
var ErrAttachment = errors.New("chat: attachment refused")

// Attachment is a file sent with a message, as it was when sent.
type Attachment struct {
	FileID      int64
	Version     int64 // the file's version number
	Name        string
	Size        int64
	ContentType string
	// Key is the storage key of the message's own copy of the content;
	// "" for attachments sent before copies existed (migration 0009),
	// which still point at the file's version.
	Key    string
	SHA256 string
}

// Extra is what a message may carry beside its text.
type Extra struct {
	// ReplyTo is the seq of an earlier message of the conversation; 0 for
	// none.
	ReplyTo     int64
	Attachments []Attachment
}

func (x Extra) check() error {
	if x.ReplyTo < 0 {
		return fmt.Errorf("%w: reply_to", ErrInvalid)
	}
	if len(x.Attachments) > MaxAttachments {
		return fmt.Errorf("%w: %d attachments", ErrInvalid, len(x.Attachments))
	}
	for _, a := range x.Attachments {
		if a.FileID <= 0 || a.Version <= 0 || a.Size < 0 {
			return fmt.Errorf("%w: attachment", ErrInvalid)
		}
		if a.Size > MaxAttachmentSize {
			return fmt.Errorf("%w: %d bytes", ErrAttachment, a.Size)
		}
	}
	return nil
}

// FileResolver checks that a user may read a file, copies its current
// version into a key of the message's own (Attachment.Key) and describes
// it; an error refuses the attachment (ErrAttachment). Copies that end up
// in no stored message (a refused send, a resend) are handed back to
// DropAttachments. web adapts storage/files.Service.CopyAttachment to it.
type FileResolver interface {
	ResolveAttachment(ctx context.Context, p *identity.Principal, fileID int64) (Attachment, error)
	DropAttachments(keys []string)
}

// SetFiles lets the hub accept attachments: without a resolver, a send
// frame with attachments is refused. Call it before serving.
func (h *Hub) SetFiles(r FileResolver) {
	h.mu.Lock()
	h.files = r
	h.mu.Unlock()
}

// resolve turns the file ids of a send frame into attachments, checking
// the sender's right to read each file.
func (h *Hub) resolve(ctx context.Context, p *identity.Principal, ids []int64) ([]Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxAttachments {
		return nil, fmt.Errorf("%w: %d attachments", ErrInvalid, len(ids))
	}
	h.mu.Lock()
	r := h.files
	h.mu.Unlock()
	if r == nil || p == nil {
		return nil, ErrAttachment
	}
	out := make([]Attachment, 0, len(ids))
	for _, id := range ids {
		a, err := r.ResolveAttachment(ctx, p, id)
		if err == nil && a.Size > MaxAttachmentSize {
			out = append(out, a) // its copy is dropped below
			err = fmt.Errorf("%d bytes", a.Size)
		}
		if err != nil {
			h.dropCopies(out)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: file %d: %v", ErrAttachment, id, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// copiesFreed is the store's hook: a deleted message's copies go.
func (h *Hub) copiesFreed(keys []string) {
	h.mu.Lock()
	r := h.files
	h.mu.Unlock()
	if r != nil {
		r.DropAttachments(keys)
	}
}

// freeAttachments removes a message's attachments inside the transaction
// that deletes it, and returns the storage keys of their copies, to be
// deleted after the commit (Store.copiesFreed).
func freeAttachments(ctx context.Context, tx db.Querier, conv, seq int64) ([]string, error) {
	keys, err := strs(ctx, tx, "SELECT storage_key FROM message_attachments WHERE conversation_id = ? AND seq = ? AND storage_key <> ''", conv, seq)
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, "DELETE FROM message_attachments WHERE conversation_id = ? AND seq = ?", conv, seq)
	return keys, err
}

func strs(ctx context.Context, q db.Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// dropCopies gives back the copies of attachments that no stored message
// keeps.
func (h *Hub) dropCopies(as []Attachment) {
	var keys []string
	for _, a := range as {
		if a.Key != "" {
			keys = append(keys, a.Key)
		}
	}
	if len(keys) == 0 {
		return
	}
	h.mu.Lock()
	r := h.files
	h.mu.Unlock()
	if r != nil {
		r.DropAttachments(keys)
	}
}

// postResolved stores a message whose attachments were resolved (and
// copied) for it; the copies are dropped unless this call stored the
// message.
func (h *Hub) postResolved(ctx context.Context, conv, sender int64, clientID, body string, x Extra) (Message, bool, error) {
	m, created, err := h.store.post(ctx, conv, sender, clientID, body, x)
	if err != nil || !created {
		h.dropCopies(x.Attachments)
	}
	return m, created, err
}

// PostWith stores and delivers a message with a reply or attachments, like
// Post; the attachments are file ids checked against p's rights.
func (h *Hub) PostWith(ctx context.Context, conv int64, p *identity.Principal, clientID, body string, replyTo int64, fileIDs []int64) (Message, error) {
	atts, err := h.resolve(ctx, p, fileIDs)
	if err != nil {
		return Message{}, err
	}
	m, created, err := h.postResolved(ctx, conv, p.UserID, clientID, body, Extra{ReplyTo: replyTo, Attachments: atts})
	if err != nil {
		return Message{}, err
	}
	if created {
		h.broadcast(ctx, m.ConversationID, m.Seq, encodeMessage(m))
	}
	return m, nil
}

// Edit changes the author's own message within EditWindow (Store.Edit) and
// shows the change live on every page open on the conversation.
func (h *Hub) Edit(ctx context.Context, conv, seq, author int64, body string) (Message, error) {
	m, err := h.store.Edit(ctx, conv, seq, author, body)
	if err != nil {
		return Message{}, err
	}
	if m.Attachments, err = loadAttachments(ctx, h.store.db, conv, seq, seq); err != nil {
		return Message{}, fmt.Errorf("chat: edit: %w", err)
	}
	h.Changed(ctx, m)
	return m, nil
}

func insertAttachments(ctx context.Context, tx db.Querier, conv, seq int64, as []Attachment) error {
	for i, a := range as {
		if _, err := tx.Exec(ctx, `INSERT INTO message_attachments (conversation_id, seq, n, file_id, version, name, size, content_type,
			storage_key, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, conv, seq, i+1, a.FileID, a.Version, a.Name, a.Size,
			a.ContentType, a.Key, a.SHA256); err != nil {
			return err
		}
	}
	return nil
}

// loadAttachments returns the attachments of the conversation's messages
// from seq `from` to `to`, by seq then order; those of deleted messages
// are left out.
func loadAttachmentsBySeq(ctx context.Context, q db.Querier, conv, from, to int64) (map[int64][]Attachment, error) {
	rows, err := q.Query(ctx, `SELECT a.seq, a.file_id, a.version, a.name, a.size, a.content_type, a.storage_key, a.sha256
		FROM message_attachments a JOIN messages m ON m.conversation_id = a.conversation_id AND m.seq = a.seq
		WHERE a.conversation_id = ? AND a.seq >= ? AND a.seq <= ? AND m.deleted_at_ms = 0 ORDER BY a.seq, a.n`, conv, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]Attachment{}
	for rows.Next() {
		var seq int64
		var a Attachment
		if err := rows.Scan(&seq, &a.FileID, &a.Version, &a.Name, &a.Size, &a.ContentType, &a.Key, &a.SHA256); err != nil {
			return nil, err
		}
		out[seq] = append(out[seq], a)
	}
	return out, rows.Err()
}

func loadAttachments(ctx context.Context, q db.Querier, conv, from, to int64) ([]Attachment, error) {
	m, err := loadAttachmentsBySeq(ctx, q, conv, from, to)
	if err != nil {
		return nil, err
	}
	return m[from], nil
}

// attachTo fills the attachments of messages of one conversation, in seq
// order.
func attachTo(ctx context.Context, q db.Querier, conv int64, ms []Message) error {
	by, err := loadAttachmentsBySeq(ctx, q, conv, ms[0].Seq, ms[len(ms)-1].Seq)
	if err != nil {
		return err
	}
	for i := range ms {
		ms[i].Attachments = by[ms[i].Seq]
	}
	return nil
}

// Attachment returns attachment n (1-based) of message seq for a member of
// the conversation. Not a member, no such message, a deleted message or
// no such attachment: ErrNotFound.
func (s *Store) Attachment(ctx context.Context, conv, seq int64, n int, user int64) (Attachment, error) {
	var a Attachment
	err := s.db.QueryRow(ctx, `SELECT a.file_id, a.version, a.name, a.size, a.content_type, a.storage_key, a.sha256
		FROM message_attachments a JOIN messages m ON m.conversation_id = a.conversation_id AND m.seq = a.seq
		JOIN conversation_members cm ON cm.conversation_id = a.conversation_id AND cm.user_id = ?
		WHERE a.conversation_id = ? AND a.seq = ? AND a.n = ? AND m.deleted_at_ms = 0`, user, conv, seq, n).
		Scan(&a.FileID, &a.Version, &a.Name, &a.Size, &a.ContentType, &a.Key, &a.SHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("chat: attachment %d/%d/%d: %w", conv, seq, n, err)
	}
	return a, nil
}

// Message returns one message of a conversation, with its attachments.
func (s *Store) Message(ctx context.Context, conv, seq int64) (Message, error) {
	var m Message
	err := scanMessage(s.db.QueryRow(ctx, "SELECT "+messageColumns+" FROM messages WHERE conversation_id = ? AND seq = ?", conv, seq), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	if err == nil {
		m.Attachments, err = loadAttachments(ctx, s.db, conv, seq, seq)
	}
	if err != nil {
		return m, fmt.Errorf("chat: message %d/%d: %w", conv, seq, err)
	}
	return m, nil
}
