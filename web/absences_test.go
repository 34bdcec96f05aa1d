package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/chat"
	"preau/ent/absences"
	"preau/ent/directory"
	"preau/ent/live"
	"preau/ent/timetable"
	"preau/identity"
)

// TestAbsences walks the vie scolaire: the teacher takes the roll of a
// lesson of 3e A (pre-filled from the class's live lesson when there was
// one), the family is told at once through the hub, the mother justifies,
// the CPE decides, edits, deletes and exports; every other id answers 404.
func TestAbsences(t *testing.T) {
	ctx := context.Background()
	f, lv := liveFixture(t)
	d := f.d
	// Wednesday 2 December 2026, 9:00 (the second term).
	lv.Now = func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, timetable.Paris) }
	broker := chat.NewMemoryBroker(0)
	hub := chat.NewHub(chat.Config{}, f.srv.chat, broker, testLogger(t))
	f.srv.cfg.ChatHub = hub
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		hub.Shutdown(sctx)
		broker.Close()
	})
	// A secretary: staff of the school, not of the vie scolaire.
	sec, err := directory.CreatePerson(ctx, d, directory.Person{FirstName: "Jean", LastName: "Secr", Email: "jean@example.fr"})
	if err != nil {
		t.Fatal(err)
	}
	if err := directory.AddRole(ctx, d, sec.ID, f.college, identity.Staff, "Secrétaire"); err != nil {
		t.Fatal(err)
	}
	// Tuesday 1 December 2026, 10:00–11:00: mathematics in 3e A.
	if _, err := f.srv.tt.CreateSlot(ctx, timetable.Slot{ClassID: f.classA, SubjectID: f.mathsID, TeacherID: f.teacher.ID, Weekday: 2, Start: 600, End: 660}); err != nil {
		t.Fatal(err)
	}
	c := map[string]*http.Cookie{}
	for name, p := range map[string]directory.Person{"teacher": f.teacher, "lea": f.lea, "tom": f.tom, "hugo": f.hugo, "mother": f.mother,
		"father": f.father, "cpe": f.cpe, "head": f.head, "lyceeHead": f.lyceeHead, "admin": f.admin, "sec": sec} {
		c[name] = f.session(t, p)
	}
	do := func(method, path, body, who string) *httptest.ResponseRecorder {
		return f.do(method, path, body, withCookie(c[who]))
	}
	form := func(path string, v url.Values, who string) *httptest.ResponseRecorder {
		return f.do("POST", path, "", withCookie(c[who]), withFormBody(v))
	}
	roll := func(class int64, start, end string, marks string) string {
		return fmt.Sprintf(`{"class_id":%d,"date":"2026-12-01","start":%q,"end":%q,"marks":[%s]}`, class, start, end, marks)
	}
	mark := func(p directory.Person, kind string, late int) string {
		return fmt.Sprintf(`{"pupil_id":%d,"kind":%q,"late_min":%d}`, p.ID, kind, late)
	}

	// Taking the roll: the class's teacher, the vie scolaire, the direction.
	body := roll(f.classA, "10:00", "11:00", mark(f.lea, "absence", 0)+","+mark(f.tom, "late", 10))
	for _, who := range []string{"mother", "lea", "lyceeHead", "sec", "admin"} {
		wantCode(t, do("POST", "/api/v1/absences/roll", body, who), http.StatusNotFound, who+" takes the roll")
	}
	wantCode(t, do("POST", "/api/v1/absences/roll", roll(f.classB, "10:00", "11:00", mark(f.hugo, "absence", 0)), "teacher"), http.StatusNotFound, "teacher, class not taught")
	wantCode(t, do("POST", "/api/v1/absences/roll", roll(f.classA, "10:00", "11:00", mark(f.hugo, "absence", 0)), "teacher"), http.StatusNotFound, "a pupil of another class")
	w := do("POST", "/api/v1/absences/roll", roll(f.classA, "10:00", "11:00", mark(f.tom, "late", 500)), "teacher")
	wantCode(t, w, http.StatusBadRequest, "absurd lateness")
	if !strings.Contains(w.Body.String(), "minutes") {
		t.Errorf("French error: %s", w.Body)
	}
	w = do("POST", "/api/v1/absences/roll", body, "teacher")
	wantCode(t, w, http.StatusOK, "teacher takes the roll")
	got := decodeBody[struct{ Recorded []absences.Record }](t, w)
	if len(got.Recorded) != 2 || got.Recorded[0].Subject != "Mathématiques" {
		t.Fatalf("recorded %+v", got.Recorded)
	}
	var leaRec, tomRec absences.Record
	for _, r := range got.Recorded {
		if r.PupilID == f.lea.ID {
			leaRec = r
		} else {
			tomRec = r
		}
	}
	// The same roll again records nothing new.
	w = do("POST", "/api/v1/absences/roll", body, "teacher")
	if again := decodeBody[struct{ Recorded []absences.Record }](t, w); len(again.Recorded) != 0 {
		t.Errorf("roll taken twice: %+v", again.Recorded)
	}

	// The mother is told at once, by Préau, in "Vie scolaire — Léa Martin".
	convs, err := f.srv.chat.ConversationsOf(ctx, f.mother.ID)
	if err != nil {
		t.Fatal(err)
	}
	var notice chat.Listed
	for _, l := range convs {
		if l.Title == "Vie scolaire — Léa Martin" {
			notice = l
		}
	}
	if notice.ID == 0 || notice.Unread != 1 {
		t.Fatalf("mother's conversations %+v", convs)
	}
	if cv, err := f.srv.chat.Conversation(ctx, notice.ID); err != nil || !cv.AnnounceOnly || cv.CreatedBy != 0 {
		t.Errorf("the family's conversation %+v %v", cv, err)
	}
	msgs, err := f.srv.chat.Since(ctx, notice.ID, 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].SenderID != 0 || msgs[0].Body != "Absence de Léa le 1er décembre, 10 h – 11 h (Mathématiques)" {
		t.Fatalf("notification %+v %v", msgs, err)
	}
	if ok, _ := f.srv.chat.IsMember(ctx, notice.ID, f.lea.ID); ok {
		t.Error("the pupil is in the family's conversation")
	}

	// Reading a record: the pupil, their parent, the class's teacher, the
	// school's vie scolaire and direction, the administrator; nobody else.
	leaPath := fmt.Sprintf("/api/v1/absences/%d", leaRec.ID)
	tomPath := fmt.Sprintf("/api/v1/absences/%d", tomRec.ID)
	for who, code := range map[string]int{"lea": 200, "mother": 200, "teacher": 200, "cpe": 200, "head": 200, "admin": 200,
		"tom": 404, "hugo": 404, "father": 404, "lyceeHead": 404, "sec": 404} {
		wantCode(t, do("GET", leaPath, "", who), code, who+" reads Léa's absence")
		wantCode(t, do("GET", "/vie-scolaire/absences/"+fmt.Sprint(leaRec.ID), "", who), code, who+" opens Léa's absence")
	}
	wantCode(t, do("GET", tomPath, "", "mother"), http.StatusNotFound, "mother reads Tom's")
	wantCode(t, do("GET", tomPath, "", "lea"), http.StatusNotFound, "Léa reads Tom's")
	list := func(query, who string) []absences.Record {
		t.Helper()
		w := do("GET", "/api/v1/absences?du=2026-09-01&au=2026-12-31"+query, "", who)
		wantCode(t, w, http.StatusOK, who+" lists "+query)
		return decodeBody[struct{ Absences []absences.Record }](t, w).Absences
	}
	if rs := list("", "mother"); len(rs) != 1 || rs[0].ID != leaRec.ID {
		t.Errorf("mother's list %+v", rs)
	}
	if rs := list("", "lea"); len(rs) != 1 {
		t.Errorf("Léa's list %+v", rs)
	}
	if rs := list("&classe="+fmt.Sprint(f.classA), "teacher"); len(rs) != 2 {
		t.Errorf("teacher's class list %+v", rs)
	}
	for _, q := range []struct{ query, who string }{{"&eleve=" + id(f.tom), "mother"}, {"&classe=" + fmt.Sprint(f.classA), "mother"},
		{"&classe=" + fmt.Sprint(f.classA), "lea"}, {"&classe=" + fmt.Sprint(f.classB), "teacher"}, {"&eleve=" + id(f.hugo), "teacher"},
		{"&etablissement=" + fmt.Sprint(f.college), "teacher"}, {"&etablissement=" + fmt.Sprint(f.college), "lyceeHead"},
		{"&classe=" + fmt.Sprint(f.classA), "sec"}, {"&eleve=" + id(f.lea), "father"}} {
		wantCode(t, do("GET", "/api/v1/absences?"+q.query, "", q.who), http.StatusNotFound, q.who+" lists "+q.query)
	}

	// Justifying: the parent only, with a reason from the list.
	just := `{"reason":"maladie","text":"Fièvre"}`
	for _, who := range []string{"lea", "teacher", "cpe", "father", "head"} {
		wantCode(t, do("POST", leaPath+"/justification", just, who), http.StatusNotFound, who+" justifies")
	}
	w = do("POST", leaPath+"/justification", `{"reason":"autre"}`, "mother")
	wantCode(t, w, http.StatusBadRequest, "other reason without text")
	if !strings.Contains(w.Body.String(), "Précisez le motif") {
		t.Errorf("French error %s", w.Body)
	}
	w = do("POST", leaPath+"/justification", just, "mother")
	wantCode(t, w, http.StatusOK, "mother justifies")
	if r := decodeBody[absences.Record](t, w); r.Status != absences.Pending || r.ReasonText != "Fièvre" {
		t.Errorf("justified %+v", r)
	}
	// Deciding: the school's vie scolaire and direction.
	for _, who := range []string{"teacher", "mother", "lyceeHead", "sec", "admin"} {
		wantCode(t, do("POST", leaPath+"/decision", `{"status":"justified"}`, who), http.StatusNotFound, who+" decides")
	}
	w = do("POST", leaPath+"/decision", `{"status":"justified","comment":"Certificat vu"}`, "cpe")
	wantCode(t, w, http.StatusOK, "CPE accepts")
	if r := decodeBody[absences.Record](t, w); r.Status != absences.Justified || r.Comment != "Certificat vu" {
		t.Errorf("decided %+v", r)
	}
	wantCode(t, do("POST", leaPath+"/justification", just, "mother"), http.StatusBadRequest, "justified already")

	// The vie scolaire enters, edits and deletes records.
	rec := fmt.Sprintf(`{"pupil_id":%d,"kind":"absence","date":"2026-11-30","start_min":480,"end_min":720,"comment":"=HYPERLINK(1)"}`, f.hugo.ID)
	for _, who := range []string{"teacher", "father", "lyceeHead", "sec", "admin"} {
		wantCode(t, do("POST", "/api/v1/absences", rec, who), http.StatusNotFound, who+" creates")
	}
	w = do("POST", "/api/v1/absences", rec, "cpe")
	wantCode(t, w, http.StatusCreated, "CPE creates")
	hugoRec := decodeBody[absences.Record](t, w)
	if l, _ := f.srv.chat.ConversationsOf(ctx, f.father.ID); len(l) != 1 || l[0].Unread != 1 || l[0].Title != "Vie scolaire — Hugo Bernard" {
		t.Errorf("father's conversations %+v", l)
	}
	hugoPath := fmt.Sprintf("/api/v1/absences/%d", hugoRec.ID)
	wantCode(t, do("PUT", hugoPath, strings.Replace(rec, `"end_min":720`, `"end_min":1020`, 1), "teacher"), http.StatusNotFound, "teacher edits")
	w = do("PUT", hugoPath, strings.Replace(rec, `"end_min":720`, `"end_min":1020`, 1), "head")
	wantCode(t, w, http.StatusOK, "head edits")

	// Counts: half-days and lateness, per pupil and for the class.
	w = do("GET", "/api/v1/absences/counts?classe="+fmt.Sprint(f.classA)+"&du=2026-09-01&au=2026-12-31", "", "teacher")
	wantCode(t, w, http.StatusOK, "teacher counts")
	counts := decodeBody[struct {
		Pupils []absences.Count
		Total  absences.Count
	}](t, w)
	if tot := counts.Total; tot.Absences != 1 || tot.AbsencesJustified != 1 || tot.Lates != 1 || tot.LatesUnjustified != 1 || tot.HalfDays != 1 || tot.HalfDaysUnjustified != 0 {
		t.Errorf("class counts %+v", counts)
	}
	w = do("GET", "/api/v1/absences/counts?eleve="+id(f.hugo)+"&du=2026-09-01&au=2026-12-31", "", "cpe")
	if h := decodeBody[struct{ Total absences.Count }](t, w).Total; h.HalfDays != 2 || h.HalfDaysUnjustified != 2 {
		t.Errorf("Hugo's half-days %+v", h)
	}

	// CSV for the vie scolaire and the direction: BOM, ";", no formula.
	csvPath := "/vie-scolaire/export.csv?etablissement=" + fmt.Sprint(f.college) + "&du=2026-09-01&au=2026-12-31"
	for _, who := range []string{"teacher", "mother", "lyceeHead", "sec"} {
		wantCode(t, do("GET", csvPath, "", who), http.StatusNotFound, who+" exports")
	}
	w = do("GET", csvPath, "", "cpe")
	wantCode(t, w, http.StatusOK, "CPE exports")
	if b := w.Body.String(); !strings.HasPrefix(b, "\uFEFFDate;Début;") || !strings.Contains(b, ";'=HYPERLINK(1)") || strings.Count(b, "\r\n") != 4 {
		t.Errorf("CSV:\n%s", b)
	}
	w = do("GET", csvPath+"&vue=bilan", "", "head")
	if b := w.Body.String(); !strings.Contains(b, "Demi-journées non justifiées") || !strings.Contains(b, "Total;;2;1;1;3;2;1;0;1;10;0") {
		t.Errorf("counts CSV:\n%s", b)
	}

	for _, who := range []string{"teacher", "father", "lyceeHead", "sec"} {
		wantCode(t, do("DELETE", hugoPath, "", who), http.StatusNotFound, who+" deletes")
	}
	wantCode(t, do("DELETE", hugoPath, "", "cpe"), http.StatusNoContent, "CPE deletes")
	wantCode(t, do("GET", hugoPath, "", "cpe"), http.StatusNotFound, "deleted")

	// Pre-filled from the live lesson: Léa joined the 14:00 lesson, Tom did not.
	start := time.Date(2026, 12, 1, 14, 2, 0, 0, timetable.Paris)
	if _, err := live.NewStore(d).Save(ctx, live.Lesson{Room: "r1", Structure: f.college, ClassID: f.classA, StartedBy: f.teacher.ID,
		StartedAt: start, EndedAt: start.Add(50 * time.Minute)}, []live.Attendance{
		{UserID: f.teacher.ID, Name: "Paul Dupont", Role: "moderator", FirstJoin: start, LastLeave: start.Add(50 * time.Minute), Total: 50 * time.Minute, Sessions: 1},
		{UserID: f.lea.ID, Name: "Léa Martin", Role: "participant", FirstJoin: start, LastLeave: start.Add(40 * time.Minute), Total: 40 * time.Minute, Sessions: 1},
	}); err != nil {
		t.Fatal(err)
	}
	w = do("GET", fmt.Sprintf("/api/v1/absences/roll?class_id=%d&date=2026-12-01&start=14:00&end=15:00", f.classA), "", "teacher")
	wantCode(t, w, http.StatusOK, "prefill")
	pre := decodeBody[struct {
		FromLive bool `json:"from_live"`
		Pupils   []rollPupil
	}](t, w)
	kinds := map[int64]string{}
	for _, p := range pre.Pupils {
		kinds[p.ID] = p.Kind
	}
	if !pre.FromLive || kinds[f.lea.ID] != absences.Present || kinds[f.tom.ID] != absences.Absent {
		t.Errorf("prefill %+v", pre)
	}
	page := fmt.Sprintf("/vie-scolaire/appel?classe=%d&date=2026-12-01&debut=14:00&fin=15:00", f.classA)
	w = do("GET", page, "", "teacher")
	wantCode(t, w, http.StatusOK, "roll page")
	if !strings.Contains(w.Body.String(), "pré-remplie avec le cours en direct") {
		t.Error("the page does not say it is pre-filled")
	}
	wantCode(t, do("GET", page, "", "mother"), http.StatusNotFound, "mother opens the roll")
	if b := do("GET", "/vie-scolaire", "", "teacher").Body.String(); !strings.Contains(b, "Appels faits") || !strings.Contains(b, "1 absent(s), 1 retard(s) sur 2 élèves") {
		t.Error("the teacher's page does not list the roll calls")
	}
	// The plain form: Tom absent at 14:00.
	w = form("/vie-scolaire/appel", url.Values{"classe": {fmt.Sprint(f.classA)}, "date": {"2026-12-01"}, "debut": {"14:00"}, "fin": {"15:00"},
		"eleve": {id(f.lea), id(f.tom)}, "etat-" + id(f.lea): {"present"}, "etat-" + id(f.tom): {"absence"}}, "teacher")
	wantCode(t, w, http.StatusSeeOther, "roll from the page")
	// A second absence of Léa, justified by the mother through the page.
	w = form("/vie-scolaire/absences", url.Values{"eleve": {id(f.lea)}, "type": {"late"}, "date": {"2026-12-01"}, "debut": {"8:00"}, "fin": {"9:00"}, "retard": {"5"}}, "cpe")
	wantCode(t, w, http.StatusSeeOther, "CPE enters a lateness")
	rs := list("&statut=unjustified", "mother")
	if len(rs) != 1 || rs[0].Kind != absences.Late {
		t.Fatalf("unjustified for the mother %+v", rs)
	}
	recPage := fmt.Sprintf("/vie-scolaire/absences/%d", rs[0].ID)
	if b := do("GET", recPage, "", "mother").Body.String(); !strings.Contains(b, "Justifier") || !strings.Contains(b, "Rendez-vous médical") {
		t.Error("no justification form for the mother")
	}
	if b := do("GET", recPage, "", "lea").Body.String(); strings.Contains(b, "Envoyer la justification") {
		t.Error("the pupil may justify")
	}
	wantCode(t, form(recPage+"/justifier", url.Values{"motif": {"transport"}}, "mother"), http.StatusSeeOther, "mother justifies by the page")
	wantCode(t, form(recPage+"/justifier", url.Values{"motif": {"transport"}}, "father"), http.StatusNotFound, "father justifies by the page")
	if b := do("GET", "/vie-scolaire", "", "mother").Body.String(); !strings.Contains(b, "Justification à examiner") {
		t.Error("the mother's page does not show the pending justification")
	}
	b := do("GET", "/vie-scolaire?classe="+fmt.Sprint(f.classA), "", "cpe").Body.String()
	if !strings.Contains(b, "Saisir une absence") || !strings.Contains(b, "Tom") {
		t.Error("the CPE's class page")
	}
	if csvLink := fmt.Sprintf(`href="/vie-scolaire/export.csv?au=&amp;classe=%d&amp;du=&amp;trimestre=`, f.classA); !strings.Contains(b, csvLink) {
		t.Errorf("no CSV link %s", csvLink)
	}
	// No roll call for a lesson to come.
	w = do("POST", "/api/v1/absences/roll", strings.Replace(roll(f.classA, "10:00", "11:00", mark(f.lea, "absence", 0)), "2026-12-01", "2099-12-01", 1), "teacher")
	wantCode(t, w, http.StatusBadRequest, "roll call of a lesson to come")
	wantCode(t, do("GET", "/vie-scolaire", "", "sec"), http.StatusNotFound, "secretary's page")
	wantCode(t, do("GET", "/vie-scolaire", "", "lyceeHead"), http.StatusOK, "lycée head's own school")
}
