package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"preau/db"
	"preau/internal/dbtest"
)

// batchedStore is a store whose posts go through the batching writer, on
// PostgreSQL too (where NewStore commits each post on its own).
func batchedStore(d *db.DB) *Store {
	s := NewStore(d)
	if s.writer == nil {
		s.writer = newPostWriter(s)
	}
	return s
}

// groupConv creates a group conversation with members.
func groupConv(t testing.TB, s *Store, f fixture, title string, members ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := s.CreateConversation(ctx, Conversation{Kind: KindGroup, StructureID: f.structure, Title: title, CreatedBy: f.teacher})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range members {
		if err := s.AddMember(ctx, c.ID, u, RoleMember); err != nil {
			t.Fatal(err)
		}
	}
	return c.ID
}

func req(conv, sender int64, clientID, body string, x Extra) *postReq {
	return &postReq{ctx: context.Background(), conv: conv, sender: sender, clientID: clientID, body: body, folded: Fold(body), x: x}
}

// storedSeqs returns a conversation's stored seqs in order and its last_seq.
func storedSeqs(t testing.TB, d *db.DB, conv int64) ([]int64, int64) {
	t.Helper()
	ctx := context.Background()
	seqs, err := ids(ctx, d, "SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq", conv)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	if err := d.QueryRow(ctx, "SELECT last_seq FROM conversations WHERE id = ?", conv).Scan(&last); err != nil {
		t.Fatal(err)
	}
	return seqs, last
}

// TestWriterConcurrentSeqs: many goroutines posting at once into three
// conversations through the batching writer get, per conversation, seqs
// 1..n with no gap and no duplicate, each seq being the stored one.
func TestWriterConcurrentSeqs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := batchedStore(d)
		senders := []int64{f.pupilA, f.pupilB, f.teacher}
		convs := []int64{
			groupConv(t, s, f, "Groupe 1", f.pupilA, f.pupilB),
			groupConv(t, s, f, "Groupe 2", f.pupilA, f.pupilB),
			groupConv(t, s, f, "Groupe 3", f.pupilA, f.pupilB),
		}
		const goroutines, each = 30, 20
		type got struct {
			conv, seq int64
			body      string
		}
		results := make([][]got, goroutines)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					conv := convs[(g+i)%len(convs)]
					body := fmt.Sprintf("g%d-%d", g, i)
					m, err := s.Post(ctx, conv, senders[g%len(senders)], body, body)
					if err != nil {
						t.Errorf("post %s: %v", body, err)
						return
					}
					results[g] = append(results[g], got{conv, m.Seq, body})
				}
			})
		}
		wg.Wait()
		bySeq := map[int64]map[int64]string{}
		for _, rs := range results {
			for _, r := range rs {
				if bySeq[r.conv] == nil {
					bySeq[r.conv] = map[int64]string{}
				}
				if prev, dup := bySeq[r.conv][r.seq]; dup {
					t.Fatalf("conversation %d: seq %d given to %s and %s", r.conv, r.seq, prev, r.body)
				}
				bySeq[r.conv][r.seq] = r.body
			}
		}
		total := 0
		for _, conv := range convs {
			n := int64(len(bySeq[conv]))
			total += int(n)
			for q := int64(1); q <= n; q++ {
				if _, ok := bySeq[conv][q]; !ok {
					t.Fatalf("conversation %d: %d posts acknowledged but seq %d missing", conv, n, q)
				}
			}
			seqs, last := storedSeqs(t, d, conv)
			if int64(len(seqs)) != n || last != n {
				t.Fatalf("conversation %d: %d stored, last_seq %d, want %d", conv, len(seqs), last, n)
			}
			msgs, err := s.Since(ctx, conv, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				if bySeq[conv][m.Seq] != m.Body {
					t.Fatalf("conversation %d seq %d: stored %q, acknowledged %q", conv, m.Seq, m.Body, bySeq[conv][m.Seq])
				}
			}
		}
		if total != goroutines*each {
			t.Fatalf("%d posts acknowledged, want %d", total, goroutines*each)
		}
	})
}

