package chat

import (
	"context"
	"errors"
	"testing"

	"preau/internal/dbtest"
)

// TestNoticeChannel: a notice channel is found again by its key, its
// members are exactly those given (a member removed stops receiving it
// live), members cannot post, and Préau's announcements arrive live once
// per client id.
func TestNoticeChannel(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	f := newFixture(t, d)
	st := NewStore(d)
	b := NewMemoryBroker(0)
	t.Cleanup(func() { b.Close() })
	h, url := startHub(t, st, b, Config{}, nil)

	c, err := st.NoticeChannel(ctx, "vie-scolaire:1", f.structure, "Vie scolaire — Inès Haddad", []int64{f.pupilA, f.teacher})
	if err != nil {
		t.Fatal(err)
	}
	if !c.AnnounceOnly || c.CreatedBy != 0 || c.Kind != KindGroup {
		t.Errorf("channel %+v", c)
	}
	again, err := st.NoticeChannel(ctx, "vie-scolaire:1", f.structure, "Vie scolaire — Inès Haddad", []int64{f.pupilA, f.teacher})
	if err != nil || again.ID != c.ID {
		t.Fatalf("found again: %+v %v", again, err)
	}
	if _, err := st.Post(ctx, c.ID, f.pupilA, "x1", "Bonjour"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("a member posts: %v", err)
	}

	a := connect(t, url, f.pupilA)
	a.subscribe(c.ID, 0)
	a.expect(TypeSubscribed)
	m, err := h.Announce(ctx, c.ID, "absence-1", "Absence d'Inès le 1er décembre, 10 h – 11 h")
	if err != nil || m.Seq != 1 || m.SenderID != 0 {
		t.Fatalf("announce %+v %v", m, err)
	}
	if got := a.expect(TypeMessage).message(t); got.Sender != 0 || got.Body != m.Body || got.Seq != 1 {
		t.Errorf("live announcement %+v", got)
	}
	if m2, err := h.Announce(ctx, c.ID, "absence-1", "Absence d'Inès le 1er décembre, 10 h – 11 h"); err != nil || m2.Seq != 1 {
		t.Errorf("announced twice: %+v %v", m2, err)
	}
	if _, err := h.Announce(ctx, 1<<40, "absence-2", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}

	// The guardians change: the teacher stand-in leaves, the other pupil joins.
	if _, err := st.NoticeChannel(ctx, "vie-scolaire:1", f.structure, "Vie scolaire — Inès Haddad", []int64{f.pupilB}); err != nil {
		t.Fatal(err)
	}
	a.expect(TypeUnsubscribed)
	for id, want := range map[int64]bool{f.pupilA: false, f.teacher: false, f.pupilB: true} {
		if ok, _ := st.IsMember(ctx, c.ID, id); ok != want {
			t.Errorf("member %d: %v, want %v", id, ok, want)
		}
	}
	unread, err := st.Unread(ctx, f.pupilB)
	if err != nil || unread[c.ID] != 1 {
		t.Errorf("unread %v %v", unread, err)
	}
}
