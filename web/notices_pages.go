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

	"preau/ent/notices"
	"preau/identity"
	"preau/storage/files"
)

// The pages of the notice board (docs/notices.md): the list of notices
// live today, one notice with its documents and its acknowledgement
// button, the authoring form and the follow-up of acknowledgements. Plain
// forms, no script needed.

func (s *Server) noticesPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/actualites", s.noticesPage)
	r.Get("/actualites/nouvelle", s.noticeNewPage)
	r.With(small).Post("/actualites", s.noticeCreateSubmit)
	r.Get("/actualites/{id}", s.noticePage)
	r.Get("/actualites/{id}/modifier", s.noticeEditPage)
	r.With(small).Post("/actualites/{id}/modifier", s.noticeEditSubmit)
	r.With(small).Post("/actualites/{id}/supprimer", s.noticeDeleteSubmit)
	r.With(small).Post("/actualites/{id}/pris-connaissance", s.noticeAckSubmit)
	r.Get("/actualites/{id}/suivi", s.noticeFollowPage)
	r.Get("/actualites/{id}/suivi.csv", s.serveNoticeAcksCSV)
	r.Get("/actualites/{id}/documents/{n}", s.serveNoticeFile)
}

// frDate writes "2026-11-30" as "30 novembre 2026".
func frDate(v string) string {
	d, err := time.ParseInLocation(notices.DateLayout, v, paris)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%d %s %d", d.Day(), frMonths[d.Month()-1], d.Year())
}

// noticeItem is a notice in a list.
type noticeItem struct {
	noticeJSON
	Href       string
	Period     string
	StateLabel string
	Audience   string
	Excerpt    string
}

func noticeItems(vs []noticeJSON) []noticeItem {
	out := make([]noticeItem, 0, len(vs))
	for _, v := range vs {
		var aud []string
		for _, a := range v.Audience {
			aud = append(aud, a.Label())
		}
		ex := []rune(strings.Join(strings.Fields(v.Body), " "))
		if len(ex) > 200 {
			ex = append(ex[:200], '…')
		}
		out = append(out, noticeItem{noticeJSON: v, Href: "/actualites/" + strconv.FormatInt(v.ID, 10),
			Period: "du " + frDate(v.From) + " au " + frDate(v.Until), StateLabel: notices.StateLabel(v.State),
			Audience: strings.Join(aud, ", "), Excerpt: string(ex)})
	}
	return out
}

type noticesData struct {
	Items      []noticeItem // live today and addressed to the user (or theirs to manage)
	Managed    []noticeItem // the user's drafts, scheduled and expired notices
	CanPublish bool
	ToAck      int
	Unread     int
}

func (s *Server) noticesPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	ns, err := s.readableNotices(ctx, u, true)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	vs, err := s.noticeViews(ctx, u, ns)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	var d noticesData
	for _, it := range noticeItems(vs) {
		if it.State == notices.StateLive {
			d.Items = append(d.Items, it)
			if it.AckNeeded {
				d.ToAck++
			}
			if !it.Read {
				d.Unread++
			}
		} else if it.CanEdit {
			d.Managed = append(d.Managed, it)
		}
	}
	schools, err := s.noticeSchools(ctx, u)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	d.CanPublish = len(schools) > 0
	v := view{Title: "Actualités", Data: d}
	switch r.URL.Query().Get("ok") {
	case "suppression":
		v.Flash = "L'information est supprimée."
	}
	s.render(w, r, http.StatusOK, "notices", v)
}

// noticePara is a paragraph of a notice's text: lines, links apart.
type noticePara [][]textPart

// noticeParas splits a text into paragraphs (blank lines) of lines, with
// the web addresses as links.
func noticeParas(body string) []noticePara {
	var out []noticePara
	for _, p := range strings.Split(body, "\n\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		var para noticePara
		for _, l := range strings.Split(strings.Trim(p, "\n"), "\n") {
			para = append(para, splitLinks(l))
		}
		out = append(out, para)
	}
	return out
}

type noticeFileRow struct {
	Href, Name, Size string
}

type noticePageData struct {
	Item  noticeItem
	Paras []noticePara
	Files []noticeFileRow
	// CanDelete: the user may delete it; Follow: the follow-up link.
	CanDelete bool
	Follow    string
	AckedAt   string
}