// TestWriterBatchDuplicates: one batch holding the same client id twice
// (and a resend of an earlier message) stores each message once and gives
// the resends the original's seq.
func TestWriterBatchDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := batchedStore(d)
		conv := groupConv(t, s, f, "Groupe", f.pupilA, f.pupilB)
		first, err := s.Post(ctx, conv, f.pupilA, "earlier", "avant")
		if err != nil || first.Seq != 1 {
			t.Fatalf("first post %+v %v", first, err)
		}
		batch := []*postReq{
			req(conv, f.pupilA, "x", "un", Extra{}),
			req(conv, f.pupilB, "x", "autre auteur, même id", Extra{}),
			req(conv, f.pupilA, "x", "un (renvoi)", Extra{}),
			req(conv, f.pupilA, "earlier", "avant (renvoi)", Extra{}),
			req(conv, f.pupilA, "y", "deux", Extra{}),
		}
		s.commitBatch(batch)
		want := []struct {
			seq     int64
			created bool
			body    string
		}{{2, true, "un"}, {3, true, "autre auteur, même id"}, {2, false, "un"}, {1, false, "avant"}, {4, true, "deux"}}
		for i, r := range batch {
			if r.err != nil || r.m.Seq != want[i].seq || r.created != want[i].created || r.m.Body != want[i].body {
				t.Errorf("post %d (%s): seq %d created %v body %q err %v, want %+v", i, r.clientID, r.m.Seq, r.created, r.m.Body, r.err, want[i])
			}
		}
		seqs, last := storedSeqs(t, d, conv)
		if fmt.Sprint(seqs) != "[1 2 3 4]" || last != 4 {
			t.Fatalf("stored seqs %v, last_seq %d; want [1 2 3 4], 4", seqs, last)
		}
	})
}

// TestWriterBatchFailure: posts refused inside a batch (not a member, a
// reply to a message not yet sent — refused after its seq was taken) fail
// alone: the others are stored with gap-free seqs.
func TestWriterBatchFailure(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := batchedStore(d)
		conv := groupConv(t, s, f, "Groupe", f.pupilA, f.pupilB)
		other := groupConv(t, s, f, "Autre groupe", f.pupilB)
		batch := []*postReq{
			req(conv, f.pupilA, "a", "premier", Extra{}),
			req(conv, f.pupilB, "b", "réponse au futur", Extra{ReplyTo: 50}),
			req(conv, f.outsider, "c", "intrus", Extra{}),
			req(other, f.pupilB, "d", "ailleurs", Extra{}),
			req(conv, f.pupilB, "e", "deuxième", Extra{ReplyTo: 1}),
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		gone := req(conv, f.pupilA, "f", "abandonné", Extra{})
		gone.ctx = cancelled
		batch = append(batch, gone)
		s.commitBatch(batch)
		check := func(i int, seq int64, want error) {
			t.Helper()
			r := batch[i]
			if want != nil {
				if !errors.Is(r.err, want) || r.created {
					t.Errorf("post %s: err %v created %v, want %v", r.clientID, r.err, r.created, want)
				}
				return
			}
			if r.err != nil || !r.created || r.m.Seq != seq {
				t.Errorf("post %s: seq %d created %v err %v, want seq %d", r.clientID, r.m.Seq, r.created, r.err, seq)
			}
		}
		check(0, 1, nil)
		check(1, 0, ErrInvalid)
		check(2, 0, ErrNotFound)
		check(3, 1, nil)
		check(4, 2, nil)
		check(5, 0, context.Canceled)
		if seqs, last := storedSeqs(t, d, conv); fmt.Sprint(seqs) != "[1 2]" || last != 2 {
			t.Fatalf("stored seqs %v, last_seq %d; want [1 2], 2", seqs, last)
		}
		// The next post follows without a gap.
		if m, err := s.Post(ctx, conv, f.pupilA, "g", "troisième"); err != nil || m.Seq != 3 {
			t.Fatalf("next post %+v %v, want seq 3", m, err)
		}
	})
}

