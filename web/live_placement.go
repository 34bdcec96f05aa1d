package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	livestore "preau/ent/live"
	"preau/sfu/placement"
)

// Live lessons across nodes (issue 8; docs/operations.md "Live lessons on
// several nodes"). A lesson's room lives on the node where it started; the
// placement registry (Redis when several nodes run, sfu/placement) holds
// class → {room, node} and every node's heartbeat. Any node then lists the
// lessons, hands out grants (the grant key is shared) and, for a room on
// another node, forwards the signaling WebSocket and the "end" request to
// it, with the user's own cookie: the owner checks them as if they had come
// to it directly. One node alone uses an in-memory registry and behaves as
// before.

const (
	// placementBeat is how often a node beats; PlacementTTL how long the
	// others wait before they take it for dead (the registry's TTL).
	placementBeat = time.Second
	PlacementTTL  = 4 * time.Second
	// placementTimeout bounds one registry call on a request's path.
	placementTimeout = time.Second
)

// ready completes the live settings once: an in-memory registry and a
// random node id when none is set.
func (l *Live) ready() *Live {
	l.initOnce.Do(func() {
		if l.Registry == nil {
			l.Registry = placement.NewMemory(PlacementTTL)
		}
		if l.Node.ID == "" {
			b := make([]byte, 6)
			rand.Read(b)
			l.Node.ID = hex.EncodeToString(b)
		}
	})
	return l
}

// placement returns the server's live settings, ready, or nil without an
// SFU.
func (ls *lessons) placement() *Live {
	if ls.live == nil {
		return nil
	}
	if l := ls.live(); l != nil {
		return l.ready()
	}
	return nil
}

// placedLesson is a lesson as the registry keeps it (placement.Room.Meta).
type placedLesson struct {
	Room        string    `json:"room"`
	ClassID     int64     `json:"class_id"`
	Structure   int64     `json:"structure"`
	StartedBy   int64     `json:"started_by"`
	StartedAt   time.Time `json:"started_at"`
	WaitingRoom bool      `json:"waiting_room"`
}

// lessonKey is a class's entry in the registry: one lesson per class,
// whichever node runs it.
func lessonKey(classID int64) string { return "classe-" + strconv.FormatInt(classID, 10) }

// classOfRoom reads the class out of a lesson's room id (cours-<class>-<ns>).
func classOfRoom(room string) (int64, bool) {
	rest, ok := strings.CutPrefix(room, "cours-")
	if !ok {
		return 0, false
	}
	c, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(c, 10, 64)
	return id, err == nil && id > 0
}

func (l *lesson) placed() placedLesson {
	return placedLesson{Room: l.Room, ClassID: l.ClassID, Structure: l.structure, StartedBy: l.StartedBy,
		StartedAt: l.StartedAt, WaitingRoom: l.WaitingRoom}
}

// lessonOf turns a registry entry into a lesson run by another node (no
// local room); ok is false when the entry is not a lesson. A lesson whose
// node stopped beating comes back orphan: its room died with its node, and
// the first page to reconnect has it re-created on a live node
// (live_resume.go).
func lessonOf(r placement.Room, nodes []placement.Node) (lesson, bool) {
	var p placedLesson
	if !strings.HasPrefix(r.ID, "classe-") || json.Unmarshal(r.Meta, &p) != nil || p.Room == "" {
		return lesson{}, false
	}
	l := lesson{Room: p.Room, ClassID: p.ClassID, StartedBy: p.StartedBy, StartedAt: p.StartedAt,
		WaitingRoom: p.WaitingRoom, structure: p.Structure, node: r.Node, orphan: true}
	for _, n := range nodes {
		if n.ID == r.Node {
			l.nodeURL, l.nodeBeat, l.orphan = n.URL, n.At, false
		}
	}
	return l, true
}

// elsewhere returns the lesson of class classID placed on another node:
// running there, or orphan when that node died.
func (ls *lessons) elsewhere(ctx context.Context, classID int64) (lesson, bool) {
	live := ls.placement()
	if live == nil {
		return lesson{}, false
	}
	reg, self := live.Registry, live.Node.ID
	ctx, cancel := context.WithTimeout(ctx, placementTimeout)
	defer cancel()
	r, err := reg.Get(ctx, lessonKey(classID))
	if err != nil || r.Node == self {
		return lesson{}, false // none, or the registry is away: this node serves its own
	}
	nodes, err := reg.Nodes(ctx)
	if err != nil {
		return lesson{}, false
	}
	return lessonOf(r, nodes)
}

