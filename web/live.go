package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	livestore "preau/ent/live"
	"preau/identity"
	"preau/sfu"
	"preau/sfu/placement"
)

// Live is the SFU the live-lesson routes create rooms on and sign grants
// for. Config.Live nil leaves the routes answering 404 (no SFU mounted).
type Live struct {
	Manager *sfu.Manager
	Signer  sfu.Signer
	// Now is the clock for grants and start times (nil: time.Now).
	Now func() time.Time
	// RollCallEvery is how often a running lesson's roll call is compared
	// with what was written and its changes (joins, departures) are written
	// to the database (0: 2 s); HeartbeatEvery is the longest time between
	// two writes of a running lesson, changed or not (0: 10 s). See
	// live_rollcall.go.
	RollCallEvery, HeartbeatEvery time.Duration
	// OrphanAfter is how long a running lesson may go without a heartbeat
	// before a sweep closes it as interrupted: its node died (0: 2 min).
	OrphanAfter time.Duration
	// Registry records which node runs which lesson (live_placement.go;
	// nil: an in-memory one, this node alone). Node is this node as the
	// others reach it: its id (nil: random) and base URL.
	Registry placement.Registry
	Node     placement.Node

	initOnce sync.Once // ready, live_placement.go
}

func (l *Live) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// lesson is a live lesson running for one class on this node.
type lesson struct {
	Room      string    `json:"room"`
	ClassID   int64     `json:"class_id"`
	StartedBy int64     `json:"started_by"`
	StartedAt time.Time `json:"started_at"`
	// WaitingRoom: newcomers wait until a moderator admits them (the
	// moderator may turn it on or off during the lesson).
	WaitingRoom bool `json:"waiting_room"`

	structure int64
	room      *sfu.Room // nil for a lesson another node runs
	// node and nodeURL: the node that runs a lesson of another node
	// (live_placement.go). orphan: that node died; the room is re-created
	// on a live node when a page comes back (live_resume.go).
	node, nodeURL string
	nodeBeat      time.Time // that node's last heartbeat
	orphan        bool
	// prior is the roll call a re-created lesson had on its dead node,
	// closed at its last heartbeat (live_resume.go), by user.
	prior map[int64]livestore.Attendance
	// journal writes the roll call as the lesson goes (live_rollcall.go).
	journal *journal
}

func (l *lesson) target() identity.Target {
	return identity.Target{Structure: l.structure, Classes: []int64{l.ClassID}}
}

// lessons is the registry of active lessons, at most one per class. It is in
// memory, so it only knows the rooms of this node; issue 8 moves it to Redis
// (beside the room → node map) for several nodes. An entry whose room has
// ended — by the API, by the teacher over the socket, or on shutdown — is
// dropped the next time it is looked at.
type lessons struct {
	live    func() *Live // the server's, set by New
	mu      sync.Mutex
	byClass map[int64]*lesson
}

// alive reports whether l's room is still open. Called with ls.mu held: the
// manager's lock is taken inside ours, never the other way round.
func alive(m *sfu.Manager, l *lesson) bool { return m.Room(l.Room) == l.room }

// start returns the class's active lesson, or creates its room and registers
// a new one (created true). Creation happens under the lock, so two teachers
// starting at once get the same lesson.
//
// onEnd, when set, is given the new lesson and is called with its roll call
// when the room ends (it is set before anyone can join).
func (ls *lessons) start(m *sfu.Manager, c directory.Class, by int64, now time.Time, waitingRoom bool,
	onEnd func(lesson, []sfu.AttendanceRecord)) (lesson, bool, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l, ok := ls.byClass[c.ID]; ok {
		if alive(m, l) {
			return *l, false, nil
		}
		delete(ls.byClass, c.ID)
	}
	// Another node may run it, or may have run it and died: the caller
	// re-creates an orphan's room (live_placement.go, live_resume.go).
	ctx := context.Background()
	if l, ok := ls.elsewhere(ctx, c.ID); ok {
		return l, false, nil
	}
	id := fmt.Sprintf("cours-%d-%d", c.ID, now.UnixNano())
	room, err := m.CreateRoom(id, sfu.KindLesson)
	if err != nil {
		return lesson{}, false, fmt.Errorf("live: start lesson of class %d: %w", c.ID, err)
	}
	l := &lesson{Room: id, ClassID: c.ID, StartedBy: by, StartedAt: now.UTC().Truncate(time.Second),
		WaitingRoom: waitingRoom, structure: c.StructureID, room: room, journal: newJournal()}
	room.SetWaitingRoom(waitingRoom)
	started := *l
	room.OnEnd(func(roll []sfu.AttendanceRecord) {
		ls.release(started)
		if onEnd != nil && !room.Abandoned() { // abandoned: it goes on elsewhere
			onEnd(started, roll)
		}
	})
	// A node that started the class's lesson at the same moment and
	// claimed it first keeps it: this room never was the lesson.
	if theirs, lost := ls.claim(ctx, l); lost {
		room.Abandon()
		return theirs, false, nil
	}
	if ls.byClass == nil {
		ls.byClass = map[int64]*lesson{}
	}
	ls.byClass[c.ID] = l
	return *l, true, nil
}

