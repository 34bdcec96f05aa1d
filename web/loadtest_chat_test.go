package web

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"preau/identity"
)

// TestChatPrincipal: the load-test header names a synthetic user only on a
// demo server, for an administrator, for the ids of its own set-up, before
// the set-up expires; without the header the session's user is returned.
func TestChatPrincipal(t *testing.T) {
	admin := &identity.Principal{UserID: 1, Roles: []identity.Role{{Profile: identity.Admin}}}
	otherAdmin := &identity.Principal{UserID: 2, Roles: []identity.Role{{Profile: identity.Admin}}}
	teacher := &identity.Principal{UserID: 3, Roles: []identity.Role{{StructureID: 1, Profile: identity.Teacher}}}
	now := time.Now()
	newServer := func(demo bool) *Server {
		s := &Server{cfg: Config{Demo: demo}}
		s.chatLoad.users = map[int64]chatLoadUser{
			100: {admin: 1, login: "lt-1-x-c0-m0", expires: now.Add(time.Minute)},
			101: {admin: 1, login: "lt-1-x-c0-m1", expires: now.Add(-time.Second)},
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		demo   bool
		p      *identity.Principal
		header string
		want   int64 // 0: refused
	}{
		{"no header", false, teacher, "", 3},
		{"admin, own synthetic user", true, admin, "100", 100},
		{"without --demo", false, admin, "100", 0},
		{"teacher", true, teacher, "100", 0},
		{"another admin's user", true, otherAdmin, "100", 0},
		{"expired", true, admin, "101", 0},
		{"a real user", true, admin, "3", 0},
		{"not a number", true, admin, "lt-1-x", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(tc.demo)
			r := httptest.NewRequest("GET", "/ws/chat", nil)
			r = r.WithContext(context.WithValue(r.Context(), keyUser, &user{Principal: tc.p}))
			if tc.header != "" {
				r.Header.Set(LoadtestUserHeader, tc.header)
			}
			p, err := s.ChatPrincipal(r)
			switch {
			case tc.want == 0 && err == nil:
				t.Fatalf("accepted as %d", p.UserID)
			case tc.want != 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != 0 && p.UserID != tc.want:
				t.Fatalf("user %d, want %d", p.UserID, tc.want)
			case tc.want >= 100 && len(p.Roles) != 0:
				t.Fatalf("synthetic user with roles %v", p.Roles)
			}
		})
	}
	// No session: refused, header or not.
	s := newServer(true)
	r := httptest.NewRequest("GET", "/ws/chat", nil)
	r.Header.Set(LoadtestUserHeader, "100")
	if _, err := s.ChatPrincipal(r); err == nil {
		t.Error("no session: accepted")
	}
}
