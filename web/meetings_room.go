package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/councils"
	"preau/ent/meetings"
	"preau/sfu"
)

// Meeting rooms (docs/meetings.md): a video parent–teacher meeting and a
// class council each have their own SFU room (sfu.KindMeeting), reached
// through the live page and grant route (/direct/{room},
// POST /api/v1/live/rooms/{room}/grant) like a lesson's. Unlike a lesson,
// nobody starts one: the server creates the room the first time a member
// asks for it inside its opening window (from a few minutes before the
// start to the end), on one node when several run (meetings_placement.go),
// and ends it at the window's end. The members are an
// explicit list read from the module each time (a cancelled booking or a
// member taken off loses the room at once); everyone else gets 404. Every
// member may publish camera and microphone; the teacher (meeting) or the
// direction and vie scolaire (council) moderate.

// meetingRoom is a meeting room as its module describes it.
type meetingRoom struct {
	Room  string
	Title string
	// Back is the module's page of the meeting.
	Back       string
	Members    []int64 // may join and publish
	Moderators []int64 // among Members
	// Opens and Closes bound the time the room is open.
	Opens, Closes time.Time
}

// OpenAt reports whether the room is open at t.
func (m meetingRoom) OpenAt(t time.Time) bool { return !t.Before(m.Opens) && t.Before(m.Closes) }

// meetingRooms is the map of the meeting rooms this node opened, so that
// it ends its own. Which node runs a room is the placement registry's
// (meetings_placement.go).
type meetingRooms struct {
	mu   sync.Mutex
	open map[string]*sfu.Room
}

// isMeetingRoom reports whether a room id is a meeting's, not a lesson's.
func isMeetingRoom(id string) bool {
	return strings.HasPrefix(id, meetings.RoomPrefix) || strings.HasPrefix(id, councils.RoomPrefix)
}

// ensure returns room id, open on m, or creates it (created true) under
// the lock: two members arriving at once get the same room. first, when
// set, runs before, under the same lock, and nothing happens unless it
// returns nil (a re-creation moves the registry entry to this node first:
// another request for the room then waits here for the room, see wait).
// done is closed when a room created here ends.
func (mr *meetingRooms) ensure(m *sfu.Manager, id string, first func() error) (room *sfu.Room, done <-chan struct{}, created bool, err error) {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if first != nil {
		if err := first(); err != nil {
			return nil, nil, false, err
		}
	}
	if r, ok := mr.open[id]; ok && m.Room(id) == r {
		return r, nil, false, nil
	}
	room, err = m.CreateRoom(id, sfu.KindMeeting)
	if err != nil {
		return nil, nil, false, err
	}
	if mr.open == nil {
		mr.open = map[string]*sfu.Room{}
	}
	mr.open[id] = room // a room of the same id that ended is replaced
	ended := make(chan struct{})
	room.OnEnd(func([]sfu.AttendanceRecord) { close(ended) })
	return room, ended, true, nil
}

// wait returns once no room is being created (ensure).
func (mr *meetingRooms) wait() {
	mr.mu.Lock()
	defer mr.mu.Unlock()
}

// end ends room id if it is open here (a cancellation, the moderator),
// and reports whether it was.
func (mr *meetingRooms) end(m *sfu.Manager, id string) bool {
	mr.mu.Lock()
	r, ok := mr.open[id]
	mr.mu.Unlock()
	if !ok || m.Room(id) != r {
		return false
	}
	r.End()
	return true
}

// drop forgets room r of id, which ended, unless a newer room of the same
// id took its place; it reports whether it did.
func (mr *meetingRooms) drop(id string, r *sfu.Room) bool {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if mr.open[id] != r {
		return false
	}
	delete(mr.open, id)
	return true
}

