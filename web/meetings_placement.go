package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"preau/sfu"
	"preau/sfu/placement"
)

// Meeting and council rooms across nodes (issue 8; docs/meetings.md
// "Several nodes"). Like a lesson's, a meeting room lives on one node and
// the placement registry (live_placement.go) holds room → node, under the
// room id itself (rdv-<slot>, conseil-<council>), with the window's end as
// its Meta.
//
// Where it opens: the node that hands out the first grant runs it, after
// a request for the grant went, with the member's cookie, to the live node
// with the fewest participants, as a lesson's start does. Any node checks
// who may come in; a node that does not run the room (nor is the least
// loaded for a new one) creates nothing and forwards the grant request to
// the node that runs it, or is to open it; the page's socket is then
// forwarded there by LiveWS. Unlike "create where the socket lands", a
// room is always open before a page connects to it, so that a signaling
// socket never creates a room: a socket for a room placed nowhere (ended,
// cancelled) gets "unknown room" and the page stops, as on one node.
//
// Ending: each node ends its own rooms. A moderator's "end" is forwarded
// to the room's node, like a lesson's. A cancellation (endMeetingRoom,
// called by the meetings and councils modules) has no request that the
// room's node would accept — whoever cancels is often not a moderator,
// and the room is no longer theirs once cancelled — and nodes hold no
// credentials to call each other: it marks the registry entry as ended
// instead (a compare-and-set Move to endedMark(node)); the room's node
// sees the mark within a second (watchMeeting), ends the room and drops
// the entry. The same loop keeps the entry (claimed again when Redis lost
// it; the room ended here when another node holds it) and ends the room
// at the window's end, on the node that runs it.
//
// A node that dies: the pages reconnect with the grant they hold, and the
// node the socket lands on has the room re-created under the same id on
// the least-loaded live node (Move from the dead node, the same
// compare-and-set as lessons, live_resume.go): with nothing to recover but
// the window's end, the registry's Meta is enough.
//
// One node alone (in-memory registry) gets what it had: the room opens on
// the first page or grant, ends on a cancellation at once, and at the
// window's end.

// placedMeeting is a meeting room as the registry keeps it
// (placement.Room.Meta): what a node needs to re-create it.
type placedMeeting struct {
	Closes time.Time `json:"closes"`
}

// endedPrefix marks the registry entry of a room asked to end: its node
// is endedMark(node), no node beats under that name, and the room's node
// ends it and then drops the entry.
const endedPrefix = "ended:"

func endedMark(node string) string { return endedPrefix + node }

// endedOwner returns the node an ended mark names.
func endedOwner(node string) (string, bool) {
	if owner, ok := strings.CutPrefix(node, endedPrefix); ok {
		return owner, true
	}
	return "", false
}

// errMeetingPlacement: the room moved from node to node while this node
// looked for it, or its node is still ending it after a cancellation; the
// page tries again.
var errMeetingPlacement = errors.New("web: meeting room: placement kept changing")

// hostMeeting returns where the room of spec runs: "" when on this node
// (opened here if needed), otherwise the address of the node that runs
// it, or is to open it, for the caller to forward the request to. pick
// false (a request another node forwarded here) makes this node open it
// rather than look for a less loaded one.
func (s *Server) hostMeeting(ctx context.Context, spec meetingRoom, now time.Time, pick bool) (string, error) {
	live := s.cfg.Live.ready()
	reg, self := live.Registry, live.Node.ID
	ctx, cancel := context.WithTimeout(ctx, 2*placementTimeout)
	defer cancel()
	for range 3 {
		r, err := reg.Get(ctx, spec.Room)
		switch {
		case errors.Is(err, placement.ErrNoRoom):
			if best, ok := s.pickMeeting(ctx, pick); ok {
				return best, nil
			}
			if lost, err := s.openMeeting(ctx, spec.Room, spec.Closes, now); err != nil || !lost {
				return "", err
			}
			continue // another node opened it first
		case err != nil:
			// The registry does not answer: this node serves the room itself,
			// as one node would; watchMeeting places it once it answers.
			_, err := s.openMeeting(ctx, spec.Room, spec.Closes, now)
			return "", err
		case r.Node == self:
			if lost, err := s.openMeeting(ctx, spec.Room, spec.Closes, now); err != nil || !lost {
				return "", err
			}
			continue
		}
		nodes, err := reg.Nodes(ctx)
		if err != nil {
			return "", err
		}
		if owner, ok := endedOwner(r.Node); ok {
			// Ended (a cancellation), and a member comes in: a new booking
			// of the slot, a council rescheduled. The old room ends first,
			// with whoever was in it: its node does it within a second
			// (the page tries again meanwhile).
			switch {
			case owner == self:
				s.meetingRooms.end(live.Manager, spec.Room)
			case placement.Alive(nodes, owner):
				return "", errMeetingPlacement
			}
			reg.Release(ctx, spec.Room, r.Node)
			continue
		}
		if n, alive, err := liveNode(nodes, r.Node); alive {
			return n.URL, err
		}
		// Its node died: re-created on the least-loaded node.
		if best, ok := s.pickMeeting(ctx, pick); ok {
			return best, nil
		}
		if moved, err := s.adoptMeeting(ctx, spec.Room, r.Node, spec.Closes, now); err != nil || moved {
			return "", err
		}
	}
	return "", errMeetingPlacement
}

