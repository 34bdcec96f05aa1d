package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/db"
	"preau/demo"
	"preau/ent/directory"
	"preau/identity"
)

// The chat load-test set-up (`preau loadtest chat`), the twin of
// live_loadtest.go: on a demo server only, the administrator may have the
// server create group conversations whose members are fresh synthetic
// accounts, then open /ws/chat as those accounts with its own session and
// the header LoadtestUserHeader (ChatPrincipal). Anywhere else the routes
// answer 404 and the header is refused.
//
// Synthetic accounts are real rows (conversation members reference users)
// but have no password, no role and are disabled: nobody can sign in as
// them, and they appear in no directory list. Which ids an administrator may
// speak for is held by the process that made the set-up, until its ttl;
// another node of a cluster (a load spread over the nodes) recognises them
// from their rows: a disabled account without a password whose login
// carries the administrator's prefix and a stamp less than
// maxChatLoadtestTTL old (synthUserFromDB).

// Bounds of one set-up, so that a typo cannot ask for unbounded work.
const (
	maxChatLoadtestConversations = 1000
	maxChatLoadtestUsers         = 20_000 // conversations × members
	maxChatLoadtestTTL           = 20 * time.Minute
	defaultChatLoadtestTTL       = 15 * time.Minute
)

// chatLoadtests are the live set-ups of this process.
type chatLoadtests struct {
	mu    sync.Mutex
	users map[int64]chatLoadUser // synthetic user id → who may speak for it
	runs  map[string]*chatLoadRun
}

type chatLoadUser struct {
	admin   int64
	login   string
	expires time.Time
}

// chatLoadRun is one set-up: what to delete when it ends.
type chatLoadRun struct {
	admin   int64
	expires time.Time
	convs   []int64
	users   []int64
}

// ChatPrincipal is the auth function of the chat hub's WebSocket
// (chat.Hub.Handler): the session's user. On a demo server an
// administrator's session may instead speak for one of the synthetic users
// of its own live load test, named by LoadtestUserHeader; never without
// demo, never for anyone else's ids, never after the set-up's ttl.
func (s *Server) ChatPrincipal(r *http.Request) (*identity.Principal, error) {
	p, err := Principal(r)
	if err != nil {
		return nil, err
	}
	as := r.Header.Get(LoadtestUserHeader)
	if as == "" {
		return p, nil
	}
	if !s.cfg.Demo || !p.Has(identity.Admin) {
		return nil, errLoadtestUser
	}
	id, err := strconv.ParseInt(as, 10, 64)
	if err != nil {
		return nil, errLoadtestUser
	}
	s.chatLoad.mu.Lock()
	lu, ok := s.chatLoad.users[id]
	s.chatLoad.mu.Unlock()
	if !ok {
		lu, ok = s.synthUserFromDB(r.Context(), id, p.UserID)
	}
	if !ok || lu.admin != p.UserID || !time.Now().Before(lu.expires) {
		return nil, errLoadtestUser
	}
	return &identity.Principal{UserID: id, Login: lu.login}, nil
}

// synthUserFromDB recognises synthetic user id of admin's set-up made by
// another node: its row is disabled, has no password, and its login is
// "lt-<admin>-<stamp>-…" with a stamp (the set-up's time, base 36 Unix ns)
// less than maxChatLoadtestTTL old, which is when it expires here. A hit is
// kept, so that the row is read once per node.
func (s *Server) synthUserFromDB(ctx context.Context, id, admin int64) (chatLoadUser, bool) {
	var login string
	err := s.db.QueryRow(ctx, "SELECT login FROM users WHERE id = ? AND disabled AND password_hash IS NULL", id).Scan(&login)
	if err != nil {
		return chatLoadUser{}, false
	}
	rest, ok := strings.CutPrefix(login, loadtestUserPrefix(admin))
	stamp, _, _ := strings.Cut(rest, "-")
	ns, err := strconv.ParseInt(stamp, 36, 64)
	if !ok || err != nil {
		return chatLoadUser{}, false
	}
	lu := chatLoadUser{admin: admin, login: login, expires: time.Unix(0, ns).Add(maxChatLoadtestTTL)}
	if !time.Now().Before(lu.expires) {
		return chatLoadUser{}, false
	}
	s.chatLoad.mu.Lock()
	if s.chatLoad.users == nil {
		s.chatLoad.users, s.chatLoad.runs = map[int64]chatLoadUser{}, map[string]*chatLoadRun{}
	}
	s.chatLoad.users[id] = lu
	s.chatLoad.mu.Unlock()
	return lu, true
}

type chatLoadtestRequest struct {
	Conversations int `json:"conversations"`
	Members       int `json:"members"` // per conversation, all distinct
	TTL           int `json:"ttl"`     // seconds the header is honoured
}

type chatLoadtestConversation struct {
	ID    int64   `json:"id"`
	Users []int64 `json:"users"`
}

type chatLoadtestResponse struct {
	Run           string                     `json:"run"`
	Conversations []chatLoadtestConversation `json:"conversations"`
	Header        string                     `json:"header"` // names the synthetic user on /ws/chat
	ExpiresAt     time.Time                  `json:"expires_at"`
	// SendLimit messages per SendWindowS seconds is what one user may
	// send on this node (serve --chat-send-limit): the tool paces itself
	// under it. 0 without a chat hub.
	SendLimit   int     `json:"send_limit"`
	SendWindowS float64 `json:"send_window_s"`
}

// chatLoadtestAPI mounts POST /chat/loadtest and DELETE /chat/loadtest/{run}.
func (s *Server) chatLoadtestAPI(r chi.Router) {
	r.Post("/chat/loadtest", s.apiChatLoadtest)
	r.Delete("/chat/loadtest/{run}", s.apiEndChatLoadtest)
}

