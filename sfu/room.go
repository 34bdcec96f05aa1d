package sfu

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
)

// Room is a live lesson or meeting on this node. Its lock guards membership,
// tracks, the hand queue and the lock flag; no I/O is done while holding it:
// methods copy what they need, unlock, then write.
type Room struct {
	m    *Manager
	id   string
	kind Kind

	mu           sync.Mutex
	participants map[string]*Participant // by user id: one connection per user
	tracks       map[string]*publishedTrack
	hands        []string // user ids, in the order hands were raised
	banned       map[string]bool
	locked       bool
	closed       bool
	abandoned    bool // closed by Abandon: the room runs on another node now

	// The waiting room: when on, participants (not moderators) wait in
	// waiting until a moderator admits them; admitted users come back
	// without waiting (a reload, a network blip).
	waitingRoom bool
	waiting     map[string]*Participant
	waitOrder   []string // user ids in waiting, in arrival order
	admitted    map[string]bool

	attendance map[string]*presence
	onEnd      func([]AttendanceRecord)
	speaker    speakerState // the active speaker (speaker.go)
}

var trackSeq atomic.Uint64

func newRoom(m *Manager, id string, kind Kind) *Room {
	return &Room{m: m, id: id, kind: kind,
		participants: map[string]*Participant{}, tracks: map[string]*publishedTrack{}, banned: map[string]bool{},
		waiting: map[string]*Participant{}, admitted: map[string]bool{}, attendance: map[string]*presence{}}
}

// ID returns the room's id.
func (r *Room) ID() string { return r.id }

// Kind returns what the room is for.
func (r *Room) Kind() Kind { return r.kind }

// Participants lists who is in the room now.
func (r *Room) Participants() []ParticipantInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ParticipantInfo, 0, len(r.participants))
	for _, p := range r.participants {
		out = append(out, p.Info())
	}
	return out
}

// join admits the holder of g, or puts them in the waiting room. A second
// connection of the same user replaces the first (reload, new device).
func (r *Room) join(ctx context.Context, g Grant, c *websocket.Conn) (*Participant, error) {
	p, err := r.newParticipant(ctx, g, c)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	switch {
	case r.closed:
		err = ErrUnknownRoom
	case r.banned[g.UserID]:
		err = ErrKicked
	case r.locked && g.Role != RoleModerator:
		err = ErrRoomLocked
	}
	wait := err == nil && r.waitingRoom && g.Role != RoleModerator && !r.admitted[g.UserID]
	var old *Participant
	var mods []*Participant
	var lobby []ParticipantInfo
	if wait {
		p.waiting.Store(true)
		old = r.waiting[g.UserID]
		if old == nil {
			r.waitOrder = append(r.waitOrder, g.UserID)
		}
		r.waiting[g.UserID] = p
		mods, lobby = r.moderatorsLocked(), r.lobbyLocked()
	}
	r.mu.Unlock()
	if err == nil && !wait {
		err = r.enter(p, false)
	}
	if err != nil {
		p.cancel()
		p.pc.Close()
		return nil, err
	}
	if wait {
		if old != nil {
			old.fail("replaced")
		}
		you := p.Info()
		p.send(Event{Type: TypeWaiting, Room: r.id, Kind: string(r.kind), You: &you})
		p.start()
		r.broadcast(mods, Event{Type: TypeLobby, Waiting: lobby})
	}
	return p, nil
}

