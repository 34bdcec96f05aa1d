package web

import (
	"context"
	"errors"
	"fmt"
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

// The pages of the homework book (docs/homework.md), plain forms that work
// without script: the "à faire" list of a pupil (or a parent's child) by
// due day, a pupil's book by subject and date, a class's book with, for its
// teacher in a subject, the form to add a lesson and its work.

func (s *Server) homeworkPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/cahier-de-textes", s.hwIndexPage)
	r.Get("/cahier-de-textes/seances", s.hwPupilBookPage)
	r.Get("/cahier-de-textes/classe/{id}", s.hwClassPage)
	r.With(small).Post("/cahier-de-textes/classe/{id}/seances", s.hwCreateSubmit)
	r.Get("/cahier-de-textes/seances/{id}/modifier", s.hwEditPage)
	r.With(small).Post("/cahier-de-textes/seances/{id}/modifier", s.hwUpdateSubmit)
	r.With(small).Post("/cahier-de-textes/seances/{id}/supprimer", s.hwDeleteSubmit)
	r.With(small).Post("/cahier-de-textes/travail/{id}/fait", s.hwTickSubmit)
	r.Get("/cahier-de-textes/travail/{id}/pieces-jointes/{n}", s.hwDownload)
}

// hwLink is a link of a chooser.
type hwLink struct {
	Label   string
	Href    string
	Current bool
}

// hwParagraph is a paragraph of plain text: lines of text and links.
type hwParagraph [][]textPart

// hwParagraphs splits plain text into paragraphs (blank lines) of lines,
// with web addresses as links; the template escapes every part.
func hwParagraphs(text string) []hwParagraph {
	var out []hwParagraph
	for _, block := range strings.Split(text, "\n\n") {
		block = strings.Trim(block, "\n")
		if strings.TrimSpace(block) == "" {
			continue
		}
		var p hwParagraph
		for _, line := range strings.Split(block, "\n") {
			p = append(p, splitLinks(line))
		}
		out = append(out, p)
	}
	return out
}

// hwDay writes "2026-11-30" as "lundi 30 novembre".
func hwDay(v string) string {
	d, err := time.Parse(homework.DateLayout, v)
	if err != nil {
		return v
	}
	if d.Day() == 1 { // "1er décembre"
		return fmt.Sprintf("%s 1er %s", frWeekdays[d.Weekday()], frMonths[d.Month()-1])
	}
	return frDay(d)
}

// hwFold makes French names sort as people expect ("Éducation musicale"
// among the E).
var hwFold = strings.NewReplacer("É", "E", "È", "E", "Ê", "E", "À", "A", "Â", "A", "Î", "I", "Ô", "O", "Ç", "C", "é", "e", "è", "e")

func hwCompare(a, b string) int { return strings.Compare(hwFold.Replace(a), hwFold.Replace(b)) }