// liveNode returns node id among the live nodes, if it is one; err when
// it did not say where it is reached (it beats without --node-url).
func liveNode(nodes []placement.Node, id string) (n placement.Node, alive bool, err error) {
	for _, n := range nodes {
		if n.ID == id {
			if n.URL == "" {
				return n, true, fmt.Errorf("web: meeting room on node %s, which gives no address", id)
			}
			return n, true, nil
		}
	}
	return placement.Node{}, false, nil
}

// pickMeeting returns the address of the least-loaded live node when pick
// is set and that node is not this one.
func (s *Server) pickMeeting(ctx context.Context, pick bool) (string, bool) {
	if !pick {
		return "", false
	}
	best, ok := s.pickOther(ctx)
	return best.URL, ok
}

// openMeeting opens room id on this node unless it runs it already, and
// claims it in the registry. lost reports that another node placed it
// first: the room opened here ends at once and the caller looks again.
func (s *Server) openMeeting(ctx context.Context, id string, closes, now time.Time) (lost bool, err error) {
	live := s.cfg.Live.ready()
	room, done, created, err := s.meetingRooms.ensure(live.Manager, id, nil)
	if err != nil || !created {
		return false, err
	}
	meta, _ := json.Marshal(placedMeeting{Closes: closes})
	r, placed, err := live.Registry.Claim(ctx, placement.Room{ID: id, Node: live.Node.ID, Meta: meta})
	go s.watchMeeting(id, room, meta, closes.Sub(now), done)
	if err != nil || placed || r.Node == live.Node.ID {
		return false, nil // placed, or kept here until the registry answers
	}
	room.End()
	return true, nil
}

// adoptMeeting re-creates on this node room id, placed on node from that
// died, and reports whether it did; moved is false when another node
// moved it first. The Move runs under the rooms' lock so that another
// request for the room on this node waits for the room rather than find
// it placed here and not open yet.
func (s *Server) adoptMeeting(ctx context.Context, id, from string, closes, now time.Time) (moved bool, err error) {
	live := s.cfg.Live.ready()
	reg, self := live.Registry, live.Node.ID
	room, done, created, err := s.meetingRooms.ensure(live.Manager, id, func() error {
		ok, err := reg.Move(ctx, id, from, self)
		if err == nil && !ok {
			err = errMeetingMoved
		}
		moved = ok
		return err
	})
	if errors.Is(err, errMeetingMoved) {
		return false, nil
	}
	if err != nil {
		if moved { // but not created (this node drains): given back, for another node to take
			reg.Move(ctx, id, self, from)
		}
		return false, err
	}
	if created {
		s.log.Warn("live: meeting room re-created after its node stopped", "room", id, "dead_node", from)
		meta, _ := json.Marshal(placedMeeting{Closes: closes})
		go s.watchMeeting(id, room, meta, closes.Sub(now), done)
	}
	return true, nil
}

// errMeetingMoved: another node re-created the room first.
var errMeetingMoved = errors.New("web: meeting room moved by another node")

// watchMeeting runs beside a meeting room this node opened, until it
// ends: it ends the room when its window closes, keeps its registry entry
// every placementBeat (keepMeeting) and, once the room ended, releases
// the entry — unless a newer room of the same id took its place here.
// The release comes after any claim of the loop, on the same goroutine:
// an entry never outlives its room here.
func (s *Server) watchMeeting(id string, room *sfu.Room, meta json.RawMessage, left time.Duration, done <-chan struct{}) {
	live := s.cfg.Live.ready()
	closes := time.NewTimer(left)
	defer closes.Stop()
	tick := time.NewTicker(placementBeat)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if s.meetingRooms.drop(id, room) {
				ctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
				live.Registry.Release(ctx, id, live.Node.ID)
				cancel()
			}
			return
		case <-closes.C:
			room.End() // done is closed: released on the next turn
		case <-tick.C:
			select {
			case <-done:
				continue
			default:
			}
			s.keepMeeting(id, room, meta)
		}
	}
}

// keepMeeting compares room id, open here, with the registry: an entry
// lost (Redis restarted empty) is claimed again; an entry marked ended
// ends the room (a cancellation on another node) and is dropped; an entry
// on another node ends the room here (this node was taken for dead and
// the room re-created there: its pages reconnect and are forwarded).
func (s *Server) keepMeeting(id string, room *sfu.Room, meta json.RawMessage) {
	live := s.cfg.Live.ready()
	reg, self := live.Registry, live.Node.ID
	ctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
	defer cancel()
	r, err := reg.Get(ctx, id)
	if errors.Is(err, placement.ErrNoRoom) {
		r, _, err = reg.Claim(ctx, placement.Room{ID: id, Node: self, Meta: meta})
	}
	if err != nil || r.Node == self {
		return
	}
	if owner, ok := endedOwner(r.Node); ok && owner == self {
		s.log.Info("live: meeting room ended", "room", id)
		room.End()
		rctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
		defer cancel()
		reg.Release(rctx, id, r.Node)
		return
	}
	// This node was taken for dead and the room re-created there: the
	// sockets are cut without "ended", the pages reconnect and are
	// forwarded there.
	s.log.Warn("live: meeting room placed on another node; leaving it to that node", "room", id, "node", r.Node)
	room.Abandon()
}

