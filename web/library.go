package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/directory/csvimport"
	"preau/ent/library"
	"preau/identity"
)

// The library (CDI, package library, docs/library.md): this file holds the
// access checks shared by the pages (library_pages.go) and the JSON API
// below. A title of another school, someone else's loans or reservation,
// and every desk action of someone who does not manage the CDI answer 404.

// libraryStores keeps one store per database, so that MaybeSweep's
// once-a-minute memory is shared by every request of the site.
var libraryStores sync.Map // *db.DB → *library.Store

func (s *Server) library() *library.Store {
	if st, ok := libraryStores.Load(s.db); ok {
		return st.(*library.Store)
	}
	st, _ := libraryStores.LoadOrStore(s.db, library.New(s.db, library.Config{}))
	return st.(*library.Store)
}

// libSweep expires uncollected reservations before a page or answer shows
// them (at most once a minute; a failure is logged, not shown).
func (s *Server) libSweep(ctx context.Context) {
	if err := s.library().MaybeSweep(ctx); err != nil {
		s.log.Warn("library: sweep", "err", err)
	}
}

// libSchools lists the schools whose catalogue u reads.
func (s *Server) libSchools(ctx context.Context, u *user) ([]directory.Structure, error) {
	all, err := s.dir.Structures(ctx)
	if err != nil {
		return nil, err
	}
	var out []directory.Structure
	for _, st := range all {
		if library.CanRead(u.Principal, st.ID) {
			out = append(out, st)
		}
	}
	return out, nil
}

// libSchool picks the school of a request: id when set (404 when u may
// not read its catalogue), else the first school of u, preferring one where
// u manages the CDI.
func (s *Server) libSchool(ctx context.Context, u *user, id int64) (directory.Structure, []directory.Structure, error) {
	sts, err := s.libSchools(ctx, u)
	if err != nil {
		return directory.Structure{}, nil, err
	}
	for _, st := range sts {
		if st.ID == id {
			return st, sts, nil
		}
	}
	if id != 0 || len(sts) == 0 {
		return directory.Structure{}, sts, library.ErrNotFound
	}
	for _, st := range sts {
		if library.Manages(u.Principal, st.ID) {
			return st, sts, nil
		}
	}
	return sts[0], sts, nil
}

// reachLibBook loads title id when u reads its school's catalogue.
func (s *Server) reachLibBook(ctx context.Context, u *user, id int64) (library.Book, error) {
	b, err := s.library().Book(ctx, id)
	if err != nil {
		return b, err
	}
	if !library.CanRead(u.Principal, b.StructureID) {
		return library.Book{}, library.ErrNotFound
	}
	return b, nil
}

// managedCopy loads the title of copy id when u manages its CDI.
func (s *Server) managedCopy(ctx context.Context, u *user, id int64) (library.Book, error) {
	b, err := s.library().CopyBook(ctx, id)
	if err != nil {
		return b, err
	}
	if !library.Manages(u.Principal, b.StructureID) {
		return library.Book{}, library.ErrNotFound
	}
	return b, nil
}

// managedLoan loads loan id when u manages its CDI.
func (s *Server) managedLoan(ctx context.Context, u *user, id int64) (library.Loan, error) {
	l, err := s.library().Loan(ctx, id)
	if err != nil {
		return l, err
	}
	if !library.Manages(u.Principal, l.StructureID) {
		return library.Loan{}, library.ErrNotFound
	}
	return l, nil
}

// cancelReservation ends reservation id when it is u's own, or u manages
// its CDI.
func (s *Server) cancelReservation(ctx context.Context, u *user, id int64) (library.Reservation, error) {
	st := s.library()
	r, err := st.Reservation(ctx, id)
	if err != nil {
		return r, err
	}
	own := r.PersonID == u.UserID && u.Can(identity.LibraryLoan, identity.Delete, identity.Target{Structure: r.StructureID, Person: r.PersonID})
	if !own && !library.Manages(u.Principal, r.StructureID) {
		return library.Reservation{}, library.ErrNotFound
	}
	return r, st.Cancel(ctx, id)
}

// lendCopy lends copy id to the borrower (login, or person id) when u
// manages its CDI.
func (s *Server) lendCopy(ctx context.Context, u *user, id int64, login string, person int64) (library.Loan, error) {
	b, err := s.managedCopy(ctx, u, id)
	if err != nil {
		return library.Loan{}, err
	}
	if login == "" && person == 0 {
		return library.Loan{}, &library.Invalid{Msg: "donnez l'identifiant de l'emprunteur"}
	}
	p, err := s.library().Borrower(ctx, b.StructureID, login, person)
	if err != nil {
		return library.Loan{}, err
	}
	return s.library().Lend(ctx, id, p.ID, u.UserID)
}

// libError answers a failure: 404, 400 (409 for ErrNoCopy) with the French
// reason, or the generic failure.
func (s *Server) libError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *library.Invalid
	var ie *library.ImportErrors
	switch {
	case errors.Is(err, library.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.Is(err, library.ErrNoCopy):
		s.error(w, r, http.StatusConflict, frSentence(library.ErrNoCopy.Msg))
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, frSentence(inv.Msg))
	case errors.As(err, &ie):
		writeJSON(w, http.StatusBadRequest, struct {
			Error   string             `json:"error"`
			Message string             `json:"message"`
			Rows    []library.RowError `json:"rows"`
		}{"bad_request", "Fichier refusé, rien n'a été importé.", ie.Rows})
	default:
		s.fail(w, r, err)
	}
}

