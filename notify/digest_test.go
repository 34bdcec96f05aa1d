package notify

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/chat"
	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

// digestFixture is a school with a group "Sortie au musée" of a teacher
// (who writes), a parent with an email address, a pupil without one and a
// second parent who reads everything.
type digestFixture struct {
	d                          *db.DB
	store                      *chat.Store
	conv                       int64
	teacher, parent, pupil, p2 int64
}

const secret = "Le code du portail est 4321"

func newDigestFixture(t *testing.T, d *db.DB) digestFixture {
	t.Helper()
	ctx := context.Background()
	st, err := directory.CreateStructure(ctx, d, directory.Structure{UAI: "0451234A", Name: "Collège Test", Kind: directory.College})
	if err != nil {
		t.Fatal(err)
	}
	person := func(first, last, email string) int64 {
		p, err := directory.CreatePerson(ctx, d, directory.Person{FirstName: first, LastName: last, Email: email})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	f := digestFixture{d: d, store: chat.NewStore(d),
		teacher: person("Anne", "Prof", "anne.prof@example.fr"),
		parent:  person("Paul", "Parent", "paul.parent@example.fr"),
		pupil:   person("Léa", "Élève", ""),
		p2:      person("Rita", "Lectrice", "rita@example.fr"),
	}
	c, err := f.store.CreateConversation(ctx, chat.Conversation{Kind: chat.KindGroup, StructureID: st, Title: "Sortie au musée"})
	if err != nil {
		t.Fatal(err)
	}
	f.conv = c.ID
	for _, u := range []int64{f.teacher, f.parent, f.pupil, f.p2} {
		if err := f.store.AddMember(ctx, c.ID, u, chat.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// post sends a message from the teacher; the second parent reads it.
func (f digestFixture) post(t *testing.T, clientID string) {
	t.Helper()
	ctx := context.Background()
	m, err := f.store.Post(ctx, f.conv, f.teacher, clientID, secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.MarkRead(ctx, f.conv, f.p2, m.Seq); err != nil {
		t.Fatal(err)
	}
}

// clock is a moveable time.Now.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

func newTestDigests(t *testing.T, f digestFixture, srv *smtpServer, c *clock) *Digests {
	host, port, _ := net.SplitHostPort(srv.addr)
	m := NewSMTPMailer(SMTPConfig{Host: host, Port: port, From: "ent@example.fr"})
	return New(Config{After: time.Millisecond, SiteURL: "https://ent.example.fr/", Location: time.UTC, Now: c.now},
		f.d, ChatSource{Store: f.store}, m, testLogger(t))
}

// TestDigestOnce: the parent with unread messages gets one digest with the
// count and the link but no text of the message; a second pass, a new
// message the same day and a restart send nothing more; the next day the
// message that came after the digest brings one more, and the day after,
// with nothing new, none. On SQLite and, when it is there, PostgreSQL.
func TestDigestOnce(t *testing.T) {
	dbtest.Each(t, testDigestOnce)
}

func testDigestOnce(t *testing.T, d *db.DB) {
	ctx := context.Background()
	f := newDigestFixture(t, d)
	srv := startSMTP(t)
	c := &clock{}
	g := newTestDigests(t, f, srv, c)

	f.post(t, "m1")
	time.Sleep(5 * time.Millisecond) // older than After
	n, err := g.SendDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("first pass: %d sent, %v; want 1", n, err)
	}
	got := srv.mails()
	if len(got) != 1 || got[0].To != "paul.parent@example.fr" {
		t.Fatalf("mails %+v: want one, to the parent", got)
	}
	subject, body := decoded(t, got[0])
	t.Logf("Subject: %s\n%s", subject, body)
	for _, want := range []string{"Bonjour Paul Parent", "Groupe « Sortie au musée » : 1 message non lu",
		"https://ent.example.fr/messagerie"} {
		if !strings.Contains(body, want) {
			t.Errorf("body has no %q", want)
		}
	}
	if subject != "Préau : 1 message non lu" {
		t.Errorf("subject %q", subject)
	}
	for _, leak := range []string{"4321", "portail", "code du"} {
		if strings.Contains(got[0].Data, leak) || strings.Contains(body, leak) || strings.Contains(subject, leak) {
			t.Errorf("the digest carries the message's text (%q)", leak)
		}
	}

	if n, err := g.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("second pass: %d sent, %v; want 0", n, err)
	}
	f.post(t, "m2") // the same day: still one digest
	time.Sleep(5 * time.Millisecond)
	if n, err := g.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("new message the same day: %d sent, %v; want 0", n, err)
	}
	restarted := newTestDigests(t, f, srv, c)
	if n, err := restarted.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("after a restart: %d sent, %v; want 0", n, err)
	}
	if len(srv.mails()) != 1 {
		t.Fatalf("%d mails, want 1", len(srv.mails()))
	}

	// The next day: m2 came after the first digest, so it is news.
	c.add(24 * time.Hour)
	if n, err := restarted.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("next day with m2 unread: %d sent, %v; want 1", n, err)
	}
	_, body = decoded(t, srv.mails()[1])
	if !strings.Contains(body, "2 messages non lus") {
		t.Errorf("second digest:\n%s", body)
	}
	c.add(24 * time.Hour)
	if n, err := restarted.SendDue(ctx); err != nil || n != 0 {
		t.Errorf("the day after, nothing new: %d sent, %v; want 0", n, err)
	}
}

