package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
	"preau/internal/frtime"
)

// Moderation for minors. In a class's channels the teachers and the school's
// vie scolaire are moderators (EnsureClassChannel); so is the creator of a
// group or of a mailbox message. A moderator deletes any message, mutes a
// member for a while, switches the conversation to announcements only, and
// sets its opening hours; Store.post enforces the three rules for members
// who are not moderators. Anyone reports a message: the report reaches the
// moderators with the message and a few before it. Every act is written to
// chat_audit: who, what, when, on whom — never a message's text.

// Audit actions, stored in chat_audit.action.
const (
	AuditDelete       = "delete"
	AuditMute         = "mute"
	AuditAnnounceOnly = "announce_only"
	AuditHours        = "hours"
	AuditReport       = "report"
)

// MaxMute is the longest a member can be muted.
const MaxMute = 7 * 24 * time.Hour

// reportContext is how many messages before the reported one the report
// shows.
const reportContext = 5

var paris = frtime.Paris

// isOpen reports whether minute-of-day hours from–to (Europe/Paris) include
// t; equal bounds mean always open, from > to wraps past midnight.
func isOpen(t time.Time, from, to int) bool {
	if from == to {
		return true
	}
	lt := t.In(paris)
	m := lt.Hour()*60 + lt.Minute()
	if from < to {
		return from <= m && m < to
	}
	return m >= from || m < to
}

// mayPost checks the conversation's rules for a sender inside Post's
// transaction: membership (ErrNotFound), then, for members who are not
// moderators, announcements only, mute and opening hours.
func (s *Store) mayPost(ctx context.Context, tx db.Querier, convID, sender int64) error {
	var announce bool
	var from, to int
	var role string
	var muted int64
	// Two lookups by primary key rather than a join: with the join, SQLite
	// prepared the statement again on every call with other ids (most of
	// the CPU time of batched posts, writer.go).
	err := tx.QueryRow(ctx, "SELECT role, muted_until_ms FROM conversation_members WHERE conversation_id = ? AND user_id = ?",
		convID, sender).Scan(&role, &muted)
	if err == nil && role != RoleModerator {
		err = tx.QueryRow(ctx, "SELECT announce_only, open_from_min, open_to_min FROM conversations WHERE id = ?",
			convID).Scan(&announce, &from, &to)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil || role == RoleModerator {
		return err
	}
	now := s.now()
	switch {
	case announce:
		return ErrReadOnly
	case muted > now.UnixMilli():
		return ErrMuted
	case !isOpen(now, from, to):
		return ErrOutOfHours
	}
	return nil
}

// moderator checks that actor moderates the conversation: ErrNotFound when
// not a member (as for a conversation that does not exist), ErrForbidden
// when a member without the role.
func (s *Store) moderator(ctx context.Context, q db.Querier, convID, actor int64) error {
	var role string
	err := q.QueryRow(ctx, "SELECT role FROM conversation_members WHERE conversation_id = ? AND user_id = ?",
		convID, actor).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if role != RoleModerator {
		return ErrForbidden
	}
	return nil
}

// IsModerator reports whether the user moderates the conversation.
func (s *Store) IsModerator(ctx context.Context, convID, userID int64) (bool, error) {
	err := s.moderator(ctx, s.db, convID, userID)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
		return false, nil
	}
	return err == nil, err
}

