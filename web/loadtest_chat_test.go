package web

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/dbtest"
)

// TestChatPrincipal: the load-test header names a synthetic user only on a
// demo server, for an administrator, for the ids of its own set-up, before
// the set-up expires; without the header the session's user is returned.
func TestChatPrincipal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) { testChatPrincipal(t, d) })
}

func testChatPrincipal(t *testing.T, d *db.DB) {
	ctx := context.Background()
	admin := &identity.Principal{UserID: 1, Roles: []identity.Role{{Profile: identity.Admin}}}
	otherAdmin := &identity.Principal{UserID: 2, Roles: []identity.Role{{Profile: identity.Admin}}}
	teacher := &identity.Principal{UserID: 3, Roles: []identity.Role{{StructureID: 1, Profile: identity.Teacher}}}
	now := time.Now()
	// Rows as another node's set-up leaves them: disabled, no password,
	// the administrator's prefix and the set-up's stamp in the login; an
	// old set-up's; a real account.
	var fresh, old, real int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		for _, r := range []struct {
			id       *int64
			login    string
			disabled bool
		}{
			{&fresh, "lt-1-" + strconv.FormatInt(now.UnixNano(), 36) + "-c0-m0", true},
			{&old, "lt-1-" + strconv.FormatInt(now.Add(-maxChatLoadtestTTL-time.Minute).UnixNano(), 36) + "-c0-m0", true},
			{&real, "lt-1-" + strconv.FormatInt(now.UnixNano(), 36) + "-real", false},
		} {
			p, err := directory.CreatePerson(ctx, tx, directory.Person{Login: r.login, FirstName: "Élève", LastName: "Test"})
			if err != nil {
				return err
			}
			*r.id = p.ID
			if _, err := tx.Exec(ctx, "UPDATE users SET disabled = ? WHERE id = ?", r.disabled, p.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	newServer := func(demo bool) *Server {
		s := &Server{cfg: Config{Demo: demo}, db: d}
		s.chatLoad.users = map[int64]chatLoadUser{
			100000: {admin: 1, login: "lt-1-x-c0-m0", expires: now.Add(time.Minute)},
			100001: {admin: 1, login: "lt-1-x-c0-m1", expires: now.Add(-time.Second)},
		}
		return s
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, tc := range []struct {
		name   string
		demo   bool
		p      *identity.Principal
		header string
		want   int64 // 0: refused
	}{
		{"no header", false, teacher, "", 3},
		{"admin, own synthetic user", true, admin, "100000", 100000},
		{"without --demo", false, admin, "100000", 0},
		{"teacher", true, teacher, "100000", 0},
		{"another admin's user", true, otherAdmin, "100000", 0},
		{"expired", true, admin, "100001", 0},
		{"a real user", true, admin, "3", 0},
		{"not a number", true, admin, "lt-1-x", 0},
		{"own set-up made by another node", true, admin, id(fresh), fresh},
		{"another admin's set-up made by another node", true, otherAdmin, id(fresh), 0},
		{"a set-up older than its longest ttl", true, admin, id(old), 0},
		{"an active account with the prefix", true, admin, id(real), 0},
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
			case tc.want != 3 && tc.want != 0 && len(p.Roles) != 0:
				t.Fatalf("synthetic user with roles %v", p.Roles)
			}
		})
	}
	// No session: refused, header or not.
	s := newServer(true)
	r := httptest.NewRequest("GET", "/ws/chat", nil)
	r.Header.Set(LoadtestUserHeader, "100000")
	if _, err := s.ChatPrincipal(r); err == nil {
		t.Error("no session: accepted")
	}
}
