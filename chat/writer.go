package chat

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"

	"preau/db"
)

// Group commit. SQLite has one writer at a time and each commit costs a
// WAL write: posters each committing their own transaction top out near
// 2,000 messages/s on the 2-core machine (docs/benchmarks.md). The
// postWriter is the store's single writer: posters queue their posts, and
// one goroutine commits whatever is waiting in one transaction. So:
//   - each post still gets its conversation's next seq (the UPDATE of
//     last_seq, in arrival order within a conversation), gap-free since a
//     post that fails after taking its seq is taken out and the batch
//     run again (commitBatch);
//   - a resend with the same client id, even in the same batch, finds the
//     first in the transaction and stores nothing;
//   - a poster is answered only after its batch committed; an error fails
//     the posts it concerns: its own post alone for a refused post, the
//     whole batch when the commit itself fails;
//   - the queue is bounded: beyond maxQueued waiting posts, Post answers
//     ErrBusy at once instead of waiting.
//
// (A savepoint per post would also isolate failures; it costs two more
// statements per post, and failures after a write are rare.)
//
// The goroutine runs only while posts wait: it starts with the first post
// and ends when the queue is empty, so a store needs no Close.

// Limits of the writer.
const (
	// defaultMaxBatch is the most posts committed in one transaction.
	defaultMaxBatch = 256
	// defaultMaxQueued is the most posts waiting for the writer.
	defaultMaxQueued = 4096
)

// postReq is one post waiting for the writer. The writer sets m, created
// and err, then closes done.
type postReq struct {
	ctx            context.Context
	conv, sender   int64
	clientID, body string
	folded         string // Fold(body)
	x              Extra
	m              Message
	created        bool
	err            error
	done           chan struct{}
}

// postWriter queues posts for one committing goroutine.
type postWriter struct {
	s                   *Store
	maxBatch, maxQueued int

	mu      sync.Mutex
	queue   []*postReq
	running bool // the goroutine is committing; it empties queue before it ends
}

func newPostWriter(s *Store) *postWriter {
	return &postWriter{s: s, maxBatch: defaultMaxBatch, maxQueued: defaultMaxQueued}
}

// post queues r and waits until its batch is committed (or failed). When
// ctx ends first, a post still queued is taken back (never stored); one
// already in a batch is waited for, the batch being bounded by its own
// timeout, so that the caller always learns what became of it (Hub drops
// attachment copies of a post that failed).
func (w *postWriter) post(ctx context.Context, r *postReq) (Message, bool, error) {
	r.done = make(chan struct{})
	w.mu.Lock()
	if len(w.queue) >= w.maxQueued {
		w.mu.Unlock()
		return Message{}, false, ErrBusy
	}
	w.queue = append(w.queue, r)
	if !w.running {
		w.running = true
		go w.run()
	}
	w.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		w.mu.Lock()
		i := slices.Index(w.queue, r)
		if i >= 0 {
			w.queue = slices.Delete(w.queue, i, i+1)
		}
		w.mu.Unlock()
		if i >= 0 {
			return Message{}, false, ctx.Err()
		}
		<-r.done
	}
	return r.m, r.created, r.err
}

