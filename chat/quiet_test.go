package chat

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"preau/db"
	"preau/internal/dbtest"
)

func TestNextOpening(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		t        string
		from, to int
		want     string
	}{
		{"2026-11-30 21:00", 8 * 60, 18 * 60, "2026-12-01 08:00"},
		{"2026-11-30 07:59", 8 * 60, 18 * 60, "2026-11-30 08:00"},
		{"2026-11-30 10:00", 8 * 60, 18 * 60, "2026-11-30 10:00"}, // open
		{"2026-11-30 18:00", 8 * 60, 18 * 60, "2026-12-01 08:00"},
		{"2026-11-30 12:00", 22 * 60, 6 * 60, "2026-11-30 22:00"}, // open at night
		{"2026-11-30 23:00", 22 * 60, 6 * 60, "2026-11-30 23:00"},
		{"2026-03-28 22:00", 8 * 60, 18 * 60, "2026-03-29 08:00"}, // the night the clocks go forward
		{"2026-11-30 03:00", 0, 0, "2026-11-30 03:00"},            // always open
	} {
		if got := nextOpening(at(c.t), c.from, c.to); !got.Equal(at(c.want)) {
			t.Errorf("nextOpening(%s, %d, %d) = %s, want %s", c.t, c.from, c.to, got.In(paris), c.want)
		}
	}
}

// TestQuietHoursHoldNotifications: with opening hours 08:00–18:00 and a
// clock the test moves, a message a teacher posts at 21:00 reaches an open
// conversation page at once, but a pupil's notification subscription (the
// badge) only at 08:00; a notification subscription made at night replays
// held messages at 08:00 too; the teacher's own badge (a moderator) is not
// held; changes never reach a notification subscription.
func TestQuietHoursHoldNotifications(t *testing.T) {
	checkLeaks(t)
	var nowMs atomic.Int64
	clock := func() time.Time { return time.UnixMilli(nowMs.Load()) }
	set := func(s string) {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		nowMs.Store(v.UnixMilli())
	}
	set("2026-11-30 12:00")
	hs := newHubSetup(t, Config{Now: clock, QuietTick: 5 * time.Millisecond}, nil)
	hs.store.now = clock
	ctx := context.Background()
	conv := hs.conv.ID
	if err := hs.store.SetHours(ctx, conv, hs.f.teacher, 8*60, 18*60); err != nil {
		t.Fatal(err)
	}
	notify := func(user, after int64) *wsClient {
		t.Helper()
		c := connect(t, hs.url, user)
		c.request(TypeSubscribe, map[string]any{"conversations": []map[string]any{{"id": conv, "after_seq": after, "notify": true}}})
		c.expect(TypeSubscribed)
		return c
	}
	// nothing checks that no frame but a pong comes within a few ticks.
	nothing := func(c *wsClient) {
		t.Helper()
		time.Sleep(30 * time.Millisecond)
		c.request(TypePing, nil)
		c.expect(TypePong)
	}

	set("2026-11-30 21:00")
	badgeA := notify(hs.f.pupilA, 0)
	badgeT := notify(hs.f.teacher, 0)
	page := connect(t, hs.url, hs.f.pupilB)
	page.subscribe(conv, 0)
	page.expect(TypeSubscribed)
	teacher := connect(t, hs.url, hs.f.teacher)
	teacher.send(conv, "t1", "Rappel : sortie demain, rendez-vous à 8 h 15.")
	teacher.expect(TypeAck)
	if m := page.next().message(t); m.Seq != 1 {
		t.Fatalf("the open page got %+v", m)
	}
	if m := badgeT.next().message(t); m.Seq != 1 {
		t.Fatalf("the moderator's badge got %+v", m)
	}
	if _, err := hs.hub.Edit(ctx, conv, 1, hs.f.teacher, "Rappel : sortie demain, rendez-vous à 8 h."); err != nil {
		t.Fatal(err)
	}
	if m := page.next().message(t); m.EditedAtMs == 0 {
		t.Fatalf("the page got %+v, want the change", m)
	}
	nothing(badgeA)
	nothing(badgeT) // no change on a notification subscription

	// Opened at night: the message is replayed at 08:00 as well.
	badgeB := notify(hs.f.pupilB, 0)
	set("2026-12-01 07:59")
	nothing(badgeA)
	nothing(badgeB)
	set("2026-12-01 08:00")
	for _, c := range []*wsClient{badgeA, badgeB} {
		if m := c.next().message(t); m.Seq != 1 {
			t.Fatalf("at 08:00: %+v", m)
		}
	}
	// During opening hours, at once.
	teacher.send(conv, "t2", "Bonne journée")
	teacher.expect(TypeAck, TypeMessage)
	if m := badgeA.next().message(t); m.Seq != 2 {
		t.Fatalf("in opening hours: %+v", m)
	}
	nothing(badgeA) // once

	// Held at night, then the teacher opens the conversation at all
	// hours: the held message goes at once; new ones are not held.
	set("2026-12-01 22:00")
	teacher.send(conv, "t3", "Demain, pas de cours en salle 12.")
	teacher.expect(TypeAck, TypeMessage)
	nothing(badgeA)
	if err := hs.store.SetHours(ctx, conv, hs.f.teacher, 0, 0); err != nil {
		t.Fatal(err)
	}
	if m := badgeA.next().message(t); m.Seq != 3 {
		t.Fatalf("after the hours were lifted: %+v", m)
	}
	teacher.send(conv, "t4", "Bonne soirée")
	teacher.expect(TypeAck, TypeMessage)
	if m := badgeA.next().message(t); m.Seq != 4 {
		t.Fatalf("always open: %+v", m)
	}
	// Hours set again while connected: held again.
	if err := hs.store.SetHours(ctx, conv, hs.f.teacher, 8*60, 18*60); err != nil {
		t.Fatal(err)
	}
	teacher.send(conv, "t5", "Dernier message")
	teacher.expect(TypeAck, TypeMessage)
	nothing(badgeA)
}

// TestStoreHeld: the unread messages held for quiet hours, per member, by
// the store's clock; none for a moderator; none once the hours opened. On
// both databases.
func TestStoreHeld(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		var now time.Time
		s.now = func() time.Time { return now }
		set := func(v string) {
			t.Helper()
			var err error
			if now, err = time.ParseInLocation("2006-01-02 15:04", v, paris); err != nil {
				t.Fatal(err)
			}
		}
		set("2026-11-30 12:00")
		conv := classChannel(t, s, f)
		if err := s.SetHours(ctx, conv.ID, f.teacher, 8*60, 18*60); err != nil {
			t.Fatal(err)
		}
		post := func(id string) {
			t.Helper()
			if _, err := s.Post(ctx, conv.ID, f.teacher, id, "Message "+id); err != nil {
				t.Fatal(err)
			}
		}
		post("noon")
		set("2026-11-30 21:00")
		post("night-1")
		post("night-2")
		held, err := s.Held(ctx, f.pupilA)
		if err != nil {
			t.Fatal(err)
		}
		if h := held[conv.ID]; h.Count != 2 || h.FirstSeq != 2 || len(held) != 1 {
			t.Fatalf("held at 21:00: %+v", held)
		}
		if held, _ := s.Held(ctx, f.teacher); len(held) != 0 {
			t.Fatalf("a moderator's held: %+v", held)
		}
		set("2026-12-01 08:00")
		if held, _ := s.Held(ctx, f.pupilA); len(held) != 0 {
			t.Fatalf("held at 08:00: %+v", held)
		}
	})
}