// TestDigestRetry: a mail the server refuses is not recorded: the next pass
// sends it, once.
func TestDigestRetry(t *testing.T) {
	ctx := context.Background()
	f := newDigestFixture(t, dbtest.SQLite(t))
	srv := startSMTP(t)
	srv.failRcpt = 1
	g := newTestDigests(t, f, srv, &clock{})
	f.post(t, "m1")
	time.Sleep(5 * time.Millisecond)
	if n, err := g.SendDue(ctx); err == nil || n != 0 {
		t.Fatalf("refused: %d sent, %v; want an error", n, err)
	}
	if n, err := g.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("retry: %d sent, %v; want 1", n, err)
	}
	if n, err := g.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("after the retry: %d sent, %v; want 0", n, err)
	}
	if got := srv.mails(); len(got) != 1 {
		t.Fatalf("%d mails, want 1", len(got))
	}
}

// TestDigestLabels: private conversations, mailbox messages and reports are
// named by their kind only, never by a correspondent or a subject.
func TestDigestLabels(t *testing.T) {
	m := compose([]Unread{
		{UserID: 1, Email: "a@example.fr", Name: "A\r\nBcc: x", Kind: "private", Title: "Jean Dupont", Count: 1},
		{UserID: 1, Kind: "mail", Title: "Conseil de discipline de Léo", Count: 3},
		{UserID: 1, Kind: "report", Title: "Message signalé", Count: 1},
		{UserID: 1, Kind: "class", Title: "3eB", Count: 2},
	}, "https://ent.example.fr")
	for _, leak := range []string{"Dupont", "discipline", "signalé", "\r\nBcc"} {
		if strings.Contains(m.Body, leak) {
			t.Errorf("body carries %q:\n%s", leak, m.Body)
		}
	}
	if m.Subject != "Préau : 7 messages non lus" || !strings.Contains(m.Body, "Classe 3eB : 2 messages non lus") {
		t.Errorf("subject %q, body:\n%s", m.Subject, m.Body)
	}
}

// TestDigestRun: the loop makes a pass at once and ends with its context.
func TestDigestRun(t *testing.T) {
	f := newDigestFixture(t, dbtest.SQLite(t))
	srv := startSMTP(t)
	f.post(t, "m1")
	time.Sleep(5 * time.Millisecond)
	g := newTestDigests(t, f, srv, &clock{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Run(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.mails()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := srv.mails(); len(got) != 1 {
		t.Fatalf("%d mails, want 1", len(got))
	}
}
