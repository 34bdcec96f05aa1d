package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/ent/courses"
	"preau/identity"
)

// The pages of the online courses (docs/courses.md), plain forms that work
// without script: the courses the user reaches, and a course with its
// chapters and items; for its author, the forms to write, order, publish
// and remove them.

func (s *Server) coursesPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/cours", s.crsIndexPage)
	r.With(small).Post("/cours", s.crsCreateSubmit)
	r.Get("/cours/{id}", s.crsCoursePage)
	r.With(small).Post("/cours/{id}/modifier", s.crsUpdateSubmit)
	r.With(small).Post("/cours/{id}/supprimer", s.crsDeleteSubmit)
	r.With(small).Post("/cours/{id}/chapitres", s.crsAddChapterSubmit)
	r.With(small).Post("/cours/chapitres/{id}/modifier", s.crsRenameChapterSubmit)
	r.With(small).Post("/cours/chapitres/{id}/supprimer", s.crsDeleteChapterSubmit)
	r.With(small).Post("/cours/chapitres/{id}/deplacer", s.crsMoveChapterSubmit)
	r.With(small).Post("/cours/chapitres/{id}/elements", s.crsAddItemSubmit)
	r.Get("/cours/elements/{id}/modifier", s.crsEditItemPage)
	r.With(small).Post("/cours/elements/{id}/modifier", s.crsUpdateItemSubmit)
	r.With(small).Post("/cours/elements/{id}/publication", s.crsPublishSubmit)
	r.With(small).Post("/cours/elements/{id}/supprimer", s.crsDeleteItemSubmit)
	r.With(small).Post("/cours/elements/{id}/deplacer", s.crsMoveItemSubmit)
	r.Get("/cours/elements/{id}/fichier", s.crsDownload)
}

// ---- the index ---------------------------------------------------------------

type crsIndexRow struct {
	courses.Course
	Href  string
	Draft bool // no item published yet: only its author sees it
}

type crsIndexGroup struct {
	ClassName string
	Courses   []crsIndexRow
}

type crsIndexData struct {
	Groups  []crsIndexGroup
	Classes []hwOption // the classes the teacher may create a course for
	Form    crsCourseForm
	Limits  struct{ Title, Summary int }
}

type crsCourseForm struct {
	ClassID        int64
	Title, Summary string
}

func (s *Server) crsIndexView(ctx context.Context, u *user, form crsCourseForm) (view, error) {
	d := crsIndexData{Form: form}
	d.Limits.Title, d.Limits.Summary = courses.MaxTitle, courses.MaxSummary
	list, err := s.crsList(ctx, u, nil)
	if err != nil {
		return view{}, err
	}
	for _, c := range list {
		if len(d.Groups) == 0 || d.Groups[len(d.Groups)-1].ClassName != c.ClassName {
			d.Groups = append(d.Groups, crsIndexGroup{ClassName: c.ClassName})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Courses = append(g.Courses, crsIndexRow{Course: c, Href: "/cours/" + strconv.FormatInt(c.ID, 10), Draft: c.Published == 0})
	}
	if u.Has(identity.Teacher) {
		ts, err := s.dir.Teachings(ctx, u.UserID)
		if err != nil {
			return view{}, err
		}
		for _, t := range ts {
			if !slices.ContainsFunc(d.Classes, func(o hwOption) bool { return o.Value == t.ClassID }) &&
				u.Can(identity.Course, identity.Create, identity.Target{Classes: []int64{t.ClassID}}) {
				d.Classes = append(d.Classes, hwOption{Value: t.ClassID, Label: t.ClassName, Selected: t.ClassID == form.ClassID})
			}
		}
	}
	return view{Title: "Cours en ligne", Data: d}, nil
}

func (s *Server) crsIndexPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.crsIndexView(r.Context(), currentUser(r), crsCourseForm{})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("ok") == "suppression" {
		v.Flash = "Le cours est supprimé."
	}
	s.render(w, r, http.StatusOK, "courses", v)
}

