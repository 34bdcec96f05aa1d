package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/ent/help"
	"preau/identity"
)

// Help (assistance, docs/help.md): /aide shows the département's hotline,
// a short FAQ for families and a request form — open to people who cannot
// sign in — and, signed in, one's own requests with their answers. The ENT
// administrator and each school's direction work the queue at /admin/aide.

// helpLimits bounds help requests: per IP address for people not signed in,
// per account otherwise, in fixed one-hour windows (SECURITY.md: every form
// is rate-limited).
const (
	helpPerHour      = 5
	helpWindowLength = time.Hour
)

// allowHelp counts a help request of sender key (an address or a user) in
// the database, across the nodes, and reports whether it is within
// helpPerHour; a count that fails refuses the request.
func (s *Server) allowHelp(ctx context.Context, key string) bool {
	n, err := countInWindow(ctx, s.db, "help:"+key, helpWindowLength, time.Now())
	if err != nil {
		s.log.Warn("help: rate limit", "err", err)
		return false
	}
	return n <= helpPerHour
}

func (s *Server) helpPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/aide", s.helpPage)
	r.With(small).Post("/aide", s.helpSubmit)
}

func (s *Server) helpAdminPages(r chi.Router) {
	small := s.limitBody(s.cfg.MaxBody)
	r.Get("/admin/aide", s.helpQueuePage)
	r.Get("/admin/aide/{id}", s.helpRequestPage)
	r.With(small).Post("/admin/aide/{id}", s.helpAnswerSubmit)
	r.With(small).Post("/admin/aide-reglages", s.helpSettingsSubmit)
}

func (s *Server) helpAPI(r chi.Router) {
	r.Get("/help/settings", s.apiHelpSettings)
	r.Put("/help/settings", s.apiSetHelpSettings)
	r.Get("/help/requests", s.apiMyHelpRequests)
	r.Post("/help/requests", s.apiCreateHelpRequest)
	r.Get("/help/queue", s.apiHelpQueue)
	r.Put("/help/requests/{id}", s.apiAnswerHelpRequest)
}

type helpRow struct {
	help.Request
	StatusText string
	TopicText  string
	Created    string
	School     string
}

type helpData struct {
	Settings help.Settings
	Topics   []struct{ Code, Label string }
	Mine     []helpRow
	Schools  []directory.Structure
	Form     help.Request
	Sent     bool
	SignedIn bool
	Email    string
}

func topicLabel(code string) string {
	for _, t := range help.Topics {
		if t.Code == code {
			return t.Label
		}
	}
	return code
}

func (s *Server) helpRow(ctx context.Context, r help.Request) helpRow {
	row := helpRow{Request: r, StatusText: help.StatusLabel(r.Status), TopicText: topicLabel(r.Topic), Created: frDateTime(r.CreatedAt)}
	if r.StructureID != 0 {
		if st, err := s.dir.Structure(ctx, r.StructureID); err == nil {
			row.School = st.DisplayName()
		}
	}
	return row
}

func (s *Server) helpView(r *http.Request, form help.Request) (view, error) {
	ctx, u := r.Context(), currentUser(r)
	d := helpData{Topics: help.Topics, Form: form}
	var err error
	if d.Settings, err = s.help.Settings(ctx); err != nil {
		return view{}, err
	}
	if u != nil {
		d.SignedIn = true
		mine, err := s.help.Mine(ctx, u.UserID)
		if err != nil {
			return view{}, err
		}
		for _, m := range mine {
			d.Mine = append(d.Mine, s.helpRow(ctx, m))
		}
		if p, err := s.dir.Person(ctx, u.UserID); err == nil {
			d.Email = p.Email
		}
	} else if d.Schools, err = s.dir.Structures(ctx); err != nil {
		return view{}, err
	}
	return view{Title: "Aide et assistance", Data: d}, nil
}

func (s *Server) helpPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.helpView(r, help.Request{Topic: "connexion"})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("envoye") == "1" {
		v.Flash = "Votre demande est envoyée. L'assistance vous répond par le moyen de contact indiqué" +
			map[bool]string{true: " et sur cette page.", false: "."}[currentUser(r) != nil]
	}
	s.render(w, r, http.StatusOK, "help", v)
}

