package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var redirectConvRE = regexp.MustCompile(`^/messagerie/(\d+)`)

func convOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	m := redirectConvRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("redirect to %q, want a conversation", resp.Header.Get("Location"))
	}
	return "/messagerie/" + m[1]
}

func idStr(n int64) string { return strconv.FormatInt(n, 10) }

// TestNewConversation: the picker offers only people one may write to;
// writing to someone else answers 404 with a French message; one person
// makes a private conversation (the same one twice), several a group.
func TestNewConversation(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	pupil := f.login(f.pupil)
	body := f.wantGet(pupil, "/messagerie/nouvelle", http.StatusOK)
	for _, want := range []string{"Hugo Bernard", "Thomas Prof", "Claire Cpe", "Henri Principal"} {
		if !strings.Contains(body, want) {
			t.Errorf("the pupil's picker lacks %s", want)
		}
	}
	for _, not := range []string{"Bastien", "Paul Parent", "Hélène", "Anne Admin"} {
		if strings.Contains(body, not) {
			t.Errorf("the pupil's picker offers %s", not)
		}
	}
	if body := f.wantGet(pupil, "/messagerie/nouvelle?q=bern", http.StatusOK); !strings.Contains(body, "Hugo Bernard") || strings.Contains(body, "Thomas Prof") {
		t.Errorf("search 'bern':\n%s", body)
	}
	if body := f.wantGet(pupil, "/messagerie/nouvelle?q=%25", http.StatusOK); !strings.Contains(body, "Aucune personne") {
		t.Errorf("search '%%' matches people")
	}

	// Out of reach: a lycée pupil, a parent.
	_, body = f.wantPost(pupil, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.pupilB.ID)}}, http.StatusNotFound)
	if !strings.Contains(body, "vous ne pouvez pas écrire à cette personne") {
		t.Errorf("refusal not explained:\n%s", body)
	}
	f.wantPost(pupil, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.parent.ID)}}, http.StatusNotFound)
	f.wantPost(f.login(f.parent), "/messagerie/nouvelle", url.Values{"personne": {idStr(f.pupil2.ID)}}, http.StatusNotFound)

	resp, _ := f.wantPost(pupil, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.teacher.ID)}}, http.StatusSeeOther)
	conv := convOf(t, resp)
	resp, _ = f.wantPost(pupil, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.teacher.ID)}}, http.StatusSeeOther)
	if convOf(t, resp) != conv {
		t.Error("a second start made another private conversation")
	}
	f.wantPost(pupil, conv, url.Values{"texte": {"Bonjour monsieur"}, "client_id": {"p-1"}}, http.StatusSeeOther)
	teacher := f.login(f.teacher)
	if body := f.wantGet(teacher, "/messagerie", http.StatusOK); !strings.Contains(body, "Léa Martin") || !strings.Contains(body, "1 non lu") {
		t.Errorf("the teacher's list lacks the private conversation named for Léa:\n%s", body)
	}
	if body := f.wantGet(teacher, conv, http.StatusOK); !strings.Contains(body, "<h1>Léa Martin</h1>") {
		t.Errorf("private conversation title:\n%s", body)
	}
	f.wantGet(f.login(f.pupilB), conv, http.StatusNotFound)

	// A group needs a title; then every member is in.
	_, body = f.wantPost(teacher, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.pupil.ID), idStr(f.parent.ID)}}, http.StatusBadRequest)
	if !strings.Contains(body, "Donnez un titre") {
		t.Errorf("group without a title:\n%s", body)
	}
	resp, _ = f.wantPost(teacher, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.pupil.ID), idStr(f.parent.ID)}, "titre": {"Projet"}}, http.StatusSeeOther)
	group := convOf(t, resp)
	f.wantGet(f.login(f.parent), group, http.StatusOK)
	f.wantPost(teacher, "/messagerie/nouvelle", url.Values{"personne": {idStr(f.pupil.ID), idStr(f.pupilB.ID)}, "titre": {"Intrus"}}, http.StatusNotFound)
}

