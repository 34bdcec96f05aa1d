package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"preau/ent/directory"
	"preau/ent/meetings"
)

// TestCouncils walks a class council through the API: who schedules it,
// members only see it (404 for anyone else), the shared notes with their
// version, members changed, the video room for members in its window, and
// deletion.
func TestCouncils(t *testing.T) {
	f, now, do := meetingsWorld(t)
	ctx := context.Background()
	y, err := directory.CurrentYear(ctx, f.d)
	if err != nil {
		t.Fatal(err)
	}
	terms, err := directory.EnsureTerms(ctx, f.d, y)
	if err != nil {
		t.Fatal(err)
	}
	body := func(class int64, members string) string {
		return fmt.Sprintf(`{"class_id":%d,"term_id":%d,"date":"2026-12-03","time":"17:30","minutes":90,"place":"Salle B","members":[%s]}`,
			class, terms[1].ID, members)
	}
	members := fmt.Sprintf(`{"user_id":%d,"role":"cpe"},{"user_id":%d,"role":"pupil_delegate"},{"user_id":%d,"role":"parent_delegate"}`,
		f.cpe.ID, f.lea.ID, f.mother.ID)
	for _, who := range []string{"teacher", "mother", "lea", "lyceeHead", "admin"} {
		wantCode(t, do("POST", "/api/v1/councils", body(f.classA, members), who), http.StatusNotFound, who+" schedules")
	}
	wantCode(t, do("POST", "/api/v1/councils", body(f.classLycee, members), "head"), http.StatusNotFound, "another school's class")
	w := do("POST", "/api/v1/councils", body(f.classA, fmt.Sprintf(`{"user_id":%d,"role":"pupil_delegate"}`, f.hugo.ID)), "head")
	wantCode(t, w, http.StatusBadRequest, "a delegate of another class")
	if !strings.Contains(w.Body.String(), "délégué des élèves") {
		t.Errorf("French error: %s", w.Body)
	}
	w = do("POST", "/api/v1/councils", body(f.classA, members), "head")
	wantCode(t, w, http.StatusCreated, "head schedules")
	k := decodeBody[councilJSON](t, w)
	if len(k.Members) != 5 || !k.IsMember(f.teacher.ID) || !k.IsMember(f.head.ID) || !k.CanManage || k.Join != "" {
		t.Fatalf("council %+v", k)
	}
	path := fmt.Sprintf("/api/v1/councils/%d", k.ID)

	// Members only.
	for _, who := range []string{"teacher", "lea", "mother", "cpe", "head"} {
		wantCode(t, do("GET", path, "", who), http.StatusOK, who+" reads")
		if n := len(decodeBody[[]councilJSON](t, do("GET", "/api/v1/councils", "", who))); n != 1 {
			t.Errorf("%s lists %d councils", who, n)
		}
	}
	for _, who := range []string{"tom", "father", "hugo", "lyceeHead", "admin"} {
		wantCode(t, do("GET", path, "", who), http.StatusNotFound, who+" reads")
		wantCode(t, do("PUT", path+"/notes", `{"agenda":"x","notes":"","version":1}`, who), http.StatusNotFound, who+" writes notes")
		wantCode(t, do("DELETE", path, "", who), http.StatusNotFound, who+" deletes")
	}

	// The shared notes: saved at the version read, a stale save refused.
	w = do("PUT", path+"/notes", fmt.Sprintf(`{"agenda":"<script>alert(1)</script>","notes":"Classe sérieuse.","version":%d}`, k.Version), "lea")
	wantCode(t, w, http.StatusOK, "the delegate writes")
	k2 := decodeBody[councilJSON](t, w)
	w = do("PUT", path+"/notes", fmt.Sprintf(`{"agenda":"autre","notes":"","version":%d}`, k.Version), "teacher")
	wantCode(t, w, http.StatusConflict, "a stale save")
	if !strings.Contains(w.Body.String(), "entre-temps") {
		t.Errorf("French error: %s", w.Body)
	}
	page := do("GET", fmt.Sprintf("/conseils/%d", k.ID), "", "mother").Body.String()
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(page, "<script>alert(1)") {
		t.Error("the agenda is not shown escaped")
	}

	// Managers change the members: the teacher may not; the mother,
	// taken off, no longer sees it.
	resched := fmt.Sprintf(`{"date":"2026-12-03","time":"18:00","minutes":60,"place":"Salle B","members":[{"user_id":%d,"role":"teacher"},{"user_id":%d,"role":"pupil_delegate"}]}`,
		f.teacher.ID, f.lea.ID)
	wantCode(t, do("PUT", path, resched, "teacher"), http.StatusNotFound, "the teacher reschedules")
	w = do("PUT", path, resched, "cpe")
	wantCode(t, w, http.StatusOK, "the CPE reschedules")
	if k3 := decodeBody[councilJSON](t, w); k3.IsMember(f.mother.ID) || !k3.IsMember(f.cpe.ID) || k3.Notes != k2.Notes || len(k3.Members) != 3 {
		t.Errorf("rescheduled %+v", k3)
	}
	wantCode(t, do("GET", path, "", "mother"), http.StatusNotFound, "the removed delegate")

	// The room: members, in its window (from 17:45 on the day).
	room := fmt.Sprintf("/api/v1/live/rooms/conseil-%d/grant", k.ID)
	wantCode(t, do("POST", room, "", "lea"), http.StatusNotFound, "before the window")
	*now = time.Date(2026, 12, 3, 17, 50, 0, 0, meetings.Paris)
	for _, who := range []string{"lea", "teacher", "cpe"} {
		wantCode(t, do("POST", room, "", who), http.StatusOK, who+" grant")
	}
	for _, who := range []string{"mother", "head", "tom", "admin"} {
		wantCode(t, do("POST", room, "", who), http.StatusNotFound, who+" grant")
	}
	if b := do("GET", fmt.Sprintf("/conseils/%d", k.ID), "", "lea").Body.String(); !strings.Contains(b, "Rejoindre la visio") {
		t.Error("no join button in the window")
	}
	if b := do("GET", fmt.Sprintf("/direct/conseil-%d", k.ID), "", "cpe").Body.String(); !strings.Contains(b, `id="live-end"`) {
		t.Error("the CPE does not moderate the council's room")
	}
	*now = time.Date(2026, 12, 3, 19, 0, 0, 0, meetings.Paris)
	wantCode(t, do("POST", room, "", "lea"), http.StatusNotFound, "after the end")

	wantCode(t, do("DELETE", path, "", "teacher"), http.StatusNotFound, "the teacher deletes")
	wantCode(t, do("DELETE", path, "", "cpe"), http.StatusNoContent, "the CPE deletes")
	wantCode(t, do("GET", path, "", "cpe"), http.StatusNotFound, "deleted")
}
