package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/auth"
	"preau/ent/directory"
	"preau/ent/resources"
	"preau/identity"
	"preau/internal/frtime"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one parsed template set per page: the layout, the shared
// partials (files starting with '_') and the page itself.
type pages struct {
	sets map[string]*template.Template
}

var paris = frtime.Paris

var funcs = template.FuncMap{
	"datetime": func(t time.Time) string { return frDateTime(t) },
	"unixdate": func(sec int64) string {
		if sec == 0 {
			return "—"
		}
		return frDateTime(time.Unix(sec, 0))
	},
	"profileLabel": func(p identity.Profile) string { return p.Label() },
}

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

func frDateTime(t time.Time) string {
	t = t.In(paris)
	return fmt.Sprintf("%d %s %d à %02d:%02d", t.Day(), frMonths[t.Month()-1], t.Year(), t.Hour(), t.Minute())
}

func loadPages() (*pages, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var partials []string
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			partials = append(partials, f)
		}
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, f := range files {
		base := path.Base(f)
		if strings.HasPrefix(base, "_") || base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, append(append([]string{"templates/layout.html"}, partials...), f)...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", base, err)
		}
		p.sets[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	Title string
	User  *user
	// Admin says whether to show the administration link.
	Admin bool
	Flash string
	Error string
	Data  any
}

// render writes a page. Rendering goes to a buffer first so a template error
// never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, v view) {
	t, ok := s.pages.sets[page]
	if !ok {
		s.log.Error("no such page", "page", page)
		http.Error(w, "Erreur interne.", http.StatusInternalServerError)
		return
	}
	v.User = currentUser(r)
	if v.User != nil {
		v.Admin = canAdminister(v.User.Principal)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("render", "page", page, "err", err)
		http.Error(w, "Erreur interne.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) error(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiError(w, code, strings.ToLower(strings.ReplaceAll(http.StatusText(code), " ", "_")), msg)
		return
	}
	s.render(w, r, code, "error", view{Title: http.StatusText(code), Error: msg})
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.error(w, r, http.StatusNotFound, "Cette page n'existe pas, ou vous n'y avez pas accès.")
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) == nil {
		http.Redirect(w, r, "/connexion", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/accueil", http.StatusSeeOther)
}

// ---- login and activation ----------------------------------------------------

type loginData struct {
	Login        string
	Return       string
	Demo         bool
	DemoPassword string
	DemoLogins   []string
}

var demoLogins = []string{"eleve.demo", "parent.demo", "prof.demo", "cpe.demo", "direction.demo", "admin.demo"}

func (s *Server) loginView(r *http.Request, login, errMsg string) view {
	return view{Title: "Connexion", Error: errMsg, Data: loginData{Login: login, Return: r.FormValue("retour"),
		Demo: s.cfg.Demo, DemoPassword: s.cfg.DemoPassword, DemoLogins: demoLogins}}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if currentUser(r) != nil {
		http.Redirect(w, r, "/accueil", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", s.loginView(r, "", ""))
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", s.loginView(r, "", "Formulaire illisible."))
		return
	}
	login := r.PostForm.Get("identifiant")
	token, _, err := s.auth.Login(r.Context(), login, r.PostForm.Get("mot_de_passe"), client(r))
	var sf *auth.SecondFactorError
	if errors.As(err, &sf) {
		s.render(w, r, http.StatusOK, "login_code", view{Title: "Code de vérification",
			Data: codeData{Challenge: sf.Challenge, Return: r.PostForm.Get("retour")}})
		return
	}
	if err != nil {
		code, errCode, msg := authFailure(err)
		s.metrics.logins.WithLabelValues(errCode).Inc()
		if code >= 500 {
			s.log.Error("login", "err", err)
		}
		if code == http.StatusUnauthorized {
			// A form shown again with its error is a page like any other
			// (401 would ask for HTTP authentication, which pages do not use).
			code = http.StatusOK
		}
		s.render(w, r, code, "login", s.loginView(r, login, msg))
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.setSessionCookie(w, r, token)
	http.Redirect(w, r, safeReturn(r.PostForm.Get("retour")), http.StatusSeeOther)
}

type codeData struct {
	Challenge string
	Return    string
}

// loginCodeSubmit is the second step of a login with a second factor.
func (s *Server) loginCodeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "login", s.loginView(r, "", "Formulaire illisible."))
		return
	}
	d := codeData{Challenge: r.PostForm.Get("defi"), Return: r.PostForm.Get("retour")}
	token, _, err := s.auth.SecondFactor(r.Context(), d.Challenge, r.PostForm.Get("code"), client(r))
	if err != nil {
		code, errCode, msg := authFailure(err)
		s.metrics.logins.WithLabelValues(errCode).Inc()
		if code >= 500 {
			s.log.Error("login code", "err", err)
		}
		s.render(w, r, code, "login_code", view{Title: "Code de vérification", Error: msg, Data: d})
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.setSessionCookie(w, r, token)
	http.Redirect(w, r, safeReturn(d.Return), http.StatusSeeOther)
}

type activationData struct {
	Login string
	Code  string
}

func (s *Server) activationPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "activation", view{Title: "Première connexion",
		Data: activationData{Login: r.URL.Query().Get("identifiant")}})
}