// enter makes p a member: registered, told the room's state, subscribed to
// every track, announced to the others. started says whether p's loops
// already run (p was in the waiting room).
func (r *Room) enter(p *Participant, started bool) error {
	now := r.m.cfg.Now()
	uid := p.grant.UserID
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrUnknownRoom
	}
	fromLobby := r.waiting[uid] == p
	if r.participants[uid] == p || (started && !fromLobby) {
		// Admitted twice at once, or gone from the lobby (denied, left).
		r.mu.Unlock()
		return nil
	}
	if fromLobby {
		r.removeWaitingLocked(uid)
	}
	p.waiting.Store(false)
	old := r.participants[uid]
	r.participants[uid] = p
	r.admitted[uid] = true
	r.markPresentLocked(p, now)
	// Registering p and snapshotting the tracks under one lock, as
	// publishTrack registers a track and snapshots participants, means
	// every (participant, track) pair is subscribed by one side or both,
	// never by neither: the join-storm race.
	tracks := r.trackList()
	infos := make([]ParticipantInfo, 0, len(r.participants))
	others := make([]*Participant, 0, len(r.participants))
	for _, q := range r.participants {
		infos = append(infos, q.Info())
		if q != p {
			others = append(others, q)
		}
	}
	hands := slices.Clone(r.hands)
	locked, waitingRoom := r.locked, r.waitingRoom
	var lobby []ParticipantInfo
	if p.isModerator() || fromLobby {
		lobby = r.lobbyLocked()
	}
	mods := r.moderatorsLocked()
	r.mu.Unlock()

	if old != nil {
		old.fail("replaced")
	}
	you := p.Info()
	p.mu.Lock()
	perm := p.perm
	p.mu.Unlock()
	joined := Event{Type: TypeJoined, Room: r.id, Kind: string(r.kind), You: &you, Participants: infos,
		Hands: hands, Locked: &locked, Permissions: &perm, WaitingRoom: &waitingRoom}
	if p.isModerator() {
		joined.Waiting = lobby
	}
	for _, t := range tracks {
		if t.owner != p {
			joined.Tracks = append(joined.Tracks, t.info)
		}
	}
	if fromLobby {
		p.send(Event{Type: TypeAdmitted})
	}
	p.send(joined)
	if !started {
		p.start()
	}
	p.requestNegotiation()
	evt := encode(Event{Type: TypeParticipantIn, Participant: &you})
	for _, q := range others {
		q.sendRaw(evt)
	}
	if fromLobby {
		r.broadcast(mods, Event{Type: TypeLobby, Waiting: lobby})
	}
	for _, t := range tracks {
		p.subscribe(t, false)
	}
	return nil
}

func (r *Room) trackList() []*publishedTrack {
	out := make([]*publishedTrack, 0, len(r.tracks))
	for _, t := range r.tracks {
		out = append(out, t)
	}
	return out
}

func (r *Room) tracksByID(ids []string) []*publishedTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*publishedTrack
	for _, id := range ids {
		if t := r.tracks[id]; t != nil {
			out = append(out, t)
		}
	}
	return out
}

// others returns every participant but p (under r.mu).
func (r *Room) othersLocked(p *Participant) []*Participant {
	out := make([]*Participant, 0, len(r.participants))
	for _, q := range r.participants {
		if q != p {
			out = append(out, q)
		}
	}
	return out
}

// leave removes p, its tracks from every subscriber and its raised hand.
func (r *Room) leave(p *Participant) {
	now := r.m.cfg.Now()
	r.mu.Lock()
	if r.waiting[p.grant.UserID] == p {
		r.removeWaitingLocked(p.grant.UserID)
		mods, lobby := r.moderatorsLocked(), r.lobbyLocked()
		r.mu.Unlock()
		r.broadcast(mods, Event{Type: TypeLobby, Waiting: lobby})
		return
	}
	if r.participants[p.grant.UserID] != p {
		r.mu.Unlock()
		return
	}
	delete(r.participants, p.grant.UserID)
	r.markAbsentLocked(p.grant.UserID, now)
	var gone []*publishedTrack
	for id, t := range r.tracks {
		if t.owner == p {
			gone = append(gone, t)
			delete(r.tracks, id)
		}
	}
	handsChanged := r.removeHandLocked(p.grant.UserID)
	hands := slices.Clone(r.hands)
	others := r.othersLocked(p)
	r.mu.Unlock()

	info := p.Info()
	evt := encode(Event{Type: TypeParticipantOut, Participant: &info})
	for _, q := range others {
		for _, t := range gone {
			t.stop()
			q.unsubscribe(t)
		}
		q.sendRaw(evt)
		if handsChanged {
			q.send(Event{Type: TypeHands, Hands: hands})
		}
	}
	for _, t := range gone {
		t.stop()
	}
}