// apiChatLoadtest creates the synthetic accounts and the conversations and
// returns, per conversation, the user ids to connect as.
func (s *Server) apiChatLoadtest(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !s.cfg.Demo || !u.Has(identity.Admin) {
		s.notFound(w, r)
		return
	}
	var req chatLoadtestRequest
	if !readJSON(w, r, &req) {
		return
	}
	ttl := defaultChatLoadtestTTL
	if req.TTL != 0 {
		ttl = time.Duration(req.TTL) * time.Second
	}
	if req.Conversations < 1 || req.Conversations > maxChatLoadtestConversations || req.Members < 1 ||
		req.Conversations*req.Members > maxChatLoadtestUsers || ttl < 10*time.Second || ttl > maxChatLoadtestTTL {
		apiError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf(
			"conversations 1–%d, members ≥ 1, at most %d accounts in all, ttl 10–%d s.",
			maxChatLoadtestConversations, maxChatLoadtestUsers, int(maxChatLoadtestTTL.Seconds())))
		return
	}
	ctx := r.Context()
	s.sweepChatLoadtests(ctx, false, 0, "")
	st, err := directory.StructureByUAI(ctx, s.db, demo.College.UAI)
	if err != nil {
		s.fail(w, r, fmt.Errorf("load test: the demo collège: %w", err))
		return
	}
	now := time.Now()
	stamp := strconv.FormatInt(now.UnixNano(), 36)
	run := &chatLoadRun{admin: u.UserID, expires: now.Add(ttl)}
	logins := map[int64]string{}
	// The accounts in one transaction: one commit, not thousands.
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for i := range req.Conversations {
			for j := range req.Members {
				p, err := directory.CreatePerson(ctx, tx, directory.Person{
					Login:     fmt.Sprintf("%s%s-c%d-m%d", loadtestUserPrefix(u.UserID), stamp, i, j),
					FirstName: "Élève", LastName: fmt.Sprintf("Test %d.%d", i+1, j+1)})
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE users SET disabled = TRUE WHERE id = ?", p.ID); err != nil {
					return err
				}
				run.users = append(run.users, p.ID)
				logins[p.ID] = p.Login
			}
		}
		return nil
	})
	if err != nil {
		s.fail(w, r, fmt.Errorf("load test: accounts: %w", err))
		return
	}
	resp := chatLoadtestResponse{Run: stamp, Header: LoadtestUserHeader, ExpiresAt: run.expires.UTC().Truncate(time.Second)}
	if s.cfg.ChatHub != nil {
		n, window := s.cfg.ChatHub.SendLimit()
		resp.SendLimit, resp.SendWindowS = n, window.Seconds()
	}
	for i := range req.Conversations {
		members := run.users[i*req.Members : (i+1)*req.Members]
		c, err := s.chat.CreateGroupWith(ctx, st.ID, fmt.Sprintf("Test de charge %s n°%d", now.Format("15:04:05"), i+1), members)
		if err != nil {
			s.removeChatLoadRun(context.WithoutCancel(ctx), run)
			s.fail(w, r, err)
			return
		}
		run.convs = append(run.convs, c.ID)
		resp.Conversations = append(resp.Conversations, chatLoadtestConversation{ID: c.ID, Users: members})
	}
	s.chatLoad.mu.Lock()
	if s.chatLoad.users == nil {
		s.chatLoad.users, s.chatLoad.runs = map[int64]chatLoadUser{}, map[string]*chatLoadRun{}
	}
	for _, id := range run.users {
		s.chatLoad.users[id] = chatLoadUser{admin: u.UserID, login: logins[id], expires: run.expires}
	}
	s.chatLoad.runs[stamp] = run
	s.chatLoad.mu.Unlock()
	s.log.Info("chat: load-test conversations created", "conversations", req.Conversations, "members", req.Members,
		"ttl", ttl, "by", u.UserID)
	writeJSON(w, http.StatusCreated, resp)
}

// apiEndChatLoadtest deletes one of the caller's set-ups now: its
// conversations, messages and synthetic accounts.
func (s *Server) apiEndChatLoadtest(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	if !s.cfg.Demo || !u.Has(identity.Admin) {
		s.notFound(w, r)
		return
	}
	if !s.sweepChatLoadtests(r.Context(), true, u.UserID, chi.URLParam(r, "run")) {
		s.notFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sweepChatLoadtests removes the expired set-ups, or with now the set-up run
// of admin, and reports whether it removed any.
func (s *Server) sweepChatLoadtests(ctx context.Context, now bool, admin int64, run string) bool {
	var done []*chatLoadRun
	t := time.Now()
	s.chatLoad.mu.Lock()
	for id, lr := range s.chatLoad.runs {
		if (now && id == run && lr.admin == admin) || (!now && !t.Before(lr.expires)) {
			done = append(done, lr)
			delete(s.chatLoad.runs, id)
			for _, u := range lr.users {
				delete(s.chatLoad.users, u)
			}
		}
	}
	s.chatLoad.mu.Unlock()
	for _, lr := range done {
		s.removeChatLoadRun(ctx, lr)
	}
	return len(done) > 0
}

// removeChatLoadRun deletes a set-up's rows; a failure is logged: the rows
// are disabled accounts without a role, harmless on a demo server.
func (s *Server) removeChatLoadRun(ctx context.Context, lr *chatLoadRun) {
	err := s.chat.DeleteConversations(ctx, lr.convs)
	if err == nil {
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			for _, id := range lr.users {
				if _, err := tx.Exec(ctx, "DELETE FROM users WHERE id = ? AND password_hash IS NULL AND disabled", id); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Warn("chat: remove load-test set-up", "err", err)
	}
}
