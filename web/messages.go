package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/chat"
	"preau/ent/directory"
	"preau/identity"
)

// The Messagerie pages: the user's conversations and one conversation with
// its composer. The page is complete without JavaScript (the composer posts a
// form); static/chat.js makes it live over /ws/chat (docs/protocol.md).

// historySize is how many of the last messages a conversation page shows.
const historySize = 50

func (s *Server) messagePages(r chi.Router) {
	r.Get("/messagerie", s.messagesPage)
	r.Get("/messagerie/{id}", s.conversationPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/messagerie/{id}", s.conversationPost)
	s.messageNewPages(r)
	s.attachmentPages(r)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/messagerie/{id}/modifier", s.editPost)
	s.messageSearchPages(r)
	s.moderationPages(r)
}

type messagesData struct {
	Conversations []chat.Listed
	// CanMail: the user may send mailbox messages (Nouveau message).
	CanMail bool
}

func (s *Server) messagesPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	// Class channels are made on first visit and their members kept in step
	// with the directory at each visit: a pupil's class channel, a parent's
	// children's classes' parents channels, both for a teacher.
	type want struct {
		class int64
		kind  chat.Kind
	}
	var wants []want
	teacher := u.Has(identity.Teacher)
	for _, id := range u.Classes {
		wants = append(wants, want{id, chat.KindClass})
		if teacher {
			wants = append(wants, want{id, chat.KindClassParents})
		}
	}
	for _, id := range u.ChildClasses {
		wants = append(wants, want{id, chat.KindClassParents})
	}
	for _, wt := range wants {
		c, err := s.dir.Class(ctx, wt.class)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if c.Kind != directory.KindClass {
			continue
		}
		if wt.kind == chat.KindClass {
			_, err = s.chat.EnsureClassChannel(ctx, wt.class)
		} else {
			_, err = s.chat.EnsureClassParentsChannel(ctx, wt.class)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// The vie scolaire moderates every class of the school: channels
	// nobody has opened yet are made for them.
	if u.Has(identity.Staff) {
		structures, err := s.chat.VieScolaireOf(ctx, u.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, st := range structures {
			if err := s.chat.EnsureSchoolChannels(ctx, st); err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	list, err := s.chat.ConversationsOf(ctx, u.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := messagesData{Conversations: list, CanMail: u.CanAny(identity.Mailbox, identity.Create)}
	v := view{Title: "Messagerie", Data: d}
	if r.URL.Query().Get("signale") == "1" {
		v.Flash = "Merci : le message est signalé aux enseignants et à la vie scolaire."
	}
	s.render(w, r, http.StatusOK, "messages", v)
}

// conversationData is what conversation.html receives.
type conversationData struct {
	Conv     chat.Conversation
	Messages []messageRow
	// LastSeq is the highest seq shown: chat.js subscribes after it.
	LastSeq int64
	// People names the members, for messages that arrive live.
	People   []person
	Me       int64
	ClientID string // the plain form's client_id: a double submit stores once
	Draft    string
	// Title is the conversation's name for the user (the other person's
	// in a private conversation).
	Title string
	// Moderator: the user moderates the conversation (moderation controls).
	Moderator bool
	// CanPost: the composer is shown (not an announcement for a member).
	CanPost bool
	// Attach: the composer offers attachments (Documents are enabled).
	Attach bool
	// Mail: a mailbox message; ReadBy/Recipients are its receipts, shown
	// to its sender; CanReply shows "Répondre à l'expéditeur".
	Mail               bool
	ReadBy, Recipients int
	CanReply           bool
	// Members are the members who are not moderators, for muting.
	Members []memberRow
	Hours   string
	Report  bool // a report's conversation
}

type memberRow struct {
	ID    int64
	Name  string
	Muted string // "jusqu'à 14:30" when muted
}

type person struct {
	ID   int64
	Name string
}

type messageRow struct {
	Seq     int64
	Sender  string
	Mine    bool
	At      string
	AtISO   string
	Parts   []textPart
	Edited  bool
	Deleted bool
	// Reportable: not the user's own, not deleted.
	Reportable bool
	// Withdrawable: the user's own, still within chat.EditWindow.
	Withdrawable bool
	// SeenBy of SeenOf other members have read it: shown on a moderator's
	// own messages (announcements, official messages).
	SeenBy, SeenOf int
	// Body is the raw text, for the edit form.
	Body        string
	Attachments []attachmentRow
	// ReplyTo is the seq answered (0: none), ReplySender and ReplyExcerpt
	// its quote.
	ReplyTo                   int64
	ReplySender, ReplyExcerpt string
}

// textPart is a piece of a message body: plain text, or a link shown as
// such (never fetched by the server: no preview).
type textPart struct {
	Text string
	Href string
}

// linkRE finds web addresses in a message; trailing punctuation is left
// out, as in "voir https://exemple.fr.".
var linkRE = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)\]'»]`)

func splitLinks(body string) []textPart {
	var parts []textPart
	last := 0
	for _, m := range linkRE.FindAllStringIndex(body, -1) {
		if m[0] > last {
			parts = append(parts, textPart{Text: body[last:m[0]]})
		}
		parts = append(parts, textPart{Text: body[m[0]:m[1]], Href: body[m[0]:m[1]]})
		last = m[1]
	}
	if last < len(body) {
		parts = append(parts, textPart{Text: body[last:]})
	}
	return parts
}

// conversation loads the conversation of the URL if the user is a member;
// ok is false when an answer (404, 503) was written.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request) (chat.Conversation, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return chat.Conversation{}, false
	}
	member, err := s.chat.IsMember(r.Context(), id, currentUser(r).UserID)
	if err != nil {
		s.fail(w, r, err)
		return chat.Conversation{}, false
	}
	if !member {
		// Not a member and no such conversation look the same.
		s.notFound(w, r)
		return chat.Conversation{}, false
	}
	c, err := s.chat.Conversation(r.Context(), id)
	if errors.Is(err, chat.ErrNotFound) {
		s.notFound(w, r)
		return c, false
	}
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

func (s *Server) conversationView(r *http.Request, c chat.Conversation) (view, error) {
	ctx := r.Context()
	u := currentUser(r)
	msgs, err := s.chat.Since(ctx, c.ID, max(0, c.LastSeq-historySize), historySize)
	if err != nil {
		return view{}, err
	}
	members, err := s.chat.Members(ctx, c.ID)
	if err != nil {
		return view{}, err
	}
	names := map[int64]string{}
	name := func(id int64) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		if id == 0 {
			names[0] = "Préau"
			return names[0], nil
		}
		p, err := s.dir.Person(ctx, id)
		if errors.Is(err, directory.ErrNotFound) {
			err = nil
			p.FirstName = "Ancien membre"
		}
		names[id] = p.FullName()
		return names[id], err
	}
	d := conversationData{Conv: c, Me: u.UserID, ClientID: newClientID(), LastSeq: c.LastSeq, Title: c.Title,
		Mail: c.Kind == chat.KindMail, Report: c.Kind == chat.KindReport, Hours: chat.FormatHours(c.OpenFromMin, c.OpenToMin)}
	now := time.Now().UnixMilli()
	for _, m := range members {
		n, err := name(m.UserID)
		if err != nil {
			return view{}, err
		}
		d.People = append(d.People, person{m.UserID, n})
		if m.UserID == u.UserID {
			d.Moderator = m.Role == chat.RoleModerator
		} else if c.Kind == chat.KindPrivate {
			d.Title = n
		}
		if m.Role != chat.RoleModerator && m.UserID != u.UserID {
			row := memberRow{ID: m.UserID, Name: n}
			if m.MutedUntilMs > now {
				row.Muted = "jusqu'au " + frDateTime(time.UnixMilli(m.MutedUntilMs))
			}
			d.Members = append(d.Members, row)
		}
	}
	d.CanPost = d.Moderator || (!c.AnnounceOnly && c.Kind != chat.KindReport)
	d.Attach = d.CanPost && s.cfg.Files != nil && s.cfg.ChatHub != nil
	if d.Mail {
		d.CanReply = c.CreatedBy != u.UserID && c.CreatedBy != 0
		if c.CreatedBy == u.UserID {
			if d.ReadBy, d.Recipients, err = s.chat.Receipts(ctx, c.ID); err != nil {
				return view{}, err
			}
		}
	}
	if !d.Moderator || c.Kind == chat.KindPrivate || d.Mail || d.Report {
		d.Members = nil // no mute where there is nothing to moderate
	}
	bySeq := map[int64]chat.Message{}
	for _, m := range msgs {
		bySeq[m.Seq] = m
	}
	for _, m := range msgs {
		n, err := name(m.SenderID)
		if err != nil {
			return view{}, err
		}
		at := time.UnixMilli(m.CreatedAtMs)
		row := messageRow{Seq: m.Seq, Sender: n, Mine: m.SenderID == u.UserID, Body: m.Body,
			Attachments: attachmentRows(c.ID, m), ReplyTo: m.ReplyTo}
		if m.ReplyTo > 0 && m.DeletedAtMs == 0 {
			q, ok := bySeq[m.ReplyTo]
			if !ok {
				if q, err = s.chat.Message(ctx, c.ID, m.ReplyTo); err != nil {
					return view{}, err
				}
			}
			if row.ReplySender, err = name(q.SenderID); err != nil {
				return view{}, err
			}
			row.ReplyExcerpt = excerpt(q)
		}
		row.At, row.AtISO, row.Parts = frDateTime(at), at.UTC().Format(time.RFC3339), splitLinks(m.Body)
		row.Edited, row.Deleted = m.EditedAtMs != 0, m.DeletedAtMs != 0
		row.Reportable = m.SenderID != u.UserID && m.SenderID != 0 && m.DeletedAtMs == 0 && c.Kind != chat.KindReport
		row.Withdrawable = m.SenderID == u.UserID && m.DeletedAtMs == 0 && now-m.CreatedAtMs < chat.EditWindow.Milliseconds()
		d.Messages = append(d.Messages, row)
		if m.SenderID == u.UserID && d.Moderator && c.Kind != chat.KindPrivate && c.Kind != chat.KindReport {
			row := &d.Messages[len(d.Messages)-1]
			for _, mb := range members {
				if mb.UserID != u.UserID {
					row.SeenOf++
					if mb.LastReadSeq >= m.Seq {
						row.SeenBy++
					}
				}
			}
		}
	}
	if len(msgs) > 0 {
		d.LastSeq = msgs[len(msgs)-1].Seq
	}
	return view{Title: d.Title, Data: d}, nil
}

func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request) {
	c, ok := s.conversation(w, r)
	if !ok {
		return
	}
	v, err := s.conversationView(r, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// What the page shows is read.
	if err := s.chat.MarkRead(r.Context(), c.ID, currentUser(r).UserID, v.Data.(conversationData).LastSeq); err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("envoye") {
	case "1":
		v.Flash = "Message envoyé."
	case "modere":
		v.Flash = "C'est fait."
	case "modifie":
		v.Flash = "Message modifié."
	}
	if re := r.URL.Query().Get("re"); re != "" && len(re) <= 210 {
		d := v.Data.(conversationData)
		d.Draft = "Re : " + re + "\n\n"
		v.Data = d
	}
	s.render(w, r, http.StatusOK, "conversation", v)
}

// conversationPost is the composer without JavaScript. The message is stored
// like one sent over the WebSocket; pages open elsewhere see it when they
// next load or reconnect.
func (s *Server) conversationPost(w http.ResponseWriter, r *http.Request) {
	c, ok := s.conversation(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	body := strings.ReplaceAll(r.PostForm.Get("texte"), "\r\n", "\n")
	clientID := r.PostForm.Get("client_id")
	if chat.CheckClientID(clientID) != nil {
		clientID = newClientID()
	}
	replyTo, _ := strconv.ParseInt(r.PostForm.Get("reply_to"), 10, 64)
	var err error
	if s.cfg.ChatHub != nil {
		_, err = s.cfg.ChatHub.PostWith(r.Context(), c.ID, currentUser(r).Principal, clientID, body, max(replyTo, 0), nil)
	} else {
		_, err = s.chat.PostWith(r.Context(), c.ID, currentUser(r).UserID, clientID, body, chat.Extra{ReplyTo: max(replyTo, 0)})
	}
	var msg string
	switch {
	case err == nil:
		http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(c.ID, 10)+"?envoye=1", http.StatusSeeOther)
		return
	case errors.Is(err, chat.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, chat.ErrTooLong):
		msg = "Message trop long (4 000 caractères au plus)."
	case errors.Is(err, chat.ErrInvalid):
		msg = "Le message est vide ou contient des caractères invalides."
	case errors.Is(err, chat.ErrMuted):
		msg = "Un modérateur vous a retiré la parole pour un moment : votre message n'est pas envoyé."
	case errors.Is(err, chat.ErrReadOnly):
		msg = "Seuls les enseignants et la vie scolaire peuvent écrire dans cette conversation."
	case errors.Is(err, chat.ErrOutOfHours):
		msg = "La conversation est fermée à cette heure-ci : réessayez pendant les heures d'ouverture."
	case errors.Is(err, chat.ErrBusy):
		msg = "Trop de messages en cours d'envoi : réessayez dans un instant."
	default:
		s.fail(w, r, err)
		return
	}
	v, verr := s.conversationView(r, c)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	d := v.Data.(conversationData)
	d.Draft = body
	v.Data, v.Error = d, msg
	s.render(w, r, http.StatusBadRequest, "conversation", v)
}

// excerpt is the start of a message quoted by a reply.
func excerpt(m chat.Message) string {
	if m.DeletedAtMs != 0 {
		return "Message supprimé."
	}
	r := []rune(strings.Join(strings.Fields(m.Body), " "))
	if len(r) > 120 {
		return string(r[:120]) + "…"
	}
	if len(r) == 0 && len(m.Attachments) > 0 {
		return "Pièce jointe : " + m.Attachments[0].Name
	}
	return string(r)
}

// chatRevoke ends the user's chat connections on every node, within the
// broker's delay (chat.Hub.Revoke): an account disabled, a session ended.
// The user's other pages reconnect with their own session.
func (s *Server) chatRevoke(r *http.Request, userID int64) {
	if s.cfg.ChatHub != nil {
		s.cfg.ChatHub.Revoke(r.Context(), userID)
	}
}

// newClientID returns a random client message id (chat.CheckClientID).
func newClientID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "f-" + hex.EncodeToString(b)
}
