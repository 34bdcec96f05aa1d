package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/internships"
	"preau/identity"
)

// The pages of "Décroche ton stage" (docs/internships.md), plain forms
// that work without script: the bank of offers with its search, an offer
// with the application form of a 3e pupil, an application and its answer,
// the follow-up of the 3e classes, the address book, the offer form.

func (s *Server) internshipPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/stages", s.stagesPage)
	r.Get("/stages/offres/nouvelle", s.stageNewPage)
	r.With(small).Post("/stages/offres", s.stageCreateSubmit)
	r.Get("/stages/offres/{id}", s.stageOfferPage)
	r.Get("/stages/offres/{id}/modifier", s.stageEditPage)
	r.With(small).Post("/stages/offres/{id}/modifier", s.stageEditSubmit)
	r.With(small).Post("/stages/offres/{id}/supprimer", s.stageDeleteSubmit)
	r.With(small).Post("/stages/offres/{id}/candidater", s.stageApplySubmit)
	r.Get("/stages/candidatures/{id}", s.stageApplicationPage)
	r.With(small).Post("/stages/candidatures/{id}/statut", s.stageMoveSubmit)
	r.Get("/stages/candidatures/{id}/cv", s.serveInternshipCV)
	r.Get("/stages/suivi", s.stageFollowPage)
	r.Get("/stages/entreprises", s.stageCompaniesPage)
	r.With(small).Post("/stages/entreprises/{id}/supprimer", s.stageCompanyDeleteSubmit)
}

// stagePage is the number of offers a page of the search shows.
const stagePage = 30

func stageWeekLabels(ws []string) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, internships.WeekLabel(w))
	}
	return out
}

type stageOfferRow struct {
	internships.Offer
	WeekLabels []string
}

type stageAppRow struct {
	internships.Application
	WeekLabels []string
}

func stageApps(as []internships.Application) []stageAppRow {
	out := make([]stageAppRow, 0, len(as))
	for _, a := range as {
		out = append(out, stageAppRow{Application: a, WeekLabels: stageWeekLabels(a.Weeks)})
	}
	return out
}

type stagesData struct {
	Mine       []stageAppRow
	ForParent  bool
	CanSearch  bool
	Sectors    []internships.Sector
	Sector     string
	Commune    string
	Week       string
	Offers     []stageOfferRow
	Total      int
	Page       int
	Prev, Next string
	CanCreate  bool
	CanFollow  bool
	Pupil3e    bool
}

func (s *Server) stagesPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	d := stagesData{Sectors: internships.Sectors, Sector: q.Get("secteur"), Commune: q.Get("commune"), Week: q.Get("semaine"),
		ForParent: len(u.Children) > 0 && !u.Has(identity.Pupil)}
	mine, err := s.ownApplications(ctx, u)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	d.Mine = stageApps(mine)
	schools, err := s.internships().PupilSchools(ctx, u.UserID)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	d.Pupil3e = u.Has(identity.Pupil) && len(schools) > 0
	create, err := s.offerSchools(ctx, u, identity.Create)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	d.CanCreate = len(create) > 0
	cs, err := s.followClasses(ctx, u)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	d.CanFollow = len(cs) > 0
	f, err := s.offerFilter(ctx, u)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	d.CanSearch = f.AllSchools || len(f.Structures) > 0
	var v view
	if d.CanSearch {
		if err := searchParams(&f, q.Get, "secteur", "commune", "semaine"); err != nil {
			var inv *internships.Invalid
			if !errors.As(err, &inv) {
				s.internshipError(w, r, err)
				return
			}
			v.Error = frSentence(inv.Msg)
			f.Sector, f.Week = "", ""
		}
		d.Page, _ = strconv.Atoi(q.Get("page"))
		d.Page = max(d.Page, 1)
		f.Limit, f.Offset = stagePage, (d.Page-1)*stagePage
		os, total, err := s.internships().Offers(ctx, f)
		if err != nil {
			s.internshipError(w, r, err)
			return
		}
		d.Total = total
		for _, o := range os {
			d.Offers = append(d.Offers, stageOfferRow{Offer: o, WeekLabels: stageWeekLabels(o.Weeks)})
		}
		link := func(page int) string {
			v := url.Values{}
			for k, x := range map[string]string{"secteur": d.Sector, "commune": d.Commune, "semaine": d.Week} {
				if x != "" {
					v.Set(k, x)
				}
			}
			v.Set("page", strconv.Itoa(page))
			return "/stages?" + v.Encode()
		}
		if d.Page > 1 {
			d.Prev = link(d.Page - 1)
		}
		if d.Page*stagePage < total {
			d.Next = link(d.Page + 1)
		}
	}
	if !d.CanSearch && len(d.Mine) == 0 && !d.ForParent && !d.CanFollow {
		s.notFound(w, r)
		return
	}
	switch q.Get("ok") {
	case "supprimee":
		v.Flash = "L'offre est supprimée."
	}
	v.Title, v.Data = "Stages de 3e", d
	s.render(w, r, http.StatusOK, "internships", v)
}

