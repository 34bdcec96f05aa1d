package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/directory/csvimport"
	"preau/ent/library"
	"preau/identity"
)

// The pages of the CDI (docs/library.md), plain forms that work without
// script: the catalogue search, a title's page with its copies and the
// "Réserver" / "Rejoindre la file d'attente" button, "Mes prêts et
// réservations" (a parent: their child's, read only), and for the
// documentaliste the desk (reservations to prepare, lending, returns, loans
// out), the overdue list with reminders, a new title and the CSV import.

func (s *Server) libraryPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/cdi", s.libSearchPage)
	r.Get("/cdi/livres/{id}", s.libBookPage)
	r.With(small).Post("/cdi/livres/{id}/reserver", s.libReserveSubmit)
	r.With(small).Post("/cdi/reservations/{id}/annuler", s.libCancelSubmit)
	r.Get("/cdi/mes-prets", s.libMinePage)
	r.Get("/cdi/bureau", s.libDeskPage)
	r.Get("/cdi/retards", s.libOverduePage)
	r.With(small).Post("/cdi/bureau/preter", s.libLendSubmit)
	r.With(small).Post("/cdi/bureau/retour", s.libReturnSubmit)
	r.With(small).Post("/cdi/prets/{id}/echeance", s.libDueSubmit)
	r.With(small).Post("/cdi/prets/{id}/relance", s.libRemindSubmit)
	r.Get("/cdi/livres/nouveau", s.libNewPage)
	r.With(small).Post("/cdi/livres", s.libCreateSubmit)
	r.With(small).Post("/cdi/livres/{id}/exemplaires", s.libAddCopiesSubmit)
	r.With(small).Post("/cdi/exemplaires/{id}/retirer", s.libWithdrawSubmit)
	r.Get("/cdi/livres/{id}/couverture", s.libCoverServe) // library_cover.go
	r.With(small).Post("/cdi/livres/{id}/couverture", s.libCoverSubmit)
	r.Get("/cdi/import", s.libImportPage)
	r.With(s.limitBody(csvimport.MaxFileSize+1<<20)).Post("/cdi/import", s.libImportSubmit)
}

// libDate writes "2026-11-30" as "lundi 30 novembre".
func libDate(v string) string {
	d, err := time.Parse(library.DateLayout, v)
	if err != nil {
		return v
	}
	return frDay(d)
}

type libNav struct {
	School   directory.Structure
	Schools  []libLink
	Mine     bool // u reserves: "Mes prêts et réservations"
	Children []libLink
	Manages  bool
}

type libLink struct {
	Label, Href string
	Current     bool
}

func (s *Server) libNav(ctx context.Context, u *user, st directory.Structure, sts []directory.Structure, path string) (libNav, error) {
	n := libNav{School: st, Mine: library.MayReserve(u.Principal, st.ID), Manages: library.Manages(u.Principal, st.ID)}
	if len(sts) > 1 {
		for _, o := range sts {
			n.Schools = append(n.Schools, libLink{Label: o.Name, Href: path + "?etablissement=" + strconv.FormatInt(o.ID, 10), Current: o.ID == st.ID})
		}
	}
	for _, c := range u.Children {
		p, err := s.dir.Person(ctx, c)
		if err != nil {
			return n, err
		}
		n.Children = append(n.Children, libLink{Label: p.FirstName, Href: "/cdi/mes-prets?eleve=" + strconv.FormatInt(c, 10)})
	}
	return n, nil
}

type libBookRow struct {
	library.Book
	Href, Authors, Subjects string
}

func libRow(b library.Book) libBookRow {
	return libBookRow{Book: b, Href: "/cdi/livres/" + strconv.FormatInt(b.ID, 10), Authors: strings.Join(b.Authors, " ; "),
		Subjects: strings.Join(b.Subjects, ", ")}
}

type libSearchData struct {
	Nav                 libNav
	Q, Author, Subject  string
	Available, Searched bool
	Results             []libBookRow
	Total               int
	Prev, Next          string
}

