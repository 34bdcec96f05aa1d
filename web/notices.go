package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/notices"
	"preau/identity"
	"preau/storage/files"
)

// The notice board (Actualités, package notices, docs/notices.md): this
// file holds the access checks and saving shared by the pages
// (notices_pages.go) and the JSON API below. A notice the caller may not
// read — another school's, another class's, a draft of someone else —
// answers 404, as does every action on it they may not do.

func (s *Server) noticeStore() *notices.Store { return notices.New(s.db) }

// reachNotice loads notice id when u may read it today.
func (s *Server) reachNotice(ctx context.Context, u *user, id int64) (notices.Notice, error) {
	st := s.noticeStore()
	n, err := st.Get(ctx, id)
	if err != nil {
		return n, err
	}
	if !notices.CanRead(u.Principal, n, st.Today()) {
		return notices.Notice{}, notices.ErrNotFound
	}
	return n, nil
}

// readableNotices lists the notices u may read: only those live today, or
// (every) those in any state too (drafts, scheduled, expired: authors and
// the direction).
func (s *Server) readableNotices(ctx context.Context, u *user, every bool) ([]notices.Notice, error) {
	st := s.noticeStore()
	today := st.Today()
	f := notices.Filter{Structures: u.Structures()}
	if slices.Contains(f.Structures, 0) {
		f.Structures, f.AllSchools = nil, true
	}
	if !every {
		f.LiveOn = today
	}
	ns, err := st.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := ns[:0]
	for _, n := range ns {
		if notices.CanRead(u.Principal, n, today) {
			out = append(out, n)
		}
	}
	return out, nil
}

// noticeSchool is a school where someone may publish, with the classes of
// this year they may address there.
type noticeSchool struct {
	Structure directory.Structure
	Whole     bool // u may address the whole school and its profiles
	Classes   []directory.Class
}

// noticeSchools lists the schools where u may publish something.
func (s *Server) noticeSchools(ctx context.Context, u *user) ([]noticeSchool, error) {
	if !u.CanAny(identity.Notice, identity.Create) {
		return nil, nil
	}
	y, err := directory.CurrentYear(ctx, s.db)
	if err != nil {
		return nil, err
	}
	all, err := s.dir.Structures(ctx)
	if err != nil {
		return nil, err
	}
	var out []noticeSchool
	for _, st := range all {
		ns := noticeSchool{Structure: st, Whole: u.Can(identity.Notice, identity.Create, identity.Target{Structure: st.ID})}
		if !ns.Whole && !slices.ContainsFunc(u.Roles, func(r identity.Role) bool { return r.StructureID == st.ID }) {
			continue
		}
		cs, err := s.dir.Classes(ctx, st.ID, y.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if u.Can(identity.Notice, identity.Create, classTarget(c)) {
				ns.Classes = append(ns.Classes, c)
			}
		}
		if ns.Whole || len(ns.Classes) > 0 {
			out = append(out, ns)
		}
	}
	return out, nil
}

