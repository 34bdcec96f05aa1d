package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/resources"
	"preau/ent/timetable"
	"preau/identity"
)

// The médiacentre (/ressources: national digital resources as tiles, by
// profile and level) and the tele-services (/teleservices, and on parents'
// home pages in their yearly window), both kept by ent/resources and edited
// by the ENT administrator at /admin/ressources (docs/resources.md).

func (s *Server) resourcePages(r chi.Router) {
	r.Get("/ressources", s.cataloguePage(resources.Media, "Ressources numériques"))
	r.Get("/teleservices", s.cataloguePage(resources.Teleservice, "Démarches en ligne"))
	r.Get("/admin/ressources", s.resourcesAdminPage)
	small := s.limitBody(s.cfg.MaxBody)
	r.With(small).Post("/admin/ressources", s.resourceSaveSubmit)
	r.With(small).Post("/admin/ressources/{id}/supprimer", s.resourceDeleteSubmit)
}

func (s *Server) resourcesAPI(r chi.Router) {
	r.Get("/resources", s.apiResources)
	r.Post("/resources", s.apiSaveResource)
	r.Put("/resources/{id}", s.apiSaveResource)
	r.Delete("/resources/{id}", s.apiDeleteResource)
}

// audience is who u is for the catalogues: their profiles, and the levels
// of their classes or their children's (nil, every level, for adults of a
// school).
func (s *Server) audience(ctx context.Context, u *user) resources.Audience {
	var a resources.Audience
	for _, p := range identity.Profiles {
		if u.Has(p) {
			a.Profiles = append(a.Profiles, p)
		}
	}
	if u.Has(identity.Teacher) || u.Has(identity.Staff) || u.Has(identity.Head) || u.Has(identity.Admin) {
		return a
	}
	a.Levels = []string{}
	for _, id := range append(slices.Clone(u.Classes), u.ChildClasses...) {
		if c, err := s.dir.Class(ctx, id); err == nil && c.Level != "" && !slices.Contains(a.Levels, c.Level) {
			a.Levels = append(a.Levels, c.Level)
		}
	}
	return a
}

type resourceRow struct {
	resources.Entry
	Window string
	Now    bool
}

func rowsOf(es []resources.Entry, now time.Time) []resourceRow {
	out := make([]resourceRow, 0, len(es))
	for _, e := range es {
		out = append(out, resourceRow{Entry: e, Window: e.FrWindow(), Now: e.From != "" && e.InWindow(now)})
	}
	return out
}

// parisNow is today in the timetable's zone, for yearly windows.
func parisNow() time.Time { return time.Now().In(timetable.Paris) }

func (s *Server) catalogue(ctx context.Context, u *user, kind string) ([]resources.Entry, error) {
	all, err := s.resources.List(ctx, kind)
	if err != nil {
		return nil, err
	}
	return resources.For(all, s.audience(ctx, u)), nil
}

// cataloguePage lists one catalogue for the signed-in user.
func (s *Server) cataloguePage(kind, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		es, err := s.catalogue(r.Context(), currentUser(r), kind)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "resources", view{Title: title, Data: struct {
			Media bool
			Rows  []resourceRow
		}{kind == resources.Media, rowsOf(es, parisNow())}})
	}
}

// homeTeleservices are the tele-services a parent sees on the home page
// today.
func (s *Server) homeTeleservices(ctx context.Context, u *user) ([]resources.Entry, error) {
	if !u.Has(identity.Parent) {
		return nil, nil
	}
	es, err := s.catalogue(ctx, u, resources.Teleservice)
	if err != nil {
		return nil, err
	}
	now := parisNow()
	return slices.DeleteFunc(es, func(e resources.Entry) bool { return !e.InWindow(now) || e.From == "" }), nil
}

// ---- administration -------------------------------------------------------------

type resourcesAdminData struct {
	AdminNav
	Media, Tele      []resourceRow
	Profiles, Levels []checkBox
	Form             resourceForm
}

// checkBox is one box of a group of checkboxes.
type checkBox struct {
	Value, Label string
	Checked      bool
}

type resourceForm struct {
	ID                            int64
	Kind, Title, Description, URL string
	From, To                      string // "JJ/MM"
	Position                      string
	Profiles                      []identity.Profile
	Levels                        []string
}

// adminResourcesUser is the ENT administrator; anyone else gets 404.
func (s *Server) adminResourcesUser(w http.ResponseWriter, r *http.Request) *user {
	u := s.adminUser(w, r)
	if u == nil {
		return nil
	}
	if !global(u) {
		s.notFound(w, r)
		return nil
	}
	return u
}

func (s *Server) resourcesAdminView(ctx context.Context, u *user, f resourceForm) (view, error) {
	media, err := s.resources.List(ctx, resources.Media)
	if err != nil {
		return view{}, err
	}
	tele, err := s.resources.List(ctx, resources.Teleservice)
	if err != nil {
		return view{}, err
	}
	if f.Kind == "" {
		f.Kind = resources.Media
	}
	now := parisNow()
	d := resourcesAdminData{AdminNav: navFor(u, "ressources"), Media: rowsOf(media, now), Tele: rowsOf(tele, now), Form: f}
	for _, p := range identity.Profiles {
		d.Profiles = append(d.Profiles, checkBox{string(p), p.Label(), slices.Contains(f.Profiles, p)})
	}
	for _, l := range resources.Levels {
		d.Levels = append(d.Levels, checkBox{l, l, slices.Contains(f.Levels, l)})
	}
	return view{Title: "Ressources et démarches", Data: d}, nil
}

