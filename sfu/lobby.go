package sfu

import "slices"

// The waiting room: when on, a participant who joins (not a moderator) is
// kept in Room.waiting with its socket open but no offer, until a moderator
// admits or denies it. The moderators see the list ("lobby" events).

// moderatorsLocked returns the moderators present (under r.mu).
func (r *Room) moderatorsLocked() []*Participant {
	var out []*Participant
	for _, q := range r.participants {
		if q.isModerator() {
			out = append(out, q)
		}
	}
	return out
}

// lobbyLocked lists who waits, in arrival order (under r.mu).
func (r *Room) lobbyLocked() []ParticipantInfo {
	out := make([]ParticipantInfo, 0, len(r.waitOrder))
	for _, u := range r.waitOrder {
		out = append(out, r.waiting[u].Info())
	}
	return out
}

func (r *Room) removeWaitingLocked(user string) {
	delete(r.waiting, user)
	if i := slices.Index(r.waitOrder, user); i >= 0 {
		r.waitOrder = slices.Delete(r.waitOrder, i, i+1)
	}
}

// SetWaitingRoom turns the waiting room on or off. Turned on, those already
// in the room stay; turned off, everyone waiting is admitted.
func (r *Room) SetWaitingRoom(on bool) {
	r.mu.Lock()
	if r.closed || r.waitingRoom == on {
		r.mu.Unlock()
		return
	}
	r.waitingRoom = on
	for u := range r.participants {
		r.admitted[u] = true
	}
	var admit []*Participant
	if !on {
		for _, u := range r.waitOrder {
			admit = append(admit, r.waiting[u])
		}
	}
	all := r.othersLocked(nil)
	r.mu.Unlock()
	r.broadcast(all, Event{Type: TypeWaitingRoom, WaitingRoom: &on})
	for _, p := range admit {
		if err := r.enter(p, true); err != nil {
			p.fail(joinErrorCode(err))
		}
	}
}

// WaitingRoom reports whether newcomers wait to be admitted.
func (r *Room) WaitingRoom() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waitingRoom
}

// admit lets user in from the waiting room (or, allow false, turns them
// away: "denied", then closed).
func (r *Room) admit(mod *Participant, user string, allow bool) {
	r.mu.Lock()
	p := r.waiting[user]
	r.mu.Unlock()
	switch {
	case p == nil:
		mod.send(errorEvent("not_found"))
	case !allow:
		p.fail("denied") // leave updates the moderators' list
	default:
		if err := r.enter(p, true); err != nil {
			p.fail(joinErrorCode(err))
		}
	}
}
