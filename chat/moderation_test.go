package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

// TestMailbox: a teacher writes to all the parents of their class and one
// colleague; each gets it once; "vu par" counts readers; a recipient cannot
// post in it but replies to the sender privately; a class not taught is out
// of reach and nothing is sent.
func TestMailbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		prof := principal(t, d, sc.prof)
		if _, err := s.SendMail(ctx, prof, "Sortie", "Bonjour", "m-0", Audience{Classes: []ClassAudience{{ClassID: sc.c3B, Parents: true}}}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("mail to a class not taught: %v", err)
		}
		if _, err := s.SendMail(ctx, principal(t, d, sc.lea), "Sortie", "Bonjour", "m-0", Audience{People: []int64{sc.tom}}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a pupil sends a mailbox message: %v", err)
		}
		if _, err := s.SendMail(ctx, prof, "Sortie", "Bonjour", "m-1", Audience{People: []int64{sc.zoe}}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("mail to a pupil not taught: %v", err)
		}
		if _, err := s.SendMail(ctx, prof, " ", "Bonjour", "m-1", Audience{People: []int64{sc.lea}}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("mail without a subject: %v", err)
		}
		m, err := s.SendMail(ctx, prof, "Sortie au musée", "Chers parents, …", "m-2",
			Audience{Classes: []ClassAudience{{ClassID: sc.c3A, Parents: true, Teachers: true}}, People: []int64{sc.profB}})
		if err != nil {
			t.Fatal(err)
		}
		// Léa's parent, Brigitte; the sender is not their own recipient.
		if m.Recipients != 2 {
			t.Fatalf("recipients %d, want 2", m.Recipients)
		}
		read, total, err := s.Receipts(ctx, m.Conversation.ID)
		if err != nil || read != 0 || total != 2 {
			t.Fatalf("receipts %d/%d %v, want 0/2", read, total, err)
		}
		list, _ := s.ConversationsOf(ctx, sc.parent)
		var found *Listed
		for i := range list {
			if list[i].ID == m.Conversation.ID {
				found = &list[i]
			}
		}
		if found == nil || found.Unread != 1 || found.Title != "Sortie au musée" || found.Kind != KindMail {
			t.Fatalf("parent's list %+v", list)
		}
		if err := s.MarkRead(ctx, m.Conversation.ID, sc.parent, 1); err != nil {
			t.Fatal(err)
		}
		if read, total, _ := s.Receipts(ctx, m.Conversation.ID); read != 1 || total != 2 {
			t.Fatalf("receipts %d/%d, want 1/2", read, total)
		}
		if _, err := s.Post(ctx, m.Conversation.ID, sc.parent, "r1", "Merci"); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("recipient posts in the mail: %v", err)
		}
		if _, err := s.Post(ctx, m.Conversation.ID, sc.prof, "r2", "Précision : départ 8 h"); err != nil {
			t.Fatalf("sender adds to the mail: %v", err)
		}
		rep, err := s.ReplyToSender(ctx, sc.parent, m.Conversation.ID)
		if err != nil || rep.Kind != KindPrivate {
			t.Fatalf("reply: %+v %v", rep, err)
		}
		if ok, _ := s.IsMember(ctx, rep.ID, sc.prof); !ok {
			t.Fatal("the sender is not in the reply")
		}
		if _, err := s.ReplyToSender(ctx, sc.parentZ, m.Conversation.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a non-recipient replies: %v", err)
		}
		if _, err := s.ReplyToSender(ctx, sc.prof, m.Conversation.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the sender replies to themselves: %v", err)
		}
		// The CPE writes to every pupil of 3e B.
		m2, err := s.SendMail(ctx, principal(t, d, sc.cpe), "Absences", "Rappel", "m-3", Audience{Classes: []ClassAudience{{ClassID: sc.c3B, Pupils: true}}})
		if err != nil || m2.Recipients != 1 {
			t.Fatalf("CPE mail: %+v %v", m2, err)
		}
	})
}

