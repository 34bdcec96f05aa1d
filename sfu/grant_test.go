package sfu

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGrant(t *testing.T) {
	s := Signer{Key: testKey}
	now := time.Unix(1_800_000_000, 0)
	g := Grant{Room: "r1", UserID: "u1", Name: "Élève Un", Role: RoleParticipant, CanPublishAudio: true,
		Expires: now.Add(5 * time.Minute)}
	tok, err := s.Sign(g, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(tok, "r1", now)
	if err != nil || got != g {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, g)
	}

	// A pupil rewrites its grant to publish video, keeping the old MAC.
	payload, mac, _ := strings.Cut(strings.TrimPrefix(tok, grantPrefix), ".")
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	forged := strings.Replace(string(raw), `"video":false`, `"video":true`, 1)
	forgedTok := grantPrefix + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + mac

	for _, tc := range []struct {
		name, tok, room string
		at              time.Time
		want            error
	}{
		{"forged payload", forgedTok, "r1", now, ErrBadGrant},
		{"bad mac", tok[:len(tok)-2] + "AA", "r1", now, ErrBadGrant},
		{"no prefix", strings.TrimPrefix(tok, grantPrefix), "r1", now, ErrBadGrant},
		{"empty", "", "r1", now, ErrBadGrant},
		{"expired", tok, "r1", now.Add(5 * time.Minute), ErrExpired},
		{"wrong room", tok, "r2", now, ErrWrongRoom},
		{"other key", tok, "r1", now, ErrBadGrant},
	} {
		signer := s
		if tc.name == "other key" {
			signer = Signer{Key: []byte(strings.Repeat("z", 32))}
		}
		if _, err := signer.Verify(tc.tok, tc.room, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}

	// Sign refuses long-lived grants, bad roles and short keys.
	for name, bad := range map[string]struct {
		s Signer
		g Grant
	}{
		"ttl over 10 min": {s, Grant{Room: "r", UserID: "u", Role: RoleModerator, Expires: now.Add(11 * time.Minute)}},
		"already expired": {s, Grant{Room: "r", UserID: "u", Role: RoleModerator, Expires: now}},
		"role":            {s, Grant{Room: "r", UserID: "u", Role: "admin", Expires: now.Add(time.Minute)}},
		"no room":         {s, Grant{UserID: "u", Role: RoleModerator, Expires: now.Add(time.Minute)}},
		"short key":       {Signer{Key: []byte("short")}, Grant{Room: "r", UserID: "u", Role: RoleModerator, Expires: now.Add(time.Minute)}},
	} {
		if _, err := bad.s.Sign(bad.g, now); err == nil {
			t.Errorf("%s: Sign accepted", name)
		}
	}
}

func TestCreateRoom(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.m.CreateRoom("a", KindLesson); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.m.CreateRoom("a", KindMeeting); !errors.Is(err, ErrRoomExists) {
		t.Fatalf("duplicate room: %v", err)
	}
	if _, err := ts.m.CreateRoom("b", Kind("party")); err == nil {
		t.Fatal("unknown kind accepted")
	}
	if _, err := ts.m.CreateRoom("", KindLesson); err == nil {
		t.Fatal("empty id accepted")
	}
}
