package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/auth"
	"preau/ent/directory"
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

// apiErrorBody is every API error: a stable machine code and a French
// message for people.
type apiErrorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func apiError(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, apiErrorBody{Error: errCode, Message: msg})
}

// decodeJSON reads one JSON object into v, refusing unknown fields,
// duplicate keys and trailing data.
// readJSON decodes the request's JSON body into v, or answers 400 with the
// French reason and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeJSON(r, v); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", err.Error())
		return false
	}
	return true
}

func decodeJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("requête trop grande (au plus %d octets)", mbe.Limit)
		}
		return errors.New("requête illisible")
	}
	if err := checkDuplicateKeys(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("JSON invalide : %v", err)
	}
	if dec.More() {
		return errors.New("JSON invalide : données après l'objet")
	}
	return nil
}

// checkDuplicateKeys refuses an object with the same key twice at any depth
// ({"login":"a","login":"b"}), which parsers disagree on.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next string token in an object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("JSON invalide : %v", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			case '[':
				stack = append(stack, &frame{})
			case '}', ']':
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true
				}
			}
			continue
		}
		if top != nil && top.obj {
			if top.key {
				k := tok.(string)
				if top.keys[k] {
					return fmt.Errorf("JSON invalide : clé %q en double", k)
				}
				top.keys[k] = true
				top.key = false
			} else {
				top.key = true
			}
		}
	}
}

// authFailure turns an auth error into a status and a French message.
func authFailure(err error) (int, string, string) {
	var te *auth.ThrottledError
	var pe *auth.PolicyError
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, "bad_credentials", "Identifiant ou mot de passe incorrect."
	case errors.Is(err, auth.ErrBadCode):
		return http.StatusBadRequest, "bad_code", "Identifiant ou code d'activation incorrect, ou code expiré. Demandez un nouveau code à votre établissement."
	case errors.As(err, &te):
		return http.StatusTooManyRequests, "throttled", "Trop de tentatives. Réessayez dans " + waitFR(te.Wait) + "."
	case errors.Is(err, auth.ErrBusy):
		return http.StatusTooManyRequests, "busy", "Trop de connexions en même temps. Réessayez dans quelques secondes."
	case errors.As(err, &pe):
		return http.StatusBadRequest, "weak_password", pe.Msg
	case errors.Is(err, auth.ErrBadTOTP):
		return http.StatusUnauthorized, "bad_totp", "Code de vérification incorrect ou expiré. Reconnectez-vous si le problème persiste."
	}
	return http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible. Réessayez dans un instant."
}

func waitFR(d time.Duration) string {
	if d < time.Minute {
		s := int(d.Seconds() + 0.999)
		if s <= 1 {
			return "1 seconde"
		}
		return strconv.Itoa(s) + " secondes"
	}
	m := int(d.Minutes() + 0.999)
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}

func (s *Server) failAuth(w http.ResponseWriter, err error) {
	code, errCode, msg := authFailure(err)
	if code >= 500 {
		s.log.Error("auth", "err", err)
	}
	var te *auth.ThrottledError
	if errors.As(err, &te) {
		w.Header().Set("Retry-After", strconv.Itoa(int(te.Wait.Seconds()+0.999)))
	}
	s.metrics.logins.WithLabelValues(errCode).Inc()
	apiError(w, code, errCode, msg)
}

func client(r *http.Request) auth.Client {
	return auth.Client{IP: clientIP(r), UserAgent: r.UserAgent()}
}

type loginRequest struct {
	Login    string `json:"login"`
	Password string `json:"password"`
	// TOTP is the second-factor code, for accounts that have one.
	TOTP string `json:"totp,omitempty"`
}

// secondFactorBody answers a right password on an account with a second
// factor when no code was sent: POST the code with the challenge to
// /api/v1/auth/totp.
type secondFactorBody struct {
	apiErrorBody
	Challenge string `json:"challenge"`
}

func (s *Server) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !readJSON(w, r, &req) {
		return
	}
	token, uid, err := s.auth.Login(r.Context(), req.Login, req.Password, client(r))
	var sf *auth.SecondFactorError
	if errors.As(err, &sf) {
		if req.TOTP == "" {
			s.metrics.logins.WithLabelValues("totp_required").Inc()
			writeJSON(w, http.StatusUnauthorized, secondFactorBody{
				apiErrorBody: apiErrorBody{Error: "totp_required", Message: "Saisissez le code à 6 chiffres de votre application d'authentification."},
				Challenge:    sf.Challenge})
			return
		}
		token, uid, err = s.auth.SecondFactor(r.Context(), sf.Challenge, req.TOTP, client(r))
	}
	s.signedIn(w, r, token, uid, err)
}

type totpRequest struct {
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
}

// apiTOTP completes a login that answered totp_required.
func (s *Server) apiTOTP(w http.ResponseWriter, r *http.Request) {
	var req totpRequest
	if !readJSON(w, r, &req) {
		return
	}
	token, uid, err := s.auth.SecondFactor(r.Context(), req.Challenge, req.Code, client(r))
	s.signedIn(w, r, token, uid, err)
}