// active returns the lessons whose room is open, on this node and the
// others, oldest first.
func (ls *lessons) active(m *sfu.Manager) []lesson {
	out := append(ls.local(m), ls.remote()...)
	slices.SortFunc(out, func(a, b lesson) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.Room, b.Room))
	})
	return out
}

// local returns the lessons of this node whose room is open.
func (ls *lessons) local(m *sfu.Manager) []lesson {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	out := make([]lesson, 0, len(ls.byClass))
	for id, l := range ls.byClass {
		if !alive(m, l) {
			delete(ls.byClass, id)
			continue
		}
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b lesson) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.Room, b.Room))
	})
	return out
}

// byRoom returns the active lesson of room id, of this node or another.
func (ls *lessons) byRoom(m *sfu.Manager, id string) (lesson, bool) {
	for _, l := range ls.local(m) {
		if l.Room == id {
			return l, true
		}
	}
	if c, ok := classOfRoom(id); ok {
		if l, ok := ls.elsewhere(context.Background(), c); ok && l.Room == id {
			return l, true
		}
	}
	return lesson{}, false
}

// forget drops the lesson of room id (after it was ended).
func (ls *lessons) forget(id string) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for c, l := range ls.byClass {
		if l.Room == id {
			delete(ls.byClass, c)
		}
	}
}

// liveAPI mounts the live-lesson routes. Rooms are created by the server
// only (SECURITY.md): a client asks to start the lesson of a class, and the
// room id is made here. Anything outside the caller's scope answers 404.
func (s *Server) liveAPI(r chi.Router) {
	r.Post("/live/lessons", s.apiStartLesson)
	r.Get("/live/lessons", s.apiLessons)
	r.Post("/live/rooms/{room}/grant", s.apiLiveGrant)
	r.Post("/live/rooms/{room}/end", s.apiEndLesson)
	s.liveLoadtestAPI(r) // demo servers only (live_loadtest.go)
	r.Get("/live/history", s.apiLiveHistory)
	r.Get("/live/history/{id}/attendance.csv", s.apiAttendanceCSV)
}

type startLessonRequest struct {
	ClassID     int64 `json:"class_id"`
	WaitingRoom bool  `json:"waiting_room"`
}

func (s *Server) apiStartLesson(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	if s.forwardStart(w, r) { // to the least-loaded node (live_placement.go)
		return
	}
	var req startLessonRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.ClassID <= 0 {
		apiError(w, http.StatusBadRequest, "bad_request", "Indiquez la classe (class_id).")
		return
	}
	l, created, err := s.startLesson(r, req.ClassID, req.WaitingRoom)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.notFound(w, r)
		return
	case errors.Is(err, errLiveUnavailable):
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le cours en direct n'a pas pu démarrer. Réessayez dans un instant.")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, l)
}

// errLiveUnavailable: the SFU could not create the room.
var errLiveUnavailable = errors.New("live: lesson could not start")

// startLesson starts (or returns) the lesson of class classID for the
// caller, the same for the API and the page: directory.ErrNotFound when the
// class is not of this school year or the caller may not start it,
// errLiveUnavailable when the SFU refused the room.
func (s *Server) startLesson(r *http.Request, classID int64, waitingRoom bool) (lesson, bool, error) {
	c, err := s.dir.Class(r.Context(), classID)
	if err != nil {
		return lesson{}, false, err
	}
	y, err := s.currentYear(r)
	if err != nil {
		return lesson{}, false, err
	}
	u := currentUser(r)
	// Only a class of this school year, and only for who may start it.
	if c.YearID != y || !u.Can(identity.Live, identity.Create, classTarget(c)) {
		return lesson{}, false, directory.ErrNotFound
	}
	l, created, err := s.lessons.start(s.cfg.Live.Manager, c, u.UserID, s.cfg.Live.now(), waitingRoom, s.saveRollCall)
	if err == nil && l.orphan {
		// Its node died: re-create its room here, or, when it is over,
		// start a new lesson (live_resume.go).
		var ok bool
		if l, ok = s.resumeLesson(r.Context(), l); !ok {
			l, created, err = s.lessons.start(s.cfg.Live.Manager, c, u.UserID, s.cfg.Live.now(), waitingRoom, s.saveRollCall)
		}
	}
	if err != nil {
		s.log.Error("live: start lesson", "class", c.ID, "err", err)
		return lesson{}, false, errLiveUnavailable
	}
	if created {
		s.log.Info("live: lesson started", "room", l.Room, "class", c.ID, "by", u.UserID)
		go s.journalRollCall(l)
		s.sweepLessons(r.Context())
		s.openLessonChat(r.Context(), l, c)
	}
	return l, created, nil
}