// hwDuration writes 90 minutes as "1 h 30".
func hwDuration(m int) string {
	switch {
	case m <= 0:
		return ""
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %02d", m/60, m%60)
}

type hwFileLink struct{ Href, Name, Size string }

type hwItemView struct {
	homework.Item
	Due      string
	Paras    []hwParagraph
	Duration string
	Files    []hwFileLink
}

func hwItem(it homework.Item) hwItemView {
	v := hwItemView{Item: it, Due: hwDay(it.DueOn), Paras: hwParagraphs(it.Description), Duration: hwDuration(it.Minutes)}
	for _, a := range it.Attachments {
		v.Files = append(v.Files, hwFileLink{Href: fmt.Sprintf("/cahier-de-textes/travail/%d/pieces-jointes/%d", it.ID, a.N),
			Name: a.Name, Size: frBytes(a.Size)})
	}
	return v
}

type hwEntryView struct {
	homework.Entry
	Day     string
	Paras   []hwParagraph
	Works   []hwItemView
	CanEdit bool
}

type hwGroup struct {
	Name    string
	Entries []hwEntryView
}

// hwFormItem is one work block of the lesson form.
type hwFormItem struct {
	N           int
	ID          int64
	Description string
	DueOn       string
	Minutes     string
	Options     []hwOption
}

type hwOption struct {
	Value    int64
	Label    string
	Selected bool
}

// hwForm is the lesson form, as filled.
type hwForm struct {
	Action    string
	Legend    string
	Submit    string
	Cancel    string
	SubjectID int64
	Date      string
	Title     string
	Content   string
	Items     []hwFormItem
	Files     bool // the Documents are configured: attachments offered
	Limits    struct{ Title, Content, Description, Minutes, Attachments int }
}

type hwBookData struct {
	Heading   string
	Intro     string
	Children  []hwLink
	Subjects  []hwLink
	Groups    []hwGroup
	ShowClass bool
	Form      *hwForm
	Empty     string
}

// ---- the "à faire" list and the index ---------------------------------------

type hwTodoView struct {
	homework.Todo
	View  hwItemView
	Given string // the lesson's day
}

type hwBucket struct {
	Label string
	Key   string
	Items []hwTodoView
}

type hwIndexData struct {
	Pupil    *directory.Person
	Self     bool
	CanTick  bool
	Children []hwLink
	Buckets  []hwBucket
	BookHref string
	Mine     []hwLink
	School   []hwLink
}

var hwBucketLabels = []struct{ key, label string }{
	{homework.Today, "Pour aujourd'hui"}, {homework.Tomorrow, "Pour demain"},
	{homework.ThisWeek, "Pour cette semaine"}, {homework.Later, "Plus tard"},
}

// hwChildren lists the caller's children as links to path?eleve=.
func (s *Server) hwChildren(ctx context.Context, u *user, path string, current int64) ([]hwLink, error) {
	if len(u.Children) < 2 {
		return nil, nil
	}
	var out []hwLink
	for _, id := range u.Children {
		p, err := s.dir.Person(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, hwLink{Label: p.FirstName, Href: path + "?eleve=" + strconv.FormatInt(id, 10), Current: id == current})
	}
	return out, nil
}

func (s *Server) hwIndexPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	var d hwIndexData
	if u.Has(identity.Pupil) || len(u.Children) > 0 {
		id, _ := strconv.ParseInt(r.URL.Query().Get("eleve"), 10, 64)
		if r.URL.Query().Has("eleve") && id <= 0 {
			s.notFound(w, r)
			return
		}
		p, err := s.reachPupil(ctx, u, id)
		if err != nil {
			s.hwError(w, r, err)
			return
		}
		d.Pupil, d.Self, d.CanTick = &p.Person, p.Person.ID == u.UserID, p.CanTick
		d.BookHref = "/cahier-de-textes/seances?eleve=" + strconv.FormatInt(p.Person.ID, 10)
		today := hwToday()
		todo, err := s.homework().Todo(ctx, p.Person.ID, p.Classes, today, "", today)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, b := range hwBucketLabels {
			bk := hwBucket{Label: b.label, Key: b.key}
			for _, t := range todo {
				if t.Bucket == b.key {
					bk.Items = append(bk.Items, hwTodoView{Todo: t, View: hwItem(t.Item), Given: hwDay(t.LessonOn)})
				}
			}
			d.Buckets = append(d.Buckets, bk)
		}
		if d.Children, err = s.hwChildren(ctx, u, "/cahier-de-textes", p.Person.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if u.Has(identity.Teacher) {
		ts, err := s.dir.Teachings(ctx, u.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, t := range ts {
			d.Mine = append(d.Mine, hwLink{Label: t.ClassName + " — " + t.Subject,
				Href: fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d", t.ClassID, t.SubjectID)})
		}
	}
	if u.Has(identity.Staff) || u.Has(identity.Head) || u.Has(identity.Admin) {
		y, err := directory.CurrentYear(ctx, s.db)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		sts, err := s.adminStructures(ctx, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, st := range sts {
			cs, err := s.dir.Classes(ctx, st.ID, y.ID)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, c := range cs {
				if u.Can(identity.Homework, identity.Read, classTarget(c)) {
					d.School = append(d.School, hwLink{Label: c.Name, Href: fmt.Sprintf("/cahier-de-textes/classe/%d", c.ID)})
				}
			}
		}
	}
	title := "Cahier de textes"
	if d.Pupil != nil {
		title = "Travail à faire"
	}
	v := view{Title: title, Data: d}
	if r.URL.Query().Get("ok") == "fait" {
		v.Flash = "C'est noté."
	}
	s.render(w, r, http.StatusOK, "homework", v)
}

func (s *Server) hwTickSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	item := pathID(r, "id")
	if err := s.hwTick(ctx, u, item, r.PostForm.Get("fait") == "1"); err != nil {
		s.hwError(w, r, err)
		return
	}
	http.Redirect(w, r, "/cahier-de-textes?ok=fait#travail-"+strconv.FormatInt(item, 10), http.StatusSeeOther)
}

// ---- books -------------------------------------------------------------------

// hwGroups groups entries by subject (bySubject) or keeps one group.
func hwGroups(es []homework.Entry, bySubject bool, canEdit func(homework.Entry) bool) []hwGroup {
	var out []hwGroup
	idx := map[string]int{}
	for _, e := range es {
		key := ""
		if bySubject {
			key = e.Subject
		}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, hwGroup{Name: key})
		}
		v := hwEntryView{Entry: e, Day: hwDay(e.LessonOn), Paras: hwParagraphs(e.Content), CanEdit: canEdit(e)}
		for _, it := range e.Items {
			v.Works = append(v.Works, hwItem(it))
		}
		out[i].Entries = append(out[i].Entries, v)
	}
	if bySubject {
		slices.SortFunc(out, func(a, b hwGroup) int { return hwCompare(a.Name, b.Name) })
	}
	return out
}

// hwSubjectLinks lists the subjects of entries as filters of base.
func hwSubjectLinks(es []homework.Entry, base string, current int64) []hwLink {
	seen := map[int64]bool{}
	out := []hwLink{{Label: "Toutes les matières", Href: base, Current: current == 0}}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	for _, e := range es {
		if !seen[e.SubjectID] {
			seen[e.SubjectID] = true
			out = append(out, hwLink{Label: e.Subject, Href: base + sep + "matiere=" + strconv.FormatInt(e.SubjectID, 10), Current: e.SubjectID == current})
		}
	}
	slices.SortFunc(out[1:], func(a, b hwLink) int { return hwCompare(a.Label, b.Label) })
	return out
}

// hwPupilBookPage is a pupil's book: their classes' lessons by subject and
// date (?eleve= for a parent's child, ?matiere= for one subject).
func (s *Server) hwPupilBookPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	id, _ := strconv.ParseInt(r.URL.Query().Get("eleve"), 10, 64)
	subject, _ := strconv.ParseInt(r.URL.Query().Get("matiere"), 10, 64)
	if (r.URL.Query().Has("eleve") && id <= 0) || (r.URL.Query().Has("matiere") && subject <= 0) {
		s.notFound(w, r)
		return
	}
	p, err := s.reachPupil(ctx, u, id)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	all, err := s.homework().Entries(ctx, homework.Filter{Classes: p.Classes})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	es := all
	if subject != 0 {
		es = slices.DeleteFunc(slices.Clone(all), func(e homework.Entry) bool { return e.SubjectID != subject })
	}
	base := "/cahier-de-textes/seances?eleve=" + strconv.FormatInt(p.Person.ID, 10)
	d := hwBookData{Heading: "Cahier de textes", Subjects: hwSubjectLinks(all, base, subject),
		Groups: hwGroups(es, true, func(homework.Entry) bool { return false }), Empty: "Aucune séance dans le cahier de textes."}
	if p.Person.ID != u.UserID {
		d.Heading += " de " + p.Person.FullName()
	}
	if d.Children, err = s.hwChildren(ctx, u, "/cahier-de-textes/seances", p.Person.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "homework_book", view{Title: d.Heading, Data: d})
}

// hwClassPage is a class's book (?matiere= for one subject), with the form
// to add a lesson for its teacher in that subject.
func (s *Server) hwClassPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	subject, _ := strconv.ParseInt(r.URL.Query().Get("matiere"), 10, 64)
	if r.URL.Query().Has("matiere") && subject <= 0 {
		s.notFound(w, r)
		return
	}
	b, err := s.reachBook(ctx, u, pathID(r, "id"), subject, identity.Read)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	var f *hwForm
	if b.Write {
		f, err = s.hwNewForm(ctx, u, b, hwForm{Date: hwToday()}, nil)
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	v, err := s.hwClassView(ctx, u, b, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "ajout":
		v.Flash = "La séance est ajoutée au cahier de textes."
	case "modification":
		v.Flash = "La séance est modifiée."
	case "suppression":
		v.Flash = "La séance est supprimée."
	}
	s.render(w, r, http.StatusOK, "homework_book", v)
}

func (s *Server) hwClassView(ctx context.Context, u *user, b hwBook, f *hwForm) (view, error) {
	all, err := s.homework().Entries(ctx, homework.Filter{Classes: []int64{b.Class.ID}})
	if err != nil {
		return view{}, err
	}
	es := all
	if b.Subject.ID != 0 {
		es = slices.DeleteFunc(slices.Clone(all), func(e homework.Entry) bool { return e.SubjectID != b.Subject.ID })
	}
	base := "/cahier-de-textes/classe/" + strconv.FormatInt(b.Class.ID, 10)
	d := hwBookData{Heading: "Cahier de textes — " + b.Class.Name, Subjects: hwSubjectLinks(all, base, b.Subject.ID), Form: f,
		Groups: hwGroups(es, b.Subject.ID == 0, func(e homework.Entry) bool { return b.Write && e.AuthorID == u.UserID }),
		Empty:  "Aucune séance dans le cahier de textes."}
	if b.Subject.ID != 0 {
		d.Heading += " — " + b.Subject.Name
		if !slices.ContainsFunc(d.Subjects, func(l hwLink) bool { return l.Current }) {
			d.Subjects = append(d.Subjects, hwLink{Label: b.Subject.Name, Href: base + "?matiere=" + strconv.FormatInt(b.Subject.ID, 10), Current: true})
		}
	}
	return view{Title: d.Heading, Data: d}, nil
}

// hwFileOptions lists the files of the teacher's personal Documents (the
// root and the folders just under it) small enough to attach.
func (s *Server) hwFileOptions(ctx context.Context, u *user) ([]hwOption, error) {
	if s.cfg.Files == nil {
		return nil, nil
	}
	sp, err := s.cfg.Files.PersonalSpace(ctx, u.Principal)
	if err != nil {
		return nil, err
	}
	var out []hwOption
	var walk func(folder int64, prefix string, depth int) error
	walk = func(folder int64, prefix string, depth int) error {
		l, err := s.cfg.Files.List(ctx, u.Principal, sp.ID, folder)
		if err != nil {
			return err
		}
		for _, n := range l.Children {
			if len(out) >= 200 {
				return nil
			}
			switch {
			case n.Kind == files.Folder && depth == 0:
				if err := walk(n.ID, n.Name+" / ", 1); err != nil {
					return err
				}
			case n.Kind == files.File && n.Size <= homework.MaxFileSize:
				out = append(out, hwOption{Value: n.ID, Label: prefix + n.Name + " (" + frBytes(n.Size) + ")"})
			}
		}
		return nil
	}
	return out, walk(0, "", 0)
}

// hwNewForm completes a lesson form: its action, its work blocks and the
// files offered in each (those chosen, those already attached).
func (s *Server) hwNewForm(ctx context.Context, u *user, b hwBook, f hwForm, chosen map[int][]int64) (*hwForm, error) {
	if f.Action == "" {
		f.Action = "/cahier-de-textes/classe/" + strconv.FormatInt(b.Class.ID, 10) + "/seances"
		f.Legend = "Nouvelle séance"
		f.Submit = "Ajouter la séance"
	}
	f.SubjectID = b.Subject.ID
	f.Files = s.cfg.Files != nil
	f.Limits.Title, f.Limits.Content, f.Limits.Description = homework.MaxTitle, homework.MaxContent, homework.MaxDescription
	f.Limits.Minutes, f.Limits.Attachments = homework.MaxMinutes, homework.MaxAttachments
	opts, err := s.hwFileOptions(ctx, u)
	if err != nil && !errors.Is(err, files.ErrNotFound) {
		return nil, err
	}
	for len(f.Items) < homework.MaxItems && (len(f.Items) < 2 || f.Items[len(f.Items)-1].Description != "") {
		f.Items = append(f.Items, hwFormItem{})
	}
	for i := range f.Items {
		it := &f.Items[i]
		it.N = i + 1
		mine := slices.Clone(it.Options) // the files already attached
		it.Options = nil
		for _, o := range opts {
			o.Selected = slices.Contains(chosen[it.N], o.Value)
			it.Options = append(it.Options, o)
		}
		for _, o := range mine {
			if j := slices.IndexFunc(it.Options, func(x hwOption) bool { return x.Value == o.Value }); j >= 0 {
				it.Options[j].Selected = it.Options[j].Selected || o.Selected
			} else {
				it.Options = append(it.Options, o)
			}
		}
	}
	return &f, nil
}

// hwParseForm reads the lesson form into API fields and the form as
// filled. A work block without instructions and date is skipped (an
// existing work so emptied is removed).
func hwParseForm(r *http.Request) (hwFields, hwForm, map[int][]int64) {
	pf := r.PostForm
	q := hwFields{LessonOn: pf.Get("date"), Title: pf.Get("titre"), Content: pf.Get("contenu")}
	f := hwForm{Date: q.LessonOn, Title: q.Title, Content: q.Content}
	chosen := map[int][]int64{}
	for n := 1; n <= homework.MaxItems; n++ {
		k := strconv.Itoa(n)
		it := hwFormItem{Description: pf.Get("consigne_" + k), DueOn: pf.Get("pour_le_" + k), Minutes: pf.Get("duree_" + k)}
		it.ID, _ = strconv.ParseInt(pf.Get("id_"+k), 10, 64)
		var ids []int64
		for _, v := range pf["pj_"+k] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if strings.TrimSpace(it.Description) == "" && it.DueOn == "" {
			continue // files alone make no work
		}
		chosen[len(f.Items)+1] = ids
		f.Items = append(f.Items, it)
		minutes := 0
		if m := strings.TrimSpace(it.Minutes); m != "" {
			var err error
			if minutes, err = strconv.Atoi(m); err != nil {
				minutes = -1 // refused by Check with the range
			}
		}
		q.Items = append(q.Items, hwItemRequest{ID: it.ID, Description: it.Description, DueOn: it.DueOn, Minutes: minutes, FileIDs: ids})
	}
	return q, f, chosen
}

func (s *Server) hwCreateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	subject, _ := strconv.ParseInt(r.PostForm.Get("matiere"), 10, 64)
	b, err := s.reachBook(ctx, u, pathID(r, "id"), subject, identity.Create)
	if err == nil && subject <= 0 {
		err = directory.ErrNotFound
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	q, form, chosen := hwParseForm(r)
	e, err := s.hwEntryFrom(ctx, u, q, homework.Entry{ClassID: b.Class.ID, SubjectID: b.Subject.ID, AuthorID: u.UserID})
	if err == nil {
		_, err = s.homework().Create(ctx, e)
	}
	var inv *homework.Invalid
	if errors.As(err, &inv) {
		f, ferr := s.hwNewForm(ctx, u, b, form, chosen)
		if ferr != nil {
			s.fail(w, r, ferr)
			return
		}
		v, verr := s.hwClassView(ctx, u, b, f)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Error = hwMessage(inv)
		s.render(w, r, http.StatusBadRequest, "homework_book", v)
		return
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d&ok=ajout", b.Class.ID, b.Subject.ID), http.StatusSeeOther)
}

// hwEditForm is the form of an existing entry.
func hwEditForm(e homework.Entry) hwForm {
	f := hwForm{Action: "/cahier-de-textes/seances/" + strconv.FormatInt(e.ID, 10) + "/modifier", Legend: "Modifier la séance du " + hwDay(e.LessonOn),
		Submit: "Enregistrer", Cancel: fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d", e.ClassID, e.SubjectID),
		Date: e.LessonOn, Title: e.Title, Content: e.Content}
	for _, it := range e.Items {
		fi := hwFormItem{ID: it.ID, Description: it.Description, DueOn: it.DueOn}
		if it.Minutes > 0 {
			fi.Minutes = strconv.Itoa(it.Minutes)
		}
		for _, a := range it.Attachments {
			fi.Options = append(fi.Options, hwOption{Value: a.FileID, Label: a.Name + " (" + frBytes(a.Size) + ")", Selected: true})
		}
		f.Items = append(f.Items, fi)
	}
	return f
}

func (s *Server) hwEditView(ctx context.Context, u *user, e homework.Entry, b hwBook, f hwForm, chosen map[int][]int64) (view, error) {
	// The files already attached stay offered (and chosen) in their block.
	old := hwEditForm(e)
	for i := range f.Items {
		if f.Items[i].ID == 0 {
			continue
		}
		for _, o := range old.Items {
			if o.ID == f.Items[i].ID {
				for _, opt := range o.Options {
					opt.Selected = chosen != nil && slices.Contains(chosen[i+1], opt.Value)
					if chosen == nil {
						opt.Selected = true
					}
					f.Items[i].Options = append(f.Items[i].Options, opt)
				}
			}
		}
	}
	f.Action, f.Legend, f.Submit, f.Cancel = old.Action, old.Legend, old.Submit, old.Cancel
	pf, err := s.hwNewForm(ctx, u, b, f, chosen)
	if err != nil {
		return view{}, err
	}
	d := hwBookData{Heading: "Cahier de textes — " + b.Class.Name + " — " + b.Subject.Name, Form: pf}
	return view{Title: d.Heading, Data: d}, nil
}

func (s *Server) hwEditPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	e, b, err := s.reachEntry(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	f := hwEditForm(e)
	for i := range f.Items {
		f.Items[i].Options = nil // hwEditView adds them back
	}
	v, err := s.hwEditView(ctx, u, e, b, f, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "homework_book", v)
}

func (s *Server) hwUpdateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	old, b, err := s.reachEntry(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	q, form, chosen := hwParseForm(r)
	e, err := s.hwEntryFrom(ctx, u, q, old)
	if err == nil {
		_, err = s.homework().Update(ctx, e)
	}
	var inv *homework.Invalid
	if errors.As(err, &inv) {
		v, verr := s.hwEditView(ctx, u, old, b, form, chosen)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Error = hwMessage(inv)
		s.render(w, r, http.StatusBadRequest, "homework_book", v)
		return
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d&ok=modification", old.ClassID, old.SubjectID), http.StatusSeeOther)
}

func (s *Server) hwDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	e, _, err := s.reachEntry(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.homework().Delete(ctx, e.ID)
	}
	if err != nil {
		s.hwError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/cahier-de-textes/classe/%d?matiere=%d&ok=suppression", e.ClassID, e.SubjectID), http.StatusSeeOther)
}