func (s *Server) noticePage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	n, err := s.reachNotice(ctx, u, pathID(r, "id"))
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	vs, err := s.noticeViews(ctx, u, []notices.Notice{n})
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	if err := s.noticeStore().MarkRead(ctx, n.ID, u.UserID); err != nil {
		s.noticeError(w, r, err)
		return
	}
	d := noticePageData{Item: noticeItems(vs)[0], Paras: noticeParas(n.Body), CanDelete: notices.CanEdit(u.Principal, n, identity.Delete)}
	for _, f := range n.Files {
		d.Files = append(d.Files, noticeFileRow{Href: fmt.Sprintf("/actualites/%d/documents/%d", n.ID, f.N), Name: f.Name, Size: frBytes(f.Size)})
	}
	if d.Item.CanFollow {
		d.Follow = fmt.Sprintf("/actualites/%d/suivi", n.ID)
	}
	v := view{Title: n.Title, Data: d}
	switch r.URL.Query().Get("ok") {
	case "lu":
		v.Flash = "Merci : votre prise de connaissance est enregistrée."
	case "enregistre":
		v.Flash = "L'information est enregistrée."
	}
	s.render(w, r, http.StatusOK, "notices_view", v)
}

func (s *Server) noticeAckSubmit(w http.ResponseWriter, r *http.Request) {
	n, err := s.ackNotice(r)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/actualites/%d?ok=lu", n.ID), http.StatusSeeOther)
}

func (s *Server) noticeDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	n, err := s.editableNotice(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.deleteNotice(ctx, n)
	}
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	http.Redirect(w, r, "/actualites?ok=suppression", http.StatusSeeOther)
}

type noticeFollowData struct {
	Item     noticeItem
	Report   notices.AckReport
	Rows     []noticeAckRow
	CSV      string
	Total    int
	OnlyLate bool
}

type noticeAckRow struct {
	notices.AckRow
	Guardians string
	By        string
}

