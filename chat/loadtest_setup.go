package chat

import (
	"context"
	"fmt"

	"preau/db"
)

// The set-up of `preau loadtest chat` (web/loadtest_chat.go): group
// conversations filled with many members at once, and their removal.

// CreateGroupWith creates a group conversation of structure structureID
// whose members are userIDs (role member), in one transaction: adding
// thousands of members one by one would be one commit each. Nobody is its
// creator (created_by 0).
func (s *Store) CreateGroupWith(ctx context.Context, structureID int64, title string, userIDs []int64) (Conversation, error) {
	c := Conversation{Kind: KindGroup, StructureID: structureID, Title: title}
	if err := checkText(c.Title, maxTitleChars); err != nil {
		return c, err
	}
	c.CreatedAtMs = s.nowMs()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, title, created_by, created_at_ms)
			VALUES (?, ?, ?, 0, ?) RETURNING id`, string(c.Kind), c.StructureID, c.Title, c.CreatedAtMs).Scan(&c.ID); err != nil {
			return err
		}
		for _, u := range userIDs {
			if err := addMember(ctx, tx, c.ID, u, RoleMember, c.CreatedAtMs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("chat: create group of %d: %w", len(userIDs), err)
	}
	return c, nil
}

// DeleteConversations removes conversations with their members and
// messages (ON DELETE CASCADE). Only the load-test set-up uses it:
// conversations of real people are never deleted.
func (s *Store) DeleteConversations(ctx context.Context, ids []int64) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "DELETE FROM conversations WHERE id = ?", id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chat: delete %d conversations: %w", len(ids), err)
	}
	return nil
}