type stageOfferData struct {
	Offer      internships.Offer
	WeekLabels []string
	Paras      []hwParagraph
	CanApply   bool
	Docs       []noticeDoc
	Message    string
	CanEdit    bool
	CanDelete  bool
	Apps       []stageAppRow
	Mine       []stageAppRow
}

func (s *Server) stageOfferView(ctx context.Context, u *user, o internships.Offer, message string, cv int64) (view, error) {
	d := stageOfferData{Offer: o, WeekLabels: stageWeekLabels(o.Weeks), Paras: hwParagraphs(o.Description), Message: message,
		CanEdit: u.Can(identity.InternshipOffer, identity.Update, o.Target()), CanDelete: u.Can(identity.InternshipOffer, identity.Delete, o.Target())}
	var err error
	if d.CanApply, err = s.mayApply(ctx, u, o); err != nil {
		return view{}, err
	}
	if d.CanApply && s.cfg.Files != nil {
		if d.Docs, err = s.noticeDocs(ctx, u); err != nil {
			return view{}, err
		}
		for i := range d.Docs {
			d.Docs[i].Checked = d.Docs[i].ID == cv
		}
	}
	as, err := s.internships().Applications(ctx, internships.AppFilter{OfferID: o.ID})
	if err != nil {
		return view{}, err
	}
	var apps, mine []internships.Application
	for _, a := range as {
		switch {
		case a.PupilID == u.UserID:
			mine = append(mine, a)
		case u.Can(identity.InternshipApplication, identity.Read, a.Target()):
			apps = append(apps, a)
		}
	}
	d.Apps, d.Mine = stageApps(apps), stageApps(mine)
	return view{Title: o.Company, Data: d}, nil
}

func (s *Server) stageOfferPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Read)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	v, err := s.stageOfferView(ctx, u, o, "", 0)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "creee":
		v.Flash = "L'offre est publiée."
	case "modifiee":
		v.Flash = "L'offre est modifiée."
	}
	s.render(w, r, http.StatusOK, "internships_offer", v)
}

func (s *Server) stageApplySubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Read)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	if ok, err := s.mayApply(ctx, u, o); err != nil || !ok {
		s.internshipError(w, r, cmpOrNotFound(err))
		return
	}
	msg := r.PostForm.Get("message")
	cv, _ := strconv.ParseInt(r.PostForm.Get("cv"), 10, 64)
	a, err := s.applyTo(ctx, u, o, msg, max(cv, 0))
	if err != nil {
		if inv := (*internships.Invalid)(nil); errors.As(err, &inv) {
			v, verr := s.stageOfferView(ctx, u, o, msg, cv)
			if verr != nil {
				s.internshipError(w, r, verr)
				return
			}
			v.Error = frSentence(inv.Msg)
			s.render(w, r, http.StatusBadRequest, "internships_offer", v)
			return
		}
		s.internshipError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/stages/candidatures/%d?ok=envoyee", a.ID), http.StatusSeeOther)
}

func cmpOrNotFound(err error) error {
	if err != nil {
		return err
	}
	return internships.ErrNotFound
}

type stageMove struct {
	Status, Label string
	Danger        bool
}

type stageAppData struct {
	App        internships.Application
	WeekLabels []string
	Paras      []hwParagraph
	Moves      []stageMove
	Withdraw   bool
	OfferLink  bool
	CVSize     string
}

func (s *Server) stageApplicationView(ctx context.Context, u *user, a internships.Application) (view, error) {
	d := stageAppData{App: a, WeekLabels: stageWeekLabels(a.Weeks), Paras: hwParagraphs(a.Message)}
	labels := map[string]string{internships.Read: "Marquer comme lue", internships.Accepted: "Stage accepté par l'entreprise",
		internships.Refused: "Refusée par l'entreprise"}
	for _, to := range []string{internships.Read, internships.Accepted, internships.Refused} {
		if internships.MayMove(u.Principal, a, to) {
			d.Moves = append(d.Moves, stageMove{Status: to, Label: labels[to], Danger: to == internships.Refused})
		}
	}
	d.Withdraw = internships.MayMove(u.Principal, a, internships.Withdrawn)
	if a.CV != nil {
		d.CVSize = frBytes(a.CV.Size)
	}
	if _, err := s.reachOffer(ctx, u, a.OfferID, identity.Read); err == nil {
		d.OfferLink = true
	}
	return view{Title: "Candidature — " + a.Company, Data: d}, nil
}

