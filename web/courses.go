package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"preau/ent/courses"
	"preau/ent/directory"
	"preau/identity"
	"preau/storage/files"
)

// Online courses (package courses, docs/courses.md): this file holds the
// access checks the pages (courses_pages.go) and the API share, the
// notification of new items, the download of attached files and the API
// under /api/v1/courses. Every object outside the caller's scope — and a
// draft for anyone but its author — is "not found", never "forbidden".

func (s *Server) courses() *courses.Store { return courses.New(s.db) }

// crsCourse is a course as the caller reaches it.
type crsCourse struct {
	courses.Course // whole, drafts included: use View for what the caller sees
	Class          directory.Class
	// Author: the caller wrote the course and sees its drafts.
	Author bool
	// Write: the author still teaches the class this year and may change
	// the course.
	Write bool
}

// View is the course as the caller may see it.
func (c crsCourse) View() courses.Course { return c.Course.Visible(c.Author) }

// reachCourse loads course id when the caller may do a on it: read it (the
// class's pupils, their parents and its teachers, once an item is
// published; its author always) or change it (its author, teaching the
// class this year). courses.ErrNotFound otherwise.
func (s *Server) reachCourse(ctx context.Context, u *user, id int64, a identity.Action) (crsCourse, error) {
	var out crsCourse
	c, err := s.courses().Course(ctx, id)
	if err != nil {
		return out, err
	}
	cl, err := s.dir.Class(ctx, c.ClassID)
	if err != nil {
		return out, err
	}
	t := classTarget(cl)
	if !u.Can(identity.Course, identity.Read, t) {
		return out, courses.ErrNotFound
	}
	out.Course, out.Class, out.Author = c, cl, c.AuthorID == u.UserID
	if out.Author && u.Can(identity.Course, identity.Update, t) {
		if out.Write, err = courses.Teaches(ctx, s.db, u.UserID, cl.ID); err != nil {
			return out, err
		}
	}
	switch {
	case a == identity.Read && !out.Author && c.Published == 0:
		return out, courses.ErrNotFound // a course still all draft
	case a != identity.Read && (!out.Write || !u.Can(identity.Course, a, t)):
		return out, courses.ErrNotFound
	}
	return out, nil
}

// reachChapter loads chapter id with its course, as reachCourse; a chapter
// without a published item is hidden from readers but its author.
func (s *Server) reachChapter(ctx context.Context, u *user, id int64, a identity.Action) (courses.Chapter, crsCourse, error) {
	ch, err := s.courses().Chapter(ctx, id)
	if err != nil {
		return ch, crsCourse{}, err
	}
	c, err := s.reachCourse(ctx, u, ch.CourseID, a)
	return ch, c, err
}

// reachItem loads item id with its course, as reachCourse; a draft is
// reached by its author only.
func (s *Server) reachItem(ctx context.Context, u *user, id int64, a identity.Action) (courses.Item, crsCourse, error) {
	it, err := s.courses().Item(ctx, id)
	if err != nil {
		return it, crsCourse{}, err
	}
	ch, err := s.courses().Chapter(ctx, it.ChapterID)
	if err != nil {
		return it, crsCourse{}, err
	}
	c, err := s.reachCourse(ctx, u, ch.CourseID, a)
	if err == nil && !it.Published() && !c.Author {
		err = courses.ErrNotFound
	}
	return it, c, err
}

// crsClass loads class id when the caller may create a course for it: a
// class or group they teach this school year.
func (s *Server) crsClass(ctx context.Context, u *user, id int64) (directory.Class, error) {
	c, err := s.dir.Class(ctx, id)
	if err != nil {
		return c, err
	}
	if !u.Can(identity.Course, identity.Create, classTarget(c)) {
		return c, courses.ErrNotFound
	}
	ok, err := courses.Teaches(ctx, s.db, u.UserID, c.ID)
	if err == nil && !ok {
		err = courses.ErrNotFound
	}
	return c, err
}

