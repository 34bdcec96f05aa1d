package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/homework"
	"preau/identity"
	"preau/storage/files"
)

// The homework book (cahier de textes, package homework, docs/homework.md):
// this file holds the access checks the pages (homework_pages.go) and the
// API share, and the API under /api/v1/homework. Every object outside the
// caller's scope is "not found", never "forbidden".

func (s *Server) homework() *homework.Store { return homework.New(s.db) }

// hwToday is today's date in Europe/Paris.
func hwToday() string { return time.Now().In(homework.Paris).Format(homework.DateLayout) }

// hwDateParam accepts an empty or well-formed date of a query.
func hwDateParam(v string) bool {
	if v == "" {
		return true
	}
	d, err := time.Parse(homework.DateLayout, v)
	return err == nil && d.Format(homework.DateLayout) == v
}

// hwBook is a class's book, in one subject or all, as the caller reaches it.
type hwBook struct {
	Class   directory.Class
	Subject directory.Subject // zero: every subject
	// Write: the caller teaches the subject to the class this school year
	// and may add lessons to this book.
	Write bool
}

// reachBook loads class classID (and subject subjectID, 0: all) when the
// caller may do a on its book: read (its pupils, their parents, its
// teachers, the school's staff and head, the administrator) or write (its
// teacher in that subject, this year). directory.ErrNotFound otherwise.
func (s *Server) reachBook(ctx context.Context, u *user, classID, subjectID int64, a identity.Action) (hwBook, error) {
	var b hwBook
	c, err := s.dir.Class(ctx, classID)
	if err != nil {
		return b, err
	}
	if !u.Can(identity.Homework, identity.Read, classTarget(c)) {
		return b, directory.ErrNotFound
	}
	b.Class = c
	if subjectID != 0 {
		subjects, err := s.dir.Subjects(ctx)
		if err != nil {
			return b, err
		}
		i := slices.IndexFunc(subjects, func(x directory.Subject) bool { return x.ID == subjectID })
		if i < 0 {
			return b, directory.ErrNotFound
		}
		b.Subject = subjects[i]
		if u.Can(identity.Homework, identity.Create, classTarget(c)) {
			if b.Write, err = homework.Teaches(ctx, s.db, u.UserID, c.ID, subjectID); err != nil {
				return b, err
			}
		}
	}
	if a != identity.Read && (!b.Write || !u.Can(identity.Homework, a, classTarget(c))) {
		return b, directory.ErrNotFound
	}
	return b, nil
}

// reachEntry loads entry id when the caller may do a on it: read it with
// its class's book; change or delete it as its author, still teaching the
// subject to the class.
func (s *Server) reachEntry(ctx context.Context, u *user, id int64, a identity.Action) (homework.Entry, hwBook, error) {
	e, err := s.homework().Entry(ctx, id)
	if err != nil {
		return e, hwBook{}, err
	}
	b, err := s.reachBook(ctx, u, e.ClassID, e.SubjectID, a)
	if err == nil && a != identity.Read && e.AuthorID != u.UserID {
		err = directory.ErrNotFound
	}
	return e, b, err
}

// hwPupil is a pupil whose "à faire" list the caller reaches.
type hwPupil struct {
	Person  directory.Person
	Classes []int64 // this year's classes and groups
	CanTick bool    // the caller is the pupil
}

// reachPupil loads the pupil id (0: the caller if a pupil, else their first
// child) when the caller may see their work and ticks: themselves, or their
// child. directory.ErrNotFound otherwise.
func (s *Server) reachPupil(ctx context.Context, u *user, id int64) (hwPupil, error) {
	var out hwPupil
	if id == 0 {
		switch {
		case u.Has(identity.Pupil):
			id = u.UserID
		case len(u.Children) > 0:
			id = u.Children[0]
		default:
			return out, directory.ErrNotFound
		}
	}
	roles, err := directory.Roles(ctx, s.db, id)
	if err != nil {
		return out, err
	}
	if !slices.ContainsFunc(roles, func(r identity.Role) bool { return r.Profile == identity.Pupil }) {
		return out, directory.ErrNotFound
	}
	ts, err := s.dir.PersonTargets(ctx, id)
	if err != nil {
		return out, err
	}
	ok := false
	for _, t := range ts {
		ok = ok || u.Can(identity.HomeworkDone, identity.Read, t)
		out.CanTick = out.CanTick || u.Can(identity.HomeworkDone, identity.Update, t)
		for _, c := range t.Classes {
			if !slices.Contains(out.Classes, c) {
				out.Classes = append(out.Classes, c)
			}
		}
	}
	if !ok {
		return out, directory.ErrNotFound
	}
	if out.Person, err = s.dir.Person(ctx, id); err != nil {
		return out, err
	}
	return out, nil
}

// hwItemOf finds work item in an entry.
func hwItemOf(e homework.Entry, item int64) (homework.Item, bool) {
	for _, it := range e.Items {
		if it.ID == item {
			return it, true
		}
	}
	return homework.Item{}, false
}