func (s *Server) crsCreateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	class, _ := strconv.ParseInt(r.PostForm.Get("classe"), 10, 64)
	form := crsCourseForm{ClassID: class, Title: r.PostForm.Get("titre"), Summary: r.PostForm.Get("presentation")}
	cl, err := s.crsClass(ctx, u, class)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	c, err := s.courses().Create(ctx, courses.Course{ClassID: cl.ID, AuthorID: u.UserID, Title: form.Title, Summary: form.Summary})
	var inv *courses.Invalid
	if crsInvalid(err, &inv) {
		v, verr := s.crsIndexView(ctx, u, form)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Error = sentence(inv.Msg)
		s.render(w, r, http.StatusBadRequest, "courses", v)
		return
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/cours/%d?ok=creation", c.ID), http.StatusSeeOther)
}

// ---- a course ----------------------------------------------------------------

// crsItemView is an item as the page shows it.
type crsItemView struct {
	courses.Item
	First, Last bool
	HTML        template.HTML // text
	FileHref    string
	FileSize    string
	// The live lesson: JoinHref when it runs and the user may join it;
	// StartClass when the user may start it.
	JoinHref   string
	StartClass int64
}

type crsChapterView struct {
	courses.Chapter
	First, Last bool
	Items       []crsItemView
	// Fill is the add form of this chapter as filled (after an error).
	Fill crsItemForm
}

// crsItemForm is the form of an item, new or changed.
type crsItemForm struct {
	Kind, Title, Body, URL string
	FileID                 int64
	Publish                bool
}

type crsCourseData struct {
	Course    courses.Course
	ClassName string
	Paras     []string
	Write     bool
	Chapters  []crsChapterView
	Kinds     []struct{ Kind, Label string }
	Files     []hwOption // the teacher's files that may be attached
	HasFiles  bool       // the Documents are configured
	Limits    struct{ Title, Summary, TextKB int }
	// Edit is the item being changed (the edit page).
	Edit *crsItemView
	Form crsItemForm
}

// crsLive completes the live lesson of a class for the user.
func (s *Server) crsLive(u *user, v *crsItemView, c crsCourse) {
	if s.cfg.Live == nil {
		return
	}
	for _, l := range s.lessons.active(s.cfg.Live.Manager) {
		if l.ClassID == c.ClassID && u.Can(identity.Live, identity.Read, l.target()) {
			v.JoinHref = "/direct/" + l.Room
			return
		}
	}
	if u.Can(identity.Live, identity.Create, classTarget(c.Class)) && c.Write {
		v.StartClass = c.ClassID
	}
}

func (s *Server) crsCourseView(ctx context.Context, u *user, c crsCourse) (view, *crsCourseData, error) {
	cv := c.View()
	d := &crsCourseData{Course: cv, ClassName: c.Class.Name, Write: c.Write, Kinds: courses.Kinds, HasFiles: s.cfg.Files != nil}
	d.Limits.Title, d.Limits.Summary, d.Limits.TextKB = courses.MaxTitle, courses.MaxSummary, courses.MaxText>>10
	for _, p := range strings.Split(cv.Summary, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			d.Paras = append(d.Paras, p)
		}
	}
	for i, ch := range cv.Chapters {
		chv := crsChapterView{Chapter: ch, First: i == 0, Last: i == len(cv.Chapters)-1, Fill: crsItemForm{Kind: courses.Text}}
		for j, it := range ch.Items {
			chv.Items = append(chv.Items, s.crsItem(u, c, it, j == 0, j == len(ch.Items)-1))
		}
		d.Chapters = append(d.Chapters, chv)
	}
	if c.Write {
		opts, err := s.hwFileOptions(ctx, u) // the same choice as the homework book's
		if err != nil {
			return view{}, nil, err
		}
		d.Files = opts
	}
	return view{Title: cv.Title + " — " + c.Class.Name, Data: d}, d, nil
}

func (s *Server) crsItem(u *user, c crsCourse, it courses.Item, first, last bool) crsItemView {
	v := crsItemView{Item: it, First: first, Last: last}
	switch it.Kind {
	case courses.Text:
		v.HTML = courses.Render(it.Body)
	case courses.Live:
		s.crsLive(u, &v, c)
	}
	if it.HasFile() {
		v.FileHref = fmt.Sprintf("/cours/elements/%d/fichier", it.ID)
		v.FileSize = frBytes(it.FileSize)
	}
	return v
}