// TestModerationStore: deleting any message, muting, announcements only
// and opening hours apply to members and not to moderators; a member cannot
// moderate; each act is audited without any message text.
func TestModerationStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		now := time.Date(2026, 11, 30, 10, 0, 0, 0, paris)
		s.now = func() time.Time { return now }
		c, err := s.EnsureClassChannel(ctx, sc.c3A)
		if err != nil {
			t.Fatal(err)
		}
		m1, err := s.Post(ctx, c.ID, sc.lea, "l1", "un message secret à modérer")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ModerateDelete(ctx, c.ID, m1.Seq, sc.tom); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a pupil deletes another's message: %v", err)
		}
		if _, err := s.ModerateDelete(ctx, c.ID, m1.Seq, sc.profB); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a teacher of another class deletes: %v", err)
		}
		now = now.Add(time.Hour) // past the author's window: moderators still can
		del, err := s.ModerateDelete(ctx, c.ID, m1.Seq, sc.cpe)
		if err != nil || del.DeletedAtMs == 0 || del.Body != "" {
			t.Fatalf("CPE delete: %+v %v", del, err)
		}

		if err := s.Mute(ctx, c.ID, sc.prof, sc.lea, 30*time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Post(ctx, c.ID, sc.lea, "l2", "je parle"); !errors.Is(err, ErrMuted) {
			t.Fatalf("muted pupil posts: %v", err)
		}
		if _, err := s.Post(ctx, c.ID, sc.tom, "t1", "moi aussi"); err != nil {
			t.Fatalf("a classmate is not muted: %v", err)
		}
		if err := s.Mute(ctx, c.ID, sc.prof, sc.cpe, time.Minute); !errors.Is(err, ErrNotFound) {
			t.Fatalf("muting a moderator: %v", err)
		}
		if err := s.Mute(ctx, c.ID, sc.tom, sc.lea, time.Minute); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a pupil mutes: %v", err)
		}
		now = now.Add(31 * time.Minute)
		if _, err := s.Post(ctx, c.ID, sc.lea, "l3", "de retour"); err != nil {
			t.Fatalf("after the mute: %v", err)
		}

		if err := s.SetAnnounceOnly(ctx, c.ID, sc.prof, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Post(ctx, c.ID, sc.lea, "l4", "?"); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("pupil posts in announcements: %v", err)
		}
		if _, err := s.Post(ctx, c.ID, sc.prof, "p1", "Annonce"); err != nil {
			t.Fatalf("teacher announces: %v", err)
		}
		if err := s.SetAnnounceOnly(ctx, c.ID, sc.prof, false); err != nil {
			t.Fatal(err)
		}

		// Open 08:00–18:00 Paris time. It is 11:31.
		if err := s.SetHours(ctx, c.ID, sc.prof, 8*60, 18*60); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Post(ctx, c.ID, sc.lea, "l5", "en journée"); err != nil {
			t.Fatalf("within the hours: %v", err)
		}
		now = time.Date(2026, 11, 30, 21, 0, 0, 0, paris)
		if _, err := s.Post(ctx, c.ID, sc.lea, "l6", "le soir"); !errors.Is(err, ErrOutOfHours) {
			t.Fatalf("after hours: %v", err)
		}
		if _, err := s.Post(ctx, c.ID, sc.prof, "p2", "le soir"); err != nil {
			t.Fatalf("a moderator after hours: %v", err)
		}
		if err := s.SetHours(ctx, c.ID, sc.prof, 25*60, 0); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad hours: %v", err)
		}

		// Tom reports Léa's message: the report reaches the teacher and the
		// CPE with context.
		last, _ := s.Since(ctx, c.ID, 0, 100)
		var leaSeq int64
		for _, m := range last {
			if m.SenderID == sc.lea && m.DeletedAtMs == 0 {
				leaSeq = m.Seq
			}
		}
		rc, err := s.Report(ctx, c.ID, leaSeq, sc.tom)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.Report(ctx, c.ID, leaSeq, sc.tom)
		if err != nil || again.ID != rc.ID {
			t.Fatalf("second report %d %v, want %d", again.ID, err, rc.ID)
		}
		for _, u := range []int64{sc.prof, sc.cpe} {
			if ok, _ := s.IsMember(ctx, rc.ID, u); !ok {
				t.Errorf("report does not reach %d", u)
			}
		}
		for _, u := range []int64{sc.tom, sc.lea, sc.doc} {
			if ok, _ := s.IsMember(ctx, rc.ID, u); ok {
				t.Errorf("report reaches %d", u)
			}
		}
		rm, _ := s.Since(ctx, rc.ID, 0, 10)
		if len(rm) != 1 || !strings.Contains(rm[0].Body, "Tom Petit signale un message de Léa Martin") ||
			!strings.Contains(rm[0].Body, "▶ ") || !strings.Contains(rm[0].Body, "Annonce") {
			t.Fatalf("report body %+v", rm)
		}
		if _, err := s.Report(ctx, c.ID, m1.Seq, sc.tom); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reporting a deleted message: %v", err)
		}
		if _, err := s.Report(ctx, c.ID, leaSeq, sc.zoe); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a non-member reports: %v", err)
		}

		log, err := s.Audit(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range log {
			actions = append(actions, a.Action)
			if strings.Contains(a.Detail, "secret") || strings.Contains(a.Detail, "soir") {
				t.Errorf("audit holds message text: %+v", a)
			}
		}
		want := []string{AuditReport, AuditHours, AuditAnnounceOnly, AuditAnnounceOnly, AuditMute, AuditDelete}
		if strings.Join(actions, ",") != strings.Join(want, ",") {
			t.Errorf("audit %v, want %v", actions, want)
		}
		if log[len(log)-1].ActorID != sc.cpe || log[len(log)-1].TargetUser != sc.lea || log[len(log)-1].TargetSeq != m1.Seq {
			t.Errorf("delete audit %+v", log[len(log)-1])
		}
	})
}

