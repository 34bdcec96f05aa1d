package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"preau/auth"
	"preau/chat"
	"preau/db"
	"preau/ent/directory"
	"preau/ent/help"
	"preau/ent/resources"
	"preau/ent/timetable"
	"preau/identity"
	"preau/storage/files"
)

//go:embed static
var staticFS embed.FS

// Config tunes the site; the zero value works.
type Config struct {
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For and X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	// Demo shows the demo logins on the login page.
	Demo bool
	// DemoPassword is shown with them.
	DemoPassword string
	// MaxBody caps request bodies other than imports (default 1 MiB).
	MaxBody int64
	// MaxImport caps an uploaded import file (default 50 MiB).
	MaxImport int64
	// Live is the SFU for live lessons (/api/v1/live/…); nil: those routes
	// answer 404.
	Live *Live
	// Chat is the messaging store of the Messagerie pages; nil: one over
	// the site's database.
	Chat *chat.Store
	// ChatHub, when set, delivers messages posted by the page's plain form
	// live to open conversations (otherwise they appear on reload).
	ChatHub *chat.Hub
	// Files is the Documents module (/documents, /api/v1/files/…); nil:
	// those routes answer 404.
	Files *files.Service
}

// Check is a readiness check of an engine, named for /readyz.
type Check struct {
	Name string
	Fn   func(ctx context.Context) error
}

// Server is the site. Build it with New and serve Handler().
type Server struct {
	// draining: SIGTERM was received (Drain); /readyz answers 503.
	draining  atomic.Bool
	cfg       Config
	log       *slog.Logger
	db        *db.DB
	auth      *auth.Service
	dir       *directory.Store
	chat      *chat.Store
	tt        *timetable.Store
	csp       string // the Content-Security-Policy of every answer (middleware.go)
	help      *help.Store
	resources *resources.Store
	checks    []Check
	pages     *pages
	metrics   *metrics
	reg       *prometheus.Registry
	mounts    []mount
	lessons   lessons // active live lessons (see live.go)
	// meetingRooms: open meeting and council rooms (meetings_room.go).
	meetingRooms meetingRooms
	// chatLoad holds the demo's chat load-test set-ups (loadtest_chat.go).
	chatLoad chatLoadtests
	started  time.Time
	// storePing caches the content store's health for file routes (files.go).
	storePing storePing
}

// mount is a real-time handler (a WebSocket endpoint) added by main.
type mount struct {
	pattern string
	h       http.Handler
}

// Mount adds a handler — a WebSocket endpoint such as the chat hub — behind
// the site's middleware, so that Principal finds the signed-in person. Call
// it before Handler.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mounts = append(s.mounts, mount{pattern, h})
}

// Principal returns the signed-in person of a request that went through the
// site's middleware (for mounted handlers), or an error when there is none.
func Principal(r *http.Request) (*identity.Principal, error) {
	if u := currentUser(r); u != nil {
		return u.Principal, nil
	}
	return nil, errNoSession
}

var errNoSession = errors.New("web: not signed in")

// New assembles the site from its parts. checks are added to /readyz beside
// the database.
func New(cfg Config, log *slog.Logger, d *db.DB, a *auth.Service, checks ...Check) (*Server, error) {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 1 << 20
	}
	if cfg.MaxImport == 0 {
		cfg.MaxImport = 50 << 20
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{cfg: cfg, log: log, db: d, auth: a, dir: directory.New(d), pages: p, reg: reg,
		metrics: newMetrics(reg), started: time.Now()}
	s.checks = append([]Check{{Name: "database", Fn: d.Ping}}, checks...)
	s.tt = timetable.New(d)
	s.csp = csp
	if cfg.Files != nil {
		s.csp = withStoreOrigin(cfg.Files.DirectOrigin())
	}
	s.help = help.New(d)
	s.resources = resources.New(d)
	if s.chat = cfg.Chat; s.chat == nil {
		s.chat = chat.NewStore(d)
	}
	s.lessons.live = func() *Live { return s.cfg.Live } // live_placement.go
	return s, nil
}

// Close releases what the site holds between requests. Nothing today: the
// activation codes of imports wait in the database (admin_import.go), where
// any node serves them.
func (s *Server) Close() {}

