package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/internships"
	"preau/identity"
	"preau/storage/files"
)

// Internships of 3e pupils ("Décroche ton stage", package internships,
// docs/internships.md): this file holds the access checks the pages
// (internships_pages.go) and the API share, and the API under
// /api/v1/internships. An offer, application, class or company outside the
// caller's reach answers 404, as does every action they may not do.

func (s *Server) internships() *internships.Store { return internships.New(s.db) }

// offerFilter limits a search to the schools whose offers u may read.
func (s *Server) offerFilter(ctx context.Context, u *user) (internships.Filter, error) {
	var f internships.Filter
	if !u.CanAny(identity.InternshipOffer, identity.Read) {
		return f, nil
	}
	for _, st := range u.Structures() {
		if st == 0 && u.Can(identity.InternshipOffer, identity.Read, identity.Target{}) {
			return internships.Filter{AllSchools: true}, nil
		}
		if st != 0 && u.Can(identity.InternshipOffer, identity.Read, identity.Target{Structure: st}) {
			f.Structures = append(f.Structures, st)
		}
	}
	return f, nil
}

// offerSchools lists the schools where u may do a on offers (a = Create:
// where they may publish).
func (s *Server) offerSchools(ctx context.Context, u *user, a identity.Action) ([]directory.Structure, error) {
	if !u.CanAny(identity.InternshipOffer, a) {
		return nil, nil
	}
	all, err := s.dir.Structures(ctx)
	if err != nil {
		return nil, err
	}
	var out []directory.Structure
	for _, st := range all {
		if st.Kind == directory.College && u.Can(identity.InternshipOffer, a, identity.Target{Structure: st.ID}) {
			out = append(out, st)
		}
	}
	return out, nil
}

// reachOffer loads offer id when u may read it and, for a = Update or
// Delete, change or remove it (its author if a teacher, the school's staff
// and direction).
func (s *Server) reachOffer(ctx context.Context, u *user, id int64, a identity.Action) (internships.Offer, error) {
	o, err := s.internships().Offer(ctx, id)
	if err != nil {
		return o, err
	}
	if !u.Can(identity.InternshipOffer, identity.Read, identity.Target{Structure: o.StructureID}) ||
		(a != identity.Read && !u.Can(identity.InternshipOffer, a, o.Target())) {
		return internships.Offer{}, internships.ErrNotFound
	}
	return o, nil
}

