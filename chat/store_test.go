package chat

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

func classChannel(t testing.TB, s *Store, f fixture) Conversation {
	t.Helper()
	c, err := s.EnsureClassChannel(context.Background(), f.class)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsureClassChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c := classChannel(t, s, f)
		if c.Kind != KindClass || c.Title != "5e B" || c.StructureID != f.structure || c.ClassID != f.class {
			t.Fatalf("channel %+v", c)
		}
		ms, err := s.Members(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		roles := map[int64]string{}
		for _, m := range ms {
			roles[m.UserID] = m.Role
		}
		want := map[int64]string{f.pupilA: RoleMember, f.pupilB: RoleMember, f.teacher: RoleModerator}
		if fmt.Sprint(roles) != fmt.Sprint(want) {
			t.Fatalf("members %v, want %v", roles, want)
		}
		// A pupil who changes class leaves the channel; the channel stays.
		if err := directory.Transfer(ctx, d, f.pupilB, f.otherClass); err != nil {
			t.Fatal(err)
		}
		again := classChannel(t, s, f)
		if again.ID != c.ID {
			t.Fatalf("second call made channel %d, want %d", again.ID, c.ID)
		}
		if ok, _ := s.IsMember(ctx, c.ID, f.pupilB); ok {
			t.Fatal("pupil who left the class is still a member")
		}
		if ok, _ := s.IsMember(ctx, c.ID, f.pupilA); !ok {
			t.Fatal("pupil of the class is not a member")
		}
	})
}

// TestPostSeqUnderConcurrency: 50 concurrent posters get seqs 1..50, no gap
// and no duplicate, on both engines.
func TestPostSeqUnderConcurrency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c := classChannel(t, s, f)
		senders := []int64{f.pupilA, f.pupilB, f.teacher}
		const n = 50
		seqs := make([]int64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				m, err := s.Post(ctx, c.ID, senders[i%3], fmt.Sprintf("c-%d", i), fmt.Sprintf("message %d", i))
				seqs[i], errs[i] = m.Seq, err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		slices.Sort(seqs)
		for i, q := range seqs {
			if q != int64(i+1) {
				t.Fatalf("seqs %v: want 1..%d", seqs, n)
			}
		}
		got, err := s.Conversation(ctx, c.ID)
		if err != nil || got.LastSeq != n {
			t.Fatalf("last_seq %d %v", got.LastSeq, err)
		}
	})
}

// TestPostIdempotent: a resend, even concurrent, returns the original and
// stores nothing.
func TestPostIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c := classChannel(t, s, f)
		m1, created, err := s.post(ctx, c.ID, f.pupilA, "abc", "Bonjour", Extra{})
		if err != nil || !created || m1.Seq != 1 {
			t.Fatalf("first post %+v %v %v", m1, created, err)
		}
		m2, created, err := s.post(ctx, c.ID, f.pupilA, "abc", "Bonjour (renvoi)", Extra{})
		if err != nil || created || !reflect.DeepEqual(m2, m1) {
			t.Fatalf("resend %+v %v %v, want %+v", m2, created, err, m1)
		}
		// Another sender may use the same client_id.
		if m, _ := s.Post(ctx, c.ID, f.pupilB, "abc", "Salut"); m.Seq != 2 {
			t.Fatalf("other sender's seq %d", m.Seq)
		}
		var wg sync.WaitGroup
		seqs := make([]int64, 10)
		for i := range seqs {
			wg.Go(func() {
				m, err := s.Post(ctx, c.ID, f.teacher, "same", "Une seule fois")
				if err != nil {
					t.Error(err)
				}
				seqs[i] = m.Seq
			})
		}
		wg.Wait()
		for _, q := range seqs {
			if q != 3 {
				t.Fatalf("concurrent resends got seqs %v, want all 3", seqs)
			}
		}
		var rows int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", c.ID).Scan(&rows); err != nil || rows != 3 {
			t.Fatalf("%d rows %v, want 3", rows, err)
		}
	})
}

func TestPostRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c := classChannel(t, s, f)
		for _, tc := range []struct {
			conv, sender   int64
			clientID, body string
			want           error
		}{
			{c.ID, f.outsider, "x", "intrus", ErrNotFound},
			{c.ID + 100, f.pupilA, "x", "nulle part", ErrNotFound},
			{c.ID, f.pupilA, "x", "   ", ErrInvalid},
			{c.ID, f.pupilA, "x", "a\x00b", ErrInvalid},
			{c.ID, f.pupilA, "x", "\xff", ErrInvalid},
			{c.ID, f.pupilA, "x", strings.Repeat("é", MaxBodyChars+1), ErrTooLong},
			{c.ID, f.pupilA, "", "ok", ErrInvalid},
			{c.ID, f.pupilA, "a b", "ok", ErrInvalid},
			{c.ID, f.pupilA, strings.Repeat("a", MaxClientIDLen+1), "ok", ErrInvalid},
		} {
			if _, err := s.Post(ctx, tc.conv, tc.sender, tc.clientID, tc.body); !errors.Is(err, tc.want) {
				t.Errorf("Post(%d, %d, %q, %.20q) = %v, want %v", tc.conv, tc.sender, tc.clientID, tc.body, err, tc.want)
			}
		}
		if _, err := s.Post(ctx, c.ID, f.pupilA, "long", strings.Repeat("é", MaxBodyChars)); err != nil {
			t.Fatalf("4,000 characters refused: %v", err)
		}
	})
}

func TestSinceEditDeleteUnread(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		c := classChannel(t, s, f)
		for i := 1; i <= 7; i++ {
			if _, err := s.Post(ctx, c.ID, f.teacher, fmt.Sprint(i), fmt.Sprintf("m%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		ms, err := s.Since(ctx, c.ID, 2, 3)
		if err != nil || len(ms) != 3 || ms[0].Seq != 3 || ms[1].Seq != 4 || ms[2].Seq != 5 || ms[0].Body != "m3" {
			t.Fatalf("Since(2, 3) = %+v %v", ms, err)
		}
		if ms, _ := s.Since(ctx, c.ID, 7, 10); len(ms) != 0 {
			t.Fatalf("Since(last) = %+v", ms)
		}

		if _, err := s.Edit(ctx, c.ID, 1, f.pupilA, "pirate"); !errors.Is(err, ErrForbidden) {
			t.Fatalf("edit by another: %v", err)
		}
		now = now.Add(10 * time.Minute)
		m, err := s.Edit(ctx, c.ID, 1, f.teacher, "m1 corrigé")
		if err != nil || m.Body != "m1 corrigé" || m.EditedAtMs != now.UnixMilli() || m.Seq != 1 {
			t.Fatalf("edit %+v %v", m, err)
		}
		m, err = s.Delete(ctx, c.ID, 2, f.teacher)
		if err != nil || m.Body != "" || m.DeletedAtMs == 0 || m.Seq != 2 {
			t.Fatalf("delete %+v %v", m, err)
		}
		if _, err := s.Edit(ctx, c.ID, 2, f.teacher, "revenant"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("edit of a deleted message: %v", err)
		}
		now = now.Add(6 * time.Minute) // 16 min after posting
		if _, err := s.Delete(ctx, c.ID, 3, f.teacher); !errors.Is(err, ErrTooLate) {
			t.Fatalf("delete after 16 min: %v", err)
		}
		if _, err := s.Edit(ctx, c.ID, 99, f.teacher, "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("edit of a missing message: %v", err)
		}
		ms, _ = s.Since(ctx, c.ID, 0, 0)
		if len(ms) != 7 || ms[1].Body != "" || ms[1].DeletedAtMs == 0 {
			t.Fatalf("history after delete: %+v", ms)
		}

		// Unread: the teacher's 6 live messages for the pupils, none for
		// the teacher; reading moves forward only, never past last_seq.
		u, err := s.Unread(ctx, f.pupilA)
		if err != nil || u[c.ID] != 6 {
			t.Fatalf("pupil unread %v %v, want 6", u, err)
		}
		if u, _ := s.Unread(ctx, f.teacher); u[c.ID] != 0 {
			t.Fatalf("teacher unread %v", u)
		}
		if err := s.MarkRead(ctx, c.ID, f.pupilA, 5); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, c.ID, f.pupilA, 3); err != nil {
			t.Fatal(err)
		}
		if u, _ := s.Unread(ctx, f.pupilA); u[c.ID] != 2 {
			t.Fatalf("unread after read up to 5: %v", u)
		}
		if err := s.MarkRead(ctx, c.ID, f.pupilA, 1000); err != nil {
			t.Fatal(err)
		}
		ms2, _ := s.Members(ctx, c.ID)
		for _, m := range ms2 {
			if m.UserID == f.pupilA && m.LastReadSeq != 7 {
				t.Fatalf("last_read_seq %d, want 7", m.LastReadSeq)
			}
		}
		if err := s.MarkRead(ctx, c.ID, f.outsider, 1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("outsider mark read: %v", err)
		}
	})
}