// apiLessons lists the active lessons the caller may join.
func (s *Server) apiLessons(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	u := currentUser(r)
	var out []lesson
	for _, l := range s.lessons.active(s.cfg.Live.Manager) {
		if u.Can(identity.Live, identity.Read, l.target()) {
			out = append(out, l)
		}
	}
	writeJSON(w, http.StatusOK, jsonList(out))
}

// reachableLesson returns the lesson of the {room} parameter when the caller
// may join it, and whether they moderate it; otherwise it answers 404.
func (s *Server) reachableLesson(w http.ResponseWriter, r *http.Request) (l lesson, moderator, ok bool) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return l, false, false
	}
	u := currentUser(r)
	l, found := s.lessons.byRoom(s.cfg.Live.Manager, chi.URLParam(r, "room"))
	// Who started it still needs the right to join: a teacher no longer
	// teaching the class loses the lesson too.
	if !found || !u.Can(identity.Live, identity.Read, l.target()) {
		s.notFound(w, r)
		return l, false, false
	}
	moderator = l.StartedBy == u.UserID || u.Can(identity.Live, identity.Update, l.target())
	return l, moderator, true
}

type grantResponse struct {
	Room      string    `json:"room"`
	Grant     string    `json:"grant"`
	ExpiresAt time.Time `json:"expires_at"`
	// ICEServers are the TURN relay and its credentials (≤ 4 h), only
	// with a grant; absent when the server runs no relay.
	ICEServers []sfu.ICEServer `json:"ice_servers,omitzero"`
}

// apiLiveGrant hands the caller a grant for the room, valid for
// sfu.MaxGrantTTL; the page asks again before it expires. Moderators may
// publish everything; pupils and staff nothing until given the floor.
func (s *Server) apiLiveGrant(w http.ResponseWriter, r *http.Request) {
	if isMeetingRoom(chi.URLParam(r, "room")) { // a meeting or council (meetings_room.go)
		s.apiMeetingGrant(w, r)
		return
	}
	l, moderator, ok := s.reachableLesson(w, r)
	if !ok {
		return
	}
	u := currentUser(r)
	now := s.cfg.Live.now()
	g := sfu.Grant{Room: l.Room, UserID: strconv.FormatInt(u.UserID, 10), Name: u.Name,
		Role: sfu.RoleParticipant, Expires: now.Add(sfu.MaxGrantTTL).Truncate(time.Second)}
	if g.Name == "" {
		g.Name = u.Login
	}
	if moderator {
		g.Role = sfu.RoleModerator
		g.CanPublishAudio, g.CanPublishVideo, g.CanPublishScreen = true, true, true
	}
	tok, err := s.cfg.Live.Signer.Sign(g, now)
	if err != nil {
		s.log.Error("live: sign grant", "room", l.Room, "err", err)
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible. Réessayez dans un instant.")
		return
	}
	writeJSON(w, http.StatusOK, grantResponse{Room: l.Room, Grant: tok, ExpiresAt: g.Expires.UTC(),
		ICEServers: s.cfg.Live.Manager.ICEServers(g.UserID, now)})
}

