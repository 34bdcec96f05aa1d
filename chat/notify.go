package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"preau/db"
)

// Notice channels: read-only conversations written by Préau (sender 0, no
// creator), found again by a key of the caller's choosing — for example a
// family's "Vie scolaire — Léa" announcements (ent/absences). Their members
// only read; Préau posts with Hub.Announce, which delivers live like any
// message, so the home page's badge and an open Messagerie page show it at
// once.

// NoticeChannel returns the notice channel of key, creating it in
// structureID with title the first time, and makes its members exactly
// members (added as readers; those no longer listed are removed and stop
// receiving it live). Two callers racing end with one channel.
func (s *Store) NoticeChannel(ctx context.Context, key string, structureID int64, title string, members []int64) (Conversation, error) {
	if key == "" {
		return Conversation{}, fmt.Errorf("%w: no notice key", ErrInvalid)
	}
	if err := checkText(title, maxTitleChars); err != nil {
		return Conversation{}, err
	}
	var id int64
	var removed []int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, removed, err = noticeChannel(ctx, tx, key, structureID, title, members, s.nowMs())
		return err
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: notice channel %q: %w", key, err)
	}
	s.membersLeft(ctx, id, removed)
	return s.Conversation(ctx, id)
}

// noticeChannel finds or makes the channel of key and sets its members;
// it returns the members removed.
func noticeChannel(ctx context.Context, tx db.Querier, key string, structureID int64, title string, members []int64, now int64) (id int64, removed []int64, err error) {
	err = tx.QueryRow(ctx, "SELECT id FROM conversations WHERE notice_key = ?", key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, title, created_by, created_at_ms, announce_only, notice_key)
			VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (notice_key) DO NOTHING RETURNING id`, string(KindGroup), structureID, title,
			now, true, key).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) { // another caller made it meanwhile
			err = tx.QueryRow(ctx, "SELECT id FROM conversations WHERE notice_key = ?", key).Scan(&id)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	have, err := ids(ctx, tx, "SELECT user_id FROM conversation_members WHERE conversation_id = ?", id)
	if err != nil {
		return 0, nil, err
	}
	for _, u := range have {
		if !slices.Contains(members, u) {
			if _, err := tx.Exec(ctx, "DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?", id, u); err != nil {
				return 0, nil, err
			}
			removed = append(removed, u)
		}
	}
	for _, u := range members {
		if !slices.Contains(have, u) {
			if err := addMember(ctx, tx, id, u, RoleMember, now); err != nil {
				return 0, nil, err
			}
		}
	}
	return id, removed, nil
}

// InsertNotices writes, inside the caller's transaction, the notice
// channel of key with its members and messages from Préau dated at, for
// data known to be right (the demo school); nothing is delivered live.
func InsertNotices(ctx context.Context, q db.Querier, key string, structureID int64, title string, members []int64, bodies []string, at time.Time) (int64, error) {
	id, _, err := noticeChannel(ctx, q, key, structureID, title, members, at.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("chat: insert notices %q: %w", key, err)
	}
	for i, body := range bodies {
		var seq int64
		if err := q.QueryRow(ctx, "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq", id).Scan(&seq); err != nil {
			return 0, fmt.Errorf("chat: insert notices %q: %w", key, err)
		}
		if _, err := q.Exec(ctx, `INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, created_at_ms, reply_to,
			body_folded, folded) VALUES (?, ?, 0, ?, ?, ?, 0, ?, 1)`, id, seq, fmt.Sprintf("seed-%d", i), body, at.UnixMilli(), Fold(body)); err != nil {
			return 0, fmt.Errorf("chat: insert notices %q: %w", key, err)
		}
	}
	return id, nil
}

// Announce stores a message from Préau (sender 0) in conversation conv —
// members or not, announcements only or not — and delivers it live like
// Post. It is idempotent on clientID: a second call stores nothing.
func (h *Hub) Announce(ctx context.Context, conv int64, clientID, body string) (Message, error) {
	if err := CheckClientID(clientID); err != nil {
		return Message{}, err
	}
	if err := CheckBody(body); err != nil {
		return Message{}, err
	}
	s := h.store
	m := Message{ConversationID: conv, ClientID: clientID, Body: body}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := scanMessage(tx.QueryRow(ctx, "SELECT "+messageColumns+
			" FROM messages WHERE conversation_id = ? AND sender_id = 0 AND client_id = ?", conv, clientID), &m)
		if !errors.Is(err, sql.ErrNoRows) {
			return err // nil: already announced
		}
		err = tx.QueryRow(ctx, "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq", conv).Scan(&m.Seq)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		m.CreatedAtMs = s.nowMs()
		_, err = tx.Exec(ctx, `INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, created_at_ms, reply_to,
			body_folded, folded) VALUES (?, ?, 0, ?, ?, ?, 0, ?, 1)`, conv, m.Seq, clientID, body, m.CreatedAtMs, Fold(body))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return Message{}, err
	}
	if err != nil {
		return Message{}, fmt.Errorf("chat: announce in %d: %w", conv, err)
	}
	h.broadcast(ctx, conv, m.Seq, encodeMessage(m))
	return m, nil
}