var crsFlashes = map[string]string{
	"creation": "Le cours est créé. Ajoutez-lui un chapitre.", "modification": "Le cours est modifié.",
	"chapitre": "Le chapitre est ajouté.", "chapitre-modifie": "Le chapitre est renommé.", "chapitre-supprime": "Le chapitre est supprimé.",
	"element": "L'élément est ajouté.", "element-modifie": "L'élément est modifié.", "element-supprime": "L'élément est supprimé.",
	"publie": "L'élément est publié : la classe le voit.", "brouillon": "L'élément est repassé en brouillon.", "ordre": "L'ordre est changé.",
}

func (s *Server) crsCoursePage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Read)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	v, _, err := s.crsCourseView(ctx, u, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Flash = crsFlashes[r.URL.Query().Get("ok")]
	s.render(w, r, http.StatusOK, "courses_course", v)
}

// crsBack sends the user back to the course page with a message.
func crsBack(w http.ResponseWriter, r *http.Request, course int64, ok, anchor string) {
	http.Redirect(w, r, fmt.Sprintf("/cours/%d?ok=%s%s", course, ok, anchor), http.StatusSeeOther)
}

// crsFormError shows the course page again with the reason a form was
// refused; fill, when set, refills the add form of its chapter.
func (s *Server) crsFormError(w http.ResponseWriter, r *http.Request, c crsCourse, err error, chapter int64, fill *crsItemForm) {
	var inv *courses.Invalid
	if !crsInvalid(err, &inv) {
		s.crsError(w, r, err)
		return
	}
	ctx, u := r.Context(), currentUser(r)
	c, rerr := s.reachCourse(ctx, u, c.ID, identity.Read)
	if rerr != nil {
		s.crsError(w, r, rerr)
		return
	}
	v, d, verr := s.crsCourseView(ctx, u, c)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	if fill != nil {
		for i := range d.Chapters {
			if d.Chapters[i].ID == chapter {
				d.Chapters[i].Fill = *fill
			}
		}
	}
	v.Error = sentence(inv.Msg)
	s.render(w, r, http.StatusBadRequest, "courses_course", v)
}

// crsInvalid reports whether err is a refusal with a French reason.
func crsInvalid(err error, inv **courses.Invalid) bool { return errors.As(err, inv) }

func (s *Server) crsUpdateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	next := c.Course
	next.Title, next.Summary = r.PostForm.Get("titre"), r.PostForm.Get("presentation")
	if _, err := s.courses().Update(ctx, next); err != nil {
		s.crsFormError(w, r, c, err, 0, nil)
		return
	}
	crsBack(w, r, c.ID, "modification", "")
}

func (s *Server) crsDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.courses().Delete(ctx, c.ID)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	http.Redirect(w, r, "/cours?ok=suppression", http.StatusSeeOther)
}

func (s *Server) crsAddChapterSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCourse(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ch, err := s.courses().AddChapter(ctx, c.ID, courses.Chapter{Title: r.PostForm.Get("titre")})
	if err != nil {
		s.crsFormError(w, r, c, err, 0, nil)
		return
	}
	crsBack(w, r, c.ID, "chapitre", fmt.Sprintf("#chapitre-%d", ch.ID))
}

func (s *Server) crsRenameChapterSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	ch, c, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	if _, err := s.courses().RenameChapter(ctx, ch.ID, r.PostForm.Get("titre")); err != nil {
		s.crsFormError(w, r, c, err, 0, nil)
		return
	}
	crsBack(w, r, c.ID, "chapitre-modifie", fmt.Sprintf("#chapitre-%d", ch.ID))
}

func (s *Server) crsDeleteChapterSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	ch, c, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err == nil {
		err = s.courses().DeleteChapter(ctx, ch.ID)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	crsBack(w, r, c.ID, "chapitre-supprime", "")
}

// crsMoved returns ids with id moved one place up or down ("haut", "bas").
func crsMoved(ids []int64, id int64, dir string) []int64 {
	i := slices.Index(ids, id)
	j := i - 1
	if dir == "bas" {
		j = i + 1
	}
	if i < 0 || j < 0 || j >= len(ids) {
		return ids
	}
	out := slices.Clone(ids)
	out[i], out[j] = out[j], out[i]
	return out
}