// meetingSpec describes room id for u, or errMeetingNotFound when it is
// no meeting's room or u is not one of its members.
func (s *Server) meetingSpec(ctx context.Context, u *user, id string) (meetingRoom, error) {
	var spec meetingRoom
	var err error
	if slot, ok := meetings.SlotOfRoom(id); ok {
		spec, err = s.slotRoom(ctx, slot)
	} else if council, ok := councils.CouncilOfRoom(id); ok {
		spec, err = s.councilRoom(ctx, council)
	} else {
		return spec, errMeetingNotFound
	}
	if errors.Is(err, meetings.ErrNotFound) || errors.Is(err, councils.ErrNotFound) {
		err = errMeetingNotFound
	}
	if err == nil && (spec.Room != id || !slices.Contains(spec.Members, u.UserID)) {
		err = errMeetingNotFound
	}
	return spec, err
}

var errMeetingNotFound = errors.New("web: no such meeting room")

// slotRoom is the room of a booked video slot: its teacher (moderator),
// the parent who booked and the child's other guardians.
func (s *Server) slotRoom(ctx context.Context, id int64) (meetingRoom, error) {
	sl, err := s.meetingStore().Get(ctx, id)
	if err != nil {
		return meetingRoom{}, err
	}
	if sl.Mode != meetings.Video || sl.Booking == nil {
		return meetingRoom{}, meetings.ErrNotFound
	}
	members := []int64{sl.TeacherID, sl.Booking.ParentID}
	gs, err := s.dir.Guardians(ctx, sl.Booking.ChildID)
	if err != nil {
		return meetingRoom{}, err
	}
	for _, g := range gs {
		if !slices.Contains(members, g.ID) {
			members = append(members, g.ID)
		}
	}
	return meetingRoom{Room: sl.Room(), Title: "Rendez-vous — " + sl.TeacherName + " et la famille de " + sl.Booking.ChildName,
		Back: "/rendez-vous/creneaux/" + strconv.FormatInt(sl.ID, 10), Members: members, Moderators: []int64{sl.TeacherID},
		Opens: sl.Opens(), Closes: sl.End}, nil
}

// councilRoom is a council's room: its members; the direction, the CPE and
// the staff among them moderate.
func (s *Server) councilRoom(ctx context.Context, id int64) (meetingRoom, error) {
	k, err := councils.New(s.db).Get(ctx, id)
	if err != nil {
		return meetingRoom{}, err
	}
	spec := meetingRoom{Room: k.Room(), Title: "Conseil de classe — " + k.ClassName + ", " + k.TermName,
		Back: "/conseils/" + strconv.FormatInt(k.ID, 10), Opens: k.Start.Add(-councils.OpenBefore), Closes: k.End}
	for _, m := range k.Members {
		spec.Members = append(spec.Members, m.UserID)
		if m.Role == councils.RoleHead || m.Role == councils.RoleCPE || m.Role == councils.RoleStaff {
			spec.Moderators = append(spec.Moderators, m.UserID)
		}
	}
	return spec, nil
}

// reachableMeeting returns the meeting room of the {room} parameter when
// the caller is a member and the room is in its window, and whether they
// moderate it; otherwise it answers 404. Where the room runs is
// hostMeeting's (meetings_placement.go).
func (s *Server) reachableMeeting(w http.ResponseWriter, r *http.Request) (meetingRoom, bool, bool) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return meetingRoom{}, false, false
	}
	u := currentUser(r)
	spec, err := s.meetingSpec(r.Context(), u, chi.URLParam(r, "room"))
	switch {
	case errors.Is(err, errMeetingNotFound) || (err == nil && !spec.OpenAt(s.cfg.Live.now())):
		s.notFound(w, r)
		return spec, false, false
	case err != nil:
		s.fail(w, r, err)
		return spec, false, false
	}
	return spec, slices.Contains(spec.Moderators, u.UserID), true
}