func (s *Server) libSearchPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	st, sts, err := s.libSchool(ctx, u, libQueryID(r, "etablissement"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	s.libSweep(ctx)
	q := r.URL.Query()
	d := libSearchData{Q: q.Get("q"), Author: q.Get("auteur"), Subject: q.Get("sujet"), Available: q.Get("disponible") == "1"}
	if d.Nav, err = s.libNav(ctx, u, st, sts, "/cdi"); err != nil {
		s.fail(w, r, err)
		return
	}
	const per = 30
	off := int(libQueryID(r, "debut"))
	bs, total, err := s.library().Search(ctx, st.ID, library.Query{Words: d.Q, Author: d.Author, Subject: d.Subject,
		AvailableOnly: d.Available, Limit: per, Offset: off})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Total, d.Searched = total, d.Q != "" || d.Author != "" || d.Subject != "" || d.Available
	for _, b := range bs {
		d.Results = append(d.Results, libRow(b))
	}
	page := func(o int) string {
		v := url.Values{}
		for k, x := range map[string]string{"q": d.Q, "auteur": d.Author, "sujet": d.Subject} {
			if x != "" {
				v.Set(k, x)
			}
		}
		if d.Available {
			v.Set("disponible", "1")
		}
		if len(sts) > 1 {
			v.Set("etablissement", strconv.FormatInt(st.ID, 10))
		}
		if o > 0 {
			v.Set("debut", strconv.Itoa(o))
		}
		return "/cdi?" + v.Encode()
	}
	if off > 0 {
		d.Prev = page(max(0, off-per))
	}
	if off+per < total {
		d.Next = page(off + per)
	}
	s.render(w, r, http.StatusOK, "library", view{Title: "CDI — catalogue", Data: d})
}

type libCopyRow struct {
	library.Copy
	State, Due string
}

type libBookData struct {
	Book        libBookRow
	ISBN        string
	Copies      []libCopyRow
	Reservation *library.Reservation
	ResLabel    string
	ResExpires  string
	Loan        *library.Loan
	LoanDue     string
	CanReserve  bool
	Manages     bool
	Parent      bool
	// CoverDocs are the images of the documentaliste's Documents;
	// Files says the Documents are configured (covers offered).
	CoverDocs []libCoverDoc
	Files     bool
}

func (s *Server) libBookView(w http.ResponseWriter, r *http.Request, b library.Book, code int, errMsg string) {
	ctx, u := r.Context(), currentUser(r)
	det, err := s.libBookDetail(ctx, u, b)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := libBookData{Book: libRow(b), ISBN: library.FormatISBN(b.ISBN), Reservation: det.Reservation, Loan: det.Loan,
		CanReserve: det.CanReserve, Manages: det.Manages, Parent: len(u.Children) > 0}
	if d.Manages && s.cfg.Files != nil {
		d.Files = true
		if d.CoverDocs, err = s.libCoverDocs(ctx, u); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for _, c := range det.CopyList {
		d.Copies = append(d.Copies, libCopyRow{Copy: c, State: library.StateLabel(c.State), Due: libDate(c.DueOn)})
	}
	if d.Reservation != nil {
		d.ResLabel, d.ResExpires = library.StatusLabel(d.Reservation.Status), libDate(d.Reservation.ExpiresOn)
	}
	if d.Loan != nil {
		d.LoanDue = libDate(d.Loan.DueOn)
	}
	v := view{Title: b.Title, Data: d, Error: errMsg}
	switch r.URL.Query().Get("ok") {
	case "pret":
		v.Flash = "Le prêt est enregistré."
	case "retour":
		v.Flash = "Le retour est enregistré."
	case "exemplaires":
		v.Flash = "Les exemplaires sont ajoutés."
	case "retire":
		v.Flash = "L'exemplaire est retiré du prêt."
	case "couverture":
		v.Flash = "La couverture est changée."
	case "cree":
		v.Flash = "Le titre est ajouté au catalogue."
	}
	s.render(w, r, code, "library_book", v)
}

func (s *Server) libBookPage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	s.libSweep(ctx)
	b, err := s.reachLibBook(ctx, u, pathID(r, "id"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	s.libBookView(w, r, b, http.StatusOK, "")
}

func (s *Server) libReserveSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	s.libSweep(ctx)
	res, err := s.reserveBook(ctx, u, pathID(r, "id"), r.PostForm.Get("file") == "1")
	var inv *library.Invalid
	if errors.As(err, &inv) {
		// The title's page again, with the reason (and, when the last copy
		// went to someone else, the button to join the waiting list).
		b, berr := s.reachLibBook(ctx, u, pathID(r, "id"))
		if berr != nil {
			s.libError(w, r, berr)
			return
		}
		code := http.StatusBadRequest
		if errors.Is(err, library.ErrNoCopy) {
			code = http.StatusConflict
		}
		s.libBookView(w, r, b, code, frSentence(inv.Msg))
		return
	}
	if err != nil {
		s.libError(w, r, err)
		return
	}
	ok := "reservee"
	if res.Status == library.Waiting {
		ok = "file"
	}
	http.Redirect(w, r, "/cdi/mes-prets?ok="+ok+"#reservation-"+strconv.FormatInt(res.ID, 10), http.StatusSeeOther)
}

// libBack is where a form goes back to: only the pages of the CDI.
func libBack(r *http.Request, fallback string) string {
	switch b := r.PostForm.Get("retour"); {
	case b == "/cdi/mes-prets", b == "/cdi/bureau", b == "/cdi/retards",
		strings.HasPrefix(b, "/cdi/bureau?etablissement="), strings.HasPrefix(b, "/cdi/retards?etablissement="),
		strings.HasPrefix(b, "/cdi/livres/") && !strings.ContainsAny(b[len("/cdi/livres/"):], "/?#:\\"):
		return b
	}
	return fallback
}

func withOK(path, ok string) string {
	if strings.Contains(path, "?") {
		return path + "&ok=" + ok
	}
	return path + "?ok=" + ok
}

func (s *Server) libCancelSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	if _, err := s.cancelReservation(r.Context(), currentUser(r), pathID(r, "id")); err != nil {
		s.libError(w, r, err)
		return
	}
	http.Redirect(w, r, withOK(libBack(r, "/cdi/mes-prets"), "annulee"), http.StatusSeeOther)
}

type libLoanRow struct {
	library.Loan
	Lent, Due, Returned, Reminded string
	Late                          bool
}

func libLoanRows(ls []library.Loan, today string) []libLoanRow {
	out := []libLoanRow{}
	for _, l := range ls {
		row := libLoanRow{Loan: l, Lent: libDate(l.LentOn), Due: libDate(l.DueOn), Late: l.Overdue(today)}
		if !l.ReturnedAt.IsZero() {
			row.Returned = frDateTime(l.ReturnedAt)
		}
		if !l.RemindedAt.IsZero() {
			row.Reminded = frDateTime(l.RemindedAt)
		}
		out = append(out, row)
	}
	return out
}

type libResRow struct {
	library.Reservation
	Label, Expires string
}

func libResRows(rs []library.Reservation) []libResRow {
	out := []libResRow{}
	for _, r := range rs {
		out = append(out, libResRow{Reservation: r, Label: library.StatusLabel(r.Status), Expires: libDate(r.ExpiresOn)})
	}
	return out
}

type libMineData struct {
	Name         string
	Self         bool
	Children     []libLink
	Open, Past   []libLoanRow
	Reservations []libResRow
}

func (s *Server) libMinePage(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	person := u.UserID
	if r.URL.Query().Has("eleve") {
		person = libQueryID(r, "eleve")
	} else if len(u.Children) > 0 && u.Primary() == identity.Parent {
		person = u.Children[0]
	}
	data, err := s.loansOf(ctx, u, person, 0)
	if err != nil {
		s.libError(w, r, err)
		return
	}
	d := libMineData{Self: person == u.UserID, Reservations: libResRows(data.Reservations)}
	today := s.library().Today()
	for _, l := range libLoanRows(data.Loans, today) {
		if l.ReturnedAt.IsZero() {
			d.Open = append(d.Open, l)
		} else {
			d.Past = append(d.Past, l)
		}
	}
	if !d.Self {
		p, err := s.dir.Person(ctx, person)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Name = p.FirstName + " " + p.LastName
	}
	if len(u.Children) > 1 {
		for _, c := range u.Children {
			p, err := s.dir.Person(ctx, c)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			d.Children = append(d.Children, libLink{Label: p.FirstName, Href: "/cdi/mes-prets?eleve=" + strconv.FormatInt(c, 10), Current: c == person})
		}
	}
	v := view{Title: "Mes prêts et réservations", Data: d}
	if !d.Self {
		v.Title = "Prêts et réservations — " + d.Name
	}
	switch r.URL.Query().Get("ok") {
	case "reservee":
		v.Flash = fmt.Sprintf("Votre réservation est enregistrée : l'exemplaire vous attend au CDI pendant %d jours.", s.library().Config().HoldDays)
	case "file":
		v.Flash = "Vous êtes dans la file d'attente : un exemplaire vous sera réservé dès son retour."
	case "annulee":
		v.Flash = "La réservation est annulée."
	}
	s.render(w, r, http.StatusOK, "library_mine", v)
}

type libDeskData struct {
	Nav          libNav
	Ready        []libResRow
	Waiting      []libResRow
	Loans        []libLoanRow
	OverdueCount int
	Back         string
	LoanDays     int
	OnlyOverdue  bool
}

func (s *Server) libDeskView(w http.ResponseWriter, r *http.Request, overdue bool) {
	ctx, u := r.Context(), currentUser(r)
	desk, err := s.desk(ctx, u, libQueryID(r, "etablissement"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	st, sts, err := s.libSchool(ctx, u, desk.StructureID)
	if err != nil {
		s.libError(w, r, err)
		return
	}
	path := "/cdi/bureau"
	if overdue {
		path = "/cdi/retards"
	}
	d := libDeskData{Ready: libResRows(desk.Ready), Waiting: libResRows(desk.Waiting), OverdueCount: len(desk.Overdue),
		Back: path + "?etablissement=" + strconv.FormatInt(st.ID, 10), LoanDays: s.library().Config().LoanDays, OnlyOverdue: overdue}
	if d.Nav, err = s.libNav(ctx, u, st, sts, path); err != nil {
		s.fail(w, r, err)
		return
	}
	loans := desk.Loans
	if overdue {
		loans = desk.Overdue
	}
	d.Loans = libLoanRows(loans, s.library().Today())
	v := view{Title: "CDI — bureau du prêt", Data: d}
	if overdue {
		v.Title = "CDI — retards"
	}
	v.Flash = map[string]string{"pret": "Le prêt est enregistré.", "retour": "Le retour est enregistré.",
		"echeance": "La date de retour est changée.", "relance": "La relance est notée.", "annulee": "La réservation est annulée.",
		"retour-file": "Le retour est enregistré : l'exemplaire est réservé pour la personne suivante de la file d'attente — mettez-le de côté."}[r.URL.Query().Get("ok")]
	s.render(w, r, http.StatusOK, "library_desk", v)
}

func (s *Server) libDeskPage(w http.ResponseWriter, r *http.Request)    { s.libDeskView(w, r, false) }
func (s *Server) libOverduePage(w http.ResponseWriter, r *http.Request) { s.libDeskView(w, r, true) }

// libDeskError shows a refused desk step with its French reason.
func (s *Server) libDeskError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *library.Invalid
	if errors.As(err, &inv) {
		s.error(w, r, http.StatusBadRequest, frSentence(inv.Msg))
		return
	}
	s.libError(w, r, err)
}

func libFormID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func (s *Server) libLendSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	copyID := libFormID(r, "exemplaire")
	if copyID == 0 {
		s.error(w, r, http.StatusBadRequest, "Donnez le numéro de l'exemplaire.")
		return
	}
	if _, err := s.lendCopy(ctx, u, copyID, strings.TrimSpace(r.PostForm.Get("identifiant")), libFormID(r, "personne")); err != nil {
		s.libDeskError(w, r, err)
		return
	}
	http.Redirect(w, r, withOK(libBack(r, "/cdi/bureau"), "pret"), http.StatusSeeOther)
}

func (s *Server) libReturnSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	copyID := libFormID(r, "exemplaire")
	if _, err := s.managedCopy(ctx, u, copyID); err != nil {
		s.libDeskError(w, r, err)
		return
	}
	_, next, err := s.library().Return(ctx, copyID)
	if err != nil {
		s.libDeskError(w, r, err)
		return
	}
	ok := "retour"
	if next != 0 {
		ok = "retour-file"
	}
	http.Redirect(w, r, withOK(libBack(r, "/cdi/bureau"), ok), http.StatusSeeOther)
}