// TestWriterBusy: with the writer held up (another connection holds
// SQLite's write lock) and its queue full, a post answers ErrBusy at once
// and stores nothing; the waiting posts are stored once the lock is gone.
func TestWriterBusy(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, d)
	s := NewStore(d)
	s.writer.maxQueued = 1
	conv := groupConv(t, s, f, "Groupe", f.pupilA, f.pupilB)
	lock, err := d.SQL.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	queued := func() (n int, running bool) {
		s.writer.mu.Lock()
		defer s.writer.mu.Unlock()
		return len(s.writer.queue), s.writer.running
	}
	type result struct {
		m   Message
		err error
	}
	results := make(chan result, 2)
	post := func(id string) {
		m, err := s.Post(ctx, conv, f.pupilA, id, "en attente")
		results <- result{m, err}
	}
	go post("a")
	eventually(t, "the writer takes the first post", func() bool { n, running := queued(); return n == 0 && running })
	go post("b")
	eventually(t, "the second post waits in the queue", func() bool { n, _ := queued(); return n == 1 })
	if _, err := s.Post(ctx, conv, f.pupilB, "c", "de trop"); !errors.Is(err, ErrBusy) {
		t.Fatalf("post into a full queue: %v, want ErrBusy", err)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for range 2 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		got[r.m.Seq] = true
	}
	if !got[1] || !got[2] {
		t.Fatalf("seqs %v, want 1 and 2", got)
	}
	if seqs, last := storedSeqs(t, d, conv); fmt.Sprint(seqs) != "[1 2]" || last != 2 {
		t.Fatalf("stored seqs %v, last_seq %d; want [1 2], 2 (the busy post not stored)", seqs, last)
	}
	eventually(t, "the writer goroutine ends", func() bool { _, running := queued(); return !running })
}

// TestWriterCancelQueued: a post whose sender stops waiting while it is
// still queued is taken back and never stored; one already in a batch is
// waited for and answered with its outcome.
func TestWriterCancelQueued(t *testing.T) {
	d := dbtest.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, d)
	s := NewStore(d)
	conv := groupConv(t, s, f, "Groupe", f.pupilA, f.pupilB)
	lock, err := d.SQL.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	queued := func() (n int, running bool) {
		s.writer.mu.Lock()
		defer s.writer.mu.Unlock()
		return len(s.writer.queue), s.writer.running
	}
	// a is in the writer's batch (blocked on the lock) when its sender
	// gives up; b is still queued when its sender gives up.
	actx, acancel := context.WithCancel(ctx)
	aDone := make(chan error, 1)
	go func() {
		m, err := s.Post(actx, conv, f.pupilA, "a", "dans le lot")
		if err == nil && m.Seq != 1 {
			err = fmt.Errorf("seq %d, want 1", m.Seq)
		}
		aDone <- err
	}()
	eventually(t, "the writer takes the first post", func() bool { n, running := queued(); return n == 0 && running })
	bctx, bcancel := context.WithCancel(ctx)
	bDone := make(chan error, 1)
	go func() {
		_, err := s.Post(bctx, conv, f.pupilB, "b", "en file")
		bDone <- err
	}()
	eventually(t, "the second post waits in the queue", func() bool { n, _ := queued(); return n == 1 })
	bcancel()
	if err := <-bDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued post after cancel: %v, want context.Canceled", err)
	}
	if n, _ := queued(); n != 0 {
		t.Fatalf("%d posts queued after the cancelled one was taken back", n)
	}
	acancel() // too late: a is in a batch, its outcome is waited for
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-aDone; err != nil {
		t.Fatalf("post in the batch: %v", err)
	}
	if seqs, last := storedSeqs(t, d, conv); fmt.Sprint(seqs) != "[1]" || last != 1 {
		t.Fatalf("stored seqs %v, last_seq %d; want [1], 1 (the cancelled post not stored)", seqs, last)
	}
}
