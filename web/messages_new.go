package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/chat"
	"preau/ent/directory"
	"preau/identity"
)

// Starting conversations: "Nouvelle conversation" (a person, or several: a
// group) with a people picker limited to the people the user may write to
// (chat.Store.Reachable, the policy's message_* rules), and "Nouveau
// message" (the mailbox: a subject, recipients by class and role or by
// person). Someone out of reach answers 404, like someone who does not
// exist.

func (s *Server) messageNewPages(r chi.Router) {
	r.Get("/messagerie/nouvelle", s.newConversationPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/messagerie/nouvelle", s.newConversationPost)
	r.Get("/messagerie/message", s.newMailPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/messagerie/message", s.newMailPost)
}

type contactRow struct {
	chat.Contact
	Label   string
	Checked bool
}

type newConversationData struct {
	Query    string
	Contacts []contactRow
	Title    string
	More     bool // the list is cut: search to narrow it
}

// pickerSize is how many people the picker shows at once.
const pickerSize = 100

func (s *Server) contacts(r *http.Request, q string, checked []int64) ([]contactRow, bool, error) {
	cs, err := s.chat.Reachable(r.Context(), currentUser(r).Principal, q, pickerSize+1)
	if err != nil {
		return nil, false, err
	}
	more := len(cs) > pickerSize
	if more {
		cs = cs[:pickerSize]
	}
	out := make([]contactRow, 0, len(cs))
	for _, c := range cs {
		label := c.Profile.Label()
		if c.Detail != "" {
			label = c.Detail
		}
		out = append(out, contactRow{Contact: c, Label: label, Checked: slices.Contains(checked, c.ID)})
	}
	return out, more, nil
}

func (s *Server) newConversationPage(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	cs, more, err := s.contacts(r, q, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "messages_new", view{Title: "Nouvelle conversation",
		Data: newConversationData{Query: q, Contacts: cs, More: more}})
}

func formIDs(vals []string) ([]int64, bool) {
	var out []int64
	for _, v := range vals {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		out = append(out, id)
	}
	return out, true
}

// newConversationPost starts a private conversation with one person, or a
// group (with a title) with several.
func (s *Server) newConversationPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	u := currentUser(r)
	people, ok := formIDs(r.PostForm["personne"])
	if !ok {
		s.notFound(w, r)
		return
	}
	title := strings.TrimSpace(r.PostForm.Get("titre"))
	var c chat.Conversation
	var err error
	msg := ""
	switch {
	case len(people) == 0:
		msg = "Choisissez au moins une personne."
	case len(people) == 1:
		c, err = s.chat.StartPrivate(r.Context(), u.Principal, people[0])
	case title == "":
		msg = "Donnez un titre à la conversation de groupe."
	case len(people) > chat.MaxGroupMembers:
		msg = "Une conversation de groupe réunit au plus 50 personnes : pour écrire à plus de monde, utilisez « Nouveau message »."
	default:
		c, err = s.chat.CreateGroup(r.Context(), u.Principal, title, people)
	}
	switch {
	case msg != "":
	case errors.Is(err, chat.ErrNotFound):
		s.error(w, r, http.StatusNotFound, "Destinataire introuvable : vous ne pouvez pas écrire à cette personne.")
		return
	case errors.Is(err, chat.ErrInvalid):
		msg = "Titre trop long ou destinataires invalides."
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(c.ID, 10), http.StatusSeeOther)
		return
	}
	cs, more, err := s.contacts(r, "", people)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusBadRequest, "messages_new", view{Title: "Nouvelle conversation", Error: msg,
		Data: newConversationData{Contacts: cs, Title: title, More: more}})
}

// mailClass is a class the user may send mailbox messages to.
type mailClass struct {
	ID   int64
	Name string
}

type newMailData struct {
	Classes  []mailClass
	Contacts []contactRow
	More     bool
	Subject  string
	Body     string
	ClientID string
	Checked  map[string]bool // "classe-ID-parents" etc.
}