// saveNotice checks and stores n — new when old is nil, else a change of
// old — attaching copies of the files fileIDs of u's Documents. n.Files
// holds the documents of old to keep (by number).
func (s *Server) saveNotice(ctx context.Context, u *user, old *notices.Notice, n notices.Notice, fileIDs []int64) (notices.Notice, error) {
	if old == nil {
		n.ID, n.AuthorID = 0, u.UserID
		n.Files = nil
	} else {
		n.ID, n.StructureID, n.AuthorID = old.ID, old.StructureID, old.AuthorID
	}
	if n.StructureID == 0 {
		return n, &notices.Invalid{Msg: "choisissez l'établissement"}
	}
	if err := notices.Normalize(&n); err != nil {
		return n, err
	}
	if !notices.MayAddress(u.Principal, n) {
		return n, notices.ErrNotFound
	}
	if len(n.Files)+len(fileIDs) > notices.MaxFiles {
		return n, &notices.Invalid{Msg: fmt.Sprintf("%d documents au plus", notices.MaxFiles)}
	}
	if len(fileIDs) > 0 && s.cfg.Files == nil {
		return n, &notices.Invalid{Msg: "les documents ne sont pas disponibles sur ce serveur"}
	}
	var copies []string
	for _, id := range fileIDs {
		a, err := s.cfg.Files.CopyAttachment(ctx, u.Principal, id)
		if err != nil {
			s.cfg.Files.DropAttachmentCopies(copies...)
			switch {
			case errors.Is(err, files.ErrNotFound):
				return n, &notices.Invalid{Msg: "un des documents choisis est introuvable dans vos Documents"}
			case errors.Is(err, files.ErrTooLarge):
				return n, &notices.Invalid{Msg: fmt.Sprintf("un document joint fait %d Mo au plus", files.MaxAttachment>>20)}
			}
			return n, err
		}
		copies = append(copies, a.Key)
		n.Files = append(n.Files, notices.Attachment{FileID: a.FileID, Version: a.Version, Name: a.Name, Size: a.Size,
			ContentType: a.ContentType, SHA256: a.SHA256, Key: a.Key})
	}
	st := s.noticeStore()
	var out notices.Notice
	var dropped []string
	var err error
	if old == nil {
		out, err = st.Create(ctx, n)
	} else {
		out, dropped, err = st.Update(ctx, n)
	}
	if err != nil {
		if len(copies) > 0 {
			s.cfg.Files.DropAttachmentCopies(copies...)
		}
		return n, err
	}
	if len(dropped) > 0 && s.cfg.Files != nil {
		s.cfg.Files.DropAttachmentCopies(dropped...)
	}
	return out, nil
}

// deleteNotice removes n and its documents' copies.
func (s *Server) deleteNotice(ctx context.Context, n notices.Notice) error {
	keys, err := s.noticeStore().Delete(ctx, n.ID)
	if err != nil {
		return err
	}
	if len(keys) > 0 && s.cfg.Files != nil {
		s.cfg.Files.DropAttachmentCopies(keys...)
	}
	return nil
}

// noticeError answers a failure: 404, 400 with the French reason, or the
// generic failure.
func (s *Server) noticeError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *notices.Invalid
	switch {
	case errors.Is(err, notices.ErrNotFound), errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, frSentence(inv.Msg))
	default:
		s.fail(w, r, err)
	}
}

// frSentence capitalises a message and ends it with a full stop.
func frSentence(m string) string {
	if m == "" {
		return m
	}
	r := []rune(m)
	return strings.ToUpper(string(r[0])) + string(r[1:]) + "."
}

// serveNoticeFile sends document k of a notice u may read: always as an
// attachment (RFC 6266) with nosniff and a sandboxing CSP, from the
// notice's own copy.
func (s *Server) serveNoticeFile(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	k, ok := idParam(r, "n")
	if !ok || k > 1<<20 || s.cfg.Files == nil {
		s.notFound(w, r)
		return
	}
	n, err := s.reachNotice(ctx, u, pathID(r, "id"))
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	a, err := s.noticeStore().Attachment(ctx, n.ID, int(k))
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	d, err := s.cfg.Files.OpenAttachmentCopy(a.Key, a.Name, a.Size, a.ContentType, a.SHA256)
	if err != nil {
		s.notFound(w, r)
		return
	}
	s.serveDownload(w, r, d, a.Name, n.UpdatedAt)
}

// serveNoticeAcksCSV sends the follow-up as a spreadsheet.
func (s *Server) serveNoticeAcksCSV(w http.ResponseWriter, r *http.Request) {
	n, rep, ok := s.noticeFollowUp(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", contentDisposition(false, "accuses-lecture-"+strconv.FormatInt(n.ID, 10)+".csv"))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if err := notices.WriteAcksCSV(w, rep, paris); err != nil {
		s.log.Warn("notices: CSV", "err", err)
	}
}