func audit(ctx context.Context, q db.Querier, at, actor int64, action string, conv, targetUser, targetSeq int64, detail string) error {
	_, err := q.Exec(ctx, `INSERT INTO chat_audit (at_ms, actor_id, action, conversation_id, target_user_id, target_seq, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, at, actor, action, conv, targetUser, targetSeq, detail)
	return err
}

// moderate runs fn in a transaction after checking that actor moderates
// the conversation.
func (s *Store) moderate(ctx context.Context, convID, actor int64, what string, fn func(tx *db.Tx, now int64) error) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := s.moderator(ctx, tx, convID, actor); err != nil {
			return err
		}
		return fn(tx, s.nowMs())
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrInvalid) {
		return err
	}
	if err != nil {
		return fmt.Errorf("chat: %s in %d: %w", what, convID, err)
	}
	return nil
}

// ModerateDelete clears any message of the conversation, at any age, for a
// moderator. The message keeps its seq.
func (s *Store) ModerateDelete(ctx context.Context, convID, seq, actor int64) (Message, error) {
	var m Message
	var freed []string
	err := s.moderate(ctx, convID, actor, "delete", func(tx *db.Tx, now int64) error {
		err := scanMessage(tx.QueryRow(ctx, "SELECT "+messageColumns+" FROM messages WHERE conversation_id = ? AND seq = ?",
			convID, seq), &m)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if m.DeletedAtMs != 0 {
			return ErrNotFound
		}
		if _, err := tx.Exec(ctx, "UPDATE messages SET body = '', body_folded = '', folded = 1, deleted_at_ms = ? WHERE conversation_id = ? AND seq = ?",
			now, convID, seq); err != nil {
			return err
		}
		m.Body, m.DeletedAtMs = "", now
		if freed, err = freeAttachments(ctx, tx, convID, seq); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, AuditDelete, convID, m.SenderID, seq, "")
	})
	if err == nil {
		s.copiesFreed(freed)
	}
	return m, err
}

// Mute stops a member who is not a moderator from posting for d (at most
// MaxMute; 0 lifts the mute).
func (s *Store) Mute(ctx context.Context, convID, actor, user int64, d time.Duration) error {
	if d < 0 || d > MaxMute {
		return fmt.Errorf("%w: mute duration", ErrInvalid)
	}
	return s.moderate(ctx, convID, actor, "mute", func(tx *db.Tx, now int64) error {
		until := int64(0)
		if d > 0 {
			until = now + d.Milliseconds()
		}
		res, err := tx.Exec(ctx, `UPDATE conversation_members SET muted_until_ms = ?
			WHERE conversation_id = ? AND user_id = ? AND role = ?`, until, convID, user, RoleMember)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return audit(ctx, tx, now, actor, AuditMute, convID, user, 0, fmt.Sprintf("minutes=%d", int(d.Minutes())))
	})
}

// SetAnnounceOnly switches the conversation to announcements only (only
// moderators post) or back.
func (s *Store) SetAnnounceOnly(ctx context.Context, convID, actor int64, on bool) error {
	return s.moderate(ctx, convID, actor, "announce only", func(tx *db.Tx, now int64) error {
		if _, err := tx.Exec(ctx, "UPDATE conversations SET announce_only = ? WHERE id = ?", on, convID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, AuditAnnounceOnly, convID, 0, 0, fmt.Sprintf("on=%t", on))
	})
}

// SetHours sets the opening hours, in minutes after midnight (Europe/Paris);
// from == to opens the conversation at all hours.
func (s *Store) SetHours(ctx context.Context, convID, actor int64, fromMin, toMin int) error {
	if fromMin < 0 || fromMin >= 24*60 || toMin < 0 || toMin >= 24*60 {
		return fmt.Errorf("%w: hours", ErrInvalid)
	}
	if fromMin == toMin {
		fromMin, toMin = 0, 0
	}
	err := s.moderate(ctx, convID, actor, "hours", func(tx *db.Tx, now int64) error {
		if _, err := tx.Exec(ctx, "UPDATE conversations SET open_from_min = ?, open_to_min = ? WHERE id = ?",
			fromMin, toMin, convID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, AuditHours, convID, 0, 0, FormatHours(fromMin, toMin))
	})
	if err == nil {
		// Notifications held on live connections follow the new hours.
		s.each(func(l storeListener) { l.hoursChanged(ctx, convID, fromMin, toMin) })
	}
	return err
}

// FormatHours writes opening hours as "08:00-18:30" ("" when always open).
func FormatHours(fromMin, toMin int) string {
	if fromMin == toMin {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", fromMin/60, fromMin%60, toMin/60, toMin%60)
}

// Report records that reporter reports message seq of a conversation they
// are a member of, and hands it to the moderators — the conversation's own
// and the school's vie scolaire — in a new conversation (kind "report")
// holding the message and the few before it. Reporting the same message
// twice returns the first report's conversation.
func (s *Store) Report(ctx context.Context, convID, seq, reporter int64) (Conversation, error) {
	conv, err := s.Conversation(ctx, convID)
	if err != nil {
		return Conversation{}, err
	}
	var out Conversation
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var role string
		err := tx.QueryRow(ctx, "SELECT role FROM conversation_members WHERE conversation_id = ? AND user_id = ?",
			convID, reporter).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var existing sql.NullInt64
		err = tx.QueryRow(ctx, "SELECT report_conversation_id FROM chat_reports WHERE conversation_id = ? AND seq = ? AND reporter_id = ?",
			convID, seq, reporter).Scan(&existing)
		if err == nil {
			out.ID = existing.Int64
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+messageColumns+` FROM messages WHERE conversation_id = ? AND seq <= ? AND seq > ?
			ORDER BY seq`, convID, seq, seq-1-reportContext)
		if err != nil {
			return err
		}
		var ctxMsgs []Message
		for rows.Next() {
			var m Message
			if err := scanMessage(rows, &m); err != nil {
				rows.Close()
				return err
			}
			ctxMsgs = append(ctxMsgs, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ctxMsgs) == 0 || ctxMsgs[len(ctxMsgs)-1].Seq != seq || ctxMsgs[len(ctxMsgs)-1].DeletedAtMs != 0 {
			return ErrNotFound
		}
		reported := ctxMsgs[len(ctxMsgs)-1]
		mods, err := ids(ctx, tx, "SELECT user_id FROM conversation_members WHERE conversation_id = ? AND role = ?", convID, RoleModerator)
		if err != nil {
			return err
		}
		vs, err := s.vieScolaire(ctx, tx, conv.StructureID)
		if err != nil {
			return err
		}
		now := s.nowMs()
		body, err := s.reportBody(ctx, tx, conv, reporter, ctxMsgs)
		if err != nil {
			return err
		}
		out = Conversation{Kind: KindReport, StructureID: conv.StructureID, ClassID: 0,
			Title: truncate("Signalement — "+s.titleOf(conv), maxTitleChars), CreatedAtMs: now, LastSeq: 1, AnnounceOnly: false}
		if err := tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, title, created_by, created_at_ms, last_seq)
			VALUES (?, ?, ?, 0, ?, 1) RETURNING id`, string(KindReport), conv.StructureID, out.Title, now).Scan(&out.ID); err != nil {
			return err
		}
		for _, id := range append(mods, vs...) {
			if id == reporter {
				continue
			}
			if err := addMember(ctx, tx, out.ID, id, RoleModerator, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, created_at_ms, body_folded, folded)
			VALUES (?, 1, 0, ?, ?, ?, ?, 1)`, out.ID, fmt.Sprintf("report-%d-%d", convID, seq), body, now, Fold(body)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO chat_reports (conversation_id, seq, reporter_id, report_conversation_id, created_at_ms)
			VALUES (?, ?, ?, ?, ?)`, convID, seq, reporter, out.ID, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, reporter, AuditReport, convID, reported.SenderID, seq, "")
	})
	if errors.Is(err, ErrNotFound) {
		return Conversation{}, err
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: report %d/%d: %w", convID, seq, err)
	}
	return out, nil
}

