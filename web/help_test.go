package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"preau/ent/help"
	"preau/internal/dbtest"
)

// TestHelp walks the assistance: someone who cannot sign in asks for help
// (rate-limited per address), a pupil asks from her account, the school's
// direction answers, other schools' heads see nothing, the administrator
// sets the hotline.
func TestHelp(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	c := map[string]*http.Cookie{"lea": f.session(t, f.lea), "teacher": f.session(t, f.teacher), "head": f.session(t, f.head),
		"lyceeHead": f.session(t, f.lyceeHead), "admin": f.session(t, f.admin)}
	fromIP := func(ip string) reqOpt { return func(r *http.Request) { r.RemoteAddr = ip + ":4000" } }
	post := func(path string, v url.Values, opts ...reqOpt) *httptest.ResponseRecorder {
		return f.do("POST", path, "", append(opts, withFormBody(v))...)
	}

	w := f.do("GET", "/aide", "")
	wantCode(t, w, http.StatusOK, "help page without an account")
	for _, want := range []string{help.DefaultSettings.Phone, "Première connexion", "Rejoindre un cours en direct", `name="etablissement"`} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("help page lacks %q", want)
		}
	}
	anon := url.Values{"nom": {"Sophie Martin"}, "contact": {"06 12 34 56 78"}, "etablissement": {fmt.Sprint(f.college)},
		"sujet": {"connexion"}, "message": {"Je n'ai pas reçu le code d'activation de ma fille."}}
	wantCode(t, post("/aide", anon, fromIP("203.0.113.7")), http.StatusSeeOther, "anonymous request")
	w = post("/aide", url.Values{"nom": {""}, "contact": {"x"}, "sujet": {"connexion"}, "message": {"m"}}, fromIP("203.0.113.8"))
	wantCode(t, w, http.StatusBadRequest, "no name")
	if !strings.Contains(w.Body.String(), "Nom : à remplir") {
		t.Errorf("no French error:\n%s", w.Body.String())
	}
	for i := 1; i < 5; i++ {
		wantCode(t, post("/aide", anon, fromIP("203.0.113.7")), http.StatusSeeOther, "request within the limit")
	}
	wantCode(t, post("/aide", anon, fromIP("203.0.113.7")), http.StatusTooManyRequests, "sixth request in the hour")

	// Léa asks from her account; her page lists it.
	wantCode(t, post("/aide", url.Values{"sujet": {"direct"}, "message": {"Je n'entends pas le professeur."}}, withCookie(c["lea"])), http.StatusSeeOther, "pupil's request")
	w = f.do("GET", "/aide", "", withCookie(c["lea"]))
	if !strings.Contains(w.Body.String(), "Je n&#39;entends pas le professeur.") || !strings.Contains(w.Body.String(), "Nouvelle") {
		t.Fatalf("Léa's requests:\n%s", w.Body.String())
	}

	// The queue: the collège's head sees the collège's requests; the
	// lycée's head none of them; a teacher has no queue.
	w = f.do("GET", "/api/v1/help/queue", "", withCookie(c["head"]))
	wantCode(t, w, http.StatusOK, "head's queue")
	q := decodeBody[[]help.Request](t, w)
	if len(q) != 6 {
		t.Fatalf("head's queue: %d requests", len(q))
	}
	var leas help.Request
	for _, r := range q {
		if r.UserID == f.lea.ID {
			leas = r
		}
	}
	if leas.ID == 0 || leas.Name != "Léa Martin" {
		t.Fatalf("Léa's request in the queue: %+v", leas)
	}
	wantCode(t, f.do("GET", "/admin/aide", "", withCookie(c["teacher"])), http.StatusNotFound, "teacher's queue page")
	wantCode(t, f.do("GET", "/api/v1/help/queue", "", withCookie(c["lea"])), http.StatusNotFound, "pupil's queue")
	if w := f.do("GET", "/api/v1/help/queue", "", withCookie(c["lyceeHead"])); w.Code != http.StatusOK || len(decodeBody[[]help.Request](t, w)) != 0 {
		t.Errorf("lycée head's queue: %d %s", w.Code, w.Body.String())
	}
	page := fmt.Sprintf("/admin/aide/%d", leas.ID)
	wantCode(t, f.do("GET", page, "", withCookie(c["lyceeHead"])), http.StatusNotFound, "another school's request")
	wantCode(t, post(page, url.Values{"statut": {"resolue"}}, withCookie(c["lyceeHead"])), http.StatusNotFound, "another school answers")
	w = f.do("GET", "/admin/aide", "", withCookie(c["head"]))
	wantCode(t, w, http.StatusOK, "head's queue page")
	if strings.Contains(w.Body.String(), "Assistance du département") {
		t.Error("a head is offered the département's hotline form")
	}
	wantCode(t, post(page, url.Values{"statut": {"resolue"}, "reponse": {"Vérifiez le volume de l'ordinateur."}}, withCookie(c["head"])), http.StatusSeeOther, "head answers")
	w = f.do("GET", "/aide", "", withCookie(c["lea"]))
	if !strings.Contains(w.Body.String(), "Résolue") || !strings.Contains(w.Body.String(), "Vérifiez le volume") {
		t.Errorf("Léa does not see the answer")
	}

	// The hotline: the administrator only.
	wantCode(t, post("/admin/aide-reglages", url.Values{"telephone": {"01 00 00 00 00"}, "horaires": {"x"}}, withCookie(c["head"])), http.StatusNotFound, "head sets the hotline")
	wantCode(t, post("/admin/aide-reglages", url.Values{"telephone": {""}, "horaires": {"x"}}, withCookie(c["admin"])), http.StatusBadRequest, "no phone")
	wantCode(t, post("/admin/aide-reglages", url.Values{"telephone": {"02 38 11 22 33"}, "horaires": {"du lundi au vendredi"}}, withCookie(c["admin"])), http.StatusSeeOther, "admin sets the hotline")
	if w := f.do("GET", "/aide", ""); !strings.Contains(w.Body.String(), "02 38 11 22 33") {
		t.Error("the help page does not show the new number")
	}
	// The API: a request, one's own list; answering another school's: 404.
	w = f.do("POST", "/api/v1/help/requests", `{"topic":"documents","message":"Où est le devoir ?"}`, withCookie(c["lea"]))
	wantCode(t, w, http.StatusCreated, "API request")
	mine := decodeBody[[]help.Request](t, f.do("GET", "/api/v1/help/requests", "", withCookie(c["lea"])))
	if len(mine) != 2 {
		t.Errorf("Léa's requests by API: %d", len(mine))
	}
	wantCode(t, f.do("PUT", fmt.Sprintf("/api/v1/help/requests/%d", leas.ID), `{"status":"en_cours"}`, withCookie(c["lyceeHead"])), http.StatusNotFound, "API answer, other school")
	wantCode(t, f.do("PUT", fmt.Sprintf("/api/v1/help/requests/%d", leas.ID), `{"status":"en_cours"}`, withCookie(c["admin"])), http.StatusOK, "API answer, admin")
}
