package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"preau/chat"
	"preau/ent/directory"
	"preau/ent/meetings"
)

// meetingsWorld is the directory fixture with an SFU, a chat hub and a
// clock the test sets.
func meetingsWorld(t *testing.T) (*fixture, *time.Time, func(method, path, body, who string) *httptest.ResponseRecorder) {
	t.Helper()
	ctx := context.Background()
	f, lv := liveFixture(t)
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, meetings.Paris)
	lv.Now = func() time.Time { return now }
	broker := chat.NewMemoryBroker(0)
	hub := chat.NewHub(chat.Config{}, f.srv.chat, broker, testLogger(t))
	f.srv.cfg.ChatHub = hub
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		hub.Shutdown(sctx)
		broker.Close()
	})
	c := map[string]*http.Cookie{}
	for name, p := range map[string]directory.Person{"teacher": f.teacher, "lea": f.lea, "tom": f.tom, "hugo": f.hugo, "mother": f.mother,
		"father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead, "admin": f.admin} {
		c[name] = f.session(t, p)
	}
	return f, &now, func(method, path, body, who string) *httptest.ResponseRecorder {
		return f.do(method, path, body, withCookie(c[who]))
	}
}

// lastNotice returns the last message Préau wrote to who in the
// conversation titled title.
func lastNotice(t *testing.T, f *fixture, who int64, title string) string {
	t.Helper()
	ctx := context.Background()
	convs, err := f.srv.chat.ConversationsOf(ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range convs {
		if l.Title == title {
			msgs, err := f.srv.chat.Since(ctx, l.ID, 0, 50)
			if err != nil || len(msgs) == 0 {
				t.Fatalf("messages of %q: %v %v", title, msgs, err)
			}
			return msgs[len(msgs)-1].Body
		}
	}
	t.Fatalf("no conversation %q for %d (%+v)", title, who, convs)
	return ""
}

// TestMeetings walks parent–teacher meetings through the API: who
// publishes, who sees which slots, booking for one's own child only, one
// per teacher and child, the notifications of both sides, the video room
// reachable only by the family and the teacher in its window, and 404 for
// every foreign id.
func TestMeetings(t *testing.T) {
	f, now, do := meetingsWorld(t)
	series := func(mode, from, until string, teachers ...int64) string {
		ids := make([]string, len(teachers))
		for i, id := range teachers {
			ids[i] = fmt.Sprint(id)
		}
		return fmt.Sprintf(`{"teacher_ids":[%s],"date":"2026-12-01","from":%q,"until":%q,"minutes":15,"mode":%q,"place":"Salle 12"}`,
			strings.Join(ids, ","), from, until, mode)
	}

	// Publishing: the teacher for themselves, the direction for them.
	for _, who := range []string{"mother", "lea", "cpe", "lyceeHead", "admin"} {
		wantCode(t, do("POST", "/api/v1/meetings/slots", series("video", "17:00", "18:00", f.teacher.ID), who), http.StatusNotFound, who+" publishes")
	}
	wantCode(t, do("POST", "/api/v1/meetings/slots", series("video", "17:00", "18:00", f.head.ID), "head"), http.StatusNotFound, "slots for a non-teacher")
	w := do("POST", "/api/v1/meetings/slots", `{"date":"2026-12-01","from":"17:00","until":"18:00","minutes":15,"mode":"in_person"}`, "teacher")
	wantCode(t, w, http.StatusBadRequest, "in person without a room")
	if !strings.Contains(w.Body.String(), "Indiquez la salle") {
		t.Errorf("French error: %s", w.Body)
	}
	w = do("POST", "/api/v1/meetings/slots", series("video", "17:00", "18:00", f.teacher.ID), "teacher")
	wantCode(t, w, http.StatusCreated, "teacher publishes")
	video := decodeBody[[]meetingSlotJSON](t, w)
	if len(video) != 4 || video[0].Mode != meetings.Video {
		t.Fatalf("published %+v", video)
	}
	w = do("POST", "/api/v1/meetings/slots", series("video", "17:30", "18:30", f.teacher.ID), "head")
	wantCode(t, w, http.StatusBadRequest, "overlapping slots")
	w = do("POST", "/api/v1/meetings/slots", series("in_person", "18:00", "18:30", f.teacher.ID), "head")
	wantCode(t, w, http.StatusCreated, "the direction publishes for the teacher")
	slot := func(i int) string { return fmt.Sprintf("/api/v1/meetings/slots/%d", video[i].ID) }

	// Who sees them: the teacher, the direction, the administrator, Léa's
	// mother (the teacher teaches Léa); not Hugo's father, not the lycée.
	for who, n := range map[string]int{"teacher": 6, "head": 6, "admin": 6, "mother": 6, "father": 0, "lyceeHead": 0, "lea": 0, "cpe": 0} {
		w := do("GET", "/api/v1/meetings/slots", "", who)
		wantCode(t, w, http.StatusOK, who+" lists")
		if got := decodeBody[[]meetingSlotJSON](t, w); len(got) != n {
			t.Errorf("%s sees %d slots, want %d", who, len(got), n)
		}
	}
	for _, who := range []string{"father", "lyceeHead", "lea", "cpe"} {
		wantCode(t, do("GET", slot(0), "", who), http.StatusNotFound, who+" reads a slot")
	}
	wantCode(t, do("GET", "/api/v1/meetings/slots/999999", "", "teacher"), http.StatusNotFound, "no such slot")

	// Booking: a parent, for their own child, taught by the teacher.
	book := func(child directory.Person) string { return fmt.Sprintf(`{"child_id":%d}`, child.ID) }
	wantCode(t, do("POST", slot(0)+"/booking", book(f.hugo), "father"), http.StatusNotFound, "father books a slot he cannot see")
	wantCode(t, do("POST", slot(0)+"/booking", book(f.tom), "mother"), http.StatusNotFound, "mother books for another's child")
	wantCode(t, do("POST", slot(0)+"/booking", book(f.lea), "teacher"), http.StatusNotFound, "the teacher books")
	w = do("POST", slot(1)+"/booking", book(f.lea), "mother")
	wantCode(t, w, http.StatusCreated, "mother books for Léa")
	if b := decodeBody[meetingSlotJSON](t, w); b.Booking == nil || b.Booking.ChildID != f.lea.ID || b.Room != "rdv-"+fmt.Sprint(video[1].ID) || b.Join != "" {
		t.Errorf("booked %+v", b)
	}
	w = do("POST", slot(3)+"/booking", book(f.lea), "mother")
	wantCode(t, w, http.StatusBadRequest, "a second slot with the same teacher")
	if !strings.Contains(w.Body.String(), "déjà rendez-vous avec Paul Dupont") {
		t.Errorf("French error: %s", w.Body)
	}
	if got := lastNotice(t, f, f.teacher.ID, "Rendez-vous parents-professeurs"); !strings.Contains(got, "Nouveau rendez-vous : Sophie Martin (pour Léa Martin), le mardi 1er décembre à 17 h 15, en visio.") {
		t.Errorf("teacher's notification %q", got)
	}
	// The teacher sees the family; another family would only see "booked".
	if got := decodeBody[meetingSlotJSON](t, do("GET", slot(1), "", "teacher")); got.Booking == nil || got.Booking.ParentName != "Sophie Martin" {
		t.Errorf("teacher's view %+v", got)
	}

	// The video room: closed before its window, then only for the family
	// and the teacher.
	room := "/api/v1/live/rooms/rdv-" + fmt.Sprint(video[1].ID)
	wantCode(t, do("POST", room+"/grant", "", "mother"), http.StatusNotFound, "grant before the window")
	*now = time.Date(2026, 12, 1, 17, 5, 0, 0, meetings.Paris) // the room opens at 17:05
	for _, who := range []string{"mother", "teacher"} {
		w := do("POST", room+"/grant", "", who)
		wantCode(t, w, http.StatusOK, who+" grant")
		if g := decodeBody[grantResponse](t, w); g.Room != "rdv-"+fmt.Sprint(video[1].ID) || g.Grant == "" {
			t.Errorf("%s grant %+v", who, g)
		}
	}
	for _, who := range []string{"father", "head", "admin", "lea", "cpe", "lyceeHead"} {
		wantCode(t, do("POST", room+"/grant", "", who), http.StatusNotFound, who+" grant")
		wantCode(t, do("GET", "/direct/rdv-"+fmt.Sprint(video[1].ID), "", who), http.StatusNotFound, who+" page")
	}
	wantCode(t, do("POST", "/api/v1/live/rooms/rdv-"+fmt.Sprint(video[0].ID)+"/grant", "", "teacher"), http.StatusNotFound, "a free slot's room")
	page := do("GET", "/direct/rdv-"+fmt.Sprint(video[1].ID), "", "mother")
	wantCode(t, page, http.StatusOK, "mother's room page")
	if b := page.Body.String(); !strings.Contains(b, `id="live-camera"`) || strings.Contains(b, `id="live-end"`) {
		t.Error("the parent's room page: a camera button, no end button")
	}
	if b := do("GET", "/direct/rdv-"+fmt.Sprint(video[1].ID), "", "teacher").Body.String(); !strings.Contains(b, `id="live-end"`) {
		t.Error("the teacher moderates")
	}
	if r := f.srv.cfg.Live.Manager.Room("rdv-" + fmt.Sprint(video[1].ID)); r == nil || r.Kind() != "meeting" {
		t.Errorf("room on the SFU %v", r)
	}
	if got := decodeBody[meetingSlotJSON](t, do("GET", slot(1), "", "mother")); got.Join != "/direct/rdv-"+fmt.Sprint(video[1].ID) {
		t.Errorf("join link in the window: %+v", got)
	}
	if b := do("GET", "/rendez-vous", "", "mother").Body.String(); !strings.Contains(b, "Rejoindre la visio") {
		t.Error("the page shows no join button in the window")
	}
	wantCode(t, do("POST", room+"/end", "", "mother"), http.StatusNotFound, "the parent ends the meeting")

	// Cancelling: the family frees it, the teacher is told; the room ends.
	wantCode(t, do("DELETE", slot(1)+"/booking", "", "father"), http.StatusNotFound, "father cancels")
	wantCode(t, do("DELETE", slot(1)+"/booking", "", "mother"), http.StatusNoContent, "mother cancels")
	if got := lastNotice(t, f, f.teacher.ID, "Rendez-vous parents-professeurs"); !strings.Contains(got, "Rendez-vous annulé par Sophie Martin") {
		t.Errorf("teacher's notification %q", got)
	}
	if r := f.srv.cfg.Live.Manager.Room("rdv-" + fmt.Sprint(video[1].ID)); r != nil {
		t.Error("the room of a cancelled meeting is still open")
	}
	wantCode(t, do("POST", room+"/grant", "", "mother"), http.StatusNotFound, "grant after cancelling")
	if b := do("GET", "/rendez-vous", "", "mother").Body.String(); strings.Contains(b, "Rejoindre la visio") {
		t.Error("the join button after cancelling")
	}

	// The teacher cancels the next booking: the family is told.
	wantCode(t, do("POST", slot(2)+"/booking", book(f.lea), "mother"), http.StatusCreated, "mother books again")
	wantCode(t, do("DELETE", slot(2)+"/booking", "", "teacher"), http.StatusNoContent, "teacher cancels")
	if got := lastNotice(t, f, f.mother.ID, "Rendez-vous — Léa Martin"); !strings.Contains(got, "Votre rendez-vous avec Paul Dupont le mardi 1er décembre à 17 h 30 (pour Léa Martin) est annulé par Paul Dupont.") {
		t.Errorf("family's notification %q", got)
	}
	wantCode(t, do("DELETE", slot(2)+"/booking", "", "teacher"), http.StatusNotFound, "cancel a free slot")

	// Removing slots: their manager only.
	for _, who := range []string{"mother", "lyceeHead", "cpe"} {
		wantCode(t, do("DELETE", slot(3), "", who), http.StatusNotFound, who+" removes")
	}
	wantCode(t, do("DELETE", slot(3), "", "head"), http.StatusNoContent, "the direction removes a slot")
	wantCode(t, do("GET", slot(3), "", "teacher"), http.StatusNotFound, "removed slot")

	// Pages.
	if b := do("GET", "/rendez-vous", "", "mother").Body.String(); !strings.Contains(b, "Léa Martin") || !strings.Contains(b, "Paul Dupont") || !strings.Contains(b, "Réserver") {
		t.Error("the parent's page lacks the child, the teacher or the free slots")
	}
	wantCode(t, do("GET", "/rendez-vous", "", "lea"), http.StatusNotFound, "a pupil's page")
}

// TestMeetingsPageBooking books through the plain form and refuses a
// slot taken meanwhile with a French message.
func TestMeetingsPageBooking(t *testing.T) {
	f, _, do := meetingsWorld(t)
	w := do("POST", "/api/v1/meetings/slots", `{"date":"2026-12-01","from":"17:00","until":"17:15","minutes":15,"mode":"video"}`, "teacher")
	wantCode(t, w, http.StatusCreated, "publish")
	sl := decodeBody[[]meetingSlotJSON](t, w)[0]
	form := func(who string) *httptest.ResponseRecorder {
		return f.do("POST", fmt.Sprintf("/rendez-vous/creneaux/%d/reserver", sl.ID), "", withCookie(f.session(t, map[string]directory.Person{"mother": f.mother}[who])),
			withFormBody(map[string][]string{"child_id": {fmt.Sprint(f.lea.ID)}}))
	}
	w = form("mother")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/rendez-vous?ok=reserve" {
		t.Fatalf("book through the form: %d %s", w.Code, w.Body)
	}
	// Another family takes nothing: Tom's parent does not exist, so the
	// store's race is in ent/meetings; here the slot page says it is booked.
	if b := do("GET", fmt.Sprintf("/rendez-vous/creneaux/%d", sl.ID), "", "teacher").Body.String(); !strings.Contains(b, "Sophie Martin (pour Léa Martin)") {
		t.Error("the slot page does not name the family for the teacher")
	}
}