func (s *Server) stageApplicationPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	a, err := s.reachApplication(ctx, u, pathID(r, "id"))
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	v, err := s.stageApplicationView(ctx, u, a)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "envoyee":
		v.Flash = "Votre candidature est envoyée. Vos professeurs et la vie scolaire la suivent avec vous."
	case "statut":
		v.Flash = "C'est noté : la candidature est « " + a.StatusLabel() + " »."
	}
	s.render(w, r, http.StatusOK, "internships_application", v)
}

func (s *Server) stageMoveSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	id := pathID(r, "id")
	_, err := s.moveApplication(ctx, u, id, r.PostForm.Get("statut"), r.PostForm.Get("remarque"))
	if err != nil {
		if inv := (*internships.Invalid)(nil); errors.As(err, &inv) {
			a, rerr := s.reachApplication(ctx, u, id)
			if rerr != nil {
				s.internshipError(w, r, rerr)
				return
			}
			v, verr := s.stageApplicationView(ctx, u, a)
			if verr != nil {
				s.internshipError(w, r, verr)
				return
			}
			v.Error = frSentence(inv.Msg)
			code := http.StatusBadRequest
			if errors.Is(err, internships.ErrFull) {
				code = http.StatusConflict
			}
			s.render(w, r, code, "internships_application", v)
			return
		}
		s.internshipError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/stages/candidatures/%d?ok=statut", id), http.StatusSeeOther)
}

type stageFollowClass struct {
	Class  directory.Class
	Rows   []internships.FollowRow
	Placed int
}

type stageFollowData struct {
	Classes []stageFollowClass
	Links   []hwLink
}

func (s *Server) stageFollowPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	cs, err := s.followClasses(ctx, u)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	want, ok := queryID(r, "classe")
	if !ok || len(cs) == 0 {
		s.notFound(w, r)
		return
	}
	var d stageFollowData
	found := want == 0
	for _, c := range cs {
		d.Links = append(d.Links, hwLink{Label: c.Name, Href: fmt.Sprintf("/stages/suivi?classe=%d", c.ID), Current: c.ID == want})
		if want != 0 && c.ID != want {
			continue
		}
		found = true
		_, rows, err := s.reachFollowUp(ctx, u, c.ID)
		if err != nil {
			s.internshipError(w, r, err)
			return
		}
		fc := stageFollowClass{Class: c, Rows: rows}
		for _, row := range rows {
			if row.Summary == internships.Placed {
				fc.Placed++
			}
		}
		d.Classes = append(d.Classes, fc)
	}
	if !found {
		s.notFound(w, r)
		return
	}
	s.render(w, r, http.StatusOK, "internships_followup", view{Title: "Suivi des stages", Data: d})
}

type stageCompaniesData struct {
	Companies []internships.Company
	Sectors   []internships.Sector
	Sector    string
	Commune   string
	CanDelete map[int64]bool
}

func (s *Server) stageCompaniesPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	if !u.CanAny(identity.InternshipOffer, identity.Read) {
		s.notFound(w, r)
		return
	}
	d := stageCompaniesData{Sectors: internships.Sectors, Sector: q.Get("secteur"), Commune: q.Get("commune"), CanDelete: map[int64]bool{}}
	if internships.SectorLabel(d.Sector) == "" {
		d.Sector = ""
	}
	f, err := s.companyFilter(ctx, u, d.Sector, d.Commune)
	if err == nil {
		d.Companies, err = s.internships().Companies(ctx, f)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	for _, c := range d.Companies {
		d.CanDelete[c.ID] = u.Can(identity.InternshipOffer, identity.Delete, identity.Target{Structure: c.StructureID})
	}
	v := view{Title: "Carnet d'adresses des entreprises", Data: d}
	if q.Get("ok") == "retiree" {
		v.Flash = "L'entreprise est retirée du carnet d'adresses."
	}
	s.render(w, r, http.StatusOK, "internships_companies", v)
}

func (s *Server) stageCompanyDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCompany(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.internships().DeleteCompany(ctx, c.ID)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	http.Redirect(w, r, "/stages/entreprises?ok=retiree", http.StatusSeeOther)
}

// ---- the offer form --------------------------------------------------------------

type stageFormData struct {
	Action, Cancel string
	Offer          internships.Offer
	WeeksText      string
	Schools        []directory.Structure
	Sectors        []internships.Sector
	Edit           bool
}

