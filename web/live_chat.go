package web

import (
	"context"
	"errors"
	"net/http"

	"preau/chat"
	"preau/ent/directory"
)

// A live lesson's chat (docs/sfu.md, "Lesson chat"): a conversation bound
// to the lesson's room, made when the lesson starts (chat.Store.LessonChat:
// the class, its teachers, the vie scolaire, the teacher who started it),
// shown beside the videos with the Messagerie's own panel and script —
// messages, replies, attachments from Documents, moderation — and kept in
// the Messagerie after the lesson. Whoever may join the lesson (a head, a
// member of staff) joins its chat when they open the lesson page.

// openLessonChat makes the lesson's conversation. A failure leaves the
// lesson without chat, logged: the video matters more.
func (s *Server) openLessonChat(ctx context.Context, l lesson, c directory.Class) {
	title := "Cours en direct — " + c.Name + " — " + frDateTime(l.StartedAt)
	if _, err := s.chat.LessonChat(ctx, l.Room, c.ID, l.StartedBy, title); err != nil {
		s.log.Warn("live: lesson chat", "room", l.Room, "err", err)
	}
}

// lessonChatPanel returns the chat panel of lesson l for the page, with the
// viewer made a member (moderator if they moderate the lesson); nil when the
// lesson has no chat or the chat hub is not running.
func (s *Server) lessonChatPanel(r *http.Request, l lesson, moderator bool) (*conversationData, error) {
	if s.cfg.ChatHub == nil {
		return nil, nil
	}
	ctx, u := r.Context(), currentUser(r)
	c, err := s.chat.LessonChatOf(ctx, l.Room)
	if errors.Is(err, chat.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	role := chat.RoleMember
	if moderator {
		role = chat.RoleModerator
	}
	if ok, err := s.chat.IsMember(ctx, c.ID, u.UserID); err != nil {
		return nil, err
	} else if !ok {
		if err := s.chat.AddMember(ctx, c.ID, u.UserID, role); err != nil {
			return nil, err
		}
	}
	v, err := s.conversationView(r, c)
	if err != nil {
		return nil, err
	}
	d, ok := v.Data.(conversationData)
	if !ok {
		return nil, errors.New("live: lesson chat: unexpected view data")
	}
	return &d, nil
}