// noticeFollowUp loads the acknowledgements of the notice of the URL for
// its author, the vie scolaire and the direction; 404 for anyone else or a
// notice that asks for none.
func (s *Server) noticeFollowUp(w http.ResponseWriter, r *http.Request) (notices.Notice, notices.AckReport, bool) {
	ctx, u := r.Context(), currentUser(r)
	n, err := s.reachNotice(ctx, u, pathID(r, "id"))
	if err == nil && (!n.RequiresAck || !notices.CanFollow(u.Principal, n)) {
		err = notices.ErrNotFound
	}
	if err != nil {
		s.noticeError(w, r, err)
		return n, notices.AckReport{}, false
	}
	rep, err := s.noticeStore().Acks(ctx, n)
	if err != nil {
		s.noticeError(w, r, err)
		return n, rep, false
	}
	return n, rep, true
}

// ---- API ---------------------------------------------------------------------

func (s *Server) noticesAPI(r chi.Router) {
	r.Get("/notices", s.apiNotices)
	r.Post("/notices", s.apiCreateNotice)
	r.Get("/notices/{id}", s.apiNotice)
	r.Put("/notices/{id}", s.apiUpdateNotice)
	r.Delete("/notices/{id}", s.apiDeleteNotice)
	r.Post("/notices/{id}/ack", s.apiAckNotice)
	r.Get("/notices/{id}/acks", s.apiNoticeAcks)
	r.Get("/notices/{id}/acks.csv", s.serveNoticeAcksCSV)
	r.Get("/notices/{id}/files/{n}", s.serveNoticeFile)
}

// noticeJSON is a notice as the API gives it, with what it means for the
// caller.
type noticeJSON struct {
	notices.Notice
	State     string `json:"state"`
	Read      bool   `json:"read"`
	AckNeeded bool   `json:"ack_needed"` // the caller is asked to acknowledge and has not yet
	Acked     bool   `json:"acked"`
	CanEdit   bool   `json:"can_edit"`
	CanFollow bool   `json:"can_follow"`
}

func (s *Server) noticeViews(ctx context.Context, u *user, ns []notices.Notice) ([]noticeJSON, error) {
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	st := s.noticeStore()
	m, err := st.MarksOf(ctx, u.UserID, ids)
	if err != nil {
		return nil, err
	}
	today := st.Today()
	out := make([]noticeJSON, 0, len(ns))
	for _, n := range ns {
		must := notices.MustAck(u.Principal, n, today)
		out = append(out, noticeJSON{Notice: n, State: n.State(today), Read: m.Read[n.ID], Acked: m.Acked[n.ID],
			AckNeeded: must && !m.Acked[n.ID], CanEdit: notices.CanEdit(u.Principal, n, identity.Update),
			CanFollow: n.RequiresAck && notices.CanFollow(u.Principal, n)})
	}
	return out, nil
}

func (s *Server) apiNotices(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	every := r.URL.Query().Get("etat") == "tous"
	ns, err := s.readableNotices(ctx, u, every)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	vs, err := s.noticeViews(ctx, u, ns)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Notices []noticeJSON `json:"notices"`
	}{vs})
}

func (s *Server) apiNotice(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	n, err := s.reachNotice(ctx, u, pathID(r, "id"))
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	if err := s.noticeStore().MarkRead(ctx, n.ID, u.UserID); err != nil {
		s.noticeError(w, r, err)
		return
	}
	vs, err := s.noticeViews(ctx, u, []notices.Notice{n})
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, vs[0])
}

// noticeRequest is a notice as the API takes it.
type noticeRequest struct {
	StructureID int64              `json:"structure_id"`
	Title       string             `json:"title"`
	Body        string             `json:"body"`
	From        string             `json:"valid_from"`
	Until       string             `json:"valid_until"`
	Draft       bool               `json:"draft"`
	RequiresAck bool               `json:"requires_ack"`
	Audience    []notices.Audience `json:"audience"`
	Files       []int64            `json:"files"`      // ids of the caller's documents to attach
	KeepFiles   *[]int             `json:"keep_files"` // update: numbers of the documents to keep (absent: all)
}

