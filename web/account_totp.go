package web

import (
	"errors"
	"net/http"

	"preau/auth"
)

// The second factor in "Mon compte": staff, heads and teachers may add an
// authenticator application (TOTP).

func (s *Server) totpAllowed(w http.ResponseWriter, r *http.Request) bool {
	if !auth.TOTPAllowed(currentUser(r).Principal) {
		s.notFound(w, r)
		return false
	}
	return true
}

func (s *Server) totpBegin(w http.ResponseWriter, r *http.Request) {
	if !s.totpAllowed(w, r) {
		return
	}
	setup, err := s.auth.BeginTOTP(r.Context(), currentUser(r).UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account_totp", view{Title: "Double authentification", Data: setup})
}

func (s *Server) totpConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.totpAllowed(w, r) {
		return
	}
	u := currentUser(r)
	err := s.auth.ConfirmTOTP(r.Context(), u.UserID, r.PostFormValue("code"))
	if errors.Is(err, auth.ErrBadTOTP) {
		// Show a fresh secret: the person scans again and retries.
		setup, err := s.auth.BeginTOTP(r.Context(), u.UserID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusBadRequest, "account_totp", view{Title: "Double authentification", Data: setup,
			Error: "Code incorrect. Un nouveau code QR est affiché : scannez-le à nouveau puis saisissez le code."})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/compte?ok=2fa", http.StatusSeeOther)
}

func (s *Server) totpDisable(w http.ResponseWriter, r *http.Request) {
	if !s.totpAllowed(w, r) {
		return
	}
	err := s.auth.DisableTOTP(r.Context(), currentUser(r).UserID, r.PostFormValue("mot_de_passe"))
	if err != nil {
		v, verr := s.accountView(r)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		code, msg := http.StatusBadRequest, "Le mot de passe est incorrect."
		if !errors.Is(err, auth.ErrBadCredentials) {
			code, _, msg = authFailure(err)
		}
		v.Error = msg
		s.render(w, r, code, "account", v)
		return
	}
	http.Redirect(w, r, "/compte?ok=2fa-off", http.StatusSeeOther)
}