func (s *Server) libDueSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	l, err := s.managedLoan(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.library().SetDue(ctx, l.ID, strings.TrimSpace(r.PostForm.Get("echeance")))
	}
	if err != nil {
		s.libDeskError(w, r, err)
		return
	}
	http.Redirect(w, r, withOK(libBack(r, "/cdi/bureau"), "echeance"), http.StatusSeeOther)
}

func (s *Server) libRemindSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	l, err := s.managedLoan(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.library().Remind(ctx, l.ID)
	}
	if err != nil {
		s.libDeskError(w, r, err)
		return
	}
	http.Redirect(w, r, withOK(libBack(r, "/cdi/retards"), "relance"), http.StatusSeeOther)
}

// ---- catalogue: new title, copies, import --------------------------------------

type libNewData struct {
	Nav  libNav
	Form libBookRequest
	Year string
}

func (s *Server) libManagedSchool(w http.ResponseWriter, r *http.Request, id int64) (directory.Structure, []directory.Structure, bool) {
	st, sts, err := s.libSchool(r.Context(), currentUser(r), id)
	if err == nil && !library.Manages(currentUser(r).Principal, st.ID) {
		err = library.ErrNotFound
	}
	if err != nil {
		s.libError(w, r, err)
		return st, sts, false
	}
	return st, sts, true
}