// apiMeetingGrant hands a member a grant for the meeting room: everyone
// publishes camera and microphone, moderators their screen too.
func (s *Server) apiMeetingGrant(w http.ResponseWriter, r *http.Request) {
	spec, moderator, ok := s.reachableMeeting(w, r)
	if !ok {
		return
	}
	// The node that runs the room signs its grants (any node could: the
	// key is shared); a new room opens there (meetings_placement.go).
	url, err := s.hostMeeting(r.Context(), spec, s.cfg.Live.now(), !s.forwarded(r))
	switch {
	case err != nil:
		s.log.Error("live: open meeting room", "room", spec.Room, "err", err)
		s.error(w, r, http.StatusServiceUnavailable, "La visio n'a pas pu s'ouvrir. Réessayez dans un instant.")
		return
	case url != "":
		s.forwardTo(w, r, url)
		return
	}
	u := currentUser(r)
	now := s.cfg.Live.now()
	g := sfu.Grant{Room: spec.Room, UserID: strconv.FormatInt(u.UserID, 10), Name: u.Name, Role: sfu.RoleParticipant,
		Expires: now.Add(sfu.MaxGrantTTL).Truncate(time.Second), CanPublishAudio: true, CanPublishVideo: true}
	if g.Name == "" {
		g.Name = u.Login
	}
	if moderator {
		g.Role, g.CanPublishScreen = sfu.RoleModerator, true
	}
	tok, err := s.cfg.Live.Signer.Sign(g, now)
	if err != nil {
		s.log.Error("live: sign meeting grant", "room", spec.Room, "err", err)
		apiError(w, http.StatusServiceUnavailable, "unavailable", "Le service est momentanément indisponible. Réessayez dans un instant.")
		return
	}
	writeJSON(w, http.StatusOK, grantResponse{Room: spec.Room, Grant: tok, ExpiresAt: g.Expires.UTC(),
		ICEServers: s.cfg.Live.Manager.ICEServers(g.UserID, now)})
}

// apiEndMeeting ends the meeting room for everyone: moderators only. A
// room of another node is ended there: the request is forwarded to it,
// once (a request forwarded already marks the entry, see endMeetingRoom).
func (s *Server) apiEndMeeting(w http.ResponseWriter, r *http.Request) {
	spec, moderator, ok := s.reachableMeeting(w, r)
	if !ok {
		return
	}
	if !moderator {
		s.notFound(w, r)
		return
	}
	if !s.forwarded(r) {
		s.meetingRooms.end(s.cfg.Live.Manager, spec.Room)
		ctx, cancel := context.WithTimeout(r.Context(), placementTimeout)
		_, n, elsewhere, err := s.meetingElsewhere(ctx, spec.Room)
		cancel()
		if err != nil {
			s.log.Error("live: end meeting room", "room", spec.Room, "err", err)
			apiError(w, http.StatusServiceUnavailable, "unavailable", "La visio est momentanément injoignable. Réessayez dans un instant.")
			return
		}
		if elsewhere {
			s.forwardTo(w, r, n.URL)
			return
		}
	} else {
		s.endMeetingRoom(spec.Room)
	}
	s.log.Info("live: meeting room ended", "room", spec.Room, "by", currentUser(r).UserID)
	w.WriteHeader(http.StatusNoContent)
}

type meetingRoomData struct {
	Room, Title, Back string
	Moderator         bool
	Until             string
}

// meetingRoomPage is the live page of a meeting room: everyone has the
// camera button; the moderator may lock and end it.
func (s *Server) meetingRoomPage(w http.ResponseWriter, r *http.Request) {
	spec, moderator, ok := s.reachableMeeting(w, r)
	if !ok {
		return
	}
	// Opened here if this node is to run it; otherwise the page's grant
	// request is forwarded to the node that runs it, or is to open it. A
	// room still ending on its node (a council changed a second ago) is
	// the grant's to wait for: the page asks again.
	_, err := s.hostMeeting(r.Context(), spec, s.cfg.Live.now(), !s.forwarded(r))
	if err != nil && !errors.Is(err, errMeetingPlacement) {
		s.log.Error("live: open meeting room", "room", spec.Room, "err", err)
		s.error(w, r, http.StatusServiceUnavailable, "La visio n'a pas pu s'ouvrir. Réessayez dans un instant.")
		return
	}
	s.render(w, r, http.StatusOK, "meetings_room", view{Title: spec.Title, Data: meetingRoomData{Room: spec.Room, Title: spec.Title,
		Back: spec.Back, Moderator: moderator, Until: meetings.FrClock(spec.Closes)}})
}