// helpSubmit records a request from the page, signed in or not.
func (s *Server) helpSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx, u := r.Context(), currentUser(r)
	pf := r.PostForm.Get
	req := help.Request{Name: pf("nom"), Contact: pf("contact"), Topic: pf("sujet"), Message: pf("message")}
	key := "ip:" + clientIP(r)
	if u != nil {
		key = "user:" + strconv.FormatInt(u.UserID, 10)
		req = s.fromAccount(ctx, u, req)
	} else if st, err := strconv.ParseInt(pf("etablissement"), 10, 64); err == nil && st > 0 {
		if _, err := s.dir.Structure(ctx, st); err == nil {
			req.StructureID = st
		}
	}
	if !s.allowHelp(ctx, key) {
		w.Header().Set("Retry-After", "3600")
		s.error(w, r, http.StatusTooManyRequests, "Vous avez déjà envoyé plusieurs demandes cette heure-ci : appelez l'assistance, ou réessayez plus tard.")
		return
	}
	if _, err := s.help.Create(ctx, req); err != nil {
		var inv *help.Invalid
		if !errors.As(err, &inv) {
			s.fail(w, r, err)
			return
		}
		v, verr := s.helpView(r, req)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Error = inv.Msg + "."
		s.render(w, r, http.StatusBadRequest, "help", v)
		return
	}
	http.Redirect(w, r, "/aide?envoye=1", http.StatusSeeOther)
}

// fromAccount completes a signed-in user's request from their account: their
// name, their email when no contact was given (else their login), their
// first school.
func (s *Server) fromAccount(ctx context.Context, u *user, req help.Request) help.Request {
	req.UserID = u.UserID
	if p, err := s.dir.Person(ctx, u.UserID); err == nil {
		req.Name = p.FullName()
		if strings.TrimSpace(req.Contact) == "" {
			req.Contact = p.Email
		}
	}
	if strings.TrimSpace(req.Contact) == "" {
		req.Contact = "compte " + u.Login
	}
	if sts := u.Structures(); len(sts) > 0 {
		req.StructureID = sts[0]
	}
	return req
}

// helpQueueOf returns the schools whose requests u handles, or all.
func helpQueueOf(u *user) (sts []int64, all bool) {
	if u.Can(identity.HelpRequest, identity.Update, identity.Target{}) {
		return nil, true // an administrator of the département
	}
	for _, role := range u.Roles {
		if role.StructureID != 0 && u.Can(identity.HelpRequest, identity.Update, structureTarget(role.StructureID)) {
			sts = append(sts, role.StructureID)
		}
	}
	return sts, false
}

type helpQueueData struct {
	AdminNav
	Rows     []helpRow
	Status   string
	Settings *help.Settings // the hotline form, for the ENT administrator
}