func (s *Store) titleOf(c Conversation) string {
	if c.Title != "" {
		return c.Title
	}
	return "conversation privée"
}

// reportBody writes the report's text: who reported what where, then the
// context, oldest first, the reported message last.
func (s *Store) reportBody(ctx context.Context, q db.Querier, conv Conversation, reporter int64, msgs []Message) (string, error) {
	names := map[int64]string{}
	name := func(id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		var first, last string
		if err := q.QueryRow(ctx, "SELECT first_name, last_name FROM users WHERE id = ?", id).Scan(&first, &last); err != nil {
			first = "Ancien membre"
		}
		names[id] = strings.TrimSpace(first + " " + last)
		return names[id]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s signale un message de %s dans « %s ».\n\nContexte :\n", name(reporter),
		name(msgs[len(msgs)-1].SenderID), s.titleOf(conv))
	for i, m := range msgs {
		at := time.UnixMilli(m.CreatedAtMs).In(paris).Format("02/01 15:04")
		mark := ""
		if i == len(msgs)-1 {
			mark = "▶ "
		}
		text := m.Body
		if m.DeletedAtMs != 0 {
			text = "(message supprimé)"
		}
		fmt.Fprintf(&b, "%s[%s] %s : %s\n", mark, at, name(m.SenderID), text)
	}
	return truncate(b.String(), MaxBodyChars), nil
}

func truncate(s string, maxChars int) string {
	r := []rune(s)
	if len(r) <= maxChars {
		return s
	}
	return string(r[:maxChars-1]) + "…"
}

// AuditEntry is one moderation act.
type AuditEntry struct {
	AtMs         int64
	ActorID      int64
	Action       string
	Conversation int64
	TargetUser   int64
	TargetSeq    int64
	Detail       string
}

// Audit lists a conversation's moderation acts, latest first (at most 200).
func (s *Store) Audit(ctx context.Context, convID int64) ([]AuditEntry, error) {
	rows, err := s.db.Query(ctx, `SELECT at_ms, actor_id, action, conversation_id, target_user_id, target_seq, detail
		FROM chat_audit WHERE conversation_id = ? ORDER BY at_ms DESC, id DESC LIMIT 200`, convID)
	if err != nil {
		return nil, fmt.Errorf("chat: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.AtMs, &a.ActorID, &a.Action, &a.Conversation, &a.TargetUser, &a.TargetSeq, &a.Detail); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