// run commits batches until the queue is empty.
func (w *postWriter) run() {
	for {
		w.mu.Lock()
		n := min(len(w.queue), w.maxBatch)
		if n == 0 {
			w.running = false
			w.queue = nil // let a burst's backing array go
			w.mu.Unlock()
			return
		}
		batch := slices.Clone(w.queue[:n])
		old := len(w.queue)
		w.queue = append(w.queue[:0], w.queue[n:]...)
		clear(w.queue[len(w.queue):old]) // no stale pointers past the end
		w.mu.Unlock()
		w.s.commitBatch(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

// commitBatch stores the posts of rs in one transaction and sets each
// one's outcome.
//
// A post refused by the conversation's rules (not a member, muted…) is
// refused before it writes anything, and the batch goes on. A post that
// fails after writing (its seq taken, then a reply to a later message, or
// a database error) rolls the whole transaction back, and the batch is run
// again without it: no savepoint per post (two more statements each), and
// no gap in the seqs. A unique violation (the same client id stored by
// another process in between) is run again too, and then found as a resend.
func (s *Store) commitBatch(rs []*postReq) {
	todo := make([]*postReq, 0, len(rs))
	for _, r := range rs {
		if err := r.ctx.Err(); err != nil {
			r.err = err // the poster has stopped waiting: not stored
			continue
		}
		todo = append(todo, r)
	}
	// In conversation order (stable: arrival order within one), so that
	// two writers on PostgreSQL take the rows' locks in the same order.
	slices.SortStableFunc(todo, func(a, b *postReq) int { return cmp.Compare(a.conv, b.conv) })
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	for attempts := len(todo) + 1; len(todo) > 0; attempts-- {
		var failed *postReq
		err := s.inBatchTx(ctx, func(tx *batchTx) error {
			for _, r := range todo {
				r.m, r.created, r.err = s.postIn(ctx, tx, r.conv, r.sender, r.clientID, r.body, r.folded, r.x)
				if r.err != nil && !refusedClean(r.err) {
					failed = r
					return r.err
				}
			}
			return nil
		})
		if failed != nil && attempts > 1 && ctx.Err() == nil {
			if !db.IsUniqueViolation(failed.err) {
				todo = slices.DeleteFunc(todo, func(r *postReq) bool { return r == failed })
				failed.m, failed.created = Message{}, false
				failed.err = fmt.Errorf("chat: post: %w", failed.err)
			}
			continue
		}
		if err != nil {
			// Nothing of the batch is committed.
			for _, r := range todo {
				r.m, r.created, r.err = Message{}, false, fmt.Errorf("chat: batch of %d posts: %w", len(todo), err)
			}
		}
		return
	}
}

// refusedClean reports whether a post's error is a refusal that the post
// met before writing anything: the batch may go on.
func refusedClean(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrMuted) || errors.Is(err, ErrReadOnly) ||
		errors.Is(err, ErrOutOfHours)
}

// inBatchTx runs fn in a transaction whose statements are prepared once
// per connection and kept (Store.stmts): parsing the SQL of every statement
// again (what database/sql does for a query with arguments on SQLite) was
// most of a post's CPU time.
func (s *Store) inBatchTx(ctx context.Context, fn func(tx *batchTx) error) (err error) {
	stx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			stx.Rollback()
			panic(p)
		}
		if err != nil {
			stx.Rollback()
		}
	}()
	if err = fn(&batchTx{tx: stx, d: s.db, cache: &s.stmts, stmts: map[string]*sql.Stmt{}}); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// stmtCache holds the writer's statements, prepared on the database: a
// transaction reuses one already prepared on its connection.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, d *db.DB, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	st, err := d.SQL.PrepareContext(ctx, d.Rebind(q))
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, nil
}

// batchTx is a db.Querier over a transaction that runs the statements of
// a stmtCache; those of the transaction are closed with it.
type batchTx struct {
	tx    *sql.Tx
	d     *db.DB
	cache *stmtCache
	stmts map[string]*sql.Stmt
}

var _ db.Querier = (*batchTx)(nil)

func (t *batchTx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.cache.get(ctx, t.d, q)
	if err != nil {
		return nil, err
	}
	st = t.tx.StmtContext(ctx, st)
	t.stmts[q] = st
	return st, nil
}

// Exec runs a statement in the transaction.
func (t *batchTx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Query runs a query in the transaction.
func (t *batchTx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRow runs a single-row query in the transaction.
func (t *batchTx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		// Unprepared, the query reports the same error through the row.
		return t.tx.QueryRowContext(ctx, t.d.Rebind(q), args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Dialect reports the engine.
func (t *batchTx) Dialect() db.Dialect { return t.d.Dialect() }