func (q noticeRequest) notice() notices.Notice {
	return notices.Notice{StructureID: q.StructureID, Title: q.Title, Body: q.Body, From: q.From, Until: q.Until,
		Draft: q.Draft, RequiresAck: q.RequiresAck, Audience: q.Audience}
}

func (s *Server) decodeNotice(w http.ResponseWriter, r *http.Request) (noticeRequest, bool) {
	var q noticeRequest
	if err := decodeJSON(r, &q); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", err.Error())
		return q, false
	}
	if len(q.Files) > notices.MaxFiles || len(q.Audience) > notices.MaxAudiences {
		apiError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%d documents et %d destinataires au plus.", notices.MaxFiles, notices.MaxAudiences))
		return q, false
	}
	return q, true
}

func (s *Server) apiCreateNotice(w http.ResponseWriter, r *http.Request) {
	q, ok := s.decodeNotice(w, r)
	if !ok {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	n := q.notice()
	if n.StructureID == 0 {
		if sts := u.Structures(); len(sts) == 1 {
			n.StructureID = sts[0]
		}
	}
	out, err := s.saveNotice(ctx, u, nil, n, q.Files)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	vs, err := s.noticeViews(ctx, u, []notices.Notice{out})
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, vs[0])
}

// editableNotice loads the notice of the URL when u may do a on it.
func (s *Server) editableNotice(ctx context.Context, u *user, id int64, a identity.Action) (notices.Notice, error) {
	n, err := s.reachNotice(ctx, u, id)
	if err != nil {
		return n, err
	}
	if !notices.CanEdit(u.Principal, n, a) {
		return notices.Notice{}, notices.ErrNotFound
	}
	return n, nil
}

func (s *Server) apiUpdateNotice(w http.ResponseWriter, r *http.Request) {
	q, ok := s.decodeNotice(w, r)
	if !ok {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	old, err := s.editableNotice(ctx, u, pathID(r, "id"), identity.Update)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	n := q.notice()
	n.Files = old.Files
	if q.KeepFiles != nil {
		n.Files = nil
		for _, f := range old.Files {
			if slices.Contains(*q.KeepFiles, f.N) {
				n.Files = append(n.Files, notices.Attachment{N: f.N})
			}
		}
	}
	out, err := s.saveNotice(ctx, u, &old, n, q.Files)
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	vs, err := s.noticeViews(ctx, u, []notices.Notice{out})
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, vs[0])
}

func (s *Server) apiDeleteNotice(w http.ResponseWriter, r *http.Request) {
	ctx, u := r.Context(), currentUser(r)
	n, err := s.editableNotice(ctx, u, pathID(r, "id"), identity.Delete)
	if err == nil {
		err = s.deleteNotice(ctx, n)
	}
	if err != nil {
		s.noticeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ackNotice records u's acknowledgement of the notice of the URL; 404 when
// the notice asks none of u.
func (s *Server) ackNotice(r *http.Request) (notices.Notice, error) {
	ctx, u := r.Context(), currentUser(r)
	st := s.noticeStore()
	n, err := s.reachNotice(ctx, u, pathID(r, "id"))
	if err != nil {
		return n, err
	}
	if !notices.MustAck(u.Principal, n, st.Today()) {
		return n, notices.ErrNotFound
	}
	return n, st.Ack(ctx, n.ID, u.UserID)
}

func (s *Server) apiAckNotice(w http.ResponseWriter, r *http.Request) {
	if _, err := s.ackNotice(r); err != nil {
		s.noticeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiNoticeAcks(w http.ResponseWriter, r *http.Request) {
	_, rep, ok := s.noticeFollowUp(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