func (s *Server) noticeFollowPage(w http.ResponseWriter, r *http.Request) {
	n, rep, ok := s.noticeFollowUp(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	vs, err := s.noticeViews(r.Context(), u, []notices.Notice{n})
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	d := noticeFollowData{Item: noticeItems(vs)[0], Report: rep, CSV: fmt.Sprintf("/actualites/%d/suivi.csv", n.ID),
		Total: len(rep.Rows), OnlyLate: r.URL.Query().Get("filtre") == "attente"}
	for _, row := range rep.Rows {
		if d.OnlyLate && (row.Done || len(row.Guardians) == 0) {
			continue
		}
		var names, by []string
		for _, g := range row.Guardians {
			names = append(names, g.Name)
			if !g.AckedAt.IsZero() {
				by = append(by, g.Name+" le "+frDateTime(g.AckedAt))
			}
		}
		d.Rows = append(d.Rows, noticeAckRow{AckRow: row, Guardians: strings.Join(names, ", "), By: strings.Join(by, " ; ")})
	}
	s.render(w, r, http.StatusOK, "notices_acks", view{Title: "Suivi — " + n.Title, Data: d})
}

// ---- authoring ------------------------------------------------------------------

type noticeChoice struct {
	Value, Label string
	Checked      bool
}

type noticeSchoolForm struct {
	ID       int64
	Name     string
	Selected bool
	Whole    noticeChoice // everyone of the school
	Profiles []noticeChoice
	Classes  []noticeClassChoice
}

type noticeClassChoice struct {
	Name           string
	Class, Parents noticeChoice
}

type noticeDoc struct {
	ID      int64
	Name    string
	Size    string
	Checked bool
}

type noticeFormData struct {
	Action                      string
	Edit                        bool
	Cancel                      string
	Schools                     []noticeSchoolForm // new notice: where it may go; edit: its school
	Title, Body, From, Until    string
	Draft, Ack                  bool
	Docs                        []noticeDoc // the user's documents to attach
	Kept                        []noticeDoc // edit: attached documents (ID is the number)
	MaxTitle, MaxBody, MaxFiles int
}

// audienceValue is how an audience entry is written in the form.
func audienceValue(a notices.Audience) string {
	switch a.Kind {
	case notices.School:
		return "etablissement"
	case notices.Profile:
		return "profil:" + string(a.Profile)
	case notices.Class:
		return "classe:" + strconv.FormatInt(a.ClassID, 10)
	case notices.ClassParents:
		return "parents:" + strconv.FormatInt(a.ClassID, 10)
	}
	return ""
}

func parseAudience(vs []string) []notices.Audience {
	var out []notices.Audience
	for _, v := range vs {
		kind, arg, _ := strings.Cut(v, ":")
		id, _ := strconv.ParseInt(arg, 10, 64)
		switch kind {
		case "etablissement":
			out = append(out, notices.Audience{Kind: notices.School})
		case "profil":
			out = append(out, notices.Audience{Kind: notices.Profile, Profile: identity.Profile(arg)})
		case "classe":
			out = append(out, notices.Audience{Kind: notices.Class, ClassID: id})
		case "parents":
			out = append(out, notices.Audience{Kind: notices.ClassParents, ClassID: id})
		default:
			out = append(out, notices.Audience{Kind: v})
		}
	}
	return out
}

// noticeFormView builds the form for n (its audience, kept files) with
// fileIDs ticked among the user's documents.
func (s *Server) noticeFormView(ctx context.Context, u *user, n notices.Notice, old *notices.Notice, fileIDs []int64) (view, error) {
	d := noticeFormData{Title: n.Title, Body: n.Body, From: n.From, Until: n.Until, Draft: n.Draft, Ack: n.RequiresAck,
		MaxTitle: notices.MaxTitle, MaxBody: notices.MaxBody, MaxFiles: notices.MaxFiles, Action: "/actualites", Cancel: "/actualites"}
	chosen := map[string]bool{}
	for _, a := range n.Audience {
		chosen[audienceValue(a)] = true
	}
	schools, err := s.noticeSchools(ctx, u)
	if err != nil {
		return view{}, err
	}
	if old != nil {
		d.Edit = true
		d.Action = fmt.Sprintf("/actualites/%d/modifier", old.ID)
		d.Cancel = fmt.Sprintf("/actualites/%d", old.ID)
		schools = slices.DeleteFunc(schools, func(ns noticeSchool) bool { return ns.Structure.ID != old.StructureID })
		for _, f := range old.Files {
			kept := slices.ContainsFunc(n.Files, func(g notices.Attachment) bool { return g.N == f.N })
			d.Kept = append(d.Kept, noticeDoc{ID: int64(f.N), Name: f.Name, Size: frBytes(f.Size), Checked: kept})
		}
	}
	for i, ns := range schools {
		sf := noticeSchoolForm{ID: ns.Structure.ID, Name: ns.Structure.Name, Selected: ns.Structure.ID == n.StructureID || (n.StructureID == 0 && i == 0)}
		if ns.Whole {
			sf.Whole = noticeChoice{Value: "etablissement", Label: "Tout l'établissement", Checked: chosen["etablissement"] && sf.Selected}
			for _, p := range notices.Profiles {
				v := "profil:" + string(p)
				sf.Profiles = append(sf.Profiles, noticeChoice{Value: v, Label: notices.ProfileLabel(p), Checked: chosen[v] && sf.Selected})
			}
		}
		for _, c := range ns.Classes {
			cv, pv := "classe:"+strconv.FormatInt(c.ID, 10), "parents:"+strconv.FormatInt(c.ID, 10)
			sf.Classes = append(sf.Classes, noticeClassChoice{Name: c.Name,
				Class:   noticeChoice{Value: cv, Label: c.Name, Checked: chosen[cv]},
				Parents: noticeChoice{Value: pv, Label: "Parents de " + c.Name, Checked: chosen[pv]}})
		}
		d.Schools = append(d.Schools, sf)
	}
	if s.cfg.Files != nil {
		docs, err := s.noticeDocs(ctx, u)
		if err != nil {
			return view{}, err
		}
		for _, doc := range docs {
			doc.Checked = slices.Contains(fileIDs, doc.ID)
			d.Docs = append(d.Docs, doc)
		}
	}
	title := "Nouvelle information"
	if old != nil {
		title = "Modifier l'information"
	}
	return view{Title: title, Data: d}, nil
}

// noticeDocs lists the files of the user's personal Documents (the root
// and its folders, one level down; 100 at most) to attach.
func (s *Server) noticeDocs(ctx context.Context, u *user) ([]noticeDoc, error) {
	sp, err := s.cfg.Files.PersonalSpace(ctx, u.Principal)
	if err != nil {
		return nil, err
	}
	root, err := s.cfg.Files.List(ctx, u.Principal, sp.ID, 0)
	if err != nil {
		return nil, err
	}
	var out []noticeDoc
	add := func(prefix string, ns []files.Node) {
		for _, n := range ns {
			if n.Kind == files.File && len(out) < 100 && n.Size <= files.MaxAttachment {
				out = append(out, noticeDoc{ID: n.ID, Name: prefix + n.Name, Size: frBytes(n.Size)})
			}
		}
	}
	add("", root.Children)
	for _, f := range root.Children {
		if f.Kind != files.Folder || len(out) >= 100 {
			continue
		}
		l, err := s.cfg.Files.List(ctx, u.Principal, sp.ID, f.ID)
		if err != nil {
			return nil, err
		}
		add(f.Name+" / ", l.Children)
	}
	return out, nil
}

func (s *Server) noticeNewPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	schools, err := s.noticeSchools(ctx, u)
	if err != nil || len(schools) == 0 {
		s.noticeError(w, r, notices.ErrNotFound)
		return
	}
	today := s.noticeStore().Today()
	from, _ := time.ParseInLocation(notices.DateLayout, today, paris)
	n := notices.Notice{From: today, Until: from.AddDate(0, 0, 30).Format(notices.DateLayout)}
	v, err := s.noticeFormView(ctx, u, n, nil, nil)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "notices_form", v)
}