type activateRequest struct {
	Login    string `json:"login"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (s *Server) apiActivate(w http.ResponseWriter, r *http.Request) {
	var req activateRequest
	if !readJSON(w, r, &req) {
		return
	}
	token, uid, err := s.auth.Activate(r.Context(), req.Login, req.Code, req.Password, client(r))
	s.signedIn(w, r, token, uid, err)
}

// signedIn ends every way of signing in through the API: the failure, or the
// session cookie and who the person is.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request, token string, uid int64, err error) {
	if err != nil {
		s.failAuth(w, err)
		return
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	s.setSessionCookie(w, r, token)
	s.writeMe(w, r, uid)
}

func (s *Server) apiLogout(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if err := s.auth.Sessions.End(r.Context(), u.UserID, u.SessionID); err != nil && !errors.Is(err, auth.ErrNoSession) {
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Déconnexion impossible pour le moment.")
		return
	}
	s.chatRevoke(r, u.UserID)
	s.clearSessionCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// meResponse is GET /api/v1/me.
type meResponse struct {
	ID        int64             `json:"id"`
	Login     string            `json:"login"`
	FirstName string            `json:"first_name"`
	LastName  string            `json:"last_name"`
	Profiles  []profileInfo     `json:"profiles"`
	Classes   []classInfo       `json:"classes"`
	Children  []directory.Pupil `json:"children"`
}

type profileInfo struct {
	Profile   string               `json:"profile"`
	Label     string               `json:"label"`
	Function  string               `json:"function,omitempty"`
	Structure *directory.Structure `json:"structure,omitempty"`
}

type classInfo struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Level       string `json:"level"`
	StructureID int64  `json:"structure_id"`
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	s.writeMe(w, r, currentUser(r).UserID)
}

func (s *Server) writeMe(w http.ResponseWriter, r *http.Request, uid int64) {
	me, err := s.me(r, uid)
	if err != nil {
		s.log.Error("me", "user", uid, "err", err)
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible.")
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (s *Server) me(r *http.Request, uid int64) (*meResponse, error) {
	ctx := r.Context()
	p, err := s.dir.Person(ctx, uid)
	if err != nil {
		return nil, err
	}
	pr, err := s.dir.Principal(ctx, uid)
	if err != nil {
		return nil, err
	}
	me := &meResponse{ID: p.ID, Login: p.Login, FirstName: p.FirstName, LastName: p.LastName,
		Profiles: []profileInfo{}, Classes: []classInfo{}, Children: []directory.Pupil{}}
	for _, role := range pr.Roles {
		pi := profileInfo{Profile: string(role.Profile), Label: role.Profile.Label(), Function: role.Function}
		if role.StructureID != 0 {
			st, err := s.dir.Structure(ctx, role.StructureID)
			if err != nil {
				return nil, err
			}
			pi.Structure = &st
		}
		me.Profiles = append(me.Profiles, pi)
	}
	for _, id := range pr.Classes {
		c, err := s.dir.Class(ctx, id)
		if err != nil {
			return nil, err
		}
		me.Classes = append(me.Classes, classInfo{ID: c.ID, Name: c.Name, Level: c.Level, StructureID: c.StructureID})
	}
	if len(pr.Children) > 0 {
		kids, err := s.dir.Children(ctx, uid)
		if err != nil {
			return nil, err
		}
		me.Children = kids
	}
	return me, nil
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	list, err := s.auth.Sessions.List(r.Context(), u.UserID)
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible.")
		return
	}
	type item struct {
		auth.Session
		Current bool `json:"current"`
	}
	out := make([]item, 0, len(list))
	for _, ss := range list {
		out = append(out, item{Session: ss, Current: ss.ID == u.SessionID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiEndSession(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	err := s.auth.Sessions.End(r.Context(), u.UserID, chi.URLParam(r, "id"))
	if errors.Is(err, auth.ErrNoSession) {
		apiError(w, http.StatusNotFound, "not_found", "Session introuvable.")
		return
	}
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible.")
		return
	}
	s.chatRevoke(r, u.UserID)
	w.WriteHeader(http.StatusNoContent)
}

type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) apiPassword(w http.ResponseWriter, r *http.Request) {
	var req passwordRequest
	if !readJSON(w, r, &req) {
		return
	}
	u := currentUser(r)
	if err := s.auth.ChangePassword(r.Context(), u.UserID, u.SessionID, req.Current, req.New); err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			apiError(w, http.StatusBadRequest, "bad_credentials", "Le mot de passe actuel est incorrect.")
			return
		}
		s.failAuth(w, err)
		return
	}
	s.chatRevoke(r, u.UserID) // the other sessions ended
	w.WriteHeader(http.StatusNoContent)
}

// pathID reads a numeric URL parameter; 0 when it is not one.
func pathID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(chi.URLParam(r, name), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}
