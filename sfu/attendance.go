package sfu

import (
	"cmp"
	"slices"
	"time"
)

// AttendanceRecord is one user's presence in a room: several connections
// (a reload, a network blip, leaving and coming back) are merged into one
// record. Time in the waiting room does not count.
type AttendanceRecord struct {
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	FirstJoin time.Time `json:"first_join"`
	// LastLeave is zero while the user is present.
	LastLeave time.Time `json:"last_leave,omitzero"`
	// TotalMS is the time present, in milliseconds, up to now when present.
	TotalMS  int64 `json:"total_ms"`
	Sessions int   `json:"sessions"`
	Present  bool  `json:"present"`
	// Since is the start of the running session (zero when absent) and
	// ClosedMS the time of the sessions already closed: the parts of TotalMS
	// that only change when someone joins or leaves, which a journal of the
	// roll call stores (web writes them as they change, so a node that dies
	// mid-lesson keeps its roll call). Not sent to the page.
	Since    time.Time `json:"-"`
	ClosedMS int64     `json:"-"`
}

// presence is a user's record while the room is open (under Room.mu).
type presence struct {
	info     ParticipantInfo
	first    time.Time
	last     time.Time
	since    time.Time // start of the current session; zero when absent
	total    time.Duration
	sessions int
}

// markPresentLocked starts a session for p's user unless one is running (a
// second connection replacing the first continues the session).
func (r *Room) markPresentLocked(p *Participant, now time.Time) {
	a := r.attendance[p.grant.UserID]
	if a == nil {
		a = &presence{first: now}
		r.attendance[p.grant.UserID] = a
	}
	a.info = p.Info()
	if a.since.IsZero() {
		a.since = now
		a.sessions++
	}
}

// markAbsentLocked ends the user's running session, if any.
func (r *Room) markAbsentLocked(user string, now time.Time) {
	a := r.attendance[user]
	if a == nil || a.since.IsZero() {
		return
	}
	if d := now.Sub(a.since); d > 0 {
		a.total += d
	}
	a.last = now
	a.since = time.Time{}
}

// Attendance returns the roll call so far, by name: who came, when first,
// when they last left, for how long in all.
func (r *Room) Attendance() []AttendanceRecord {
	now := r.m.cfg.Now()
	r.mu.Lock()
	out := make([]AttendanceRecord, 0, len(r.attendance))
	for user, a := range r.attendance {
		rec := AttendanceRecord{User: user, Name: a.info.Name, Role: a.info.Role, FirstJoin: a.first,
			LastLeave: a.last, Sessions: a.sessions, ClosedMS: a.total.Milliseconds()}
		total := a.total
		if !a.since.IsZero() {
			rec.Present = true
			rec.Since = a.since
			rec.LastLeave = time.Time{}
			if d := now.Sub(a.since); d > 0 {
				total += d
			}
		}
		rec.TotalMS = total.Milliseconds()
		out = append(out, rec)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b AttendanceRecord) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.User, b.User))
	})
	return out
}

// OnEnd sets a function called once when the room ends (by a moderator, the
// server or shutdown), after every participant has left, with the final
// roll call. The web layer stores it. It runs on the goroutine that ended
// the room.
func (r *Room) OnEnd(fn func([]AttendanceRecord)) {
	r.mu.Lock()
	r.onEnd = fn
	r.mu.Unlock()
}