// parseNoticeForm reads the authoring form.
func parseNoticeForm(r *http.Request) (notices.Notice, []int64, []int, bool) {
	if err := r.ParseForm(); err != nil {
		return notices.Notice{}, nil, nil, false
	}
	f := r.PostForm
	st, _ := strconv.ParseInt(f.Get("etablissement"), 10, 64)
	n := notices.Notice{StructureID: st, Title: f.Get("titre"), Body: f.Get("texte"), From: f.Get("debut"), Until: f.Get("fin"),
		Draft: f.Get("brouillon") == "1", RequiresAck: f.Get("accuse") == "1", Audience: parseAudience(f["public"])}
	var ids []int64
	for _, v := range f["documents"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var keep []int
	for _, v := range f["garder"] {
		if k, err := strconv.Atoi(v); err == nil {
			keep = append(keep, k)
		}
	}
	return n, ids, keep, len(f["public"]) <= notices.MaxAudiences*2 && len(f["documents"]) <= 100
}

func (s *Server) noticeCreateSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	n, ids, _, ok := parseNoticeForm(r)
	if !ok {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	out, err := s.saveNotice(ctx, u, nil, n, ids)
	s.noticeFormResult(w, r, u, n, nil, ids, out, err)
}

// noticeFormResult shows the form again with the error, or goes to the
// saved notice.
func (s *Server) noticeFormResult(w http.ResponseWriter, r *http.Request, u *user, n notices.Notice, old *notices.Notice, ids []int64, out notices.Notice, err error) {
	var inv *notices.Invalid
	if err != nil && errors.As(err, &inv) {
		v, verr := s.noticeFormView(r.Context(), u, n, old, ids)
		if verr != nil {
			s.noticeError(w, r, verr)
			return
		}
		v.Error = frSentence(inv.Msg)
		s.render(w, r, http.StatusBadRequest, "notices_form", v)
		return
	}
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/actualites/%d?ok=enregistre", out.ID), http.StatusSeeOther)
}

func (s *Server) noticeEditPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	old, err := s.editableNotice(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	v, err := s.noticeFormView(ctx, u, old, &old, nil)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "notices_form", v)
}

func (s *Server) noticeEditSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	old, err := s.editableNotice(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	n, ids, keep, ok := parseNoticeForm(r)
	if !ok {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	for _, f := range old.Files {
		if slices.Contains(keep, f.N) {
			n.Files = append(n.Files, notices.Attachment{N: f.N})
		}
	}
	n.StructureID = old.StructureID
	out, err := s.saveNotice(ctx, u, &old, n, ids)
	s.noticeFormResult(w, r, u, n, &old, ids, out, err)
}

// noticeTile writes on the home page's Actualités tile how many notices
// are new and how many ask the user's acknowledgement. A failure only
// leaves the tile as it is.
func (s *Server) noticeTile(ctx context.Context, u *user, tiles []tile) []tile {
	i := slices.IndexFunc(tiles, func(t tile) bool { return t.Href == "/actualites" })
	if i < 0 {
		return tiles
	}
	ns, err := s.readableNotices(ctx, u, false)
	if err != nil {
		s.log.Warn("notices: home tile", "err", err)
		return tiles
	}
	vs, err := s.noticeViews(ctx, u, ns)
	if err != nil {
		s.log.Warn("notices: home tile", "err", err)
		return tiles
	}
	unread, toAck := 0, 0
	for _, v := range vs {
		if !v.Read {
			unread++
		}
		if v.AckNeeded {
			toAck++
		}
	}
	var parts []string
	if unread > 0 {
		parts = append(parts, noticePlural(unread, "nouvelle", "nouvelles"))
	}
	if toAck > 0 {
		parts = append(parts, fmt.Sprintf("%d à confirmer", toAck))
	}
	if len(parts) > 0 {
		tiles[i].Desc = strings.Join(parts, " · ")
	}
	return tiles
}

func noticePlural(n int, one, many string) string {
	if n > 1 {
		return fmt.Sprintf("%d %s", n, many)
	}
	return fmt.Sprintf("%d %s", n, one)
}