func (s *Server) libNewPage(w http.ResponseWriter, r *http.Request) {
	st, sts, ok := s.libManagedSchool(w, r, libQueryID(r, "etablissement"))
	if !ok {
		return
	}
	nav, err := s.libNav(r.Context(), currentUser(r), st, sts, "/cdi/livres/nouveau")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "library_new", view{Title: "CDI — nouveau titre", Data: libNewData{Nav: nav, Form: libBookRequest{Copies: 1}}})
}

func (s *Server) libCreateSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	st, sts, ok := s.libManagedSchool(w, r, libFormID(r, "etablissement"))
	if !ok {
		return
	}
	f := r.PostForm
	q := libBookRequest{StructureID: st.ID, ISBN: f.Get("isbn"), Title: f.Get("titre"), Authors: []string{f.Get("auteurs")},
		Publisher: f.Get("editeur"), Subjects: []string{f.Get("sujets")}, ShelfMark: f.Get("cote")}
	year := strings.TrimSpace(f.Get("annee"))
	var err error
	if year != "" {
		if q.Year, err = strconv.Atoi(year); err != nil {
			err = &library.Invalid{Msg: "année de parution illisible"}
		}
	}
	if q.Copies, _ = strconv.Atoi(f.Get("exemplaires")); err == nil {
		var b library.Book
		b, err = s.library().CreateBook(r.Context(), library.Book{StructureID: st.ID, ISBN: q.ISBN, Title: q.Title, Authors: q.Authors,
			Publisher: q.Publisher, Year: q.Year, Subjects: q.Subjects}, q.ShelfMark, q.Copies)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/cdi/livres/%d?ok=cree", b.ID), http.StatusSeeOther)
			return
		}
	}
	var inv *library.Invalid
	if !errors.As(err, &inv) {
		s.libError(w, r, err)
		return
	}
	nav, nerr := s.libNav(r.Context(), currentUser(r), st, sts, "/cdi/livres/nouveau")
	if nerr != nil {
		s.fail(w, r, nerr)
		return
	}
	s.render(w, r, http.StatusBadRequest, "library_new", view{Title: "CDI — nouveau titre", Error: frSentence(inv.Msg),
		Data: libNewData{Nav: nav, Form: q, Year: year}})
}