func libQueryID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// ---- API ---------------------------------------------------------------------

func (s *Server) libraryAPI(r chi.Router) {
	r.Get("/library/books", s.apiLibraryBooks)
	r.Post("/library/books", s.apiLibraryCreateBook)
	r.Get("/library/books/{id}", s.apiLibraryBook)
	r.Post("/library/books/{id}/reservations", s.apiLibraryReserve)
	r.Delete("/library/reservations/{id}", s.apiLibraryCancel)
	r.Get("/library/people/{id}/loans", s.apiLibraryLoansOf)
	r.Get("/library/desk", s.apiLibraryDesk)
	r.Post("/library/copies/{id}/lend", s.apiLibraryLend)
	r.Post("/library/copies/{id}/return", s.apiLibraryReturn)
	r.Put("/library/loans/{id}/due", s.apiLibraryDue)
	r.Post("/library/loans/{id}/reminder", s.apiLibraryRemind)
	r.With(s.limitBody(csvimport.MaxFileSize+1<<20)).Post("/library/import", s.apiLibraryImport)
}

func (s *Server) apiLibraryBooks(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	st, _, err := s.libSchool(ctx, u, libQueryID(r, "structure_id"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	q := r.URL.Query()
	bs, total, err := s.library().Search(ctx, st.ID, library.Query{Words: q.Get("q"), Author: q.Get("author"), Subject: q.Get("subject"),
		AvailableOnly: q.Get("available") == "true", Limit: int(libQueryID(r, "limit")), Offset: int(libQueryID(r, "offset"))})
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		StructureID int64          `json:"structure_id"`
		Total       int            `json:"total"`
		Books       []library.Book `json:"books"`
	}{st.ID, total, bs})
}

// libBookRequest is a new title as the API takes it.
type libBookRequest struct {
	StructureID int64    `json:"structure_id"`
	ISBN        string   `json:"isbn"`
	Title       string   `json:"title"`
	Authors     []string `json:"authors"`
	Publisher   string   `json:"publisher"`
	Year        int      `json:"year"`
	Subjects    []string `json:"subjects"`
	ShelfMark   string   `json:"shelf_mark"`
	Copies      int      `json:"copies"`
}

func (s *Server) apiLibraryCreateBook(w http.ResponseWriter, r *http.Request) {
	var q libBookRequest
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	if !library.Manages(u.Principal, q.StructureID) {
		s.notFound(w, r)
		return
	}
	b, err := s.library().CreateBook(ctx, library.Book{StructureID: q.StructureID, ISBN: q.ISBN, Title: q.Title, Authors: q.Authors,
		Publisher: q.Publisher, Year: q.Year, Subjects: q.Subjects}, q.ShelfMark, q.Copies)
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, b)
}

// libBookJSON is a title with its copies and what it means for the caller.
type libBookJSON struct {
	library.Book
	CopyList    []library.Copy       `json:"copy_list"`
	Reservation *library.Reservation `json:"my_reservation,omitempty"`
	Loan        *library.Loan        `json:"my_loan,omitempty"`
	CanReserve  bool                 `json:"can_reserve"`
	Manages     bool                 `json:"manages"`
}

func (s *Server) libBookDetail(ctx context.Context, u *user, b library.Book) (libBookJSON, error) {
	st := s.library()
	out := libBookJSON{Book: b, Manages: library.Manages(u.Principal, b.StructureID)}
	var err error
	if out.CopyList, err = st.Copies(ctx, b.ID); err != nil {
		return out, err
	}
	rs, err := st.ReservationsOf(ctx, u.UserID, b.StructureID)
	if err != nil {
		return out, err
	}
	for i := range rs {
		if rs[i].BookID == b.ID {
			out.Reservation = &rs[i]
		}
	}
	ls, err := st.LoansOf(ctx, u.UserID, b.StructureID)
	if err != nil {
		return out, err
	}
	for i := range ls {
		if ls[i].BookID == b.ID && ls[i].ReturnedAt.IsZero() {
			out.Loan = &ls[i]
		}
	}
	out.CanReserve = library.MayReserve(u.Principal, b.StructureID) && out.Reservation == nil && out.Loan == nil && b.Copies > 0
	return out, nil
}