// TestHubModeration: over WebSocket, a muted pupil's send gets "muted", a
// pupil's send in announcements gets "read_only", and a moderator's
// deletion reaches subscribed pages live.
func TestHubModeration(t *testing.T) {
	checkLeaks(t)
	d := dbtest.SQLite(t)
	sc := newSchool(t, d)
	s := NewStore(d)
	ctx := context.Background()
	c, err := s.EnsureClassChannel(ctx, sc.c3A)
	if err != nil {
		t.Fatal(err)
	}
	b := NewMemoryBroker(0)
	t.Cleanup(func() { b.Close() })
	h, url := startHub(t, s, b, Config{}, nil)

	lea, tom := connect(t, url, sc.lea), connect(t, url, sc.tom)
	tom.subscribe(c.ID, 0)
	tom.expect(TypeSubscribed)
	lea.send(c.ID, "l1", "bonjour")
	lea.expect(TypeAck)
	got := tom.expect(TypeMessage).message(t)

	// Deleted by the CPE: Tom's page sees it go.
	if _, err := h.ModerateDelete(ctx, c.ID, got.Seq, sc.cpe); err != nil {
		t.Fatal(err)
	}
	del := tom.expect(TypeMessage).message(t)
	if del.Seq != got.Seq || del.DeletedAtMs == 0 || del.Body != "" {
		t.Fatalf("deletion frame %+v", del)
	}

	errCode := func(f frame) string {
		var e ErrorData
		json.Unmarshal(f.Data, &e)
		return e.Code
	}
	if err := s.Mute(ctx, c.ID, sc.prof, sc.lea, time.Hour); err != nil {
		t.Fatal(err)
	}
	lea.send(c.ID, "l2", "encore")
	if f := lea.expect(TypeError); errCode(f) != CodeMuted {
		t.Fatalf("muted send: %s", f.Data)
	}
	if err := s.SetAnnounceOnly(ctx, c.ID, sc.prof, true); err != nil {
		t.Fatal(err)
	}
	tom.send(c.ID, "t1", "moi")
	if f := tom.next(TypeMessage); f.Type != TypeError || errCode(f) != CodeReadOnly {
		t.Fatalf("announcement send: %s %s", f.Type, f.Data)
	}
	// The connection stays usable.
	tom.request(TypePing, nil)
	tom.expect(TypePong)
}

// TestMailboxThousand: one message to a class of 1,001 pupils is one
// conversation and 1,001 memberships written at send time (in INSERTs of
// 200); reading it and its receipts are single queries.
func TestMailboxThousand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i := range 1000 {
				p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "Élève", LastName: fmt.Sprint(i)})
				if err != nil {
					return err
				}
				if err := directory.Enrol(ctx, tx, p.ID, sc.c3B); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m, err := s.SendMail(ctx, principal(t, d, sc.cpe), "Photo de classe", "Jeudi à 9 h.", "big-1",
			Audience{Classes: []ClassAudience{{ClassID: sc.c3B, Pupils: true}}})
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Since(start)
		if m.Recipients != 1001 {
			t.Fatalf("recipients %d", m.Recipients)
		}
		start = time.Now()
		read, total, err := s.Receipts(ctx, m.Conversation.ID)
		if err != nil || read != 0 || total != 1001 {
			t.Fatalf("receipts %d/%d %v", read, total, err)
		}
		t.Logf("send to 1,001 recipients: %v; receipts: %v", sent, time.Since(start))
		if u, _ := s.Unread(ctx, sc.zoe); u[m.Conversation.ID] != 1 {
			t.Fatalf("Zoé's unread %v", u)
		}
	})
}