// crsReadableClasses lists the classes whose courses the caller may read:
// their own classes (pupil, teacher) and their children's.
func crsReadableClasses(u *user) []int64 {
	var out []int64
	for _, c := range append(append([]int64{}, u.Classes...), u.ChildClasses...) {
		if !crsContains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func crsContains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// crsList lists the courses the caller may read in classes (nil: all
// their classes), each once an item is published (their own always).
func (s *Server) crsList(ctx context.Context, u *user, classes []int64) ([]courses.Course, error) {
	if classes == nil {
		classes = crsReadableClasses(u)
	}
	all, err := s.courses().Courses(ctx, classes)
	if err != nil {
		return nil, err
	}
	out := []courses.Course{}
	for _, c := range all {
		t := identity.Target{Structure: c.StructureID, Classes: []int64{c.ClassID}}
		if u.Can(identity.Course, identity.Read, t) && (c.Published > 0 || c.AuthorID == u.UserID) {
			out = append(out, c)
		}
	}
	return out, nil
}

// crsAttach turns the file chosen for an item into its attachment: the one
// the item already has stays as it is; a new one must be a file of at most
// 10 MiB the teacher may read in their Documents (files.Service.Attachable),
// its current version then being attached. 0 attaches nothing.
func (s *Server) crsAttach(ctx context.Context, u *user, it *courses.Item, fileID int64, old courses.Item) error {
	it.FileID, it.Version, it.FileName, it.FileSize = 0, 0, "", 0
	switch {
	case fileID == 0:
		return nil
	case fileID == old.FileID:
		it.FileID, it.Version, it.FileName, it.FileSize = old.FileID, old.Version, old.FileName, old.FileSize
		return nil
	case s.cfg.Files == nil:
		return &courses.Invalid{Msg: "les fichiers ne sont pas disponibles : les Documents ne sont pas configurés"}
	}
	a, err := s.cfg.Files.Attachable(ctx, u.Principal, fileID)
	switch {
	case errors.Is(err, files.ErrNotFound):
		return &courses.Invalid{Msg: "fichier introuvable dans vos Documents"}
	case errors.Is(err, files.ErrTooLarge):
		return &courses.Invalid{Msg: fmt.Sprintf("un fichier fait %d Mo au plus", courses.MaxFileSize>>20)}
	case err != nil:
		return err
	}
	it.FileID, it.Version, it.FileName, it.FileSize = a.FileID, a.Version, a.Name, a.Size
	return nil
}

// crsNotify tells the pupils of the course's class that an item was
// published: a message from Préau in the class's "Cours en ligne"
// channel, delivered live by the hub (the path of absences.go). Best
// effort: a failure is logged, the item stays published. The message id
// is the item's, so an item taken back to draft and published again is
// told once.
func (s *Server) crsNotify(ctx context.Context, c crsCourse, it courses.Item) {
	if s.cfg.ChatHub == nil {
		return
	}
	pupils, err := s.dir.ClassPupils(ctx, c.ClassID)
	if err != nil {
		s.log.Warn("courses: notify", "course", c.ID, "err", err)
		return
	}
	ids := make([]int64, 0, len(pupils))
	for _, p := range pupils {
		ids = append(ids, p.ID)
	}
	conv, err := s.chat.NoticeChannel(ctx, "cours:"+strconv.FormatInt(c.ClassID, 10), c.StructureID, "Cours en ligne — "+c.Class.Name, ids)
	if err != nil {
		s.log.Warn("courses: notify channel", "class", c.ClassID, "err", err)
		return
	}
	body := fmt.Sprintf("Nouveau dans le cours « %s » : %s — /cours/%d#element-%d", c.Title, it.Title, c.ID, it.ID)
	if _, err := s.cfg.ChatHub.Announce(ctx, conv.ID, fmt.Sprintf("course-item-%d", it.ID), body); err != nil {
		s.log.Warn("courses: notify", "item", it.ID, "err", err)
	}
}

// crsError answers a failure of the module: 404, 400 with the French
// reason, or the generic failure.
func (s *Server) crsError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *courses.Invalid
	switch {
	case errors.Is(err, courses.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, sentence(inv.Msg))
	default:
		s.fail(w, r, err)
	}
}

// crsDownload sends the file of an item to whoever may read the item:
// always as an attachment (RFC 6266) with nosniff and a sandboxing CSP,
// under the name it had when attached, from the version attached.
func (s *Server) crsDownload(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	id, ok := idParam(r, "id")
	if !ok || s.cfg.Files == nil {
		s.notFound(w, r)
		return
	}
	it, _, err := s.reachItem(ctx, u, id, identity.Read)
	if err == nil && !it.HasFile() {
		err = courses.ErrNotFound
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	s.serveVersion(w, r, it.FileID, it.Version, it.FileName)
}

// ---- API ---------------------------------------------------------------------

func (s *Server) coursesAPI(r chi.Router) {
	r.Get("/courses", s.apiCourses)
	r.Post("/courses", s.apiCreateCourse)
	r.Get("/courses/{id}", s.apiCourse)
	r.Put("/courses/{id}", s.apiUpdateCourse)
	r.Delete("/courses/{id}", s.apiDeleteCourse)
	r.Post("/courses/{id}/chapters", s.apiAddChapter)
	r.Put("/courses/{id}/chapters/order", s.apiOrderChapters)
	r.Put("/courses/chapters/{id}", s.apiRenameChapter)
	r.Delete("/courses/chapters/{id}", s.apiDeleteChapter)
	r.Post("/courses/chapters/{id}/items", s.apiAddItem)
	r.Put("/courses/chapters/{id}/items/order", s.apiOrderItems)
	r.Get("/courses/items/{id}", s.apiCourseItem)
	r.Put("/courses/items/{id}", s.apiUpdateItem)
	r.Put("/courses/items/{id}/published", s.apiPublishItem)
	r.Delete("/courses/items/{id}", s.apiDeleteItem)
	r.Get("/courses/items/{id}/file", s.crsDownload)
}

// crsItemJSON is an item as the API gives it: a text item with its HTML
// (rendered safely), a file with its download address.
type crsItemJSON struct {
	courses.Item
	Published bool          `json:"published"`
	HTML      template.HTML `json:"html,omitempty"`
	FileHref  string        `json:"file_href,omitempty"`
}

func crsItemOut(it courses.Item) crsItemJSON {
	out := crsItemJSON{Item: it, Published: it.Published()}
	if it.Kind == courses.Text {
		out.HTML = courses.Render(it.Body)
	}
	if it.HasFile() {
		out.FileHref = fmt.Sprintf("/api/v1/courses/items/%d/file", it.ID)
	}
	return out
}

type crsChapterJSON struct {
	ID       int64         `json:"id"`
	Position int           `json:"position"`
	Title    string        `json:"title"`
	Items    []crsItemJSON `json:"items"`
}

type crsCourseJSON struct {
	courses.Course
	Chapters []crsChapterJSON `json:"chapters"`
	CanEdit  bool             `json:"can_edit"`
}

func crsCourseOut(c crsCourse) crsCourseJSON {
	v := c.View()
	out := crsCourseJSON{Course: v, Chapters: []crsChapterJSON{}, CanEdit: c.Write}
	out.Course.Chapters = nil
	for _, ch := range v.Chapters {
		cj := crsChapterJSON{ID: ch.ID, Position: ch.Position, Title: ch.Title, Items: []crsItemJSON{}}
		for _, it := range ch.Items {
			cj.Items = append(cj.Items, crsItemOut(it))
		}
		out.Chapters = append(out.Chapters, cj)
	}
	return out
}

func (s *Server) apiCourses(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	classID, ok := queryID(r, "class_id")
	if !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "class_id illisible.")
		return
	}
	var classes []int64
	if classID != 0 {
		c, err := s.dir.Class(ctx, classID)
		if err != nil || !u.Can(identity.Course, identity.Read, classTarget(c)) {
			s.notFound(w, r)
			return
		}
		classes = []int64{classID}
	}
	list, err := s.crsList(ctx, u, classes)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	for i := range list {
		list[i].Chapters = nil
	}
	writeJSON(w, http.StatusOK, struct {
		Courses []courses.Course `json:"courses"`
	}{list})
}

