package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/ent/directory"
	"preau/identity"
)

// The "Cours en direct" pages: the running lessons the user may join, a form
// per class a teacher may start one for, and the lesson itself, which
// static/live.js runs over /live/ws (docs/sfu.md). Without the SFU (Config.Live
// nil) they answer 404 like the API.

func (s *Server) livePages(r chi.Router) {
	r.Get("/direct", s.livePage)
	r.With(s.limitBody(s.cfg.MaxBody)).Post("/direct", s.liveStartSubmit)
	r.Get("/direct/historique", s.liveHistoryPage)
	r.Get("/direct/test", s.deviceCheckPage)
	r.Get("/live/check", s.liveCheck)
	r.Get("/direct/{room}", s.lessonPage)
}

type liveListData struct {
	Lessons []liveRow
	// Startable: the classes the user may start a lesson for.
	Startable []directory.Class
	// History: the user may read past roll calls (adults of the school
	// but parents).
	History bool
}

type liveRow struct {
	Room      string
	ClassName string
	StartedAt string
}

func (s *Server) livePage(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	u := currentUser(r)
	ctx := r.Context()
	var d liveListData
	for _, l := range s.lessons.active(s.cfg.Live.Manager) {
		if !u.Can(identity.Live, identity.Read, l.target()) {
			continue
		}
		c, err := s.dir.Class(ctx, l.ClassID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Lessons = append(d.Lessons, liveRow{Room: l.Room, ClassName: c.Name, StartedAt: frDateTime(l.StartedAt)})
	}
	if u.Primary() == identity.Teacher {
		y, err := s.currentYear(r)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		for _, id := range u.Classes {
			c, err := s.dir.Class(ctx, id)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if c.YearID == y && u.Can(identity.Live, identity.Create, classTarget(c)) {
				d.Startable = append(d.Startable, c)
			}
		}
	}
	d.History = u.Has(identity.Teacher) || u.Has(identity.Staff) || u.Has(identity.Head) || u.Has(identity.Admin)
	s.render(w, r, http.StatusOK, "live_list", view{Title: "Cours en direct", Data: d})
}

type historyRow struct {
	ClassName string
	StartedAt string
	Duration  string
	People    int
	CSV       string
}

// liveHistoryPage lists the finished lessons whose roll call the user may
// read, each with its CSV.
func (s *Server) liveHistoryPage(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	past, err := s.pastLessons(r.Context(), currentUser(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]historyRow, 0, len(past))
	for _, l := range past {
		d := frMinutes(l.EndedAt.Sub(l.StartedAt))
		if l.Interrupted {
			d += " (interrompu)" // its node stopped: the roll call runs up to then
		}
		rows = append(rows, historyRow{ClassName: l.ClassName, StartedAt: frDateTime(l.StartedAt),
			Duration: d, People: l.People, CSV: l.CSV})
	}
	s.render(w, r, http.StatusOK, "live_history", view{Title: "Présences aux cours en direct", Data: rows})
}

func frMinutes(d time.Duration) string {
	m := int64((d + time.Minute - 1) / time.Minute)
	if m < 60 {
		return strconv.FormatInt(m, 10) + " min"
	}
	return fmt.Sprintf("%d h %02d", m/60, m%60)
}

// deviceCheckPage is "Tester mon matériel": camera, microphone and the
// network path to the SFU (static/live_check.js, over /live/check).
func (s *Server) deviceCheckPage(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	s.render(w, r, http.StatusOK, "live_check", view{Title: "Tester mon matériel"})
}

// liveCheck is the network check's WebSocket (sfu.Manager.CheckHandler),
// for signed-in users only.
func (s *Server) liveCheck(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	s.cfg.Live.Manager.CheckHandler().ServeHTTP(w, r)
}

// liveStartSubmit starts the lesson of the form's class (or finds the one
// running) and opens it.
func (s *Server) liveStartSubmit(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Live == nil {
		s.notFound(w, r)
		return
	}
	if s.forwardStart(w, r) { // to the least-loaded node (live_placement.go)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("class_id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	l, _, err := s.startLesson(r, id, r.PostForm.Get("waiting_room") == "on")
	switch {
	case errors.Is(err, errLiveUnavailable):
		s.error(w, r, http.StatusServiceUnavailable, "Le cours en direct n'a pas pu démarrer. Réessayez dans un instant.")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/direct/"+l.Room, http.StatusSeeOther)
}

type lessonData struct {
	Room      string
	ClassName string
	Moderator bool
	Chat      *conversationData // the lesson's chat (live_chat.go); nil: none
}

func (s *Server) lessonPage(w http.ResponseWriter, r *http.Request) {
	if isMeetingRoom(chi.URLParam(r, "room")) { // a meeting or council (meetings_room.go)
		s.meetingRoomPage(w, r)
		return
	}
	l, moderator, ok := s.reachableLesson(w, r)
	if !ok {
		return
	}
	c, err := s.dir.Class(r.Context(), l.ClassID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	chatPanel, err := s.lessonChatPanel(r, l, moderator)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "live", view{Title: "Cours en direct — " + c.Name,
		Data: lessonData{Room: l.Room, ClassName: c.Name, Moderator: moderator, Chat: chatPanel}})
}
