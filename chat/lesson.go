package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"preau/db"
)

// A live lesson's chat (docs/protocol.md, "Lesson chat"): a conversation of
// kind "lesson" bound to the lesson's SFU room, made when the lesson
// starts. Its members are the people who may join the lesson — the class's
// pupils, its teachers, the school's vie scolaire and whoever started it —
// fixed at that moment (a lesson is short). Teachers, vie scolaire and the
// starter moderate it. Messages, attachments, moderation and replay are
// those of any conversation; the history stays readable in the Messagerie
// after the lesson.

// LessonChat returns the chat of the lesson held in room, creating it the
// first time with the members of class classID and startedBy as moderator.
// Calling it again for the same room returns the same conversation (two
// nodes racing to create it end with one).
func (s *Store) LessonChat(ctx context.Context, room string, classID, startedBy int64, title string) (Conversation, error) {
	if room == "" {
		return Conversation{}, fmt.Errorf("%w: no room", ErrInvalid)
	}
	if err := checkText(title, maxTitleChars); err != nil {
		return Conversation{}, err
	}
	if c, err := s.LessonChatOf(ctx, room); !errors.Is(err, ErrNotFound) {
		return c, err
	}
	class, err := s.dir.Class(ctx, classID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: lesson chat: class %d: %w", classID, err)
	}
	want := map[int64]string{}
	pupils, err := s.dir.ClassPupils(ctx, classID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: lesson chat: %w", err)
	}
	for _, p := range pupils {
		want[p.ID] = RoleMember
	}
	teachings, err := s.dir.ClassTeachings(ctx, classID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: lesson chat: %w", err)
	}
	for _, t := range teachings {
		want[t.TeacherID] = RoleModerator
	}
	vs, err := s.vieScolaire(ctx, s.db, class.StructureID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: lesson chat: %w", err)
	}
	for _, id := range vs {
		want[id] = RoleModerator
	}
	want[startedBy] = RoleModerator
	c := Conversation{Kind: KindLesson, StructureID: class.StructureID, Title: title, CreatedBy: startedBy, CreatedAtMs: s.nowMs()}
	raced := false
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// ON CONFLICT: another node made it meanwhile; then read theirs.
		raced = false
		err := tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, title, created_by, created_at_ms, room)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (room) DO NOTHING RETURNING id`, string(c.Kind), c.StructureID,
			c.Title, c.CreatedBy, c.CreatedAtMs, room).Scan(&c.ID)
		if errors.Is(err, sql.ErrNoRows) {
			raced = true
			return nil
		}
		if err != nil {
			return err
		}
		for id, role := range want {
			if err := addMember(ctx, tx, c.ID, id, role, c.CreatedAtMs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: lesson chat: %w", err)
	}
	if raced {
		return s.LessonChatOf(ctx, room)
	}
	return c, nil
}

// LessonChatOf returns the chat of the lesson held in room: ErrNotFound when
// the lesson has none.
func (s *Store) LessonChatOf(ctx context.Context, room string) (Conversation, error) {
	var id int64
	err := s.db.QueryRow(ctx, "SELECT id FROM conversations WHERE room = ?", room).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, ErrNotFound
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: lesson chat: %w", err)
	}
	return s.Conversation(ctx, id)
}