func (s *Server) activationSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, "activation", view{Title: "Première connexion", Error: "Formulaire illisible."})
		return
	}
	f := r.PostForm
	data := activationData{Login: f.Get("identifiant"), Code: f.Get("code")}
	if f.Get("mot_de_passe") != f.Get("confirmation") {
		s.render(w, r, http.StatusBadRequest, "activation", view{Title: "Première connexion", Data: data,
			Error: "Les deux mots de passe ne sont pas identiques."})
		return
	}
	token, _, err := s.auth.Activate(r.Context(), data.Login, data.Code, f.Get("mot_de_passe"), client(r))
	if err != nil {
		code, _, msg := authFailure(err)
		if code >= 500 {
			s.log.Error("activation", "err", err)
		}
		s.render(w, r, code, "activation", view{Title: "Première connexion", Data: data, Error: msg})
		return
	}
	s.setSessionCookie(w, r, token)
	http.Redirect(w, r, "/accueil?bienvenue=1", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if err := s.auth.Sessions.End(r.Context(), u.UserID, u.SessionID); err != nil && !errors.Is(err, auth.ErrNoSession) {
		s.error(w, r, http.StatusServiceUnavailable, "Déconnexion impossible pour le moment. Réessayez.")
		return
	}
	s.chatRevoke(r, u.UserID)
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/connexion?deconnecte=1", http.StatusSeeOther)
}

// ---- home ------------------------------------------------------------------

// tile is a module on the home page.
type tile struct {
	Title, Desc, Href string
	Soon              bool
}

// tilesFor lists the home tiles of a profile. Modules still being built are
// shown as such rather than hidden, so families know what is coming.
func tilesFor(p identity.Profile) []tile {
	live := tile{"Cours en direct", "Rejoindre la classe virtuelle", "/direct", false}
	msg := tile{"Messagerie", "Messages, discussions de classe", "/messagerie", false}
	docs := tile{"Documents", "Mes documents et ceux de la classe", "/documents", false}
	homework := tile{"Cahier de textes", "Travail à faire et séances", "/cahier-de-textes", false}
	courses := tile{"Cours en ligne", "Chapitres, textes et documents de la classe", "/cours", false}
	grades := tile{"Notes", "Évaluations et moyennes", "/notes", false}
	absences := tile{"Vie scolaire", "Absences et retards", "/vie-scolaire", false}
	timetable := tile{"Emploi du temps", "La semaine de cours", "/emploi-du-temps", false}
	notices := tile{"Actualités", "Informations de l'établissement", "/actualites", false}
	cdi := tile{"CDI", "Catalogue et réservations", "/cdi", false}
	media := tile{"Ressources", "Pix, Lumni et autres ressources", "/ressources", false}
	stages := tile{"Stages", "Décroche ton stage : offres et candidatures de 3e", "/stages", false} // kept for 3e only (internshipTile)
	help := tile{"Aide", "Assistance et questions fréquentes", "/aide", false}
	account := tile{"Mon compte", "Mot de passe et connexions", "/compte", false}
	meetings := tile{"Rendez-vous", "Réunions parents-professeurs, au collège ou en visio", "/rendez-vous", false} // meetings_pages.go
	councils := tile{"Conseils de classe", "Ordre du jour, compte rendu et visio des membres", "/conseils", false}
	switch p {
	case identity.Pupil:
		return []tile{live, timetable, homework, courses, grades, msg, docs, notices, cdi, media, stages, account, help}
	case identity.Parent:
		return []tile{homework, courses, grades, absences, timetable, msg, notices,
			{"Téléservices", "Bourses, inscriptions au lycée", "/teleservices", false},
			meetings, stages, account, help}
	case identity.Teacher:
		return []tile{live, timetable, homework, courses, grades, absences, msg, docs, notices, meetings, councils, cdi, media, stages, account, help}
	case identity.Head:
		return []tile{msg, absences, notices, docs, timetable, grades, meetings, councils, cdi, stages, account, help}
	default:
		return []tile{msg, absences, notices, docs, timetable, grades, councils, cdi, stages, account, help}
	}
}

