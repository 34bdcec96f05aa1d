package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"preau/internal/dbtest"
	"preau/storage/files"
)

// TestAdminQuotas walks the quota administration: the ENT administrator
// changes a profile's default, a head overrides one pupil's quota and a
// class's on their record pages, and uploads obey the limits at once.
func TestAdminQuotas(t *testing.T) {
	d := dbtest.SQLite(t)
	fs := newFilesSite(t, d)
	admin, head, lyceeHead := fs.session(t, fs.admin), fs.session(t, fs.head), fs.session(t, fs.lyceeHead)
	teacher, lea := fs.session(t, fs.teacher), fs.session(t, fs.lea)
	form := func(path string, v url.Values, c *http.Cookie) *httptest.ResponseRecorder {
		return fs.req("POST", path, strings.NewReader(v.Encode()), -1, withCookie(c),
			withHeader("Content-Type", "application/x-www-form-urlencoded"))
	}
	leaQuota := fmt.Sprintf("/api/v1/files/quotas/person/%d", fs.lea.ID)
	quotaOf := func(path string, c *http.Cookie) files.Usage {
		t.Helper()
		w := serve(fs.h, "GET", path, "", withCookie(c))
		wantCode(t, w, http.StatusOK, "GET "+path)
		return decodeBody[files.Usage](t, w)
	}
	if q := quotaOf(leaQuota, lea); q.Limit != 500<<20 || !q.Default {
		t.Fatalf("Léa's quota at first: %+v", q)
	}

	// Only the ENT administrator reaches the defaults.
	for _, c := range []*http.Cookie{head, teacher, lea} {
		wantCode(t, serve(fs.h, "GET", "/admin/quotas", "", withCookie(c)), http.StatusNotFound, "defaults page, not admin")
		wantCode(t, form("/admin/quotas", url.Values{"quota_eleve": {"1"}}, c), http.StatusNotFound, "defaults form, not admin")
	}
	w := serve(fs.h, "GET", "/admin/quotas", "", withCookie(admin))
	wantCode(t, w, http.StatusOK, "defaults page")
	for _, want := range []string{"Élèves", "Espace d&#39;une classe", "500,0 Mo", "5,0 Go"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("defaults page lacks %q", want)
		}
	}
	// One bad field: nothing is saved, the page says why.
	w = form("/admin/quotas", url.Values{"quota_eleve": {"1"}, "quota_parent": {"beaucoup"}}, admin)
	wantCode(t, w, http.StatusBadRequest, "bad default")
	if !strings.Contains(w.Body.String(), "rien n&#39;a été enregistré") {
		t.Errorf("no French error:\n%s", w.Body.String())
	}
	if q := quotaOf(leaQuota, lea); q.Limit != 500<<20 {
		t.Fatalf("a refused form changed the default: %+v", q)
	}
	w = form("/admin/quotas", url.Values{"quota_eleve": {"1"}, "quota_classe": {"1,5"}}, admin)
	wantCode(t, w, http.StatusSeeOther, "defaults form")
	if q := quotaOf(leaQuota, lea); q.Limit != 1<<20 || !q.Default {
		t.Fatalf("Léa's quota after the new pupil default: %+v", q)
	}
	if q := quotaOf(fmt.Sprintf("/api/v1/files/quotas/class/%d", fs.classA), teacher); q.Limit != 3<<19 {
		t.Errorf("class quota after the new class default: %+v", q)
	}

	// Léa's 1 Mo fill up: the second 600 Ko file is refused.
	w = serve(fs.h, "GET", "/api/v1/files/spaces", "", withCookie(lea))
	personal := decodeBody[struct{ Spaces []files.Space }](t, w).Spaces[0].ID
	chunk := make([]byte, 600<<10)
	wantCode(t, fs.upload(personal, 0, "un.bin", chunk, lea), http.StatusCreated, "first file")
	wantCode(t, fs.upload(personal, 0, "deux.bin", chunk, lea), http.StatusInsufficientStorage, "over the default")

	// Her head raises her own quota on her record page.
	page := fmt.Sprintf("/admin/personnes/%d", fs.lea.ID)
	w = serve(fs.h, "GET", page, "", withCookie(head))
	wantCode(t, w, http.StatusOK, "record page")
	for _, want := range []string{"Espace Documents", "600,0 Ko sur 1,0 Mo", "(quota par défaut)", page + "/quota"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("record page lacks %q", want)
		}
	}
	wantCode(t, form(page+"/quota", url.Values{"quota_mo": {"-3"}}, head), http.StatusBadRequest, "negative quota")
	wantCode(t, form(page+"/quota", url.Values{"quota_mo": {"2"}}, lyceeHead), http.StatusNotFound, "another school's head")
	wantCode(t, form(page+"/quota", url.Values{"quota_mo": {"2"}}, head), http.StatusSeeOther, "override")
	if q := quotaOf(leaQuota, lea); q.Limit != 2<<20 || q.Default {
		t.Fatalf("after the override: %+v", q)
	}
	wantCode(t, fs.upload(personal, 0, "deux.bin", chunk, lea), http.StatusCreated, "within the override")
	w = serve(fs.h, "GET", page, "", withCookie(head))
	if !strings.Contains(w.Body.String(), `value="2"`) || strings.Contains(w.Body.String(), "(quota par défaut)") {
		t.Errorf("record page after the override:\n%s", w.Body.String())
	}
	// Emptied, the field gives the default back.
	wantCode(t, form(page+"/quota", url.Values{"quota_mo": {""}}, head), http.StatusSeeOther, "back to default")
	if q := quotaOf(leaQuota, lea); q.Limit != 1<<20 || !q.Default {
		t.Fatalf("after clearing: %+v", q)
	}

	// A class's space, from the class page.
	classPage := fmt.Sprintf("/admin/classes/%d", fs.classA)
	wantCode(t, form(classPage+"/quota", url.Values{"quota_mo": {"10"}}, lyceeHead), http.StatusNotFound, "class of another school")
	wantCode(t, form(classPage+"/quota", url.Values{"quota_mo": {"10"}}, head), http.StatusSeeOther, "class override")
	w = serve(fs.h, "GET", classPage, "", withCookie(head))
	wantCode(t, w, http.StatusOK, "class page")
	if !strings.Contains(w.Body.String(), "sur 10,0 Mo") {
		t.Errorf("class page does not show the new quota")
	}
	// The API: a pupil reads her own quota, not a classmate's.
	wantCode(t, serve(fs.h, "GET", fmt.Sprintf("/api/v1/files/quotas/person/%d", fs.tom.ID), "", withCookie(lea)), http.StatusNotFound, "classmate's quota")
	w = serve(fs.h, "PUT", "/api/v1/files/quota-defaults/parent", `{"limit":1048576}`, withCookie(head))
	wantCode(t, w, http.StatusNotFound, "head sets a default by API")
	w = serve(fs.h, "PUT", "/api/v1/files/quota-defaults/inconnu", `{"limit":1048576}`, withCookie(admin))
	wantCode(t, w, http.StatusBadRequest, "unknown default")
	w = serve(fs.h, "PUT", "/api/v1/files/quota-defaults/eleve", `{"limit":0}`, withCookie(admin))
	wantCode(t, w, http.StatusOK, "default back to Préau's")
	if q := quotaOf(leaQuota, lea); q.Limit != 500<<20 {
		t.Errorf("after resetting the default: %+v", q)
	}
}
