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
// start to the end), and ends it at the window's end. The members are an
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

// meetingRooms is the registry of the meeting rooms open on this node (in
// memory like the lessons: issue 8 moves it beside the room → node map).
type meetingRooms struct {
	mu   sync.Mutex
	open map[string]*sfu.Room
}

// isMeetingRoom reports whether a room id is a meeting's, not a lesson's.
func isMeetingRoom(id string) bool {
	return strings.HasPrefix(id, meetings.RoomPrefix) || strings.HasPrefix(id, councils.RoomPrefix)
}

// ensure returns the open room of spec, creating it on the SFU (under the
// lock: two members arriving at once get the same room) with a timer that
// ends it when the window closes.
func (mr *meetingRooms) ensure(m *sfu.Manager, spec meetingRoom, now time.Time) (*sfu.Room, error) {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	if r, ok := mr.open[spec.Room]; ok {
		if m.Room(spec.Room) == r {
			return r, nil
		}
		delete(mr.open, spec.Room)
	}
	room, err := m.CreateRoom(spec.Room, sfu.KindMeeting)
	if err != nil {
		return nil, err
	}
	if mr.open == nil {
		mr.open = map[string]*sfu.Room{}
	}
	mr.open[spec.Room] = room
	time.AfterFunc(spec.Closes.Sub(now), func() { mr.end(m, spec.Room) })
	return room, nil
}

// end ends room id if it is open (a cancellation, the window's end).
func (mr *meetingRooms) end(m *sfu.Manager, id string) {
	mr.mu.Lock()
	r, ok := mr.open[id]
	delete(mr.open, id)
	mr.mu.Unlock()
	if ok && m.Room(id) == r {
		r.End()
	}
}

// endMeetingRoom ends room id now, if it is open on this node.
func (s *Server) endMeetingRoom(id string) {
	if s.cfg.Live != nil && id != "" {
		s.meetingRooms.end(s.cfg.Live.Manager, id)
	}
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

// reachableMeeting returns the meeting room of the {room} parameter, open
// on the SFU, when the caller is a member and the room is in its window;
// otherwise it answers 404.
func (s *Server) reachableMeeting(w http.ResponseWriter, r *http.Request) (meetingRoom, bool, bool) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return meetingRoom{}, false, false
	}
	u := currentUser(r)
	spec, err := s.meetingSpec(r.Context(), u, chi.URLParam(r, "room"))
	now := s.cfg.Live.now()
	switch {
	case errors.Is(err, errMeetingNotFound) || (err == nil && !spec.OpenAt(now)):
		s.notFound(w, r)
		return spec, false, false
	case err != nil:
		s.fail(w, r, err)
		return spec, false, false
	}
	if _, err := s.meetingRooms.ensure(s.cfg.Live.Manager, spec, now); err != nil {
		s.log.Error("live: open meeting room", "room", spec.Room, "err", err)
		s.error(w, r, http.StatusServiceUnavailable, "La visio n'a pas pu s'ouvrir. Réessayez dans un instant.")
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

// apiEndMeeting ends the meeting room for everyone: moderators only.
func (s *Server) apiEndMeeting(w http.ResponseWriter, r *http.Request) {
	spec, moderator, ok := s.reachableMeeting(w, r)
	if !ok {
		return
	}
	if !moderator {
		s.notFound(w, r)
		return
	}
	s.endMeetingRoom(spec.Room)
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
	s.render(w, r, http.StatusOK, "meetings_room", view{Title: spec.Title, Data: meetingRoomData{Room: spec.Room, Title: spec.Title,
		Back: spec.Back, Moderator: moderator, Until: meetings.FrClock(spec.Closes)}})
}