// TestMailboxPages: a teacher writes to the parents of 3A; the parent reads
// it (no composer), answers the sender privately; the teacher sees "Vu par
// 1/1". A pupil has no Nouveau message; a class not taught is refused.
func TestMailboxPages(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	teacher, parent, pupil := f.login(f.teacher), f.login(f.parent), f.login(f.pupil)
	f.wantGet(pupil, "/messagerie/message", http.StatusNotFound)
	if body := f.wantGet(pupil, "/messagerie", http.StatusOK); strings.Contains(body, "Nouveau message") {
		t.Error("a pupil is offered Nouveau message")
	}
	body := f.wantGet(teacher, "/messagerie/message", http.StatusOK)
	if !strings.Contains(body, "Parents de 3A") || strings.Contains(body, "4B") {
		t.Errorf("the teacher's classes:\n%s", body)
	}
	f.wantPost(teacher, "/messagerie/message", url.Values{"sujet": {"x"}, "texte": {"y"}, "dest": {idStr(f.c4B) + ":parents"}}, http.StatusNotFound)
	_, body = f.wantPost(teacher, "/messagerie/message", url.Values{"sujet": {""}, "texte": {"y"}, "dest": {idStr(f.c3A) + ":parents"}}, http.StatusBadRequest)
	if !strings.Contains(body, "Indiquez un sujet") {
		t.Errorf("no subject:\n%s", body)
	}
	resp, _ := f.wantPost(teacher, "/messagerie/message", url.Values{"sujet": {"Réunion parents-professeurs"},
		"texte": {"Elle aura lieu jeudi."}, "dest": {idStr(f.c3A) + ":parents"}, "client_id": {"mail-1"}}, http.StatusSeeOther)
	mail := convOf(t, resp)
	if body := f.wantGet(teacher, mail, http.StatusOK); !strings.Contains(body, "Vu par 0/1") {
		t.Errorf("receipts before reading:\n%s", body)
	}
	if body := f.wantGet(parent, "/messagerie", http.StatusOK); !strings.Contains(body, "Réunion parents-professeurs") {
		t.Errorf("the parent's list:\n%s", body)
	}
	body = f.wantGet(parent, mail, http.StatusOK)
	if strings.Contains(body, `id="composer"`) || !strings.Contains(body, `data-testid="reply"`) || strings.Contains(body, "Vu par") {
		t.Errorf("the parent's view of the mail:\n%s", body)
	}
	f.wantPost(parent, mail, url.Values{"texte": {"Merci"}}, http.StatusBadRequest)
	resp, _ = f.wantPost(parent, mail+"/repondre", nil, http.StatusSeeOther)
	reply := convOf(t, resp)
	if body := f.wantGet(parent, resp.Header.Get("Location"), http.StatusOK); !strings.Contains(body, "Re : Réunion parents-professeurs") {
		t.Errorf("the reply's draft:\n%s", body)
	}
	f.wantPost(parent, reply, url.Values{"texte": {"Je serai là."}}, http.StatusSeeOther)
	if body := f.wantGet(teacher, mail, http.StatusOK); !strings.Contains(body, "Vu par 1/1") {
		t.Errorf("receipts after reading:\n%s", body)
	}
	if body := f.wantGet(teacher, reply, http.StatusOK); !strings.Contains(body, "Je serai là.") {
		t.Errorf("the teacher does not see the reply")
	}
	f.wantPost(pupil, mail+"/repondre", nil, http.StatusNotFound)
}