func TestCreateConversation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c, err := s.CreateConversation(ctx, Conversation{Kind: KindPrivate, StructureID: f.structure, Title: "Sortie", CreatedBy: f.teacher})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, c.ID, f.pupilA, RoleMember); err != nil {
			t.Fatal(err)
		}
		if err := s.AddMember(ctx, c.ID, f.pupilA, RoleMember); err != nil {
			t.Fatalf("adding again: %v", err)
		}
		ms, _ := s.Members(ctx, c.ID)
		if len(ms) != 2 || ms[0].Role != RoleModerator && ms[1].Role != RoleModerator {
			t.Fatalf("members %+v", ms)
		}
		if _, err := s.CreateConversation(ctx, Conversation{Kind: "salon", StructureID: f.structure}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad kind: %v", err)
		}
		if _, err := s.Conversation(ctx, c.ID+50); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing conversation: %v", err)
		}
	})
}

func TestConversationsOf(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c := classChannel(t, s, f)
		other, err := s.EnsureClassChannel(ctx, f.otherClass)
		if err != nil {
			t.Fatal(err)
		}
		priv, err := s.CreateConversation(ctx, Conversation{Kind: KindPrivate, StructureID: f.structure, Title: "Aide aux devoirs", CreatedBy: f.teacher})
		if err != nil {
			t.Fatal(err)
		}
		for i, body := range []string{"un", "deux", "trois"} {
			if _, err := s.Post(ctx, c.ID, f.teacher, fmt.Sprint("t", i), body); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Post(ctx, c.ID, f.pupilA, "a1", "moi"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, c.ID, f.pupilA, 1); err != nil {
			t.Fatal(err)
		}
		got, err := s.ConversationsOf(ctx, f.pupilA)
		if err != nil || len(got) != 1 || got[0].ID != c.ID || got[0].Title != "5e B" || got[0].Kind != KindClass ||
			got[0].ClassID != f.class || got[0].LastSeq != 4 || got[0].Unread != 2 {
			t.Fatalf("pupil's conversations %+v %v, want 5e B with 2 unread", got, err)
		}
		got, err = s.ConversationsOf(ctx, f.teacher)
		if err != nil || len(got) != 2 || got[0].ID != c.ID || got[0].Unread != 1 || got[1].ID != priv.ID || got[1].ClassID != 0 {
			t.Fatalf("teacher's conversations %+v %v, want 5e B with 1 unread then the private one", got, err)
		}
		got, err = s.ConversationsOf(ctx, f.outsider)
		if err != nil || len(got) != 1 || got[0].ID != other.ID || got[0].Unread != 0 {
			t.Fatalf("outsider's conversations %+v %v", got, err)
		}
	})
}