// mailClasses lists the classes of this year the user may write to with the
// mailbox rule: taught classes for a teacher, the school's for staff.
func (s *Server) mailClasses(r *http.Request) ([]mailClass, error) {
	u := currentUser(r)
	var out []mailClass
	seen := map[int64]bool{}
	add := func(c directory.Class) {
		if seen[c.ID] || c.Kind != directory.KindClass {
			return
		}
		if u.Can(identity.Mailbox, identity.Create, identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}}) {
			seen[c.ID] = true
			out = append(out, mailClass{c.ID, c.Name})
		}
	}
	for _, st := range u.Structures() {
		if st == 0 {
			continue
		}
		if !u.InStructure(identity.Staff, st) && !u.InStructure(identity.Head, st) {
			continue
		}
		y, err := directory.CurrentYear(r.Context(), s.db)
		if errors.Is(err, directory.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		cs, err := s.dir.Classes(r.Context(), st, y.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			add(c)
		}
	}
	for _, id := range u.Classes {
		c, err := s.dir.Class(r.Context(), id)
		if err != nil {
			return nil, err
		}
		add(c)
	}
	return out, nil
}

func (s *Server) mailForm(w http.ResponseWriter, r *http.Request, code int, d newMailData, msg string) {
	u := currentUser(r)
	if !u.CanAny(identity.Mailbox, identity.Create) {
		s.notFound(w, r)
		return
	}
	var err error
	if d.Classes, err = s.mailClasses(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var checked []int64
	for k := range d.Checked {
		if id, ok := strings.CutPrefix(k, "personne-"); ok {
			if n, err := strconv.ParseInt(id, 10, 64); err == nil {
				checked = append(checked, n)
			}
		}
	}
	if d.Contacts, d.More, err = s.contacts(r, "", checked); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.ClientID == "" {
		d.ClientID = newClientID()
	}
	s.render(w, r, code, "messages_mail", view{Title: "Nouveau message", Error: msg, Data: d})
}

func (s *Server) newMailPage(w http.ResponseWriter, r *http.Request) {
	s.mailForm(w, r, http.StatusOK, newMailData{Checked: map[string]bool{}}, "")
}

// newMailPost sends a mailbox message. Recipients are "dest" values
// "CLASS:eleves", "CLASS:parents", "CLASS:enseignants" and "personne"
// ids.
func (s *Server) newMailPost(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !u.CanAny(identity.Mailbox, identity.Create) {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	d := newMailData{Subject: r.PostForm.Get("sujet"), Body: strings.ReplaceAll(r.PostForm.Get("texte"), "\r\n", "\n"),
		ClientID: r.PostForm.Get("client_id"), Checked: map[string]bool{}}
	if chat.CheckClientID(d.ClientID) != nil {
		d.ClientID = newClientID()
	}
	var aud chat.Audience
	byClass := map[int64]int{} // class → index in aud.Classes
	for _, v := range r.PostForm["dest"] {
		cls, role, ok := strings.Cut(v, ":")
		id, err := strconv.ParseInt(cls, 10, 64)
		if !ok || err != nil || id <= 0 {
			s.notFound(w, r)
			return
		}
		i, seen := byClass[id]
		if !seen {
			i = len(aud.Classes)
			byClass[id] = i
			aud.Classes = append(aud.Classes, chat.ClassAudience{ClassID: id})
		}
		switch role {
		case "eleves":
			aud.Classes[i].Pupils = true
		case "parents":
			aud.Classes[i].Parents = true
		case "enseignants":
			aud.Classes[i].Teachers = true
		default:
			s.notFound(w, r)
			return
		}
		d.Checked[v] = true
	}
	people, ok := formIDs(r.PostForm["personne"])
	if !ok {
		s.notFound(w, r)
		return
	}
	aud.People = people
	for _, p := range people {
		d.Checked["personne-"+strconv.FormatInt(p, 10)] = true
	}
	mail, err := s.chat.SendMail(r.Context(), u.Principal, d.Subject, d.Body, d.ClientID, aud)
	switch {
	case err == nil:
		http.Redirect(w, r, "/messagerie/"+strconv.FormatInt(mail.Conversation.ID, 10)+"?envoye=1", http.StatusSeeOther)
	case errors.Is(err, chat.ErrNotFound):
		s.error(w, r, http.StatusNotFound, "Destinataire introuvable : vous ne pouvez pas écrire à cette classe ou à cette personne.")
	case errors.Is(err, chat.ErrTooLong):
		s.mailForm(w, r, http.StatusBadRequest, d, "Sujet ou message trop long (4 000 caractères au plus).")
	case errors.Is(err, chat.ErrInvalid):
		s.mailForm(w, r, http.StatusBadRequest, d, "Indiquez un sujet, un message et au moins un destinataire (2 000 au plus).")
	default:
		s.fail(w, r, err)
	}
}