// TestModerationPages: the teacher deletes a pupil's message and mutes
// them (the pupil is told in French); a pupil cannot moderate (404);
// reporting reaches the teacher and the CPE.
func TestModerationPages(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	pupil, teacher := f.login(f.pupil), f.login(f.teacher)
	body := f.wantGet(pupil, "/messagerie", http.StatusOK)
	conv := "/messagerie/" + match(t, regexp.MustCompile(`href="/messagerie/(\d+)"><span class="conv-title">3A<`), body)
	f.wantPost(pupil, conv, url.Values{"texte": {"message déplacé"}, "client_id": {"a"}}, http.StatusSeeOther)
	f.wantPost(pupil, conv, url.Values{"texte": {"autre message"}, "client_id": {"b"}}, http.StatusSeeOther)
	if body := f.wantGet(pupil, conv, http.StatusOK); strings.Contains(body, "Modération") || strings.Contains(body, `data-testid="mod-delete"`) {
		t.Error("a pupil sees moderation controls")
	}
	f.wantPost(pupil, conv+"/moderation", url.Values{"action": {"supprimer"}, "seq": {"1"}}, http.StatusNotFound)
	// The author withdraws their own message; nobody else can.
	if body := f.wantGet(pupil, conv, http.StatusOK); !strings.Contains(body, `data-testid="withdraw"`) {
		t.Error("the author has no Retirer button")
	}
	f.wantPost(f.login(f.pupilB), conv+"/retirer", url.Values{"seq": {"2"}}, http.StatusNotFound)
	f.wantPost(pupil, conv+"/retirer", url.Values{"seq": {"2"}}, http.StatusSeeOther)
	if body := f.wantGet(pupil, conv, http.StatusOK); strings.Contains(body, "autre message") {
		t.Error("the withdrawn message is still shown")
	}

	body = f.wantGet(teacher, conv, http.StatusOK)
	if !strings.Contains(body, `data-testid="moderation"`) || !strings.Contains(body, `data-testid="mod-delete"`) {
		t.Fatalf("the teacher has no moderation controls:\n%s", body)
	}
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"supprimer"}, "seq": {"1"}}, http.StatusSeeOther)
	if body := f.wantGet(pupil, conv, http.StatusOK); strings.Contains(body, "message déplacé") || !strings.Contains(body, "Message supprimé.") {
		t.Errorf("the deleted message is still shown")
	}
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"silence"}, "membre": {idStr(f.pupil.ID)}, "minutes": {"60"}}, http.StatusSeeOther)
	_, body = f.wantPost(pupil, conv, url.Values{"texte": {"je parle"}}, http.StatusBadRequest)
	if !strings.Contains(body, "retiré la parole") {
		t.Errorf("the muted pupil is not told:\n%s", body)
	}
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"silence"}, "membre": {idStr(f.pupil.ID)}, "minutes": {"0"}}, http.StatusSeeOther)
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"annonces"}, "on": {"1"}}, http.StatusSeeOther)
	if body := f.wantGet(pupil, conv, http.StatusOK); strings.Contains(body, `id="composer"`) || !strings.Contains(body, "mode annonces") {
		t.Errorf("announcements: the pupil still has a composer")
	}
	f.wantPost(pupil, conv, url.Values{"texte": {"?"}}, http.StatusBadRequest)
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"horaires"}, "de": {"8h"}, "a": {""}}, http.StatusBadRequest)
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"horaires"}, "de": {"08:00"}, "a": {"18:00"}}, http.StatusSeeOther)
	if body := f.wantGet(pupil, conv, http.StatusOK); !strings.Contains(body, "Ouverte de 08:00-18:00") {
		t.Errorf("hours not shown")
	}

	// The teacher's own message, reported by the pupil.
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"annonces"}, "on": {"0"}}, http.StatusSeeOther)
	f.wantPost(teacher, conv, url.Values{"texte": {"Contrôle demain"}, "client_id": {"t"}}, http.StatusSeeOther)
	// "Vu par": four pupils and the CPE besides the teacher.
	if body := f.wantGet(teacher, conv, http.StatusOK); !strings.Contains(body, "Vu par 0/5") {
		t.Errorf("no read receipt on the teacher's message:\n%s", body)
	}
	f.wantGet(pupil, conv, http.StatusOK)
	if body := f.wantGet(teacher, conv, http.StatusOK); !strings.Contains(body, "Vu par 1/5") {
		t.Errorf("the receipt does not count the pupil's reading")
	}
	resp, _ := f.wantPost(pupil, conv+"/signaler", url.Values{"seq": {"3"}}, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/messagerie?signale=1" {
		t.Fatalf("after reporting: %q", loc)
	}
	body = f.wantGet(f.login(f.cpe), "/messagerie", http.StatusOK)
	if !strings.Contains(body, "Signalement — 3A") {
		t.Errorf("the CPE did not get the report:\n%s", body)
	}
	f.wantPost(f.login(f.pupilB), conv+"/signaler", url.Values{"seq": {"3"}}, http.StatusNotFound)
}

// TestSearchAndUnread: search finds one's own conversations' messages only,
// with LIKE's wildcards taken literally; /messagerie/non-lus feeds the home
// page's live badge.
func TestSearchAndUnread(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	pupil, teacher := f.login(f.pupil), f.login(f.teacher)
	body := f.wantGet(pupil, "/messagerie", http.StatusOK)
	conv := "/messagerie/" + match(t, convLinkRE, body)
	f.wantPost(pupil, conv, url.Values{"texte": {"Le contrôle de maths est à 100% facile"}}, http.StatusSeeOther)
	f.wantPost(f.login(f.pupilB), "/messagerie/nouvelle", url.Values{"personne": {idStr(f.headB.ID)}}, http.StatusSeeOther)

	if body := f.wantGet(teacher, "/accueil", http.StatusOK); !strings.Contains(body, `data-unread-badge`) || !strings.Contains(body, `src="/static/chat.js"`) {
		t.Errorf("the home page has no live badge")
	}
	_, body = f.get(teacher, "/messagerie/non-lus")
	if !strings.Contains(body, `"unread":1`) || !strings.Contains(body, `"last_seq":1`) {
		t.Errorf("unread JSON: %s", body)
	}
	body = f.wantGet(teacher, "/messagerie/recherche?q=MATHS", http.StatusOK)
	if !strings.Contains(body, "Le contrôle de maths") || !strings.Contains(body, "Léa Martin") {
		t.Errorf("search:\n%s", body)
	}
	if body := f.wantGet(teacher, "/messagerie/recherche?q=CONTROLE", http.StatusOK); !strings.Contains(body, "Le contrôle de maths") {
		t.Errorf("search without the accent:\n%s", body)
	}
	if body := f.wantGet(teacher, "/messagerie/recherche?q=100%25", http.StatusOK); !strings.Contains(body, "Le contrôle") {
		t.Errorf("search for a literal %%")
	}
	if body := f.wantGet(teacher, "/messagerie/recherche?q=0%25+f", http.StatusOK); !strings.Contains(body, "Le contrôle") {
		t.Errorf("search across a literal %%")
	}
	for _, q := range []string{"%25%25", "_", "maths%25x"} {
		if body := f.wantGet(teacher, "/messagerie/recherche?q="+q, http.StatusOK); strings.Contains(body, "Le contrôle") {
			t.Errorf("search %q matched as a wildcard", q)
		}
	}
	if body := f.wantGet(f.login(f.pupilB), "/messagerie/recherche?q=maths", http.StatusOK); !strings.Contains(body, "Aucun message") {
		t.Errorf("search crosses into others' conversations")
	}
}