// Registry is the Prometheus registry, for other parts to add their metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Handler returns the whole site.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.realIP, s.securityHeaders, s.logRequests, s.csrf, s.session)

	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	r.Get("/api/openapi.json", s.openapi)
	for _, m := range s.mounts {
		r.Handle(m.pattern, m.h)
	}

	r.Route("/api/v1/files", s.filesAPI)
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(s.limitBody(s.cfg.MaxBody))
		r.Post("/auth/login", s.apiLogin)
		r.Post("/auth/activate", s.apiActivate)
		r.Post("/auth/totp", s.apiTOTP)
		r.Group(func(r chi.Router) {
			r.Use(s.requireAPI)
			r.Post("/auth/logout", s.apiLogout)
			r.Get("/me", s.apiMe)
			r.Get("/me/sessions", s.apiSessions)
			r.Delete("/me/sessions/{id}", s.apiEndSession)
			r.Post("/me/password", s.apiPassword)
			s.directoryAPI(r)
			s.liveAPI(r)
			s.gradesAPI(r) // grades_api.go
			s.timetableAPI(r)
			s.noticesAPI(r)  // notices.go
			s.homeworkAPI(r) // homework.go
			s.helpAPI(r)
			s.resourcesAPI(r)
			s.absencesAPI(r)     // absences.go
			s.libraryAPI(r)      // library.go
			s.internshipsAPI(r)  // internships.go
			s.coursesAPI(r)      // courses.go
			s.meetingsAPI(r)     // meetings.go
			s.councilsAPI(r)     // councils.go
			s.chatLoadtestAPI(r) // demo servers only (loadtest_chat.go)
		})
	})

	r.Get("/", s.root)
	r.Get("/connexion", s.loginPage)
	s.helpPages(r) // /aide: also for those who cannot sign in
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/connexion", s.loginSubmit)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/connexion/code", s.loginCodeSubmit)
	r.Get("/activation", s.activationPage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/activation", s.activationSubmit)
	r.Group(func(r chi.Router) {
		r.Use(s.requirePage)
		r.Post("/deconnexion", s.logout)
		r.Get("/accueil", s.home)
		r.Get("/compte", s.accountPage)
		r.With(s.limitBody(s.cfg.MaxBody)).Post("/compte/mot-de-passe", s.passwordSubmit)
		r.Post("/compte/sessions/{id}/fin", s.endSessionSubmit)
		r.Post("/compte/double-authentification/activer", s.totpBegin)
		r.With(s.limitBody(s.cfg.MaxBody)).Post("/compte/double-authentification/confirmer", s.totpConfirm)
		r.With(s.limitBody(s.cfg.MaxBody)).Post("/compte/double-authentification/desactiver", s.totpDisable)
		s.adminPages(r)
		s.importPages(r)
		s.messagePages(r)
		s.livePages(r)
		s.filesPages(r)
		s.gradesPages(r) // grades_pages.go
		s.timetablePages(r)
		s.noticesPages(r)  // notices_pages.go
		s.homeworkPages(r) // homework_pages.go
		s.helpAdminPages(r)
		s.resourcePages(r)
		s.absencesPages(r)   // absences_pages.go
		s.libraryPages(r)    // library_pages.go
		s.internshipPages(r) // internships_pages.go
		s.coursesPages(r)    // courses_pages.go
		s.meetingsPages(r)   // meetings_pages.go
		s.councilsPages(r)   // councils_pages.go
	})
	r.NotFound(s.notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, http.StatusMethodNotAllowed, "Cette action n'est pas possible ici.")
	})
	return r
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// Drain marks the node as shutting down: /readyz answers 503 with
// "draining" from now on, so that the load balancer sends new users to the
// other nodes while this one finishes what it holds.
func (s *Server) Drain() { s.draining.Store(true) }

// readyz answers 200 when the database and every configured engine answer
// within 2 seconds, 503 with the failing names otherwise, and 503 with
// "draining" once the node is shutting down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status := map[string]string{}
	code := http.StatusOK
	for _, c := range s.checks {
		if err := c.Fn(ctx); err != nil {
			status[c.Name] = "error: " + err.Error()
			code = http.StatusServiceUnavailable
			s.log.Warn("readyz: not ready", "check", c.Name, "err", err)
		} else {
			status[c.Name] = "ok"
		}
	}
	writeJSON(w, code, status)
}
