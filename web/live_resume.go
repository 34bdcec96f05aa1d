package web

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	livestore "preau/ent/live"
	"preau/sfu"
)

// Re-creating the lesson of a node that died (issue 8, fault test 5;
// docs/reliability.md). A killed node loses its rooms, but its lesson stays
// in the placement registry, on a node that no longer beats (an orphan,
// live_placement.go), and in the database as running, with the roll call
// journaled up to its last heartbeat (live_rollcall.go). The pages reconnect
// by themselves with the grant they hold (live.js), to whichever node the
// load balancer gives them. That node has the lesson re-created under the
// same room id on the least-loaded live node: itself, or the node it then
// forwards the socket to. The registry's compare-and-set (Move from the dead
// node) makes one node win when several pages come back at once; the others
// find the room on the winner and are forwarded to it.
//
// The re-created lesson keeps its start, its teacher and its database row:
// the roll call goes on, each person's time before the crash (closed at the
// last heartbeat) added to their time after it. A lesson no longer running
// in the database (a sweep closed it as interrupted, after
// Live.OrphanAfter) is over: its entry is dropped and a teacher who starts
// the class's lesson gets a new one.

// resumeLesson re-creates orphan lesson o on this node and returns the
// lesson as it now runs (here, or on the node that re-created it first).
// ok is false when it cannot: the lesson is over, this node drains, or the
// database or the registry does not answer.
func (s *Server) resumeLesson(ctx context.Context, o lesson) (lesson, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	store := livestore.NewStore(s.db)
	row, err := store.Running(ctx, o.Room)
	if errors.Is(err, livestore.ErrNotFound) {
		s.lessons.dropOrphan(o)
		return lesson{}, false
	}
	if err != nil {
		s.log.Warn("live: resume lesson", "room", o.Room, "err", err)
		return lesson{}, false
	}
	roll, err := store.Roll(ctx, row.ID)
	if err != nil {
		s.log.Warn("live: resume lesson", "room", o.Room, "err", err)
		return lesson{}, false
	}
	prior := make(map[int64]livestore.Attendance, len(roll))
	for _, a := range roll {
		prior[a.UserID] = a
	}
	l, resumed, err := s.lessons.adopt(s.cfg.Live.Manager, o, prior, s.saveRollCall)
	if err != nil {
		s.log.Warn("live: resume lesson", "room", o.Room, "err", err)
		return lesson{}, false
	}
	if resumed {
		s.log.Warn("live: lesson re-created after its node stopped", "room", l.Room, "dead_node", o.node,
			"people", len(prior))
		go s.journalRollCall(l)
	}
	return l, true
}

// errResumed: another node re-created the lesson first, and it is not
// running there any more either.
var errResumed = errors.New("live: lesson taken over by another node")

// adopt moves orphan lesson o from its dead node to this one in the
// registry and creates its room here (resumed true); onEnd is called with
// the roll call when the room ends. When this node already runs it, or
// another node moved it first, it returns that lesson (resumed false).
func (ls *lessons) adopt(m *sfu.Manager, o lesson, prior map[int64]livestore.Attendance,
	onEnd func(lesson, []sfu.AttendanceRecord)) (_ lesson, resumed bool, _ error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l, ok := ls.byClass[o.ClassID]; ok && alive(m, l) {
		return *l, false, nil
	}
	live := ls.placement()
	ctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
	defer cancel()
	key := lessonKey(o.ClassID)
	moved, err := live.Registry.Move(ctx, key, o.node, live.Node.ID)
	if err != nil {
		return lesson{}, false, err
	}
	if !moved {
		if l, ok := ls.elsewhere(ctx, o.ClassID); ok && !l.orphan && l.Room == o.Room {
			return l, false, nil
		}
		return lesson{}, false, errResumed
	}
	room, err := m.CreateRoom(o.Room, sfu.KindLesson)
	if err != nil {
		live.Registry.Release(ctx, key, live.Node.ID)
		return lesson{}, false, err
	}
	l := &lesson{Room: o.Room, ClassID: o.ClassID, StartedBy: o.StartedBy, StartedAt: o.StartedAt,
		WaitingRoom: o.WaitingRoom, structure: o.structure, room: room, journal: newJournal(), prior: prior}
	room.SetWaitingRoom(o.WaitingRoom)
	started := *l
	room.OnEnd(func(roll []sfu.AttendanceRecord) {
		ls.release(started)
		if !room.Abandoned() { // abandoned: it goes on elsewhere
			onEnd(started, roll)
		}
	})
	if ls.byClass == nil {
		ls.byClass = map[int64]*lesson{}
	}
	ls.byClass[o.ClassID] = l
	return *l, true, nil
}

// dropOrphan forgets orphan lesson o in the registry, if it is still on its
// dead node. Its database row is closed as interrupted by the next sweep.
func (ls *lessons) dropOrphan(o lesson) {
	live := ls.placement()
	if live == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
	defer cancel()
	live.Registry.Release(ctx, lessonKey(o.ClassID), o.node)
}

// withPrior returns the roll-call rows of a re-created lesson: each row of
// rows with its user's time before the crash added, then the users who did
// not come back, as they were at the crash. A lesson that was not
// re-created returns rows as they are.
func (l *lesson) withPrior(rows []livestore.Attendance) []livestore.Attendance {
	if len(l.prior) == 0 {
		return rows
	}
	seen := make(map[int64]bool, len(rows))
	out := make([]livestore.Attendance, 0, max(len(rows), len(l.prior)))
	for _, a := range rows {
		seen[a.UserID] = true
		if p, ok := l.prior[a.UserID]; ok {
			if !p.FirstJoin.IsZero() && (a.FirstJoin.IsZero() || p.FirstJoin.Before(a.FirstJoin)) {
				a.FirstJoin = p.FirstJoin
			}
			a.Total += p.Total
			a.Sessions += p.Sessions
		}
		out = append(out, a)
	}
	for id, p := range l.prior {
		if !seen[id] {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b livestore.Attendance) int { return cmp.Compare(a.UserID, b.UserID) })
	return out
}