func (s *Server) stageFormView(ctx context.Context, u *user, o internships.Offer, edit bool) (view, error) {
	d := stageFormData{Offer: o, WeeksText: strings.Join(o.Weeks, " "), Sectors: internships.Sectors, Edit: edit,
		Action: "/stages/offres", Cancel: "/stages"}
	title := "Nouvelle offre de stage"
	if edit {
		d.Action, d.Cancel = fmt.Sprintf("/stages/offres/%d/modifier", o.ID), fmt.Sprintf("/stages/offres/%d", o.ID)
		title = "Modifier l'offre"
	} else {
		var err error
		if d.Schools, err = s.offerSchools(ctx, u, identity.Create); err != nil {
			return view{}, err
		}
		if len(d.Schools) == 0 {
			return view{}, internships.ErrNotFound
		}
		if d.Offer.StructureID == 0 {
			d.Offer.StructureID = d.Schools[0].ID
		}
	}
	return view{Title: title, Data: d}, nil
}

// parseOfferForm reads the offer form; weeks are separated by spaces,
// commas or new lines.
func parseOfferForm(r *http.Request) internships.Offer {
	f := r.PostForm
	places, _ := strconv.Atoi(strings.TrimSpace(f.Get("places")))
	st, _ := strconv.ParseInt(f.Get("etablissement"), 10, 64)
	weeks := strings.FieldsFunc(f.Get("semaines"), func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\n' || r == '\r' })
	return internships.Offer{StructureID: st, Company: f.Get("entreprise"), Sector: f.Get("secteur"), Address: f.Get("adresse"),
		Commune: f.Get("commune"), Weeks: weeks, Places: places, Description: f.Get("description"), ContactName: f.Get("contact_nom"),
		ContactEmail: f.Get("contact_courriel"), ContactPhone: f.Get("contact_telephone")}
}

func (s *Server) stageNewPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.stageFormView(r.Context(), currentUser(r), internships.Offer{Places: 1}, false)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "internships_form", v)
}

// stageFormResult answers a saved form: back to the offer, or the form
// again with the French reason.
func (s *Server) stageFormResult(w http.ResponseWriter, r *http.Request, o internships.Offer, edit bool, err error, ok string) {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/stages/offres/%d?ok=%s", o.ID, ok), http.StatusSeeOther)
		return
	}
	var inv *internships.Invalid
	if !errors.As(err, &inv) {
		s.internshipError(w, r, err)
		return
	}
	v, verr := s.stageFormView(r.Context(), currentUser(r), o, edit)
	if verr != nil {
		s.internshipError(w, r, verr)
		return
	}
	v.Error = frSentence(inv.Msg)
	s.render(w, r, http.StatusBadRequest, "internships_form", v)
}

func (s *Server) stageCreateSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	o := parseOfferForm(r)
	out, err := s.createOffer(r.Context(), currentUser(r), o)
	if err != nil {
		out = o
	}
	s.stageFormResult(w, r, out, false, err, "creee")
}

func (s *Server) stageEditPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Update)
	var v view
	if err == nil {
		v, err = s.stageFormView(ctx, u, o, true)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "internships_form", v)
}

func (s *Server) stageEditSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	old, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	o := parseOfferForm(r)
	o.ID, o.StructureID, o.AuthorID = old.ID, old.StructureID, old.AuthorID
	out, err := s.internships().UpdateOffer(ctx, o)
	if err != nil {
		out = o
	}
	s.stageFormResult(w, r, out, true, err, "modifiee")
}

func (s *Server) stageDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.internships().DeleteOffer(ctx, o.ID, u.UserID)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	http.Redirect(w, r, "/stages?ok=supprimee", http.StatusSeeOther)
}

// internshipTile keeps the home page's Stages tile for those it concerns:
// pupils in 3e, parents of a 3e pupil, teachers of a 3e class, the
// school's staff. A failure only leaves the tile as it is.
func (s *Server) internshipTile(ctx context.Context, u *user, tiles []tile) []tile {
	keep := u.Has(identity.Staff) || u.Has(identity.Head) || u.Has(identity.Admin)
	if !keep {
		var classes []int64
		classes = append(classes, u.Classes...)
		classes = append(classes, u.ChildClasses...)
		for _, id := range classes {
			c, err := s.dir.Class(ctx, id)
			if err != nil {
				s.log.Warn("internships: home tile", "err", err)
				return tiles
			}
			keep = keep || c.Level == internships.Level
		}
	}
	if keep {
		return tiles
	}
	out := tiles[:0]
	for _, t := range tiles {
		if t.Href != "/stages" {
			out = append(out, t)
		}
	}
	return out
}