func (s *Server) libAddCopiesSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	b, err := s.reachLibBook(ctx, u, pathID(r, "id"))
	if err == nil && !library.Manages(u.Principal, b.StructureID) {
		err = library.ErrNotFound
	}
	if err == nil {
		n, _ := strconv.Atoi(r.PostForm.Get("nombre"))
		err = s.library().AddCopiesTo(ctx, b.ID, r.PostForm.Get("cote"), n)
	}
	if err != nil {
		s.libDeskError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/cdi/livres/%d?ok=exemplaires", b.ID), http.StatusSeeOther)
}

func (s *Server) libWithdrawSubmit(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	b, err := s.managedCopy(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.library().Withdraw(ctx, pathID(r, "id"))
	}
	if err != nil {
		s.libDeskError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/cdi/livres/%d?ok=retire", b.ID), http.StatusSeeOther)
}

type libImportData struct {
	Nav    libNav
	Report *library.ImportReport
	Rows   []library.RowError
}

func (s *Server) libImportPage(w http.ResponseWriter, r *http.Request) {
	st, sts, ok := s.libManagedSchool(w, r, libQueryID(r, "etablissement"))
	if !ok {
		return
	}
	nav, err := s.libNav(r.Context(), currentUser(r), st, sts, "/cdi/import")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "library_import", view{Title: "CDI — importer un catalogue", Data: libImportData{Nav: nav}})
}

