package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/chat"
)

// Acting on a conversation: a recipient answers a mailbox message's sender,
// anyone reports a message, and moderators (a class's teachers and vie
// scolaire, a group's creator) delete any message, mute a member, switch to
// announcements only and set opening hours (chat/moderation.go). Each act
// is audited by the chat store.

func (s *Server) moderationPages(r chi.Router) {
	lim := r.With(s.limitBody(s.cfg.MaxBody))
	lim.Post("/messagerie/{id}/repondre", s.replyPost)
	lim.Post("/messagerie/{id}/signaler", s.reportPost)
	lim.Post("/messagerie/{id}/moderation", s.moderationPost)
	lim.Post("/messagerie/{id}/retirer", s.withdrawPost)
}

// withdrawPost deletes the user's own message within chat.EditWindow; open
// pages see it go live.
func (s *Server) withdrawPost(w http.ResponseWriter, r *http.Request) {
	id := convID(r)
	seq, err := strconv.ParseInt(r.PostFormValue("seq"), 10, 64)
	if id == 0 || err != nil || seq <= 0 {
		s.notFound(w, r)
		return
	}
	m, err := s.chat.Delete(r.Context(), id, seq, currentUser(r).UserID)
	switch {
	case err == nil:
		if s.cfg.ChatHub != nil {
			s.cfg.ChatHub.Changed(r.Context(), m)
		}
		http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(id, 10)+"?envoye=modere", http.StatusSeeOther)
	case errors.Is(err, chat.ErrNotFound), errors.Is(err, chat.ErrForbidden):
		s.notFound(w, r)
	case errors.Is(err, chat.ErrTooLate):
		s.error(w, r, http.StatusConflict, "Un message ne peut plus être retiré 15 minutes après son envoi.")
	default:
		s.fail(w, r, err)
	}
}

func convID(r *http.Request) int64 {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// replyPost opens the private conversation with a mailbox message's sender,
// the subject in the draft.
func (s *Server) replyPost(w http.ResponseWriter, r *http.Request) {
	id := convID(r)
	c, err := s.chat.ReplyToSender(r.Context(), currentUser(r).UserID, id)
	if errors.Is(err, chat.ErrNotFound) || id == 0 {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mail, err := s.chat.Conversation(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(c.ID, 10)+"?re="+url.QueryEscape(mail.Title), http.StatusSeeOther)
}

func (s *Server) reportPost(w http.ResponseWriter, r *http.Request) {
	id := convID(r)
	seq, err := strconv.ParseInt(r.PostFormValue("seq"), 10, 64)
	if id == 0 || err != nil || seq <= 0 {
		s.notFound(w, r)
		return
	}
	_, err = s.chat.Report(r.Context(), id, seq, currentUser(r).UserID)
	if errors.Is(err, chat.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/messagerie?signale=1", http.StatusSeeOther)
}

// parseHM reads "08:30" as minutes after midnight.
func parseHM(s string) (int, bool) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// moderationPost runs one moderation act: action=supprimer (seq),
// silence (membre, minutes; 0 lifts), annonces (on=1|0), horaires (de, a;
// both empty: always open).
func (s *Server) moderationPost(w http.ResponseWriter, r *http.Request) {
	id := convID(r)
	if id == 0 {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx := r.Context()
	me := currentUser(r).UserID
	f := r.PostForm
	num := func(k string) int64 {
		n, err := strconv.ParseInt(f.Get(k), 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	var err error
	switch f.Get("action") {
	case "supprimer":
		if s.cfg.ChatHub != nil {
			_, err = s.cfg.ChatHub.ModerateDelete(ctx, id, num("seq"), me)
		} else {
			_, err = s.chat.ModerateDelete(ctx, id, num("seq"), me)
		}
	case "silence":
		min := num("minutes")
		if min < 0 {
			err = chat.ErrInvalid
			break
		}
		err = s.chat.Mute(ctx, id, me, num("membre"), time.Duration(min)*time.Minute)
	case "annonces":
		err = s.chat.SetAnnounceOnly(ctx, id, me, f.Get("on") == "1")
	case "horaires":
		from, okF := parseHM(f.Get("de"))
		to, okT := parseHM(f.Get("a"))
		if f.Get("de") == "" && f.Get("a") == "" {
			from, to, okF, okT = 0, 0, true, true
		}
		if !okF || !okT {
			err = chat.ErrInvalid
			break
		}
		err = s.chat.SetHours(ctx, id, me, from, to)
	default:
		err = chat.ErrInvalid
	}
	switch {
	case err == nil:
		http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(id, 10)+"?envoye=modere", http.StatusSeeOther)
	case errors.Is(err, chat.ErrNotFound), errors.Is(err, chat.ErrForbidden):
		s.notFound(w, r)
	case errors.Is(err, chat.ErrInvalid):
		s.error(w, r, http.StatusBadRequest, "Action de modération invalide (durée de 7 jours au plus, heures au format 08:30).")
	default:
		s.fail(w, r, err)
	}
}
