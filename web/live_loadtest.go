package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/identity"
	"preau/sfu"
)

// The load-test set-up (`preau loadtest sfu`): on a demo server only, the
// administrator may have the server create rooms and sign grants for
// synthetic users, so that the load tool needs nothing but the demo login.
// Anywhere else the route answers 404, like every route outside the caller's
// scope.

// Bounds of one set-up, so that a typo cannot ask for unbounded work.
const (
	maxLoadtestRooms       = 100
	maxLoadtestSubscribers = 500  // per room
	maxLoadtestPeers       = 2000 // all rooms together
	maxLoadtestTTL         = 10 * time.Minute
)

// LoadtestUserHeader names the synthetic user a load-test connection speaks
// for (see LiveSessionUser). Browsers cannot set headers on a WebSocket, so a
// page can never use it.
const LoadtestUserHeader = "X-Preau-Loadtest-User"

// loadtestUserPrefix starts every synthetic user id of administrator admin.
// Real user ids are numbers, so a synthetic id never names a real person.
func loadtestUserPrefix(admin int64) string { return "lt-" + strconv.FormatInt(admin, 10) + "-" }

// LiveSessionUser returns the sfu.Config.SessionUser of `preau serve`: the
// user id of the request's session. With demo set, an administrator's
// session may also speak for the synthetic users of its own load test (ids
// "lt-<admin id>-…", named by LoadtestUserHeader); never without demo.
func LiveSessionUser(demo bool) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		p, err := Principal(r)
		if err != nil {
			return "", err
		}
		if as := r.Header.Get(LoadtestUserHeader); as != "" {
			if !demo || !p.Has(identity.Admin) || !strings.HasPrefix(as, loadtestUserPrefix(p.UserID)) {
				return "", errLoadtestUser
			}
			return as, nil
		}
		return strconv.FormatInt(p.UserID, 10), nil
	}
}

var errLoadtestUser = errors.New("web: " + LoadtestUserHeader + " refused")

type loadtestRequest struct {
	Rooms       int `json:"rooms"`
	Subscribers int `json:"subscribers"` // per room
	TTL         int `json:"ttl"`         // seconds the rooms live
}

type loadtestPeer struct {
	User  string `json:"user"`
	Grant string `json:"grant"`
}

type loadtestRoom struct {
	Room        string         `json:"room"`
	Publisher   loadtestPeer   `json:"publisher"`
	Subscribers []loadtestPeer `json:"subscribers"`
}

type loadtestResponse struct {
	Rooms     []loadtestRoom `json:"rooms"`
	Header    string         `json:"header"` // the header naming the synthetic user on /live/ws
	ExpiresAt time.Time      `json:"expires_at"`
	EndsAt    time.Time      `json:"ends_at"`
}

// liveLoadtestAPI mounts POST /live/loadtest.
func (s *Server) liveLoadtestAPI(r chi.Router) {
	r.Post("/live/loadtest", s.apiLiveLoadtest)
}

// apiLiveLoadtest creates rooms (kind lesson) that end by themselves after
// ttl, and returns per room a publisher grant (moderator, audio and video)
// and one participant grant per synthetic subscriber, valid ≤ 10 min.
func (s *Server) apiLiveLoadtest(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !s.cfg.Demo || s.cfg.Live == nil || !u.Has(identity.Admin) {
		s.notFound(w, r)
		return
	}
	var req loadtestRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.TTL == 0 {
		req.TTL = 300
	}
	ttl := time.Duration(req.TTL) * time.Second
	switch {
	case req.Rooms < 1 || req.Rooms > maxLoadtestRooms,
		req.Subscribers < 0 || req.Subscribers > maxLoadtestSubscribers,
		req.Rooms*(req.Subscribers+1) > maxLoadtestPeers,
		ttl < 10*time.Second || ttl > maxLoadtestTTL:
		apiError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf(
			"rooms 1–%d, subscribers 0–%d per room, at most %d peers, ttl 10–%d s.",
			maxLoadtestRooms, maxLoadtestSubscribers, maxLoadtestPeers, int(maxLoadtestTTL.Seconds())))
		return
	}
	now := s.cfg.Live.now()
	exp := now.Add(min(ttl, sfu.MaxGrantTTL)).Truncate(time.Second)
	stamp := strconv.FormatInt(now.UnixNano(), 36)
	prefix := loadtestUserPrefix(u.UserID) + stamp
	sign := func(room, user, name string, moderator bool) (loadtestPeer, error) {
		g := sfu.Grant{Room: room, UserID: user, Name: name, Role: sfu.RoleParticipant, Expires: exp}
		if moderator {
			g.Role, g.CanPublishAudio, g.CanPublishVideo = sfu.RoleModerator, true, true
		}
		tok, err := s.cfg.Live.Signer.Sign(g, now)
		return loadtestPeer{User: user, Grant: tok}, err
	}
	resp := loadtestResponse{Header: LoadtestUserHeader, ExpiresAt: exp.UTC(), EndsAt: now.Add(ttl).UTC()}
	var rooms []*sfu.Room
	for i := range req.Rooms {
		id := fmt.Sprintf("charge-%s-%d", stamp, i)
		room, err := s.cfg.Live.Manager.CreateRoom(id, sfu.KindLesson)
		if err != nil {
			for _, rm := range rooms {
				rm.End()
			}
			s.log.Error("live: load-test room", "err", err)
			apiError(w, http.StatusServiceUnavailable, "unavailable", "Les salles de test n'ont pas pu être créées.")
			return
		}
		rooms = append(rooms, room)
		time.AfterFunc(ttl, room.End) // the rooms end by themselves
		lr := loadtestRoom{Room: id}
		var err1 error
		lr.Publisher, err1 = sign(id, fmt.Sprintf("%s-r%d-p", prefix, i), fmt.Sprintf("Enseignant test %d", i+1), true)
		for j := range req.Subscribers {
			p, err := sign(id, fmt.Sprintf("%s-r%d-s%d", prefix, i, j), fmt.Sprintf("Élève test %d.%d", i+1, j+1), false)
			lr.Subscribers = append(lr.Subscribers, p)
			err1 = errors.Join(err1, err)
		}
		if err1 != nil {
			for _, rm := range rooms {
				rm.End()
			}
			s.fail(w, r, err1)
			return
		}
		resp.Rooms = append(resp.Rooms, lr)
	}
	s.log.Info("live: load-test rooms created", "rooms", req.Rooms, "subscribers", req.Subscribers, "ttl", ttl, "by", u.UserID)
	writeJSON(w, http.StatusCreated, resp)
}