// hwAttachments turns the file ids chosen for a work into attachments:
// those the work already has stay as they are; a new one must be a file of
// at most 10 MiB the teacher may read in their Documents
// (files.Service.Attachable), its current version then being attached.
func (s *Server) hwAttachments(ctx context.Context, u *user, n int, ids []int64, old []homework.Attachment) ([]homework.Attachment, error) {
	if len(ids) > homework.MaxAttachments {
		return nil, &homework.Invalid{Msg: "travail " + strconv.Itoa(n) + " : " + strconv.Itoa(homework.MaxAttachments) + " pièces jointes au plus"}
	}
	out := make([]homework.Attachment, 0, len(ids))
	for _, id := range ids {
		if i := slices.IndexFunc(old, func(a homework.Attachment) bool { return a.FileID == id }); i >= 0 {
			out = append(out, old[i])
			continue
		}
		if s.cfg.Files == nil {
			return nil, &homework.Invalid{Msg: "les pièces jointes ne sont pas disponibles : les Documents ne sont pas configurés"}
		}
		a, err := s.cfg.Files.Attachable(ctx, u.Principal, id)
		switch {
		case errors.Is(err, files.ErrNotFound):
			return nil, &homework.Invalid{Msg: "travail " + strconv.Itoa(n) + " : pièce jointe introuvable dans vos Documents"}
		case errors.Is(err, files.ErrTooLarge):
			return nil, &homework.Invalid{Msg: "travail " + strconv.Itoa(n) + " : une pièce jointe fait 10 Mo au plus"}
		case err != nil:
			return nil, err
		}
		out = append(out, homework.Attachment{FileID: a.FileID, Version: a.Version, Name: a.Name, Size: a.Size})
	}
	return out, nil
}

// hwError answers a homework failure: 404, 400 with the French reason, or
// the generic failure.
func (s *Server) hwError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *homework.Invalid
	switch {
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, homework.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, hwMessage(inv))
	default:
		s.fail(w, r, err)
	}
}

// hwMessage writes an Invalid as a sentence.
func hwMessage(inv *homework.Invalid) string {
	return strings.ToUpper(inv.Msg[:1]) + inv.Msg[1:] + "."
}