// publishTrack registers a track received from p and subscribes everyone
// else to it; levelID is a microphone's audio-level extension id (0: none).
func (r *Room) publishTrack(p *Participant, source string, remote *webrtc.TrackRemote, levelID uint8) {
	id := "t" + strconv.FormatUint(trackSeq.Add(1), 10)
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, id, p.grant.UserID)
	if err != nil {
		p.send(errorEvent("internal"))
		return
	}
	t := &publishedTrack{
		info:  TrackInfo{ID: id, User: p.grant.UserID, Source: source, Kind: remote.Kind().String()},
		owner: p, remote: remote, local: local, codec: remote.Codec().RTPCodecCapability, stats: &r.m.stats,
		levelID: levelID,
	}
	if r.addTrack(t) {
		go t.forward(func() { r.unpublish(t) })
		r.subscribeOthers(t)
	}
}

// newSimulcastTrack makes the track of a simulcast source, before any of
// its layers is added (simulcast.go).
func (r *Room) newSimulcastTrack(p *Participant, source string, remote *webrtc.TrackRemote) *publishedTrack {
	id := "t" + strconv.FormatUint(trackSeq.Add(1), 10)
	return &publishedTrack{
		info:  TrackInfo{ID: id, User: p.grant.UserID, Source: source, Kind: remote.Kind().String(), Simulcast: true},
		owner: p, codec: remote.Codec().RTPCodecCapability, stats: &r.m.stats, simulcast: true,
	}
}

// addTrack registers t, unless the room is closed or its owner gone.
func (r *Room) addTrack(t *publishedTrack) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.participants[t.owner.grant.UserID] != t.owner {
		return false
	}
	r.tracks[t.info.ID] = t
	return true
}

// subscribeOthers subscribes everyone but the owner to t. Registering t and
// then snapshotting the participants pairs with enter (the join-storm race).
func (r *Room) subscribeOthers(t *publishedTrack) {
	r.mu.Lock()
	subs := r.othersLocked(t.owner)
	r.mu.Unlock()
	for _, q := range subs {
		q.subscribe(t, true)
	}
}

// unpublish stops forwarding t and removes it from every subscriber.
func (r *Room) unpublish(t *publishedTrack) {
	t.stop() // forwarding stops here, before any renegotiation
	r.mu.Lock()
	if r.tracks[t.info.ID] != t {
		r.mu.Unlock()
		return
	}
	delete(r.tracks, t.info.ID)
	subs := r.othersLocked(t.owner)
	r.mu.Unlock()
	for _, q := range subs {
		q.unsubscribe(t)
	}
}

// unpublishWhere unpublishes p's tracks for which drop is true.
func (r *Room) unpublishWhere(p *Participant, drop func(*publishedTrack) bool) {
	r.mu.Lock()
	var gone []*publishedTrack
	for _, t := range r.tracks {
		if t.owner == p && drop(t) {
			gone = append(gone, t)
		}
	}
	r.mu.Unlock()
	for _, t := range gone {
		r.unpublish(t)
	}
}

func (r *Room) removeHandLocked(user string) bool {
	i := slices.Index(r.hands, user)
	if i < 0 {
		return false
	}
	r.hands = slices.Delete(r.hands, i, i+1)
	return true
}

// raiseHand adds or removes p in the ordered hand queue and tells everyone.
func (r *Room) raiseHand(p *Participant, up bool) {
	r.mu.Lock()
	changed := false
	if up && !slices.Contains(r.hands, p.grant.UserID) {
		r.hands = append(r.hands, p.grant.UserID)
		changed = true
	} else if !up {
		changed = r.removeHandLocked(p.grant.UserID)
	}
	hands := slices.Clone(r.hands)
	all := r.othersLocked(nil)
	r.mu.Unlock()
	if changed {
		r.broadcast(all, Event{Type: TypeHands, Hands: hands})
	}
}

