package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"preau/chat"
)

// editPost changes the text of the user's own message within
// chat.EditWindow (form: seq, texte); pages open on the conversation get
// the edited message live (a "message" frame with edited_at_ms).
func (s *Server) editPost(w http.ResponseWriter, r *http.Request) {
	id := convID(r)
	seq, err := strconv.ParseInt(r.PostFormValue("seq"), 10, 64)
	if id == 0 || err != nil || seq <= 0 {
		s.notFound(w, r)
		return
	}
	body := strings.ReplaceAll(r.PostFormValue("texte"), "\r\n", "\n")
	me := currentUser(r).UserID
	if s.cfg.ChatHub != nil {
		_, err = s.cfg.ChatHub.Edit(r.Context(), id, seq, me, body)
	} else {
		_, err = s.chat.Edit(r.Context(), id, seq, me, body)
	}
	switch {
	case err == nil:
		http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(id, 10)+"?envoye=modifie", http.StatusSeeOther)
	case errors.Is(err, chat.ErrNotFound), errors.Is(err, chat.ErrForbidden):
		s.notFound(w, r)
	case errors.Is(err, chat.ErrTooLate):
		s.error(w, r, http.StatusConflict, "Un message ne peut plus être modifié 15 minutes après son envoi.")
	case errors.Is(err, chat.ErrTooLong):
		s.error(w, r, http.StatusBadRequest, "Message trop long (4 000 caractères au plus).")
	case errors.Is(err, chat.ErrInvalid):
		s.error(w, r, http.StatusBadRequest, "Le message est vide ou contient des caractères invalides.")
	default:
		s.fail(w, r, err)
	}
}
