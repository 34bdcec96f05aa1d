package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"preau/ent/timetable"
	"preau/internal/dbtest"
)

// TestResources: the médiacentre by profile and level, the tele-services
// of a family, one open now on a parent's home page, and their
// administration by the ENT administrator only.
func TestResources(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	c := map[string]*http.Cookie{"lea": f.session(t, f.lea), "teacher": f.session(t, f.teacher), "mother": f.session(t, f.mother),
		"head": f.session(t, f.head), "admin": f.session(t, f.admin)}
	get := func(path, who string) string {
		t.Helper()
		w := f.do("GET", path, "", withCookie(c[who]))
		wantCode(t, w, http.StatusOK, who+" "+path)
		return w.Body.String()
	}
	if b := get("/ressources", "lea"); !strings.Contains(b, "Pix") || !strings.Contains(b, "Lumni") || strings.Contains(b, "Éduthèque") {
		t.Errorf("a pupil's médiacentre:\n%s", b)
	}
	if b := get("/ressources", "teacher"); !strings.Contains(b, "Éduthèque") {
		t.Error("a teacher's médiacentre lacks Éduthèque")
	}
	if b := get("/teleservices", "mother"); !strings.Contains(b, "Bourse de collège") || !strings.Contains(b, "Inscription au lycée") ||
		!strings.Contains(b, "du 1er septembre au 31 octobre") {
		t.Errorf("a parent's tele-services:\n%s", b)
	}
	if b := get("/teleservices", "lea"); strings.Contains(b, "Bourse") {
		t.Error("a pupil is shown the parents' tele-services")
	}

	// The administrator opens one now, for parents of 3e pupils.
	wantCode(t, f.do("GET", "/admin/ressources", "", withCookie(c["head"])), http.StatusNotFound, "head's administration")
	now := time.Now().In(timetable.Paris)
	dm := func(t time.Time) string { return t.Format("02/01") }
	form := url.Values{"type": {"teleservice"}, "titre": {"Fiche de renseignements"}, "description": {"Mettre à jour vos coordonnées."},
		"adresse": {"http://exemple.fr"}, "profils": {"parent"}, "niveaux": {"3e"}, "du": {dm(now.AddDate(0, 0, -1))}, "au": {dm(now.AddDate(0, 0, 1))}}
	w := f.do("POST", "/admin/ressources", "", withCookie(c["admin"]), withFormBody(form))
	wantCode(t, w, http.StatusBadRequest, "http address")
	if !strings.Contains(w.Body.String(), "un lien https://") {
		t.Errorf("no French error:\n%s", w.Body.String())
	}
	form.Set("adresse", "https://teleservices.education.gouv.fr")
	wantCode(t, f.do("POST", "/admin/ressources", "", withCookie(c["head"]), withFormBody(form)), http.StatusNotFound, "head adds")
	wantCode(t, f.do("POST", "/admin/ressources", "", withCookie(c["admin"]), withFormBody(form)), http.StatusSeeOther, "admin adds")
	if b := get("/accueil", "mother"); !strings.Contains(b, `data-testid="home-teleservices"`) || !strings.Contains(b, "Fiche de renseignements") {
		t.Errorf("the mother's home page does not show the open tele-service")
	}
	if b := get("/accueil", "lea"); strings.Contains(b, "Fiche de renseignements") {
		t.Error("a pupil's home page shows a parents' tele-service")
	}
	// The API.
	w = f.do("GET", "/api/v1/resources?kind=teleservice", "", withCookie(c["mother"]))
	wantCode(t, w, http.StatusOK, "API list")
	list := decodeBody[[]resourceJSON](t, w)
	var added resourceJSON
	for _, e := range list {
		if e.Title == "Fiche de renseignements" {
			added = e
		}
	}
	if added.ID == 0 || !added.InWindow {
		t.Fatalf("API list %+v", list)
	}
	wantCode(t, f.do("POST", "/api/v1/resources", `{"kind":"media","title":"X","url":"https://x.fr"}`, withCookie(c["head"])), http.StatusNotFound, "head, API")
	wantCode(t, f.do("DELETE", fmt.Sprintf("/api/v1/resources/%d?kind=media", added.ID), "", withCookie(c["admin"])), http.StatusNotFound, "wrong kind")
	wantCode(t, f.do("DELETE", fmt.Sprintf("/api/v1/resources/%d?kind=teleservice", added.ID), "", withCookie(c["admin"])), http.StatusNoContent, "delete")
	if b := get("/accueil", "mother"); strings.Contains(b, "Fiche de renseignements") {
		t.Error("deleted tele-service still on the home page")
	}
}