// mayApply reports whether u may apply to offer o: a pupil in a 3e class
// of its school (the store checks it again when applying).
func (s *Server) mayApply(ctx context.Context, u *user, o internships.Offer) (bool, error) {
	if !u.Can(identity.InternshipApplication, identity.Create, identity.Target{Structure: o.StructureID, Person: u.UserID}) ||
		!u.InStructure(identity.Pupil, o.StructureID) {
		return false, nil
	}
	_, _, err := internships.ThirdClass(ctx, s.db, u.UserID, o.StructureID)
	if errors.Is(err, internships.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// reachApplication loads application id when u may read it: the pupil,
// their parents, the teachers of their class, the school's staff.
func (s *Server) reachApplication(ctx context.Context, u *user, id int64) (internships.Application, error) {
	a, err := s.internships().Application(ctx, id)
	if err != nil {
		return a, err
	}
	if !u.Can(identity.InternshipApplication, identity.Read, a.Target()) {
		return internships.Application{}, internships.ErrNotFound
	}
	return a, nil
}

// ownApplications lists the applications of u as a pupil and of u's
// children, those u may read.
func (s *Server) ownApplications(ctx context.Context, u *user) ([]internships.Application, error) {
	pupils := slices.Clone(u.Children)
	if u.Has(identity.Pupil) {
		pupils = append(pupils, u.UserID)
	}
	if len(pupils) == 0 {
		return []internships.Application{}, nil
	}
	as, err := s.internships().Applications(ctx, internships.AppFilter{Pupils: pupils})
	if err != nil {
		return nil, err
	}
	out := as[:0]
	for _, a := range as {
		if u.Can(identity.InternshipApplication, identity.Read, a.Target()) {
			out = append(out, a)
		}
	}
	return out, nil
}

// followClasses lists the 3e classes of this year whose follow-up u sees:
// those they teach, every one of the school for its staff and direction.
func (s *Server) followClasses(ctx context.Context, u *user) ([]directory.Class, error) {
	if !u.CanAny(identity.InternshipFollowUp, identity.Read) {
		return nil, nil
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return nil, err
	}
	sts := u.Structures()
	if slices.Contains(sts, 0) {
		all, err := s.dir.Structures(ctx)
		if err != nil {
			return nil, err
		}
		sts = sts[:0]
		for _, st := range all {
			sts = append(sts, st.ID)
		}
	}
	var out []directory.Class
	for _, st := range sts {
		cs, err := s.dir.Classes(ctx, st, y.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.Level == internships.Level && c.Kind == directory.KindClass && u.Can(identity.InternshipFollowUp, identity.Read, classTarget(c)) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// reachFollowUp loads class id's follow-up when u may see it.
func (s *Server) reachFollowUp(ctx context.Context, u *user, id int64) (directory.Class, []internships.FollowRow, error) {
	c, err := s.dir.Class(ctx, id)
	if err != nil {
		return c, nil, err
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return c, nil, err
	}
	if c.Level != internships.Level || c.YearID != y.ID || !u.Can(identity.InternshipFollowUp, identity.Read, classTarget(c)) {
		return c, nil, internships.ErrNotFound
	}
	rows, err := s.internships().FollowUp(ctx, c.ID)
	return c, rows, err
}

// companyFilter limits the address book to the schools whose offers u may
// read.
func (s *Server) companyFilter(ctx context.Context, u *user, sector, commune string) (internships.CompanyFilter, error) {
	f, err := s.offerFilter(ctx, u)
	return internships.CompanyFilter{Structures: f.Structures, AllSchools: f.AllSchools, Sector: sector, Commune: commune}, err
}

// applyTo stores u's application to o with message and, when cvID is not
// 0, a copy of that file of u's Documents.
func (s *Server) applyTo(ctx context.Context, u *user, o internships.Offer, message string, cvID int64) (internships.Application, error) {
	ok, err := s.mayApply(ctx, u, o)
	if err != nil {
		return internships.Application{}, err
	}
	if !ok {
		return internships.Application{}, &internships.Invalid{Msg: "seuls les élèves de 3e de l'établissement peuvent candidater"}
	}
	a := internships.Application{OfferID: o.ID, PupilID: u.UserID, Message: message}
	if _, err := internships.NormalizeMessage(message); err != nil {
		return a, err
	}
	if cvID != 0 {
		if s.cfg.Files == nil {
			return a, &internships.Invalid{Msg: "les Documents ne sont pas disponibles : candidatez sans CV"}
		}
		c, err := s.cfg.Files.CopyAttachment(ctx, u.Principal, cvID)
		switch {
		case errors.Is(err, files.ErrNotFound):
			return a, &internships.Invalid{Msg: "ce CV est introuvable dans vos Documents"}
		case errors.Is(err, files.ErrTooLarge):
			return a, &internships.Invalid{Msg: fmt.Sprintf("le CV fait %d Mo au plus", files.MaxAttachment>>20)}
		case err != nil:
			return a, err
		}
		a.CV = &internships.CV{FileID: c.FileID, Version: c.Version, Name: c.Name, Size: c.Size, ContentType: c.ContentType,
			SHA256: c.SHA256, Key: c.Key}
	}
	out, err := s.internships().Apply(ctx, a)
	if err != nil && a.CV != nil {
		s.cfg.Files.DropAttachmentCopies(a.CV.Key)
	}
	return out, err
}

// moveApplication records u's move of application id to status to; 404
// when u may not read it or may not make that move.
func (s *Server) moveApplication(ctx context.Context, u *user, id int64, to, note string) (internships.Application, error) {
	a, err := s.reachApplication(ctx, u, id)
	if err != nil {
		return a, err
	}
	if !slices.Contains(internships.Statuses, to) {
		return a, &internships.Invalid{Msg: "statut inconnu"}
	}
	if !internships.MayMove(u.Principal, a, to) {
		if internships.CanGo(a.Status, to) || u.UserID == a.PupilID ||
			!u.Can(identity.InternshipApplication, identity.Update, a.Target()) {
			return a, internships.ErrNotFound
		}
		return a, &internships.Invalid{Msg: fmt.Sprintf("cette candidature est « %s » : elle ne peut plus devenir « %s »",
			a.StatusLabel(), internships.StatusLabel(to))}
	}
	return s.internships().Move(ctx, a.ID, to, u.UserID, note)
}

// internshipError answers a failure: 404, 400 with the French reason (409
// when the offer is full), or the generic failure.
func (s *Server) internshipError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *internships.Invalid
	switch {
	case errors.Is(err, internships.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.Is(err, internships.ErrFull):
		s.error(w, r, http.StatusConflict, frSentence(internships.ErrFull.Msg))
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, frSentence(inv.Msg))
	default:
		s.fail(w, r, err)
	}
}

// serveInternshipCV sends the CV of an application u may read, from the
// application's own copy: as an attachment (RFC 6266), nosniff, sandboxed.
func (s *Server) serveInternshipCV(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	a, err := s.reachApplication(ctx, u, pathID(r, "id"))
	if err == nil && (a.CV == nil || s.cfg.Files == nil) {
		err = internships.ErrNotFound
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	d, err := s.cfg.Files.OpenAttachmentCopy(a.CV.Key, a.CV.Name, a.CV.Size, a.CV.ContentType, a.CV.SHA256)
	if err != nil {
		s.notFound(w, r)
		return
	}
	s.serveDownload(w, r, d, a.CV.Name, a.CreatedAt)
}

// ---- API ---------------------------------------------------------------------

func (s *Server) internshipsAPI(r chi.Router) {
	r.Get("/internships/sectors", s.apiInternshipSectors)
	r.Get("/internships/offers", s.apiInternshipOffers)
	r.Post("/internships/offers", s.apiCreateInternshipOffer)
	r.Get("/internships/offers/{id}", s.apiInternshipOffer)
	r.Put("/internships/offers/{id}", s.apiUpdateInternshipOffer)
	r.Delete("/internships/offers/{id}", s.apiDeleteInternshipOffer)
	r.Post("/internships/offers/{id}/applications", s.apiApplyInternship)
	r.Get("/internships/applications", s.apiInternshipApplications)
	r.Get("/internships/applications/{id}", s.apiInternshipApplication)
	r.Post("/internships/applications/{id}/status", s.apiMoveInternshipApplication)
	r.Get("/internships/applications/{id}/cv", s.serveInternshipCV)
	r.Get("/internships/followup", s.apiInternshipFollowClasses)
	r.Get("/internships/followup/{id}", s.apiInternshipFollowUp)
	r.Get("/internships/companies", s.apiInternshipCompanies)
	r.Delete("/internships/companies/{id}", s.apiDeleteInternshipCompany)
}

// offerJSON is an offer as the API gives it, with what the caller may do.
type offerJSON struct {
	internships.Offer
	SectorLabel string `json:"sector_label"`
	Free        int    `json:"free"`
	CanApply    bool   `json:"can_apply"`
	CanEdit     bool   `json:"can_edit"`
}

func (s *Server) offerView(ctx context.Context, u *user, o internships.Offer) (offerJSON, error) {
	apply, err := s.mayApply(ctx, u, o)
	return offerJSON{Offer: o, SectorLabel: o.SectorLabel(), Free: o.Free(), CanApply: apply,
		CanEdit: u.Can(identity.InternshipOffer, identity.Update, o.Target())}, err
}

func (s *Server) apiInternshipSectors(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Sectors []internships.Sector `json:"sectors"`
	}{internships.Sectors})
}

// searchParams reads sector, commune, week of a query into f; a week may
// be an ISO week or a date.
func searchParams(f *internships.Filter, get func(string) string, sector, commune, week string) error {
	f.Sector, f.Commune = get(sector), get(commune)
	if f.Sector != "" && internships.SectorLabel(f.Sector) == "" {
		return &internships.Invalid{Msg: "secteur inconnu"}
	}
	if v := get(week); v != "" {
		w, err := internships.ParseWeek(v)
		if err != nil {
			return err
		}
		f.Week = w
	}
	return nil
}

func (s *Server) apiInternshipOffers(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	f, err := s.offerFilter(ctx, u)
	if err == nil {
		err = searchParams(&f, q.Get, "sector", "commune", "week")
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	f.FreeOnly = q.Get("free") == "true"
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	if st, _ := strconv.ParseInt(q.Get("structure"), 10, 64); st > 0 {
		f.Structures, f.AllSchools = nil, false
		if u.Can(identity.InternshipOffer, identity.Read, identity.Target{Structure: st}) {
			f.Structures = []int64{st}
		}
	}
	os, total, err := s.internships().Offers(ctx, f)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	out := make([]offerJSON, 0, len(os))
	apply := map[int64]bool{} // by school: may the caller apply there
	for _, o := range os {
		ok, seen := apply[o.StructureID]
		if !seen {
			if ok, err = s.mayApply(ctx, u, o); err != nil {
				s.internshipError(w, r, err)
				return
			}
			apply[o.StructureID] = ok
		}
		out = append(out, offerJSON{Offer: o, SectorLabel: o.SectorLabel(), Free: o.Free(), CanApply: ok,
			CanEdit: u.Can(identity.InternshipOffer, identity.Update, o.Target())})
	}
	writeJSON(w, http.StatusOK, struct {
		Offers []offerJSON `json:"offers"`
		Total  int         `json:"total"`
	}{out, total})
}

func (s *Server) apiInternshipOffer(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Read)
	var v offerJSON
	if err == nil {
		v, err = s.offerView(ctx, u, o)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// offerRequest is an offer as the API takes it.
type offerRequest struct {
	StructureID  int64    `json:"structure_id"`
	Company      string   `json:"company"`
	Sector       string   `json:"sector"`
	Address      string   `json:"address"`
	Commune      string   `json:"commune"`
	Weeks        []string `json:"weeks"`
	Places       int      `json:"places"`
	Description  string   `json:"description"`
	ContactName  string   `json:"contact_name"`
	ContactEmail string   `json:"contact_email"`
	ContactPhone string   `json:"contact_phone"`
}

func (q offerRequest) offer() internships.Offer {
	return internships.Offer{StructureID: q.StructureID, Company: q.Company, Sector: q.Sector, Address: q.Address,
		Commune: q.Commune, Weeks: q.Weeks, Places: q.Places, Description: q.Description, ContactName: q.ContactName,
		ContactEmail: q.ContactEmail, ContactPhone: q.ContactPhone}
}

// createOffer stores o for u in o.StructureID (or u's only school where
// they may publish).
func (s *Server) createOffer(ctx context.Context, u *user, o internships.Offer) (internships.Offer, error) {
	if o.StructureID == 0 {
		sts, err := s.offerSchools(ctx, u, identity.Create)
		if err != nil {
			return o, err
		}
		if len(sts) != 1 {
			return o, &internships.Invalid{Msg: "choisissez l'établissement"}
		}
		o.StructureID = sts[0].ID
	}
	if !u.Can(identity.InternshipOffer, identity.Create, identity.Target{Structure: o.StructureID}) {
		return o, internships.ErrNotFound
	}
	o.AuthorID = u.UserID
	return s.internships().CreateOffer(ctx, o)
}

func (s *Server) apiCreateInternshipOffer(w http.ResponseWriter, r *http.Request) {
	var q offerRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	o, err := s.createOffer(ctx, u, q.offer())
	var v offerJSON
	if err == nil {
		v, err = s.offerView(ctx, u, o)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) apiUpdateInternshipOffer(w http.ResponseWriter, r *http.Request) {
	var q offerRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	old, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	o := q.offer()
	o.ID, o.StructureID, o.AuthorID = old.ID, old.StructureID, old.AuthorID
	o, err = s.internships().UpdateOffer(ctx, o)
	var v offerJSON
	if err == nil {
		v, err = s.offerView(ctx, u, o)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiDeleteInternshipOffer(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.internships().DeleteOffer(ctx, o.ID, u.UserID)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiApplyInternship(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Message string `json:"message"`
		CV      int64  `json:"cv_file_id"` // a file of the caller's Documents; 0: none
	}
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	o, err := s.reachOffer(ctx, u, pathID(r, "id"), identity.Read)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	if ok, err := s.mayApply(ctx, u, o); err != nil || !ok {
		s.internshipError(w, r, cmp.Or(err, internships.ErrNotFound))
		return
	}
	a, err := s.applyTo(ctx, u, o, q.Message, q.CV)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.applicationView(u, a))
}

// applicationJSON is an application with the moves the caller may make.
type applicationJSON struct {
	internships.Application
	StatusLabel string   `json:"status_label"`
	Moves       []string `json:"moves"`
}

func (s *Server) applicationView(u *user, a internships.Application) applicationJSON {
	v := applicationJSON{Application: a, StatusLabel: a.StatusLabel(), Moves: []string{}}
	for _, to := range internships.Statuses {
		if internships.MayMove(u.Principal, a, to) {
			v.Moves = append(v.Moves, to)
		}
	}
	return v
}

func (s *Server) apiInternshipApplications(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	as, err := s.ownApplications(ctx, u)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	out := make([]applicationJSON, 0, len(as))
	for _, a := range as {
		out = append(out, s.applicationView(u, a))
	}
	writeJSON(w, http.StatusOK, struct {
		Applications []applicationJSON `json:"applications"`
	}{out})
}

func (s *Server) apiInternshipApplication(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	a, err := s.reachApplication(ctx, u, pathID(r, "id"))
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.applicationView(u, a))
}

func (s *Server) apiMoveInternshipApplication(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	a, err := s.moveApplication(ctx, u, pathID(r, "id"), q.Status, q.Note)
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.applicationView(u, a))
}

func (s *Server) apiInternshipFollowClasses(w http.ResponseWriter, r *http.Request) {
	cs, err := s.followClasses(r.Context(), currentUser(r))
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	if cs == nil {
		cs = []directory.Class{}
	}
	writeJSON(w, http.StatusOK, struct {
		Classes []directory.Class `json:"classes"`
	}{cs})
}

func (s *Server) apiInternshipFollowUp(w http.ResponseWriter, r *http.Request) {
	c, rows, err := s.reachFollowUp(r.Context(), currentUser(r), pathID(r, "id"))
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Class  directory.Class         `json:"class"`
		Pupils []internships.FollowRow `json:"pupils"`
	}{c, rows})
}

func (s *Server) apiInternshipCompanies(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	q := r.URL.Query()
	if sec := q.Get("sector"); sec != "" && internships.SectorLabel(sec) == "" {
		s.internshipError(w, r, &internships.Invalid{Msg: "secteur inconnu"})
		return
	}
	f, err := s.companyFilter(ctx, u, q.Get("sector"), q.Get("commune"))
	var cs []internships.Company
	if err == nil {
		cs, err = s.internships().Companies(ctx, f)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Companies []internships.Company `json:"companies"`
	}{cs})
}

// reachCompany loads an entry of the address book u may remove (the
// school's staff and direction).
func (s *Server) reachCompany(ctx context.Context, u *user, id int64) (internships.Company, error) {
	c, err := s.internships().Company(ctx, id)
	if err == nil && !u.Can(identity.InternshipOffer, identity.Delete, identity.Target{Structure: c.StructureID}) {
		err = internships.ErrNotFound
	}
	return c, err
}

func (s *Server) apiDeleteInternshipCompany(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	c, err := s.reachCompany(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.internships().DeleteCompany(ctx, c.ID)
	}
	if err != nil {
		s.internshipError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