// TestMailboxFormResent: the Nouveau message form carries a token of its
// own (a hidden field, new at each showing); posting it twice (a double
// click, a resend) shows the same message and the parents receive one.
func TestMailboxFormResent(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	teacher, parent := f.login(f.teacher), f.login(f.parent)
	tokenRE := regexp.MustCompile(`name="client_id" value="([^"]+)"`)
	token := match(t, tokenRE, f.wantGet(teacher, "/messagerie/message", http.StatusOK))
	if other := match(t, tokenRE, f.wantGet(teacher, "/messagerie/message", http.StatusOK)); other == token {
		t.Fatal("two showings of the form share a token")
	}
	form := url.Values{"sujet": {"Conseil de classe"}, "texte": {"Mardi à 17 h."}, "dest": {idStr(f.c3A) + ":parents"},
		"client_id": {token}}
	resp1, _ := f.wantPost(teacher, "/messagerie/message", form, http.StatusSeeOther)
	resp2, _ := f.wantPost(teacher, "/messagerie/message", form, http.StatusSeeOther)
	if a, b := convOf(t, resp1), convOf(t, resp2); a != b {
		t.Fatalf("the form sent twice made %s and %s", a, b)
	}
	if body := f.wantGet(parent, "/messagerie", http.StatusOK); strings.Count(body, "Conseil de classe") != 1 {
		t.Errorf("the parent's list shows the message %d times:\n%s", strings.Count(body, "Conseil de classe"), body)
	}
}

// TestUnreadLeavesHeldOut: a message the teacher posts while the class
// channel is closed (its opening hours start in an hour) is not in a
// pupil's badge count yet, and the badge subscribes before it so that the
// hub sends it at the opening (chat/quiet.go); the teacher's own count is
// not concerned.
func TestUnreadLeavesHeldOut(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	pupil, teacher := f.login(f.pupil), f.login(f.teacher)
	body := f.wantGet(pupil, "/messagerie", http.StatusOK)
	conv := "/messagerie/" + match(t, convLinkRE, body)
	f.wantPost(pupil, conv, url.Values{"texte": {"Bonjour"}}, http.StatusSeeOther)
	now := time.Now().In(parisTZ(t))
	hm := func(min int) string { min %= 24 * 60; return fmt.Sprintf("%02d:%02d", min/60, min%60) }
	m := now.Hour()*60 + now.Minute()
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"horaires"}, "de": {hm(m + 60)}, "a": {hm(m + 120)}}, http.StatusSeeOther)
	f.wantPost(teacher, conv, url.Values{"texte": {"Devoir pour demain"}}, http.StatusSeeOther)
	f.wantPost(teacher, conv, url.Values{"texte": {"Et le cahier"}}, http.StatusSeeOther)
	_, body = f.get(pupil, "/messagerie/non-lus")
	if !strings.Contains(body, `"unread":0`) || !strings.Contains(body, `"last_seq":1`) {
		t.Errorf("the pupil's badge counts held messages: %s", body)
	}
	f.wantPost(pupil, conv+"/moderation", url.Values{"action": {"horaires"}, "de": {""}, "a": {""}}, http.StatusNotFound)
	f.wantPost(teacher, conv+"/moderation", url.Values{"action": {"horaires"}, "de": {""}, "a": {""}}, http.StatusSeeOther)
	if _, body = f.get(pupil, "/messagerie/non-lus"); !strings.Contains(body, `"unread":2`) || !strings.Contains(body, `"last_seq":3`) {
		t.Errorf("always open: %s", body)
	}
}

func parisTZ(t *testing.T) *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database")
	}
	return l
}