// claim records l, just started here, in the registry. When another node
// placed a lesson for the class first, it returns that one (lost true): the
// caller ends its own room. A registry that does not answer leaves the
// lesson on this node only.
func (ls *lessons) claim(ctx context.Context, l *lesson) (theirs lesson, lost bool) {
	live := ls.placement()
	if live == nil {
		return lesson{}, false
	}
	meta, _ := json.Marshal(l.placed())
	ctx, cancel := context.WithTimeout(ctx, placementTimeout)
	defer cancel()
	reg := live.Registry
	r, placed, err := reg.Claim(ctx, placement.Room{ID: lessonKey(l.ClassID), Node: live.Node.ID, Meta: meta})
	if err != nil || placed || r.Node == live.Node.ID {
		return lesson{}, false
	}
	nodes, err := reg.Nodes(ctx)
	if err != nil {
		return lesson{}, false
	}
	return lessonOf(r, nodes)
}

// release drops the registry entry of a lesson of this node that ended.
func (ls *lessons) release(l lesson) {
	live := ls.placement()
	if live == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
	defer cancel()
	live.Registry.Release(ctx, lessonKey(l.ClassID), live.Node.ID)
}

// remote returns the lessons other live nodes run.
func (ls *lessons) remote() []lesson {
	live := ls.placement()
	if live == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
	defer cancel()
	reg := live.Registry
	rooms, err := reg.Rooms(ctx)
	if err != nil || len(rooms) == 0 {
		return nil
	}
	nodes, err := reg.Nodes(ctx)
	if err != nil {
		return nil
	}
	var out []lesson
	for _, r := range rooms {
		if r.Node == live.Node.ID {
			continue
		}
		if l, ok := lessonOf(r, nodes); ok && !l.orphan {
			out = append(out, l)
		}
	}
	return out
}

// RunPlacement beats for this node until ctx ends, with its load and
// whether it drains, and keeps its lessons in the registry: an entry lost
// (Redis restarted empty) is claimed again; a lesson another node holds
// now (this node was taken for dead) ends here. It leaves the registry on
// its way out.
func (s *Server) RunPlacement(ctx context.Context) {
	if s.cfg.Live == nil {
		return
	}
	live := s.cfg.Live.ready()
	tick := time.NewTicker(placementBeat)
	defer tick.Stop()
	for beat := 0; ; beat++ {
		if beat%placementSweepBeats == placementSweepBeats-1 {
			s.sweepPlacement(ctx, live.now())
		}
		st := live.Manager.Stats()
		bctx, cancel := context.WithTimeout(ctx, placementTimeout)
		node := live.Node
		node.Rooms, node.Participants, node.Draining = st.Rooms, st.Participants, s.draining.Load()
		if err := live.Registry.Beat(bctx, node); err != nil && ctx.Err() == nil {
			s.log.Warn("live: placement heartbeat failed", "err", err)
		}
		for _, l := range s.lessons.local(live.Manager) {
			r, err := live.Registry.Get(bctx, lessonKey(l.ClassID))
			switch {
			case errors.Is(err, placement.ErrNoRoom):
				lp := l
				s.lessons.claim(bctx, &lp)
			case err == nil && r.Node != live.Node.ID:
				// This node was taken for dead and the lesson re-created
				// there: its sockets are cut without "ended", the pages
				// reconnect and are forwarded; the roll call is that
				// node's now.
				s.log.Warn("live: lesson placed on another node; leaving it to that node", "room", l.Room, "node", r.Node)
				l.journal.stop()
				l.room.Abandon()
			}
		}
		cancel()
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), placementTimeout)
			live.Registry.Leave(lctx, live.Node.ID)
			cancel()
			return
		case <-tick.C:
		}
	}
}

// placementSweepBeats: every this many beats (a minute), a node drops the
// registry entries that nobody will come back to (sweepPlacement).
const placementSweepBeats = 60

// sweepPlacement drops the entries of dead nodes that no page will bring
// back: a lesson no longer running in the database (swept as interrupted,
// or ended), a meeting whose window has closed, an ended mark whose node is
// gone. Pages re-create the others (live_resume.go, meetings_placement.go).
// Every node may sweep at once: each release is a compare-and-set on the
// dead node's name.
func (s *Server) sweepPlacement(ctx context.Context, now time.Time) {
	reg := s.cfg.Live.ready().Registry
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rooms, err := reg.Rooms(ctx)
	if err != nil {
		return
	}
	nodes, err := reg.Nodes(ctx)
	if err != nil {
		return
	}
	store := livestore.NewStore(s.db)
	for _, r := range rooms {
		owner, ended := endedOwner(r.Node)
		if placement.Alive(nodes, owner) || (!ended && placement.Alive(nodes, r.Node)) {
			continue
		}
		drop := ended
		if l, ok := lessonOf(r, nodes); ok {
			_, err := store.Running(ctx, l.Room)
			drop = errors.Is(err, livestore.ErrNotFound)
		} else if isMeetingRoom(r.ID) && !ended {
			var m placedMeeting
			drop = json.Unmarshal(r.Meta, &m) == nil && !now.Before(m.Closes)
		}
		if drop {
			reg.Release(ctx, r.ID, r.Node)
		}
	}
}

