package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"preau/ent/internships"
)

// TestInternships walks "Décroche ton stage" through the API and the
// pages: staff and teachers publish offers (a teacher changes only their
// own), 3e pupils of the school read and apply with a CV copied from their
// Documents, the pupil withdraws and never answers, the teachers of the
// class and the staff record the company's answer, parents read their
// children's applications, the follow-up is the class's teachers' and the
// school's staff's; everything else is 404.
func TestInternships(t *testing.T) {
	hs := newHomeworkSite(t)
	f := hs.fixture
	offerJSON := func(st int64, company, sector, commune string, places int) string {
		return fmt.Sprintf(`{"structure_id":%d,"company":%q,"sector":%q,"address":"12 rue Bannier","commune":%q,"weeks":["2027-02-01","2027-W06"],"places":%d,"description":"Découverte du métier.","contact_name":"Mme Girard","contact_email":"girard@exemple.fr","contact_phone":"02 38 11 22 33"}`,
			st, company, sector, commune, places)
	}

	// Publishing: the school's staff and teachers; not pupils, parents or
	// another school's head.
	for _, who := range []string{"lea", "mother", "lyceeHead"} {
		w := hs.do("POST", "/api/v1/internships/offers", offerJSON(f.college, "X", "commerce", "Orléans", 1), who)
		wantCode(t, w, http.StatusNotFound, who+" publishes an offer")
	}
	w := hs.do("POST", "/api/v1/internships/offers", offerJSON(f.college, "X", "pirate", "Orléans", 1), "cpe")
	wantCode(t, w, http.StatusBadRequest, "unknown sector")
	if !strings.Contains(w.Body.String(), "Choisissez un secteur dans la liste.") {
		t.Errorf("French error: %s", w.Body.String())
	}
	w = hs.do("POST", "/api/v1/internships/offers", offerJSON(f.college, "Boulangerie Saint-Marc", "alimentation", "Orléans", 1), "cpe")
	wantCode(t, w, http.StatusCreated, "cpe publishes")
	bakery := decodeBody[internships.Offer](t, w)
	if bakery.Weeks[0] != "2027-W05" || bakery.Free() != 1 {
		t.Fatalf("offer %+v", bakery)
	}
	w = hs.do("POST", "/api/v1/internships/offers", offerJSON(0, "Garage Olivet Auto", "automobile", "Olivet", 3), "teacher")
	wantCode(t, w, http.StatusCreated, "teacher proposes")
	garage := decodeBody[internships.Offer](t, w)
	bakeryPath, garagePath := fmt.Sprintf("/api/v1/internships/offers/%d", bakery.ID), fmt.Sprintf("/api/v1/internships/offers/%d", garage.ID)

	// Changing: a teacher their own offers only; the staff any.
	wantCode(t, hs.do("PUT", bakeryPath, offerJSON(0, "Y", "commerce", "Orléans", 1), "teacher"), http.StatusNotFound, "teacher edits cpe's offer")
	wantCode(t, hs.do("DELETE", bakeryPath, "", "teacher"), http.StatusNotFound, "teacher deletes cpe's offer")
	wantCode(t, hs.do("PUT", garagePath, offerJSON(0, "Garage Olivet Auto", "automobile", "Olivet", 2), "teacher"), http.StatusOK, "teacher edits own")
	wantCode(t, hs.do("PUT", garagePath, offerJSON(0, "Garage Olivet Auto", "automobile", "Olivet", 2), "cpe"), http.StatusOK, "cpe edits teacher's")
	wantCode(t, hs.do("PUT", garagePath, offerJSON(0, "Garage", "automobile", "Olivet", 2), "lea"), http.StatusNotFound, "pupil edits")

	// Reading offers: the school's pupils and adults; not parents, not
	// another school.
	for who, code := range map[string]int{"lea": 200, "hugo": 200, "teacher": 200, "cpe": 200, "admin": 200, "mother": 404, "ines": 404, "lyceeHead": 404} {
		wantCode(t, hs.do("GET", bakeryPath, "", who), code, who+" reads an offer")
	}
	w = hs.do("GET", "/api/v1/internships/offers?commune=orleans&week=2027-02-03", "", "lea")
	wantCode(t, w, http.StatusOK, "search")
	list := decodeBody[struct {
		Offers []struct {
			ID       int64 `json:"id"`
			CanApply bool  `json:"can_apply"`
		} `json:"offers"`
		Total int `json:"total"`
	}](t, w)
	if list.Total != 1 || list.Offers[0].ID != bakery.ID || !list.Offers[0].CanApply {
		t.Errorf("search orleans: %+v", list)
	}
	w = hs.do("GET", "/api/v1/internships/offers", "", "ines")
	if !strings.Contains(w.Body.String(), `"total":0`) {
		t.Errorf("another school's pupil sees offers: %s", w.Body.String())
	}

	// Applying: 3e pupils of the school, with a CV of their own Documents.
	cv := hs.upload(t, f.lea, "CV Léa.pdf", []byte("%PDF-1.4 CV de Léa\n"))
	tomFile := hs.upload(t, f.tom, "cv-tom.txt", []byte("Tom\n"))
	applyPath := bakeryPath + "/applications"
	for _, who := range []string{"mother", "teacher", "cpe", "ines"} {
		wantCode(t, hs.do("POST", applyPath, `{"message":"Bonjour"}`, who), http.StatusNotFound, who+" applies")
	}
	w = hs.do("POST", applyPath, fmt.Sprintf(`{"message":"Bonjour","cv_file_id":%d}`, tomFile.ID), "lea")
	wantCode(t, w, http.StatusBadRequest, "lea applies with tom's file")
	if !strings.Contains(w.Body.String(), "introuvable dans vos Documents") {
		t.Errorf("French error: %s", w.Body.String())
	}
	wantCode(t, hs.do("POST", applyPath, `{"message":"  "}`, "lea"), http.StatusBadRequest, "empty message")
	w = hs.do("POST", applyPath, fmt.Sprintf(`{"message":"Bonjour,\nje voudrais découvrir la boulangerie.","cv_file_id":%d}`, cv.ID), "lea")
	wantCode(t, w, http.StatusCreated, "lea applies")
	leaApp := decodeBody[internships.Application](t, w)
	if leaApp.CV == nil || leaApp.CV.Name != "CV Léa.pdf" || leaApp.ContactEmail != "girard@exemple.fr" || leaApp.Status != internships.Sent {
		t.Fatalf("application %+v", leaApp)
	}
	wantCode(t, hs.do("POST", applyPath, `{"message":"Encore"}`, "lea"), http.StatusBadRequest, "lea applies twice")
	w = hs.do("POST", applyPath, `{"message":"Bonjour"}`, "tom")
	wantCode(t, w, http.StatusCreated, "tom applies without CV")
	tomApp := decodeBody[internships.Application](t, w)
	w = hs.do("POST", applyPath, `{"message":"Bonjour"}`, "hugo")
	wantCode(t, w, http.StatusCreated, "hugo (3e B) applies")
	hugoApp := decodeBody[internships.Application](t, w)
	app := func(a internships.Application) string {
		return fmt.Sprintf("/api/v1/internships/applications/%d", a.ID)
	}

	// Reading applications: the pupil, their parents, the class's
	// teachers, the school's staff.
	for _, tc := range []struct {
		who  string
		a    internships.Application
		code int
	}{
		{"lea", leaApp, 200}, {"mother", leaApp, 200}, {"teacher", leaApp, 200}, {"cpe", leaApp, 200}, {"head", leaApp, 200}, {"admin", leaApp, 200},
		{"tom", leaApp, 404}, {"father", leaApp, 404}, {"lyceeHead", leaApp, 404}, {"ines", leaApp, 404},
		{"teacher", hugoApp, 404}, {"father", hugoApp, 200}, {"mother", hugoApp, 404},
	} {
		wantCode(t, hs.do("GET", app(tc.a), "", tc.who), tc.code, fmt.Sprintf("%s reads application of %d", tc.who, tc.a.PupilID))
	}
	w = hs.do("GET", app(leaApp)+"/cv", "", "mother")
	wantCode(t, w, http.StatusOK, "mother downloads the CV")
	if w.Body.String() != "%PDF-1.4 CV de Léa\n" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment") || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("CV download: %q %v", w.Body.String(), w.Header())
	}
	wantCode(t, hs.do("GET", app(leaApp)+"/cv", "", "tom"), http.StatusNotFound, "tom downloads lea's CV")
	wantCode(t, hs.do("GET", app(tomApp)+"/cv", "", "tom"), http.StatusNotFound, "no CV")
	w = hs.do("GET", "/api/v1/internships/applications", "", "mother")
	if !strings.Contains(w.Body.String(), "Boulangerie Saint-Marc") || strings.Contains(w.Body.String(), `"pupil_id":`+fmt.Sprint(f.tom.ID)) {
		t.Errorf("mother's list: %s", w.Body.String())
	}

	// Moves: the pupil withdraws, never answers; the class's teachers and
	// the staff answer; the last place goes once.
	move := func(a internships.Application, status, who string) *httptest.ResponseRecorder {
		return hs.do("POST", app(a)+"/status", fmt.Sprintf(`{"status":%q}`, status), who)
	}
	wantCode(t, move(leaApp, "accepted", "lea"), http.StatusNotFound, "lea accepts herself")
	wantCode(t, move(leaApp, "withdrawn", "mother"), http.StatusNotFound, "mother withdraws")
	wantCode(t, move(leaApp, "read", "tom"), http.StatusNotFound, "tom marks lea's read")
	wantCode(t, move(hugoApp, "read", "teacher"), http.StatusNotFound, "teacher of another class")
	wantCode(t, move(leaApp, "flying", "teacher"), http.StatusBadRequest, "unknown status")
	wantCode(t, move(leaApp, "read", "teacher"), http.StatusOK, "teacher marks read")
	wantCode(t, move(leaApp, "accepted", "teacher"), http.StatusOK, "teacher records the acceptance")
	w = move(tomApp, "accepted", "cpe")
	wantCode(t, w, http.StatusConflict, "the only place is taken")
	if !strings.Contains(w.Body.String(), "Toutes les places de cette offre sont déjà prises.") {
		t.Errorf("French error: %s", w.Body.String())
	}
	wantCode(t, move(leaApp, "refused", "cpe"), http.StatusBadRequest, "refusing an accepted application")
	wantCode(t, move(hugoApp, "refused", "cpe"), http.StatusOK, "cpe records a refusal")

	// Follow-up.
	w = hs.do("GET", "/api/v1/internships/followup", "", "teacher")
	if !strings.Contains(w.Body.String(), `"name":"3e A"`) || strings.Contains(w.Body.String(), "3e B") {
		t.Errorf("teacher's follow-up classes: %s", w.Body.String())
	}
	for _, tc := range []struct {
		who   string
		class int64
		code  int
	}{
		{"teacher", f.classA, 200}, {"teacher", f.classB, 404}, {"cpe", f.classB, 200}, {"head", f.classA, 200},
		{"lea", f.classA, 404}, {"mother", f.classA, 404}, {"lyceeHead", f.classA, 404}, {"cpe", f.lastYearClass, 404},
	} {
		wantCode(t, hs.do("GET", fmt.Sprintf("/api/v1/internships/followup/%d", tc.class), "", tc.who), tc.code,
			fmt.Sprintf("%s follows class %d", tc.who, tc.class))
	}
	w = hs.do("GET", fmt.Sprintf("/api/v1/internships/followup/%d", f.classA), "", "teacher")
	if !strings.Contains(w.Body.String(), `"summary":"placed","company":"Boulangerie Saint-Marc"`) {
		t.Errorf("follow-up: %s", w.Body.String())
	}

	// The address book: the company that took Léa; the staff remove it.
	w = hs.do("GET", "/api/v1/internships/companies?commune=ORLEANS", "", "lea")
	companies := decodeBody[struct{ Companies []internships.Company }](t, w)
	if len(companies.Companies) != 1 || companies.Companies[0].Name != "Boulangerie Saint-Marc" || companies.Companies[0].Address != "12 rue Bannier" {
		t.Fatalf("address book: %s", w.Body.String())
	}
	company := fmt.Sprintf("/api/v1/internships/companies/%d", companies.Companies[0].ID)
	wantCode(t, hs.do("DELETE", company, "", "teacher"), http.StatusNotFound, "teacher removes a company")
	wantCode(t, hs.do("GET", "/api/v1/internships/companies", "", "mother"), http.StatusOK, "mother's address book")

	// Léa gives the placement up: Tom may be accepted.
	wantCode(t, move(leaApp, "withdrawn", "lea"), http.StatusOK, "lea withdraws")
	wantCode(t, move(tomApp, "accepted", "cpe"), http.StatusOK, "tom takes the freed place")
	wantCode(t, hs.do("DELETE", company, "", "cpe"), http.StatusNoContent, "cpe removes a company")

	// Pages.
	w = hs.do("GET", "/stages?commune=olivet", "", "lea")
	wantCode(t, w, http.StatusOK, "lea's page")
	for _, want := range []string{"Mes candidatures", "Boulangerie Saint-Marc", "Retirée", "Garage Olivet Auto", "1 offre"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("lea's page lacks %q", want)
		}
	}
	w = hs.form(fmt.Sprintf("/stages/offres/%d/candidater", garage.ID), url.Values{"message": {"Bonjour, la mécanique me plaît."}, "cv": {fmt.Sprint(cv.ID)}}, "lea")
	wantCode(t, w, http.StatusSeeOther, "lea applies through the form")
	w = hs.do("GET", w.Header().Get("Location"), "", "lea")
	if !strings.Contains(w.Body.String(), "Votre candidature est envoyée") || !strings.Contains(w.Body.String(), "CV Léa.pdf") {
		t.Errorf("application page: %s", w.Body.String())
	}
	w = hs.form(fmt.Sprintf("/stages/offres/%d/candidater", garage.ID), url.Values{"message": {""}}, "tom")
	wantCode(t, w, http.StatusBadRequest, "tom's empty form")
	if !strings.Contains(w.Body.String(), "Vous avez déjà un stage accepté") && !strings.Contains(w.Body.String(), "Le message est obligatoire.") {
		t.Errorf("form error: %s", w.Body.String())
	}
	w = hs.do("GET", "/stages/suivi", "", "teacher")
	wantCode(t, w, http.StatusOK, "teacher's follow-up")
	for _, want := range []string{"3e A — 1 / 2 stage trouvé", "Léa Martin", "Garage Olivet Auto</a> — Envoyée", "Tom Petit", "Stage trouvé"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("follow-up page lacks %q", want)
		}
	}
	wantCode(t, hs.do("GET", "/stages/suivi", "", "lea"), http.StatusNotFound, "lea's follow-up")
	wantCode(t, hs.do("GET", fmt.Sprintf("/stages/suivi?classe=%d", f.classB), "", "teacher"), http.StatusNotFound, "teacher follows 3e B")
	w = hs.do("GET", "/stages", "", "mother")
	wantCode(t, w, http.StatusOK, "mother's page")
	if !strings.Contains(w.Body.String(), "Les candidatures de vos enfants") || strings.Contains(w.Body.String(), "Offres de stage") {
		t.Errorf("mother's page: %s", w.Body.String())
	}
	wantCode(t, hs.do("GET", fmt.Sprintf("/stages/offres/%d", bakery.ID), "", "mother"), http.StatusNotFound, "mother reads an offer page")
	w = hs.form("/stages/offres", url.Values{"entreprise": {"Mairie de Gien"}, "secteur": {"droit"}, "commune": {"Gien"},
		"semaines": {"2027-W05 2027-02-08"}, "places": {"2"}, "contact_nom": {"Accueil"}}, "cpe")
	wantCode(t, w, http.StatusSeeOther, "cpe publishes through the form")
	w = hs.form("/stages/offres", url.Values{"entreprise": {"Mairie de Gien"}, "secteur": {"droit"}, "commune": {"Gien"},
		"semaines": {"bientôt"}, "places": {"2"}, "contact_nom": {"Accueil"}}, "cpe")
	wantCode(t, w, http.StatusBadRequest, "bad week")
	if !strings.Contains(w.Body.String(), "Semaine illisible") {
		t.Errorf("form error: %s", w.Body.String())
	}
	wantCode(t, hs.do("GET", "/stages/entreprises", "", "mother"), http.StatusNotFound, "mother's address book page")

	// The home tile: for 3e only.
	for who, want := range map[string]bool{"lea": true, "mother": true, "teacher": true, "cpe": true, "ines": false} {
		w := hs.do("GET", "/accueil", "", who)
		if got := strings.Contains(w.Body.String(), `href="/stages"`); got != want {
			t.Errorf("%s's home has the Stages tile: %v", who, got)
		}
	}
}