func (s *Server) apiLibraryBook(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	s.libSweep(ctx)
	b, err := s.reachLibBook(ctx, u, pathID(r, "id"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	out, err := s.libBookDetail(ctx, u, b)
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// reserveBook reserves title id for u (join: the waiting list when no copy
// is left).
func (s *Server) reserveBook(ctx context.Context, u *user, id int64, join bool) (library.Reservation, error) {
	b, err := s.reachLibBook(ctx, u, id)
	if err != nil {
		return library.Reservation{}, err
	}
	if !library.MayReserve(u.Principal, b.StructureID) {
		return library.Reservation{}, library.ErrNotFound
	}
	return s.library().Reserve(ctx, b.ID, u.UserID, join)
}

func (s *Server) apiLibraryReserve(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Waitlist bool `json:"waitlist"`
	}
	if r.ContentLength != 0 && !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	s.libSweep(ctx)
	res, err := s.reserveBook(ctx, u, pathID(r, "id"), q.Waitlist)
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) apiLibraryCancel(w http.ResponseWriter, r *http.Request) {
	if _, err := s.cancelReservation(r.Context(), currentUser(r), pathID(r, "id")); err != nil {
		s.libError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// libLoansJSON is a person's loans and active reservations.
type libLoansJSON struct {
	PersonID     int64                 `json:"person_id"`
	Loans        []library.Loan        `json:"loans"`
	Reservations []library.Reservation `json:"reservations"`
}

// loansOf returns person's loans and reservations in school st (0: every
// school) when u may see them.
func (s *Server) loansOf(ctx context.Context, u *user, person, st int64) (libLoansJSON, error) {
	out := libLoansJSON{PersonID: person}
	if st == 0 && person != u.UserID && !u.IsParentOf(person) {
		// The documentaliste sees the loans of their school's CDI.
		for _, r := range u.Roles {
			if r.StructureID != 0 && library.Manages(u.Principal, r.StructureID) {
				st = r.StructureID
				break
			}
		}
	}
	if !library.CanSeeLoans(u.Principal, st, person) {
		return out, library.ErrNotFound
	}
	s.libSweep(ctx)
	var err error
	if out.Loans, err = s.library().LoansOf(ctx, person, st); err != nil {
		return out, err
	}
	out.Reservations, err = s.library().ReservationsOf(ctx, person, st)
	return out, err
}

func (s *Server) apiLibraryLoansOf(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	out, err := s.loansOf(ctx, u, pathID(r, "id"), libQueryID(r, "structure_id"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// libDesk is what the documentaliste's desk shows.
type libDesk struct {
	StructureID int64                 `json:"structure_id"`
	Ready       []library.Reservation `json:"ready"`   // copies held: to prepare, until they expire
	Waiting     []library.Reservation `json:"waiting"` // the waiting lists
	Loans       []library.Loan        `json:"loans"`   // out, by due date
	Overdue     []library.Loan        `json:"overdue"`
}

func (s *Server) desk(ctx context.Context, u *user, id int64) (libDesk, error) {
	st, _, err := s.libSchool(ctx, u, id)
	if err != nil {
		return libDesk{}, err
	}
	if !library.Manages(u.Principal, st.ID) {
		return libDesk{}, library.ErrNotFound
	}
	s.libSweep(ctx)
	ls := s.library()
	d := libDesk{StructureID: st.ID}
	if d.Ready, err = ls.Ready(ctx, st.ID); err != nil {
		return d, err
	}
	if d.Waiting, err = ls.WaitingList(ctx, st.ID); err != nil {
		return d, err
	}
	if d.Loans, err = ls.OpenLoans(ctx, st.ID, false); err != nil {
		return d, err
	}
	d.Overdue, err = ls.OpenLoans(ctx, st.ID, true)
	return d, err
}

func (s *Server) apiLibraryDesk(w http.ResponseWriter, r *http.Request) {
	d, err := s.desk(r.Context(), currentUser(r), libQueryID(r, "structure_id"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) apiLibraryLend(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Login    string `json:"login"`
		PersonID int64  `json:"person_id"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	l, err := s.lendCopy(r.Context(), currentUser(r), pathID(r, "id"), q.Login, q.PersonID)
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, l)
}

func (s *Server) apiLibraryReturn(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	if _, err := s.managedCopy(ctx, u, pathID(r, "id")); err != nil {
		s.libError(w, r, err)
		return
	}
	l, next, err := s.library().Return(ctx, pathID(r, "id"))
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Loan library.Loan `json:"loan"`
		// NextReservation is the reservation the copy is now held for (0:
		// back on the shelf).
		NextReservation int64 `json:"next_reservation_id"`
	}{l, next})
}

func (s *Server) apiLibraryDue(w http.ResponseWriter, r *http.Request) {
	var q struct {
		DueOn string `json:"due_on"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	l, err := s.managedLoan(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.library().SetDue(ctx, l.ID, q.DueOn)
	}
	if err == nil {
		l, err = s.library().Loan(ctx, l.ID)
	}
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) apiLibraryRemind(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	l, err := s.managedLoan(ctx, u, pathID(r, "id"))
	if err == nil {
		err = s.library().Remind(ctx, l.ID)
	}
	if err == nil {
		l, err = s.library().Loan(ctx, l.ID)
	}
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// apiLibraryImport takes a CSV body for the school ?structure_id=
// (?dry_run=true: check and count only).
func (s *Server) apiLibraryImport(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	st := libQueryID(r, "structure_id")
	if !library.Manages(u.Principal, st) {
		s.notFound(w, r)
		return
	}
	rep, err := s.library().Import(ctx, st, r.Body, r.URL.Query().Get("dry_run") == "true")
	if err != nil {
		s.libError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