// forwardTo sends the request, as it came with its cookie, to the node at
// base, keeping the Host the browser used (the WebSocket's Origin check
// compares them) and saying who the client was.
func (s *Server) forwardTo(w http.ResponseWriter, r *http.Request, base string) {
	s.forwardElse(w, r, base, nil)
}

// forwardElse is forwardTo with a way out when nothing listens at base
// (the connection is refused): refused, when set, may serve the request
// instead and reports whether it did.
func (s *Server) forwardElse(w http.ResponseWriter, r *http.Request, base string, refused func(http.ResponseWriter, *http.Request) bool) {
	target, err := url.Parse(base)
	if err != nil || target.Host == "" {
		s.log.Error("live: bad node address", "url", base, "err", err)
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le cours en direct est momentanément injoignable. Réessayez dans un instant.")
		return
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded()
			pr.Out.Header.Set(placedHeader, s.forwardMark(pr.In.Method, pr.In.URL.Path, time.Now()))
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if refused != nil && errors.Is(err, syscall.ECONNREFUSED) && refused(w, r) {
				return
			}
			s.log.Warn("live: forward to the room's node failed", "url", base, "err", err)
			apiError(w, http.StatusServiceUnavailable, "unavailable", "Le cours en direct est momentanément injoignable. Réessayez dans un instant.")
		},
	}
	p.ServeHTTP(w, r)
}

// placedHeader marks a request one node forwarded to another: the
// receiver serves it itself (forward_mark.go).
const placedHeader = "X-Preau-Forwarded"

// forwardStart sends a request to start a lesson to the least-loaded live
// node when that is not this one, and reports whether it did. The body is
// read here (it is bounded by the route's limit) and given again to the
// other node; that node starts the lesson, or returns the one already
// running for the class, wherever it runs.
func (s *Server) forwardStart(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Live == nil || s.forwarded(r) {
		return false
	}
	best, ok := s.pickOther(r.Context())
	if !ok {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return false // too big or cut: the handler reads it again and says so
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	s.forwardTo(w, r, best.URL)
	return true
}

// pickOther returns the least-loaded live node when it is not this one:
// where a new room should go. ok is false when this node should take it
// itself (it is the least loaded, or the registry does not answer).
func (s *Server) pickOther(ctx context.Context) (placement.Node, bool) {
	live := s.cfg.Live.ready()
	ctx, cancel := context.WithTimeout(ctx, placementTimeout)
	defer cancel()
	nodes, err := live.Registry.Nodes(ctx)
	if err != nil {
		return placement.Node{}, false
	}
	best, ok := placement.Pick(nodes)
	if !ok || best.ID == live.Node.ID || best.URL == "" {
		return placement.Node{}, false
	}
	return best, true
}

// LiveWS is the signaling WebSocket of every node: a room of this node is
// served here; one on another node (the page names it: /live/ws?room=…)
// is forwarded there.
func (s *Server) LiveWS() http.Handler {
	local := s.cfg.Live.Manager.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("room")
		if id == "" || s.cfg.Live.Manager.Room(id) != nil {
			local.ServeHTTP(w, r)
			return
		}
		if isMeetingRoom(id) { // a meeting or council (meetings_placement.go)
			s.meetingWS(w, r, local, id)
			return
		}
		l, ok := s.lessons.byRoom(s.cfg.Live.Manager, id)
		switch {
		case ok && l.orphan:
			// Its node died: the room is re-created on the least-loaded
			// node, this one or another (live_resume.go).
			if best, other := s.pickOther(r.Context()); other && !s.forwarded(r) {
				s.forwardTo(w, r, best.URL)
				return
			}
			if now, ok := s.resumeLesson(r.Context(), l); ok && now.room == nil && now.nodeURL != "" {
				s.forwardTo(w, r, now.nodeURL) // another node re-created it first
				return
			}
		case ok && l.room == nil && l.nodeURL != "":
			s.forwardElse(w, r, l.nodeURL, func(w http.ResponseWriter, r *http.Request) bool {
				// Nothing listens where the room's node was and it has
				// missed its beats: it died, which the registry will say
				// only when its TTL passes. The pages need not wait that
				// long: the room is re-created here now.
				if time.Since(l.nodeBeat) < 2*placementBeat {
					return false
				}
				l.orphan = true
				now, ok := s.resumeLesson(r.Context(), l)
				if !ok || now.room == nil {
					return false
				}
				local.ServeHTTP(w, r)
				return true
			})
			return
		}
		local.ServeHTTP(w, r) // here, or unknown here too: the join says so
	})
}
