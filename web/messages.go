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
}

type messagesData struct {
	Conversations []chat.Listed
	// ParentOnly: the user has no class of their own (a parent), whose
	// conversations with teachers are not built yet.
	ParentOnly bool
}

func (s *Server) messagesPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	// Class channels are made on first visit and their members kept in step
	// with the directory at each visit.
	for _, id := range u.Classes {
		c, err := s.dir.Class(ctx, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if c.Kind != directory.KindClass {
			continue
		}
		if _, err := s.chat.EnsureClassChannel(ctx, id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	list, err := s.chat.ConversationsOf(ctx, u.UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := messagesData{Conversations: list, ParentOnly: u.Primary() == identity.Parent}
	s.render(w, r, http.StatusOK, "messages", view{Title: "Messagerie", Data: d})
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
		p, err := s.dir.Person(ctx, id)
		if errors.Is(err, directory.ErrNotFound) {
			err = nil
			p.FirstName = "Ancien membre"
		}
		names[id] = p.FullName()
		return names[id], err
	}
	d := conversationData{Conv: c, Me: u.UserID, ClientID: newClientID(), LastSeq: c.LastSeq}
	for _, m := range members {
		n, err := name(m.UserID)
		if err != nil {
			return view{}, err
		}
		d.People = append(d.People, person{m.UserID, n})
	}
	for _, m := range msgs {
		n, err := name(m.SenderID)
		if err != nil {
			return view{}, err
		}
		at := time.UnixMilli(m.CreatedAtMs)
		d.Messages = append(d.Messages, messageRow{Seq: m.Seq, Sender: n, Mine: m.SenderID == u.UserID,
			At: frDateTime(at), AtISO: at.UTC().Format(time.RFC3339), Parts: splitLinks(m.Body),
			Edited: m.EditedAtMs != 0, Deleted: m.DeletedAtMs != 0})
	}
	if len(msgs) > 0 {
		d.LastSeq = msgs[len(msgs)-1].Seq
	}
	return view{Title: c.Title, Data: d}, nil
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
	if r.URL.Query().Get("envoye") == "1" {
		v.Flash = "Message envoyé."
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
	var err error
	if s.cfg.ChatHub != nil {
		_, err = s.cfg.ChatHub.Post(r.Context(), c.ID, currentUser(r).UserID, clientID, body)
	} else {
		_, err = s.chat.Post(r.Context(), c.ID, currentUser(r).UserID, clientID, body)
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

// newClientID returns a random client message id (chat.CheckClientID).
func newClientID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "f-" + hex.EncodeToString(b)
}