func (s *Server) resourcesAdminPage(w http.ResponseWriter, r *http.Request) {
	u := s.adminResourcesUser(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	var f resourceForm
	if id, err := strconv.ParseInt(r.URL.Query().Get("modifier"), 10, 64); err == nil {
		kind := r.URL.Query().Get("type")
		e, err := s.resources.Get(ctx, kind, id)
		if err != nil {
			s.notFound(w, r)
			return
		}
		f = resourceForm{ID: e.ID, Kind: e.Kind, Title: e.Title, Description: e.Description, URL: e.URL,
			From: dayMonth(e.From), To: dayMonth(e.To), Position: strconv.Itoa(e.Position), Profiles: e.Profiles, Levels: e.Levels}
	}
	v, err := s.resourcesAdminView(ctx, u, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("ok") == "1" {
		v.Flash = "C'est enregistré."
	}
	s.render(w, r, http.StatusOK, "resources_admin", v)
}

// dayMonth turns "09-01" into "01/09" for the form; monthDay does the
// reverse ("1/9" works too).
func dayMonth(md string) string {
	if m, d, ok := strings.Cut(md, "-"); ok {
		return d + "/" + m
	}
	return ""
}

func monthDay(v string) string {
	v = strings.TrimSpace(v)
	d, m, ok := strings.Cut(v, "/")
	if !ok {
		return v // refused by the check with a French message
	}
	dd, err1 := strconv.Atoi(d)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil {
		return v
	}
	return strconv.Itoa(100 + mm)[1:] + "-" + strconv.Itoa(100 + dd)[1:]
}

func (s *Server) resourceSaveSubmit(w http.ResponseWriter, r *http.Request) {
	u := s.adminResourcesUser(w, r)
	if u == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	pf := r.PostForm
	f := resourceForm{Kind: pf.Get("type"), Title: pf.Get("titre"), Description: pf.Get("description"), URL: pf.Get("adresse"),
		From: pf.Get("du"), To: pf.Get("au"), Position: pf.Get("ordre"), Levels: pf["niveaux"]}
	f.ID, _ = strconv.ParseInt(pf.Get("id"), 10, 64)
	for _, p := range pf["profils"] {
		f.Profiles = append(f.Profiles, identity.Profile(p))
	}
	pos, _ := strconv.Atoi(f.Position)
	e := resources.Entry{ID: f.ID, Kind: f.Kind, Title: f.Title, Description: f.Description, URL: f.URL, Profiles: f.Profiles,
		Levels: f.Levels, Position: pos}
	if f.Kind == resources.Teleservice && (strings.TrimSpace(f.From) != "" || strings.TrimSpace(f.To) != "") {
		e.From, e.To = monthDay(f.From), monthDay(f.To)
	}
	if _, err := s.resources.Save(r.Context(), e); err != nil {
		var inv *resources.Invalid
		if errors.Is(err, resources.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		if !errors.As(err, &inv) {
			s.fail(w, r, err)
			return
		}
		v, verr := s.resourcesAdminView(r.Context(), u, f)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Error = inv.Msg + "."
		s.render(w, r, http.StatusBadRequest, "resources_admin", v)
		return
	}
	http.Redirect(w, r, "/admin/ressources?ok=1", http.StatusSeeOther)
}

func (s *Server) resourceDeleteSubmit(w http.ResponseWriter, r *http.Request) {
	u := s.adminResourcesUser(w, r)
	if u == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	if err := s.resources.Delete(r.Context(), r.PostForm.Get("type"), pathID(r, "id")); err != nil {
		if errors.Is(err, resources.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/ressources?ok=1", http.StatusSeeOther)
}

// ---- API -------------------------------------------------------------------------

type resourceJSON struct {
	resources.Entry
	InWindow bool `json:"in_window"`
}

func (s *Server) apiResources(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = resources.Media
	}
	if kind != resources.Media && kind != resources.Teleservice {
		apiError(w, http.StatusBadRequest, "bad_kind", "kind : media ou teleservice.")
		return
	}
	es, err := s.catalogue(r.Context(), currentUser(r), kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := parisNow()
	out := make([]resourceJSON, 0, len(es))
	for _, e := range es {
		out = append(out, resourceJSON{Entry: e, InWindow: e.InWindow(now)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSaveResource(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !u.Has(identity.Admin) || !global(u) {
		s.notFound(w, r)
		return
	}
	var e resources.Entry
	if !readJSON(w, r, &e) {
		return
	}
	e.ID = 0
	code := http.StatusCreated
	if chi.URLParam(r, "id") != "" {
		if e.ID = pathID(r, "id"); e.ID == 0 {
			s.notFound(w, r)
			return
		}
		code = http.StatusOK
	}
	out, err := s.resources.Save(r.Context(), e)
	var inv *resources.Invalid
	switch {
	case errors.Is(err, resources.ErrNotFound):
		s.notFound(w, r)
	case errors.As(err, &inv):
		apiError(w, http.StatusBadRequest, "invalid", inv.Msg+".")
	case err != nil:
		s.fail(w, r, err)
	default:
		writeJSON(w, code, out)
	}
}

func (s *Server) apiDeleteResource(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !u.Has(identity.Admin) || !global(u) {
		s.notFound(w, r)
		return
	}
	kind := r.URL.Query().Get("kind")
	if err := s.resources.Delete(r.Context(), kind, pathID(r, "id")); err != nil {
		if errors.Is(err, resources.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