type crsCourseRequest struct {
	ClassID int64  `json:"class_id"`
	Title   string `json:"title"`
	Summary string `json:"summary"`
}

func (s *Server) apiCreateCourse(w http.ResponseWriter, r *http.Request) {
	var q crsCourseRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	cl, err := s.crsClass(ctx, u, q.ClassID)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	c, err := s.courses().Create(ctx, courses.Course{ClassID: cl.ID, AuthorID: u.UserID, Title: q.Title, Summary: q.Summary})
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, crsCourseOut(crsCourse{Course: c, Class: cl, Author: true, Write: true}))
}

func (s *Server) apiCourse(w http.ResponseWriter, r *http.Request) {
	c, err := s.reachCourse(r.Context(), currentUser(r), pathID(r, "id"), identity.Read)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsCourseOut(c))
}

func (s *Server) apiUpdateCourse(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Title   string `json:"title"`
		Summary string `json:"summary"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Update)
	if err == nil {
		c.Title, c.Summary = q.Title, q.Summary
		c.Course, err = s.courses().Update(ctx, c.Course)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsCourseOut(c))
}

func (s *Server) apiDeleteCourse(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.courses().Delete(ctx, c.ID)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type crsTitleRequest struct {
	Title string `json:"title"`
}

type crsOrderRequest struct {
	IDs []int64 `json:"ids"`
}

func (s *Server) apiAddChapter(w http.ResponseWriter, r *http.Request) {
	var q crsTitleRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Update)
	var ch courses.Chapter
	if err == nil {
		ch, err = s.courses().AddChapter(ctx, c.ID, courses.Chapter{Title: q.Title})
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ch)
}

func (s *Server) apiOrderChapters(w http.ResponseWriter, r *http.Request) {
	var q crsOrderRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Update)
	if err == nil {
		err = s.courses().OrderChapters(ctx, c.ID, q.IDs)
	}
	if err == nil {
		c, err = s.reachCourse(ctx, u, c.ID, identity.Update)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsCourseOut(c))
}

func (s *Server) apiRenameChapter(w http.ResponseWriter, r *http.Request) {
	var q crsTitleRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	ch, _, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err == nil {
		ch, err = s.courses().RenameChapter(ctx, ch.ID, q.Title)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ch)
}

func (s *Server) apiDeleteChapter(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	ch, _, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err == nil {
		err = s.courses().DeleteChapter(ctx, ch.ID)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiOrderItems(w http.ResponseWriter, r *http.Request) {
	var q crsOrderRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	ch, c, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err == nil {
		err = s.courses().OrderItems(ctx, ch.ID, q.IDs)
	}
	if err == nil {
		c, err = s.reachCourse(ctx, u, c.ID, identity.Update)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsCourseOut(c))
}

// crsItemRequest is an item as the API takes it.
type crsItemRequest struct {
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	URL       string `json:"url"`
	FileID    int64  `json:"file_id"`
	Published bool   `json:"published"`
}

func (s *Server) apiAddItem(w http.ResponseWriter, r *http.Request) {
	var q crsItemRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	ch, c, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	it, err := s.crsAddItem(ctx, u, c, ch, q)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, crsItemOut(it))
}

// crsAddItem adds the item of q to chapter ch of course c, telling the
// class when it is published at once.
func (s *Server) crsAddItem(ctx context.Context, u *user, c crsCourse, ch courses.Chapter, q crsItemRequest) (courses.Item, error) {
	it := courses.Item{Kind: q.Kind, Title: q.Title, Body: q.Body, URL: q.URL}
	if q.Published {
		it.PublishedAt = 1 // the store dates it
	}
	if err := s.crsAttach(ctx, u, &it, q.FileID, courses.Item{}); err != nil {
		return it, err
	}
	it, err := s.courses().AddItem(ctx, ch.ID, it)
	if err == nil && it.Published() {
		s.crsNotify(ctx, c, it)
	}
	return it, err
}

func (s *Server) apiCourseItem(w http.ResponseWriter, r *http.Request) {
	it, _, err := s.reachItem(r.Context(), currentUser(r), pathID(r, "id"), identity.Read)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsItemOut(it))
}

// crsUpdateItem changes item old with the fields of q (its kind stays).
func (s *Server) crsUpdateItem(ctx context.Context, u *user, old courses.Item, q crsItemRequest) (courses.Item, error) {
	it := old
	it.Title, it.Body, it.URL = q.Title, q.Body, q.URL
	if err := s.crsAttach(ctx, u, &it, q.FileID, old); err != nil {
		return it, err
	}
	return s.courses().UpdateItem(ctx, it)
}

func (s *Server) apiUpdateItem(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Title  string `json:"title"`
		Body   string `json:"body"`
		URL    string `json:"url"`
		FileID int64  `json:"file_id"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	old, _, err := s.reachItem(ctx, u, pathID(r, "id"), identity.Update)
	var it courses.Item
	if err == nil {
		it, err = s.crsUpdateItem(ctx, u, old, crsItemRequest{Title: q.Title, Body: q.Body, URL: q.URL, FileID: q.FileID})
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsItemOut(it))
}

// crsPublish publishes or takes back item id, telling the class the first
// time it is published.
func (s *Server) crsPublish(ctx context.Context, u *user, id int64, publish bool) (courses.Item, crsCourse, error) {
	it, c, err := s.reachItem(ctx, u, id, identity.Update)
	if err != nil {
		return it, c, err
	}
	it, first, err := s.courses().Publish(ctx, it.ID, publish)
	if err == nil && first {
		s.crsNotify(ctx, c, it)
	}
	return it, c, err
}

func (s *Server) apiPublishItem(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Published bool `json:"published"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	it, _, err := s.crsPublish(r.Context(), currentUser(r), pathID(r, "id"), q.Published)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, crsItemOut(it))
}

func (s *Server) apiDeleteItem(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	it, _, err := s.reachItem(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.courses().DeleteItem(ctx, it.ID)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