// broadcast encodes e once and queues the same bytes to each.
func (r *Room) broadcast(to []*Participant, e Event) {
	b := encode(e)
	for _, q := range to {
		q.sendRaw(b)
	}
}

// moderate runs a moderator's command (the caller checked the role).
func (r *Room) moderate(mod *Participant, m Message) {
	switch m.Type {
	case TypeEnd:
		r.End()
		return
	case TypeLock:
		r.mu.Lock()
		r.locked = *m.Locked
		all := r.othersLocked(nil)
		r.mu.Unlock()
		locked := *m.Locked
		r.broadcast(all, Event{Type: TypeLocked, Locked: &locked})
		return
	case TypeSetWaitingRoom:
		r.SetWaitingRoom(*m.WaitingRoom)
		return
	case TypeAttendance:
		mod.send(Event{Type: TypeAttendanceList, Attendance: r.Attendance()})
		return
	case TypeAdmit, TypeDeny:
		r.admit(mod, m.User, m.Type == TypeAdmit)
		return
	}
	r.mu.Lock()
	target := r.participants[m.User]
	if m.Type == TypeKick && target != nil && target.grant.Role != RoleModerator {
		r.banned[m.User] = true
	}
	r.mu.Unlock()
	if target == nil {
		mod.send(errorEvent("not_found"))
		return
	}
	switch m.Type {
	case TypeKick:
		if target.isModerator() {
			mod.send(errorEvent("forbidden"))
			return
		}
		target.fail("kicked") // PeerConnection closed now, socket after the event
	case TypeMute:
		target.unpublish([]string{SourceMicrophone}) // publishing again makes a new slot
		target.send(Event{Type: TypeMuted})
	case TypeGiveFloor:
		target.mu.Lock()
		target.perm.Audio = true
		target.perm.Video = target.perm.Video || m.Video
		perm := target.perm
		target.mu.Unlock()
		r.setHand(target, perm)
	case TypeTakeFloor:
		target.mu.Lock()
		target.perm = basePermissions(target.grant)
		perm := target.perm
		target.mu.Unlock()
		target.dropSlots()
		r.unpublishWhere(target, func(t *publishedTrack) bool { return !allowedBy(perm, t.info.Source) })
		r.setHand(target, perm)
	}
}

// setHand lowers target's hand and tells it its new permissions.
func (r *Room) setHand(target *Participant, perm Permissions) {
	r.mu.Lock()
	changed := r.removeHandLocked(target.grant.UserID)
	hands := slices.Clone(r.hands)
	all := r.othersLocked(nil)
	r.mu.Unlock()
	target.send(Event{Type: TypePermissions, Permissions: &perm})
	if changed {
		r.broadcast(all, Event{Type: TypeHands, Hands: hands})
	}
}

// End closes the room: every participant gets "ended", then its
// PeerConnection and socket are closed. The room is forgotten by the
// manager; a join afterwards is refused as an unknown room.
func (r *Room) End() { r.close(false) }

// Abandon closes the room like End but tells nobody it ended: the sockets
// and PeerConnections are cut, as if this node had died, so that the pages
// reconnect by themselves — to the node that runs the room now (this one
// was taken for dead and the room re-created there). The OnEnd function
// is called, and Abandoned then reports true: the room's owner should not
// record an end the lesson has not had.
func (r *Room) Abandon() { r.close(true) }

// Abandoned reports whether the room was closed by Abandon.
func (r *Room) Abandoned() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.abandoned
}

func (r *Room) close(abandon bool) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed, r.abandoned = true, abandon
	now := r.m.cfg.Now()
	for u := range r.attendance {
		r.markAbsentLocked(u, now)
	}
	all := r.othersLocked(nil)
	for _, u := range r.waitOrder {
		all = append(all, r.waiting[u])
	}
	onEnd := r.onEnd
	r.mu.Unlock()
	r.m.forget(r)
	if !abandon {
		b := encode(Event{Type: TypeEnded})
		for _, p := range all {
			p.sendRaw(b)
		}
	}
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Go(func() { p.close() })
	}
	wg.Wait()
	if onEnd != nil {
		onEnd(r.Attendance())
	}
}