// meetingWS serves the signaling socket of meeting room id, which this
// node does not run (LiveWS): it is forwarded to the room's node; the room
// of a dead node is re-created first, here or on the least-loaded node the
// socket is then forwarded to. A room placed nowhere is served here, where
// the join finds no room (ended: the page stops).
func (s *Server) meetingWS(w http.ResponseWriter, r *http.Request, local http.Handler, id string) {
	url, err := s.meetingSocketHost(r.Context(), id, !s.forwarded(r))
	switch {
	case err != nil:
		s.log.Warn("live: meeting room unreachable", "room", id, "err", err)
		apiError(w, http.StatusServiceUnavailable, "unavailable", "La visio est momentanément injoignable. Réessayez dans un instant.")
	case url != "":
		s.forwardTo(w, r, url)
	default:
		local.ServeHTTP(w, r)
	}
}

// meetingSocketHost returns the address of the node a socket for room id
// goes to, or "" to serve it here; pick as for hostMeeting.
func (s *Server) meetingSocketHost(ctx context.Context, id string, pick bool) (string, error) {
	live := s.cfg.Live.ready()
	reg, self := live.Registry, live.Node.ID
	ctx, cancel := context.WithTimeout(ctx, 2*placementTimeout)
	defer cancel()
	for range 3 {
		r, err := reg.Get(ctx, id)
		switch {
		case errors.Is(err, placement.ErrNoRoom):
			return "", nil
		case err != nil:
			return "", err
		case r.Node == self:
			// Being re-created here by another request, or just ended.
			s.meetingRooms.wait()
			return "", nil
		}
		nodes, err := reg.Nodes(ctx)
		if err != nil {
			return "", err
		}
		if owner, ok := endedOwner(r.Node); ok {
			if !placement.Alive(nodes, owner) {
				reg.Release(ctx, id, r.Node) // nobody is left to drop it
			}
			return "", nil
		}
		if n, alive, err := liveNode(nodes, r.Node); alive {
			return n.URL, err
		}
		var p placedMeeting
		if json.Unmarshal(r.Meta, &p) != nil || !live.now().Before(p.Closes) {
			reg.Release(ctx, id, r.Node) // its window closed while its node was dead
			return "", nil
		}
		if best, ok := s.pickMeeting(ctx, pick); ok {
			return best, nil
		}
		if moved, err := s.adoptMeeting(ctx, id, r.Node, p.Closes, live.now()); err != nil || moved {
			return "", err
		}
	}
	return "", errMeetingPlacement
}

// meetingElsewhere returns the live node that runs room id when it is not
// this one (ok false: this node, or none). The entry of a dead node is
// dropped on the way: nobody runs that room any more.
func (s *Server) meetingElsewhere(ctx context.Context, id string) (placement.Room, placement.Node, bool, error) {
	live := s.cfg.Live.ready()
	reg := live.Registry
	r, err := reg.Get(ctx, id)
	if errors.Is(err, placement.ErrNoRoom) {
		return r, placement.Node{}, false, nil
	}
	if err != nil || r.Node == live.Node.ID {
		return r, placement.Node{}, false, err
	}
	nodes, err := reg.Nodes(ctx)
	if err != nil {
		return r, placement.Node{}, false, err
	}
	node := r.Node
	if owner, ok := endedOwner(r.Node); ok {
		node = owner
	}
	n, alive, err := liveNode(nodes, node)
	if err != nil {
		return r, n, false, err
	}
	if !alive {
		reg.Release(ctx, id, r.Node)
		return r, placement.Node{}, false, nil
	}
	if node != r.Node { // already asked to end
		return r, placement.Node{}, false, nil
	}
	return r, n, true, nil
}

// endMeetingRoom ends room id now (a cancellation), on whichever node runs
// it: here at once; on another node by marking its registry entry, which
// that node sees within a second (watchMeeting).
func (s *Server) endMeetingRoom(id string) {
	if s.cfg.Live == nil || id == "" {
		return
	}
	live := s.cfg.Live.ready()
	s.meetingRooms.end(live.Manager, id)
	ctx, cancel := context.WithTimeout(context.Background(), 2*placementTimeout)
	defer cancel()
	for range 3 {
		r, _, ok, err := s.meetingElsewhere(ctx, id)
		if err != nil {
			s.log.Warn("live: end meeting room on its node", "room", id, "err", err)
			return
		}
		if !ok {
			return
		}
		if moved, err := live.Registry.Move(ctx, id, r.Node, endedMark(r.Node)); err != nil || moved {
			if err != nil {
				s.log.Warn("live: end meeting room on its node", "room", id, "node", r.Node, "err", err)
			}
			return
		}
	}
}