type homeData struct {
	Profile  identity.Profile
	Function string
	Tiles    []tile
	Children []directory.Pupil
	Child    *directory.Pupil
	Classes  []directory.Class
	Welcome  bool
	// Teleservices are the on-line procedures open now for a parent.
	Teleservices []resources.Entry
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	ctx := r.Context()
	prof := u.Primary()
	d := homeData{Profile: prof, Tiles: tilesFor(prof), Welcome: r.URL.Query().Get("bienvenue") == "1"}
	for _, role := range u.Roles {
		if role.Profile == prof {
			d.Function = role.Function
		}
	}
	if canAdminister(u.Principal) {
		d.Tiles = append([]tile{{"Administration", "Annuaire, classes, imports, codes d'activation", "/admin", false}}, d.Tiles...)
	}
	if len(u.Children) > 0 {
		kids, err := s.dir.Children(ctx, u.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Children = kids
		want := r.URL.Query().Get("enfant")
		for i := range kids {
			if fmt.Sprint(kids[i].ID) == want {
				d.Child = &kids[i]
			}
		}
		if d.Child == nil && len(kids) > 0 {
			d.Child = &kids[0]
		}
	}
	for _, id := range u.Classes {
		c, err := s.dir.Class(ctx, id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Classes = append(d.Classes, c)
	}
	var err error
	if d.Teleservices, err = s.homeTeleservices(ctx, u); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Tiles = s.noticeTile(ctx, u, d.Tiles) // notices_pages.go
	// The Stages tile only for those in 3e (internships_pages.go).
	d.Tiles = s.internshipTile(ctx, u, d.Tiles)
	s.render(w, r, http.StatusOK, "home", view{Title: "Accueil", Data: d})
}

// fail answers an unexpected error: logged, and a French 503 page.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, directory.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.error(w, r, http.StatusServiceUnavailable, "Le service est momentanément indisponible. Réessayez dans un instant.")
}

// ---- my account ------------------------------------------------------------------

type accountData struct {
	Person   directory.Person
	Sessions []sessionRow
	// TOTPAllowed: the person may add a second factor; TOTP: they have one.
	TOTPAllowed, TOTP bool
}

type sessionRow struct {
	auth.Session
	Current bool
}

func (s *Server) accountView(r *http.Request) (view, error) {
	u := currentUser(r)
	p, err := s.dir.Person(r.Context(), u.UserID)
	if err != nil {
		return view{}, err
	}
	list, err := s.auth.Sessions.List(r.Context(), u.UserID)
	if err != nil {
		return view{}, err
	}
	d := accountData{Person: p, TOTPAllowed: auth.TOTPAllowed(u.Principal)}
	if d.TOTPAllowed {
		if d.TOTP, err = s.auth.TOTPEnabled(r.Context(), u.UserID); err != nil {
			return view{}, err
		}
	}
	for _, ss := range list {
		d.Sessions = append(d.Sessions, sessionRow{Session: ss, Current: ss.ID == u.SessionID})
	}
	return view{Title: "Mon compte", Data: d}, nil
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.accountView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch r.URL.Query().Get("ok") {
	case "mdp":
		v.Flash = "Votre mot de passe a été changé. Vos autres connexions ont été fermées."
	case "session":
		v.Flash = "La session a été fermée."
	case "2fa":
		v.Flash = "La double authentification est activée : un code vous sera demandé à chaque connexion."
	case "2fa-off":
		v.Flash = "La double authentification est désactivée."
	}
	s.render(w, r, http.StatusOK, "account", v)
}

func (s *Server) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	u := currentUser(r)
	f := r.PostForm
	var msg string
	code := http.StatusBadRequest
	if f.Get("nouveau") != f.Get("confirmation") {
		msg = "Les deux nouveaux mots de passe ne sont pas identiques."
	} else if err := s.auth.ChangePassword(r.Context(), u.UserID, u.SessionID, f.Get("actuel"), f.Get("nouveau")); err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			msg = "Le mot de passe actuel est incorrect."
		} else {
			code, _, msg = authFailure(err)
		}
	} else {
		s.chatRevoke(r, u.UserID) // the other sessions ended
		http.Redirect(w, r, "/compte?ok=mdp", http.StatusSeeOther)
		return
	}
	v, err := s.accountView(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Error = msg
	s.render(w, r, code, "account", v)
}

func (s *Server) endSessionSubmit(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	id := chi.URLParam(r, "id")
	if err := s.auth.Sessions.End(r.Context(), u.UserID, id); err != nil {
		if errors.Is(err, auth.ErrNoSession) {
			s.notFound(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.chatRevoke(r, u.UserID)
	if id == u.SessionID {
		s.clearSessionCookie(w, r)
		http.Redirect(w, r, "/connexion?deconnecte=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/compte?ok=session", http.StatusSeeOther)
}

// canAdminister reports whether the person may reach the directory
// administration at all (each page then checks its objects).
func canAdminister(p *identity.Principal) bool {
	return p.CanAny(identity.Person, identity.Create) || p.CanAny(identity.Activation, identity.Create)
}