// TestInternshipLastPlaceHTTP: the vie scolaire and the teacher record at
// the same moment that the company accepts Léa and Tom for its last place:
// one answer is 200, the other 409 with the French reason.
func TestInternshipLastPlaceHTTP(t *testing.T) {
	hs := newHomeworkSite(t)
	w := hs.do("POST", "/api/v1/internships/offers", `{"company":"Pharmacie du Martroi","sector":"sante","commune":"Orléans","weeks":["2027-W05"],"places":1,"contact_phone":"02 38 00 00 00"}`, "cpe")
	wantCode(t, w, http.StatusCreated, "offer")
	o := decodeBody[internships.Offer](t, w)
	var apps []internships.Application
	for _, who := range []string{"lea", "tom"} {
		w := hs.do("POST", fmt.Sprintf("/api/v1/internships/offers/%d/applications", o.ID), `{"message":"Bonjour"}`, who)
		wantCode(t, w, http.StatusCreated, who+" applies")
		apps = append(apps, decodeBody[internships.Application](t, w))
	}
	codes := make(chan int, 2)
	for i, who := range []string{"cpe", "teacher"} {
		go func() {
			w := hs.do("POST", fmt.Sprintf("/api/v1/internships/applications/%d/status", apps[i].ID), `{"status":"accepted"}`, who)
			if w.Code == http.StatusConflict && !strings.Contains(w.Body.String(), "Toutes les places") {
				t.Errorf("409 without the French reason: %s", w.Body.String())
			}
			codes <- w.Code
		}()
	}
	got := map[int]int{}
	for range 2 {
		got[<-codes]++
	}
	if got[http.StatusOK] != 1 || got[http.StatusConflict] != 1 {
		t.Errorf("answers %v, want one 200 and one 409", got)
	}
	w = hs.do("GET", fmt.Sprintf("/api/v1/internships/offers/%d", o.ID), "", "cpe")
	if o := decodeBody[internships.Offer](t, w); o.Taken != 1 {
		t.Errorf("taken %d", o.Taken)
	}
}
