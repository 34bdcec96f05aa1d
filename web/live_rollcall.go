package web

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	livestore "preau/ent/live"
	"preau/sfu"
)

// The journal of a running lesson's roll call. The SFU keeps the roll call in
// memory; one goroutine per lesson compares it with what was written every
// Live.RollCallEvery and writes the users whose record changed (a join, a
// departure), with the lesson's heartbeat, at least every
// Live.HeartbeatEvery. A running user's row holds the start of their session
// (since_ms), so rows change only when someone comes or goes, and the
// heartbeat alone says until when the present ones were there. When the room
// ends, saveRollCall writes the final roll call over the journal. A node
// killed mid-lesson leaves its lesson "running" with a stale heartbeat: the
// next sweep (at a lesson start, at each read of the history) closes it as
// interrupted at its last heartbeat, with the roll call written up to then.

const (
	defaultRollCallEvery  = 2 * time.Second
	defaultHeartbeatEvery = 10 * time.Second
	defaultOrphanAfter    = 2 * time.Minute
)

func (l *Live) rollCallEvery() time.Duration {
	if l.RollCallEvery > 0 {
		return l.RollCallEvery
	}
	return defaultRollCallEvery
}

func (l *Live) heartbeatEvery() time.Duration {
	if l.HeartbeatEvery > 0 {
		return l.HeartbeatEvery
	}
	return defaultHeartbeatEvery
}

// journal stops a lesson's journal goroutine.
type journal struct {
	once   sync.Once
	done   chan struct{} // closed by stop
	exited chan struct{} // closed when the goroutine returns
}

func newJournal() *journal { return &journal{done: make(chan struct{}), exited: make(chan struct{})} }

// stop ends the journal; it may be called more than once.
func (j *journal) stop() { j.once.Do(func() { close(j.done) }) }

// journalRun is the state of one lesson's journal (owned by its goroutine).
type journalRun struct {
	store   *livestore.Store
	l       lesson
	id      int64                          // the lesson's row, 0 until written
	written map[int64]livestore.Attendance // by user, as last written
	beat    time.Time                      // the last heartbeat written
}

// journalRollCall writes lesson l's roll call as it goes, until its room
// ends (saveRollCall then writes the final one) or its journal is stopped.
// A failed write is logged and tried again at the next tick.
func (s *Server) journalRollCall(l lesson) {
	defer close(l.journal.exited)
	live := s.cfg.Live
	run := &journalRun{store: livestore.NewStore(s.db), l: l, written: map[int64]livestore.Attendance{}}
	tick := time.NewTicker(live.rollCallEvery())
	defer tick.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-l.journal.done:
				return
			case <-tick.C:
			}
		}
		if live.Manager.Room(l.Room) != l.room {
			return // ended: the final roll call is saveRollCall's
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := run.step(ctx, l.room.Attendance(), live.now(), live.heartbeatEvery())
		cancel()
		if errors.Is(err, livestore.ErrClosed) {
			return
		}
		if err != nil {
			s.log.Warn("live: journal roll call", "room", l.Room, "err", err)
		}
	}
}

// step writes the records of roll that changed since the last write, with
// the heartbeat now; with nothing changed, only the heartbeat, once it is
// older than beatEvery.
func (j *journalRun) step(ctx context.Context, roll []sfu.AttendanceRecord, now time.Time, beatEvery time.Duration) error {
	if j.id == 0 {
		id, err := j.store.Start(ctx, livestore.Lesson{Room: j.l.Room, Structure: j.l.structure, ClassID: j.l.ClassID,
			StartedBy: j.l.StartedBy, StartedAt: j.l.StartedAt})
		if err != nil {
			return err
		}
		j.id = id
	}
	rows := make([]livestore.Attendance, 0, len(roll))
	for _, r := range roll {
		if a, ok := journalRow(r); ok {
			rows = append(rows, a)
		}
	}
	var changed []livestore.Attendance
	for _, a := range j.l.withPrior(rows) { // a re-created lesson's earlier time (live_resume.go)
		if w, ok := j.written[a.UserID]; !ok || !sameRow(w, a) {
			changed = append(changed, a)
		}
	}
	if len(changed) == 0 && now.Sub(j.beat) < beatEvery {
		return nil
	}
	if err := j.store.Checkpoint(ctx, j.id, now, changed); err != nil {
		return err
	}
	for _, a := range changed {
		j.written[a.UserID] = a
	}
	j.beat = now
	return nil
}

// journalRow is r as the journal stores it: the closed sessions' time and
// the running session's start, which only change when the user comes or
// goes. ok is false for a user id that is not a number (grants name users
// by their numeric id).
func journalRow(r sfu.AttendanceRecord) (livestore.Attendance, bool) {
	id, err := strconv.ParseInt(r.User, 10, 64)
	if err != nil {
		return livestore.Attendance{}, false
	}
	return livestore.Attendance{UserID: id, Name: r.Name, Role: r.Role, FirstJoin: r.FirstJoin, LastLeave: r.LastLeave,
		Total: time.Duration(r.ClosedMS) * time.Millisecond, Sessions: r.Sessions, Since: r.Since}, true
}

func sameRow(a, b livestore.Attendance) bool {
	return a.Name == b.Name && a.Role == b.Role && a.FirstJoin.Equal(b.FirstJoin) && a.LastLeave.Equal(b.LastLeave) &&
		a.Total == b.Total && a.Sessions == b.Sessions && a.Since.Equal(b.Since)
}

// sweepLessons closes the lessons whose node died (no heartbeat for
// Live.OrphanAfter) as interrupted. It runs when a lesson starts and before
// the history is read, so the history never shows a dead lesson as running
// for long; a failure is logged, the caller goes on.
// SweepLessons closes, as interrupted, the lessons left running by a node
// that stopped (no heartbeat for Live.OrphanAfter): `preau serve` runs it at
// start and every 10 minutes.
func (s *Server) SweepLessons(ctx context.Context) { s.sweepLessons(ctx) }

func (s *Server) sweepLessons(ctx context.Context) {
	now, after := time.Now(), defaultOrphanAfter
	if l := s.cfg.Live; l != nil {
		now = l.now()
		if l.OrphanAfter > 0 {
			after = l.OrphanAfter
		}
	}
	n, err := livestore.NewStore(s.db).Sweep(ctx, now.Add(-after))
	if err != nil {
		s.log.Warn("live: sweep interrupted lessons", "err", err)
		return
	}
	if n > 0 {
		s.log.Warn("live: lessons interrupted (their node stopped)", "lessons", n)
	}
}