// apiEndLesson ends the lesson for everyone: moderators only (others 404).
func (s *Server) apiEndLesson(w http.ResponseWriter, r *http.Request) {
	if isMeetingRoom(chi.URLParam(r, "room")) { // a meeting or council (meetings_room.go)
		s.apiEndMeeting(w, r)
		return
	}
	l, moderator, ok := s.reachableLesson(w, r)
	if !ok {
		return
	}
	if !moderator {
		s.notFound(w, r)
		return
	}
	if l.orphan { // its node died and no page came back yet (live_resume.go)
		s.lessons.dropOrphan(l)
		s.log.Info("live: lesson of a dead node ended", "room", l.Room, "by", currentUser(r).UserID)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if l.room == nil { // another node runs it: it decides (live_placement.go)
		s.forwardTo(w, r, l.nodeURL)
		return
	}
	l.room.End()
	s.lessons.forget(l.Room)
	s.log.Info("live: lesson ended", "room", l.Room, "by", currentUser(r).UserID)
	w.WriteHeader(http.StatusNoContent)
}

// saveRollCall stores a finished lesson and its roll call (called by the SFU
// when the room ends, whoever ended it). A failure is logged: the lesson is
// over either way.
func (s *Server) saveRollCall(l lesson, roll []sfu.AttendanceRecord) {
	rows := make([]livestore.Attendance, 0, len(roll))
	for _, a := range roll {
		id, err := strconv.ParseInt(a.User, 10, 64)
		if err != nil {
			continue // grants name users by their numeric id
		}
		rows = append(rows, livestore.Attendance{UserID: id, Name: a.Name, Role: a.Role, FirstJoin: a.FirstJoin,
			LastLeave: a.LastLeave, Total: time.Duration(a.TotalMS) * time.Millisecond, Sessions: a.Sessions})
	}
	rows = l.withPrior(rows) // a re-created lesson's earlier time (live_resume.go)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ended := s.cfg.Live.now().UTC()
	l.journal.stop() // a checkpoint in flight finds the lesson ended: livestore.ErrClosed
	id, err := livestore.NewStore(s.db).Save(ctx, livestore.Lesson{Room: l.Room, Structure: l.structure, ClassID: l.ClassID,
		StartedBy: l.StartedBy, StartedAt: l.StartedAt, EndedAt: ended}, rows)
	if err != nil {
		s.log.Error("live: save roll call", "room", l.Room, "err", err)
		return
	}
	s.log.Info("live: roll call saved", "room", l.Room, "lesson", id, "people", len(rows))
}

// mayReadRollCall: the roll call of a class's lessons is for its teachers,
// the school's staff and head, and the administrator; not for pupils or
// parents.
func mayReadRollCall(u *user, t identity.Target) bool {
	return u.Can(identity.Live, identity.Update, t) ||
		(u.InStructure(identity.Staff, t.Structure) && u.Can(identity.Live, identity.Read, t))
}

// pastLesson is a finished lesson as the API and the page list it.
type pastLesson struct {
	ID        int64     `json:"id"`
	Room      string    `json:"room"`
	ClassID   int64     `json:"class_id"`
	ClassName string    `json:"class_name"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
	People    int       `json:"people"`
	CSV       string    `json:"attendance_csv"`
	// Interrupted: the lesson's node died mid-lesson; it ended at its last
	// heartbeat with the roll call written up to then.
	Interrupted bool `json:"interrupted"`
}

// maxHistory bounds the finished lessons listed.
const maxHistory = 200

// pastLessons lists the finished lessons whose roll call the user may read,
// newest first.
func (s *Server) pastLessons(ctx context.Context, u *user) ([]pastLesson, error) {
	var structures []int64
	if !u.Has(identity.Admin) {
		structures = u.Structures()
	}
	s.sweepLessons(ctx)
	st := livestore.NewStore(s.db)
	recent, err := st.Recent(ctx, structures, maxHistory)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	var out []pastLesson
	for _, l := range recent {
		if !mayReadRollCall(u, identity.Target{Structure: l.Structure, Classes: []int64{l.ClassID}}) {
			continue
		}
		name, ok := names[l.ClassID]
		if !ok {
			c, err := s.dir.Class(ctx, l.ClassID)
			if err != nil {
				return nil, err
			}
			name, names[l.ClassID] = c.Name, c.Name
		}
		out = append(out, pastLesson{ID: l.ID, Room: l.Room, ClassID: l.ClassID, ClassName: name,
			StartedAt: l.StartedAt, EndedAt: l.EndedAt, People: l.People,
			CSV:         "/api/v1/live/history/" + strconv.FormatInt(l.ID, 10) + "/attendance.csv",
			Interrupted: l.Status == livestore.StatusInterrupted})
	}
	return out, nil
}

// apiLiveHistory lists the finished lessons whose roll call the caller may
// read.
func (s *Server) apiLiveHistory(w http.ResponseWriter, r *http.Request) {
	out, err := s.pastLessons(r.Context(), currentUser(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jsonList(out))
}

// apiAttendanceCSV sends a finished lesson's roll call as CSV (UTF-8 with a
// BOM, French headers, semicolons: see livestore.WriteCSV); 404 for anyone
// who may not read it.
func (s *Server) apiAttendanceCSV(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.notFound(w, r)
		return
	}
	st := livestore.NewStore(s.db)
	l, err := st.Lesson(r.Context(), id)
	if err == nil && l.Status == livestore.StatusRunning {
		err = livestore.ErrNotFound // listed once finished
	}
	if errors.Is(err, livestore.ErrNotFound) ||
		(err == nil && !mayReadRollCall(currentUser(r), identity.Target{Structure: l.Structure, Classes: []int64{l.ClassID}})) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	roll, err := st.Roll(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "presences-" + l.StartedAt.In(paris).Format("2006-01-02-1504") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	if err := livestore.WriteCSV(w, roll, paris); err != nil {
		s.log.Warn("live: write roll call", "lesson", id, "err", err)
	}
}
