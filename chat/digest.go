package chat

import (
	"context"
	"fmt"
	"time"
)

// DigestItem is one member's unread messages in one conversation, for the
// email digests of package notify: counts and the conversation's kind and
// title, never a message's text.
type DigestItem struct {
	UserID              int64
	Email               string
	FirstName, LastName string
	ConversationID      int64
	Kind                Kind
	Title               string
	Unread              int   // messages of others, not deleted, after last_read_seq (as Unread counts)
	OldestMs, NewestMs  int64 // when the oldest and newest of them were sent
}

// UnreadForDigest lists, for every member with an email address and an
// enabled account, the conversations where unread messages wait and the
// oldest of them was sent before before; by user, then conversation. Only
// members behind in a conversation (last_seq > last_read_seq) are joined
// with its messages, through the messages' primary key.
func (s *Store) UnreadForDigest(ctx context.Context, before time.Time) ([]DigestItem, error) {
	rows, err := s.db.Query(ctx, `SELECT m.user_id, u.email, u.first_name, u.last_name, c.id, c.kind, c.title,
			COUNT(g.seq), MIN(g.created_at_ms), MAX(g.created_at_ms)
		FROM conversation_members m
		JOIN conversations c ON c.id = m.conversation_id
		JOIN users u ON u.id = m.user_id
		JOIN messages g ON g.conversation_id = m.conversation_id AND g.seq > m.last_read_seq
			AND g.sender_id <> m.user_id AND g.deleted_at_ms = 0
		WHERE c.last_seq > m.last_read_seq AND u.email <> '' AND NOT u.disabled
		GROUP BY m.user_id, u.email, u.first_name, u.last_name, c.id, c.kind, c.title
		HAVING MIN(g.created_at_ms) < ?
		ORDER BY m.user_id, c.id`, before.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("chat: unread for digest: %w", err)
	}
	defer rows.Close()
	var out []DigestItem
	for rows.Next() {
		var d DigestItem
		if err := rows.Scan(&d.UserID, &d.Email, &d.FirstName, &d.LastName, &d.ConversationID, &d.Kind, &d.Title,
			&d.Unread, &d.OldestMs, &d.NewestMs); err != nil {
			return nil, fmt.Errorf("chat: unread for digest: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chat: unread for digest: %w", err)
	}
	return out, nil
}
