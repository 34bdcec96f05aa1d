package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"preau/auth"
	"preau/identity"
)

type ctxKey int

const (
	keyUser ctxKey = iota
	keyIP
)

// user is the signed-in person of a request.
type user struct {
	*identity.Principal
	SessionID string
	Name      string
}

func currentUser(r *http.Request) *user {
	u, _ := r.Context().Value(keyUser).(*user)
	return u
}

func clientIP(r *http.Request) string {
	ip, _ := r.Context().Value(keyIP).(string)
	return ip
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", p)
				http.Error(w, "Erreur interne.", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// realIP puts the client's address in the context. X-Forwarded-For is
// believed only from a trusted proxy, walking back from the nearest hop.
func (s *Server) realIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := remoteAddr(r)
		if s.trusted(ip) {
			hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				h := strings.TrimSpace(hops[i])
				a, err := netip.ParseAddr(h)
				if err != nil {
					break
				}
				ip = a.Unmap().String()
				if !s.trusted(ip) {
					break
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyIP, ip)))
	})
}

func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return host
}

func (s *Server) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// secure reports whether the browser reached us over HTTPS, directly or
// through a trusted proxy.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.trusted(remoteAddr(r)) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// csp forbids inline script and plugins; pages load only their own files
// and talk only to their own origin — and to the content store's public
// address when the Documents page sends parts straight to it
// (withStoreOrigin).
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'self'; form-action 'self'"

// withStoreOrigin adds origin to the CSP's connect-src ("" changes nothing).
func withStoreOrigin(origin string) string {
	if origin == "" {
		return csp
	}
	return strings.Replace(csp, "connect-src 'self';", "connect-src 'self' "+origin+";", 1)
}

func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), geolocation=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(r, sw.code, d.Seconds())
		if sw.code >= 500 {
			s.log.Error("request", "method", r.Method, "path", r.URL.Path, "code", sw.code, "ms", d.Milliseconds())
		} else {
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "code", sw.code, "ms", d.Milliseconds())
		}
	})
}

// csrf refuses cross-origin state changes (Sec-Fetch-Site / Origin checks,
// Go's CrossOriginProtection). Requests without those headers — scripts,
// curl — are not from a browser and pass; cookies are SameSite=Lax too.
func (s *Server) csrf(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("security: cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "ip", clientIP(r))
		s.error(w, r, http.StatusForbidden, "Requête refusée : elle ne vient pas de ce site.")
	}))
	return cop.Handler(next)
}

// Session cookie names: with __Host- (which requires Secure) over HTTPS, a
// plain name on http://localhost for the demo.
const (
	cookieSecure = "__Host-preau_session"
	cookiePlain  = "preau_session"
)

func (s *Server) cookieName(r *http.Request) string {
	if s.secure(r) {
		return cookieSecure
	}
	return cookiePlain
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: token, Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: int(auth.AbsoluteTimeout.Seconds())})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: "", Path: "/", HttpOnly: true,
		Secure: s.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// session loads the signed-in user, if any, into the request context.
func (s *Server) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(s.cookieName(r))
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		ss, err := s.auth.Sessions.Lookup(r.Context(), c.Value)
		if err != nil {
			if !errors.Is(err, auth.ErrNoSession) {
				s.log.Error("session lookup", "err", err)
				s.error(w, r, http.StatusServiceUnavailable, "Le service est momentanément indisponible. Réessayez dans un instant.")
				return
			}
			s.clearSessionCookie(w, r)
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.dir.Principal(r.Context(), ss.UserID)
		if err != nil {
			s.log.Error("principal", "user", ss.UserID, "err", err)
			s.error(w, r, http.StatusServiceUnavailable, "Le service est momentanément indisponible. Réessayez dans un instant.")
			return
		}
		person, _ := s.dir.Person(r.Context(), ss.UserID)
		u := &user{Principal: p, SessionID: ss.ID, Name: person.FullName()}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyUser, u)))
	})
}

// requirePage sends visitors who are not signed in to the login page, with
// the page they wanted.
func (s *Server) requirePage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			target := "/connexion"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?retour=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireAPI answers 401 to API calls without a session.
func (s *Server) requireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) == nil {
			apiError(w, http.StatusUnauthorized, "unauthenticated", "Vous n'êtes pas connecté.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// safeReturn keeps a post-login redirect on this site.
func safeReturn(target string) string {
	if target == "" || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") || strings.HasPrefix(target, "/\\") {
		return "/accueil"
	}
	return target
}