func (s *Server) helpQueuePage(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	sts, all := helpQueueOf(u)
	if !all && len(sts) == 0 {
		s.notFound(w, r)
		return
	}
	ctx := r.Context()
	status := r.URL.Query().Get("statut")
	if status != help.Open && status != help.Ongoing && status != help.Resolved {
		status = ""
	}
	q, err := s.help.Queue(ctx, sts, all, status)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := helpQueueData{AdminNav: navFor(u, "aide"), Status: status}
	for _, x := range q {
		d.Rows = append(d.Rows, s.helpRow(ctx, x))
	}
	if all {
		st, err := s.help.Settings(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Settings = &st
	}
	v := view{Title: "Demandes d'assistance", Data: d}
	switch r.URL.Query().Get("ok") {
	case "reglages":
		v.Flash = "Le numéro et les horaires de l'assistance sont enregistrés."
	case "reponse":
		v.Flash = "La demande est mise à jour."
	}
	s.render(w, r, http.StatusOK, "help_queue", v)
}

// handledRequest loads request id when u handles it (its school's direction
// or the administrator); otherwise nil after answering 404.
func (s *Server) handledRequest(w http.ResponseWriter, r *http.Request, u *user) *help.Request {
	req, err := s.help.Get(r.Context(), pathID(r, "id"))
	if err != nil || !u.Can(identity.HelpRequest, identity.Update, structureTarget(req.StructureID)) {
		s.notFound(w, r)
		return nil
	}
	return &req
}

func (s *Server) helpRequestPage(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	req := s.handledRequest(w, r, u)
	if req == nil {
		return
	}
	d := struct {
		AdminNav
		Row helpRow
	}{navFor(u, "aide"), s.helpRow(r.Context(), *req)}
	s.render(w, r, http.StatusOK, "help_request", view{Title: "Demande d'assistance", Data: d})
}

func (s *Server) helpAnswerSubmit(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	req := s.handledRequest(w, r, u)
	if req == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	if _, err := s.help.Answer(r.Context(), req.ID, r.PostForm.Get("statut"), r.PostForm.Get("reponse"), u.UserID); err != nil {
		s.helpError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/aide?ok=reponse", http.StatusSeeOther)
}

func (s *Server) helpSettingsSubmit(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	if !global(u) {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	pf := r.PostForm.Get
	if _, err := s.help.SetSettings(r.Context(), help.Settings{Phone: pf("telephone"), Hours: pf("horaires"), Email: pf("courriel")}); err != nil {
		s.helpError(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/aide?ok=reglages", http.StatusSeeOther)
}

func (s *Server) helpError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *help.Invalid
	switch {
	case errors.Is(err, help.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		s.error(w, r, http.StatusBadRequest, inv.Msg+".")
	default:
		s.fail(w, r, err)
	}
}

// ---- API ---------------------------------------------------------------------

func (s *Server) apiHelpSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.help.Settings(r.Context())
	if err != nil {
		s.helpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiSetHelpSettings(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !u.Has(identity.Admin) || !global(u) {
		s.notFound(w, r)
		return
	}
	var st help.Settings
	if !readJSON(w, r, &st) {
		return
	}
	out, err := s.help.SetSettings(r.Context(), st)
	if err != nil {
		s.helpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiMyHelpRequests(w http.ResponseWriter, r *http.Request) {
	mine, err := s.help.Mine(r.Context(), currentUser(r).UserID)
	if err != nil {
		s.helpError(w, r, err)
		return
	}
	if mine == nil {
		mine = []help.Request{}
	}
	writeJSON(w, http.StatusOK, mine)
}

func (s *Server) apiCreateHelpRequest(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Topic   string `json:"topic"`
		Message string `json:"message"`
		Contact string `json:"contact"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	ctx, u := r.Context(), currentUser(r)
	if !s.allowHelp(ctx, "user:"+strconv.FormatInt(u.UserID, 10)) {
		w.Header().Set("Retry-After", "3600")
		apiError(w, http.StatusTooManyRequests, "too_many_requests", "Trop de demandes cette heure-ci : appelez l'assistance, ou réessayez plus tard.")
		return
	}
	out, err := s.help.Create(ctx, s.fromAccount(ctx, u, help.Request{Topic: q.Topic, Message: q.Message, Contact: q.Contact}))
	if err != nil {
		s.helpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiHelpQueue(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	sts, all := helpQueueOf(u)
	if !all && len(sts) == 0 {
		s.notFound(w, r)
		return
	}
	q, err := s.help.Queue(r.Context(), sts, all, r.URL.Query().Get("statut"))
	if err != nil {
		s.helpError(w, r, err)
		return
	}
	if q == nil {
		q = []help.Request{}
	}
	writeJSON(w, http.StatusOK, q)
}

func (s *Server) apiAnswerHelpRequest(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Status string `json:"status"`
		Reply  string `json:"reply"`
	}
	if !readJSON(w, r, &q) {
		return
	}
	u := currentUser(r)
	req, err := s.help.Get(r.Context(), pathID(r, "id"))
	if err != nil || !u.Can(identity.HelpRequest, identity.Update, structureTarget(req.StructureID)) {
		s.notFound(w, r)
		return
	}
	out, err := s.help.Answer(r.Context(), req.ID, q.Status, q.Reply, u.UserID)
	if err != nil {
		s.helpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