func (s *Server) libImportSubmit(w http.ResponseWriter, r *http.Request) {
	st, sts, ok := s.libManagedSchool(w, r, libQueryID(r, "etablissement"))
	if !ok {
		return
	}
	ctx := r.Context()
	nav, err := s.libNav(ctx, currentUser(r), st, sts, "/cdi/import")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := libImportData{Nav: nav}
	v := view{Title: "CDI — importer un catalogue", Data: &d}
	file, _, err := r.FormFile("fichier")
	if err != nil {
		v.Error = "Choisissez un fichier CSV (ISBN;Titre;Auteurs;Éditeur;Année;Sujets;Cote;Exemplaires)."
		s.render(w, r, http.StatusBadRequest, "library_import", v)
		return
	}
	defer file.Close()
	rep, err := s.library().Import(ctx, st.ID, file, r.FormValue("essai") == "1")
	var ie *library.ImportErrors
	var inv *library.Invalid
	switch {
	case errors.As(err, &ie):
		d.Rows = ie.Rows
		v.Error = fmt.Sprintf("Fichier refusé, rien n'a été importé : %d ligne(s) en erreur.", len(ie.Rows))
		s.render(w, r, http.StatusBadRequest, "library_import", v)
		return
	case errors.As(err, &inv):
		v.Error = frSentence(inv.Msg)
		s.render(w, r, http.StatusBadRequest, "library_import", v)
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	d.Report = &rep
	if rep.DryRun {
		v.Flash = "Essai : le fichier est correct ; rien n'a encore été importé."
	} else {
		v.Flash = "Le catalogue est importé."
	}
	s.render(w, r, http.StatusOK, "library_import", v)
}