// hwDownload sends attachment n of work item to a reader of its class's
// book: always as an attachment (RFC 6266) with nosniff and a sandboxing
// CSP, under the name it had when attached, from the version attached.
func (s *Server) hwDownload(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	item, ok1 := idParam(r, "id")
	n, ok2 := idParam(r, "n")
	if !ok1 || !ok2 || n > homework.MaxAttachments || s.cfg.Files == nil {
		s.notFound(w, r)
		return
	}
	e, err := s.homework().EntryOfItem(ctx, item)
	if err == nil {
		_, err = s.reachBook(ctx, u, e.ClassID, e.SubjectID, identity.Read)
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	it, _ := hwItemOf(e, item)
	i := slices.IndexFunc(it.Attachments, func(a homework.Attachment) bool { return int64(a.N) == n })
	if i < 0 {
		s.notFound(w, r)
		return
	}
	a := it.Attachments[i]
	s.serveVersion(w, r, a.FileID, a.Version, a.Name)
}

// ---- API ---------------------------------------------------------------------

func (s *Server) homeworkAPI(r chi.Router) {
	r.Get("/homework/entries", s.apiHomeworkEntries)
	r.Post("/homework/entries", s.apiCreateHomework)
	r.Get("/homework/entries/{id}", s.apiHomeworkEntry)
	r.Put("/homework/entries/{id}", s.apiUpdateHomework)
	r.Delete("/homework/entries/{id}", s.apiDeleteHomework)
	r.Get("/homework/todo", s.apiHomeworkTodo)
	r.Put("/homework/items/{id}/done", s.apiHomeworkDone)
	r.Get("/homework/items/{id}/attachments/{n}", s.hwDownload)
}

// hwFields are an entry's fields as the API takes them.
type hwFields struct {
	LessonOn string          `json:"lesson_on"`
	Title    string          `json:"title"`
	Content  string          `json:"content"`
	Items    []hwItemRequest `json:"items"`
}

type hwItemRequest struct {
	ID          int64   `json:"id"`
	Description string  `json:"description"`
	DueOn       string  `json:"due_on"`
	Minutes     int     `json:"minutes"`
	FileIDs     []int64 `json:"file_ids"`
}

type hwCreateRequest struct {
	ClassID   int64 `json:"class_id"`
	SubjectID int64 `json:"subject_id"`
	hwFields
}

// entry builds the entry, resolving attachments; old is the entry being
// changed (zero when adding one).
func (s *Server) hwEntryFrom(ctx context.Context, u *user, f hwFields, old homework.Entry) (homework.Entry, error) {
	e := old
	e.LessonOn, e.Title, e.Content, e.Items = f.LessonOn, f.Title, f.Content, nil
	if len(f.Items) > homework.MaxItems {
		return e, &homework.Invalid{Msg: strconv.Itoa(homework.MaxItems) + " travaux à faire au plus par séance"}
	}
	for i, q := range f.Items {
		var prev []homework.Attachment
		if q.ID != 0 {
			it, ok := hwItemOf(old, q.ID)
			if !ok {
				return e, &homework.Invalid{Msg: "travail " + strconv.Itoa(i+1) + " : ce travail n'appartient pas à cette séance"}
			}
			prev = it.Attachments
		}
		as, err := s.hwAttachments(ctx, u, i+1, q.FileIDs, prev)
		if err != nil {
			return e, err
		}
		e.Items = append(e.Items, homework.Item{ID: q.ID, Description: q.Description, DueOn: q.DueOn, Minutes: q.Minutes, Attachments: as})
	}
	return e, nil
}

func (s *Server) apiHomeworkEntries(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	classID, ok1 := queryID(r, "class_id")
	subjectID, ok2 := queryID(r, "subject_id")
	pupilID, ok3 := queryID(r, "pupil_id")
	if !ok1 || !ok2 || !ok3 || (classID == 0) == (pupilID == 0) {
		apiError(w, http.StatusBadRequest, "bad_request", "Indiquez class_id ou pupil_id.")
		return
	}
	f := homework.Filter{SubjectID: subjectID, From: q.Get("from"), To: q.Get("to")}
	if !hwDateParam(f.From) || !hwDateParam(f.To) {
		apiError(w, http.StatusBadRequest, "bad_date", "Date illisible (attendu AAAA-MM-JJ).")
		return
	}
	if classID != 0 {
		if _, err := s.reachBook(ctx, u, classID, subjectID, identity.Read); err != nil {
			s.hwError(w, r, err)
			return
		}
		f.Classes = []int64{classID}
	} else {
		p, err := s.reachPupil(ctx, u, pupilID)
		if err != nil {
			s.hwError(w, r, err)
			return
		}
		f.Classes = p.Classes
	}
	es, err := s.homework().Entries(ctx, f)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	if es == nil {
		es = []homework.Entry{}
	}
	writeJSON(w, http.StatusOK, struct {
		Entries []homework.Entry `json:"entries"`
	}{es})
}

func (s *Server) apiHomeworkEntry(w http.ResponseWriter, r *http.Request) {
	e, _, err := s.reachEntry(r.Context(), currentUser(r), pathID(r, "id"), identity.Read)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) apiCreateHomework(w http.ResponseWriter, r *http.Request) {
	var q hwCreateRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	b, err := s.reachBook(ctx, u, q.ClassID, q.SubjectID, identity.Create)
	if err == nil && q.SubjectID == 0 {
		err = directory.ErrNotFound
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	e, err := s.hwEntryFrom(ctx, u, q.hwFields, homework.Entry{ClassID: b.Class.ID, SubjectID: b.Subject.ID, AuthorID: u.UserID})
	if err == nil {
		e, err = s.homework().Create(ctx, e)
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) apiUpdateHomework(w http.ResponseWriter, r *http.Request) {
	var q hwFields
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	old, _, err := s.reachEntry(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	e, err := s.hwEntryFrom(ctx, u, q, old)
	if err == nil {
		e, err = s.homework().Update(ctx, e)
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) apiDeleteHomework(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	e, _, err := s.reachEntry(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.homework().Delete(ctx, e.ID)
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type hwTodoResponse struct {
	PupilID int64           `json:"pupil_id"`
	Today   string          `json:"today"`
	Items   []homework.Todo `json:"items"`
}

func (s *Server) apiHomeworkTodo(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	id, ok := queryID(r, "pupil_id")
	if !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "pupil_id illisible.")
		return
	}
	p, err := s.reachPupil(ctx, u, id)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	today := hwToday()
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	if !hwDateParam(from) || !hwDateParam(to) {
		apiError(w, http.StatusBadRequest, "bad_date", "Date illisible (attendu AAAA-MM-JJ).")
		return
	}
	if from == "" {
		from = today
	}
	items, err := s.homework().Todo(ctx, p.Person.ID, p.Classes, from, to, today)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hwTodoResponse{PupilID: p.Person.ID, Today: today, Items: items})
}

// hwTick ticks or unticks work item for the caller, a pupil of its class.
func (s *Server) hwTick(ctx context.Context, u *user, item int64, done bool) error {
	p, err := s.reachPupil(ctx, u, u.UserID)
	if err != nil || !p.CanTick {
		return directory.ErrNotFound
	}
	e, err := s.homework().EntryOfItem(ctx, item)
	if err != nil {
		return err
	}
	if !slices.Contains(p.Classes, e.ClassID) {
		return directory.ErrNotFound
	}
	return s.homework().SetDone(ctx, item, u.UserID, done)
}

func (s *Server) apiHomeworkDone(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Done bool `json:"done"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	if err := s.hwTick(r.Context(), currentUser(r), pathID(r, "id"), q.Done); err != nil {
		s.hwError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