func (s *Server) crsMoveChapterSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	ch, c, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	var ids []int64
	for _, x := range c.Chapters {
		ids = append(ids, x.ID)
	}
	if err := s.courses().OrderChapters(ctx, c.ID, crsMoved(ids, ch.ID, r.PostForm.Get("sens"))); err != nil {
		s.crsFormError(w, r, c, err, 0, nil)
		return
	}
	crsBack(w, r, c.ID, "ordre", fmt.Sprintf("#chapitre-%d", ch.ID))
}

// crsParseItem reads an item form.
func crsParseItem(r *http.Request) crsItemForm {
	pf := r.PostForm
	f := crsItemForm{Kind: pf.Get("type"), Title: pf.Get("titre"), Body: pf.Get("texte"), URL: pf.Get("adresse"),
		Publish: pf.Get("publier") == "1"}
	f.FileID, _ = strconv.ParseInt(pf.Get("fichier"), 10, 64)
	return f
}

func (s *Server) crsAddItemSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	ch, c, err := s.reachChapter(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	f := crsParseItem(r)
	it, err := s.crsAddItem(ctx, u, c, ch, crsItemRequest{Kind: f.Kind, Title: f.Title, Body: f.Body, URL: f.URL, FileID: f.FileID, Published: f.Publish})
	if err != nil {
		s.crsFormError(w, r, c, err, ch.ID, &f)
		return
	}
	ok := "element"
	if it.Published() {
		ok = "publie"
	}
	crsBack(w, r, c.ID, ok, fmt.Sprintf("#element-%d", it.ID))
}

func (s *Server) crsEditView(ctx context.Context, u *user, it courses.Item, c crsCourse, f crsItemForm) (view, error) {
	v, d, err := s.crsCourseView(ctx, u, c)
	if err != nil {
		return v, err
	}
	iv := s.crsItem(u, c, it, true, true)
	d.Edit, d.Form = &iv, f
	v.Title = "Modifier « " + it.Title + " »"
	return v, nil
}

func (s *Server) crsEditItemPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	it, c, err := s.reachItem(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	v, err := s.crsEditView(ctx, u, it, c, crsItemForm{Kind: it.Kind, Title: it.Title, Body: it.Body, URL: it.URL, FileID: it.FileID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "courses_item", v)
}

func (s *Server) crsUpdateItemSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	old, c, err := s.reachItem(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	f := crsParseItem(r)
	f.Kind = old.Kind
	_, err = s.crsUpdateItem(ctx, u, old, crsItemRequest{Title: f.Title, Body: f.Body, URL: f.URL, FileID: f.FileID})
	var inv *courses.Invalid
	if crsInvalid(err, &inv) {
		v, verr := s.crsEditView(ctx, u, old, c, f)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Error = sentence(inv.Msg)
		s.render(w, r, http.StatusBadRequest, "courses_item", v)
		return
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	crsBack(w, r, c.ID, "element-modifie", fmt.Sprintf("#element-%d", old.ID))
}

func (s *Server) crsPublishSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	publish := r.PostForm.Get("publier") == "1"
	it, c, err := s.crsPublish(ctx, u, pathID(r, "id"), publish)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	ok := "brouillon"
	if publish {
		ok = "publie"
	}
	crsBack(w, r, c.ID, ok, fmt.Sprintf("#element-%d", it.ID))
}

func (s *Server) crsDeleteItemSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	it, c, err := s.reachItem(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.courses().DeleteItem(ctx, it.ID)
	}
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	crsBack(w, r, c.ID, "element-supprime", fmt.Sprintf("#chapitre-%d", it.ChapterID))
}

func (s *Server) crsMoveItemSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	it, c, err := s.reachItem(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.crsError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	var ids []int64
	for _, ch := range c.Chapters {
		if ch.ID == it.ChapterID {
			for _, x := range ch.Items {
				ids = append(ids, x.ID)
			}
		}
	}
	if err := s.courses().OrderItems(ctx, it.ChapterID, crsMoved(ids, it.ID, r.PostForm.Get("sens"))); err != nil {
		s.crsFormError(w, r, c, err, 0, nil)
		return
	}
	crsBack(w, r, c.ID, "ordre", fmt.Sprintf("#element-%d", it.ID))
}
