package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"preau/db"
	"preau/internal/frtime"
)

// Unread is one person's unread messages in one conversation.
type Unread struct {
	UserID int64
	Email  string
	Name   string // the person's name, for the greeting
	Kind   string // the conversation's kind (chat.Kind): class, group, private, mail…
	Title  string // the conversation's title; left out of the mail for private, mail and report
	Count  int
	Newest time.Time // when the newest unread message was sent
}

// Source lists, per person and conversation, the unread messages of which
// at least one was sent before before, ordered by person.
type Source interface {
	UnreadBefore(ctx context.Context, before time.Time) ([]Unread, error)
}

// Mail is one plain-text email.
type Mail struct {
	To      string
	Subject string
	Body    string
}

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Config tunes the digests; the zero value works.
type Config struct {
	// After is how long a message waits unread before it is worth a digest
	// (default 30 minutes).
	After time.Duration
	// Interval is the time between two passes of Run (default 5 minutes).
	Interval time.Duration
	// SiteURL is where people reach Préau, for the link to /messagerie
	// (default http://localhost:8080).
	SiteURL string
	// Location decides when a day begins (default Europe/Paris, UTC when
	// the time zone database is missing).
	Location *time.Location
	// MaxPerPass caps the digests of one pass (default 200); the rest go
	// out at the next pass.
	MaxPerPass int
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// Digests sends the digests. Build it with New; Run is its loop.
type Digests struct {
	cfg  Config
	db   *db.DB
	src  Source
	mail Mailer
	log  *slog.Logger
}

// New returns the digests of src, recorded in d's email_digests table and
// sent by m.
func New(cfg Config, d *db.DB, src Source, m Mailer, log *slog.Logger) *Digests {
	if cfg.After <= 0 {
		cfg.After = 30 * time.Minute
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Minute
	}
	if cfg.SiteURL == "" {
		cfg.SiteURL = "http://localhost:8080"
	}
	cfg.SiteURL = strings.TrimSuffix(cfg.SiteURL, "/")
	if cfg.Location == nil {
		cfg.Location = frtime.Paris
	}
	if cfg.MaxPerPass <= 0 {
		cfg.MaxPerPass = 200
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Digests{cfg: cfg, db: d, src: src, mail: m, log: log}
}

// Run sends the digests due at once, then every Config.Interval, until ctx
// ends. It is the one place their errors are logged.
func (g *Digests) Run(ctx context.Context) {
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		n, err := g.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			g.log.Warn("notify: digests", "sent", n, "err", err)
		} else if n > 0 {
			g.log.Info("notify: digests sent", "sent", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendDue sends the digests due now and returns how many went out. A
// digest that fails is not recorded, so the next pass retries it; the
// error reports the failures.
func (g *Digests) SendDue(ctx context.Context) (int, error) {
	now := g.cfg.Now()
	today := now.In(g.cfg.Location).Format(time.DateOnly)
	items, err := g.src.UnreadBefore(ctx, now.Add(-g.cfg.After))
	if err != nil {
		return 0, fmt.Errorf("notify: unread: %w", err)
	}
	last, err := g.lastDigests(ctx)
	if err != nil {
		return 0, err
	}
	sent, failed := 0, 0
	var firstErr error
	for len(items) > 0 && sent+failed < g.cfg.MaxPerPass {
		n := 1
		for n < len(items) && items[n].UserID == items[0].UserID {
			n++
		}
		person := items[:n]
		items = items[n:]
		l, ok := last[person[0].UserID]
		if ok && (l.day >= today || !newerThan(person, l.sentAtMs)) {
			continue // one a day, and only for something new
		}
		err := g.send(ctx, today, now, person, l, ok)
		switch {
		case errors.Is(err, errTaken):
		case err != nil:
			failed++
			if firstErr == nil {
				firstErr = err
			}
		default:
			sent++
		}
	}
	if failed > 0 {
		return sent, fmt.Errorf("notify: %d digests not sent: %w", failed, firstErr)
	}
	return sent, nil
}

var errTaken = errors.New("notify: digest already recorded")

// send claims today's digest of one person, then sends it; a failed send
// puts the previous record back (prev, if had).
func (g *Digests) send(ctx context.Context, today string, now time.Time, person []Unread, prev lastDigest, had bool) error {
	user := person[0].UserID
	// Claimed only if no digest has this day yet: another node, or an
	// earlier pass, finds the row taken (0 rows on both databases).
	res, err := g.db.Exec(ctx, `INSERT INTO email_digests (user_id, day, sent_at_ms) VALUES (?, ?, 0)
		ON CONFLICT (user_id) DO UPDATE SET day = excluded.day, sent_at_ms = 0 WHERE email_digests.day < excluded.day`,
		user, today)
	if err != nil {
		return fmt.Errorf("notify: record digest: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return errTaken
	}
	if err := g.mail.Send(ctx, compose(person, g.cfg.SiteURL)); err != nil {
		bctx := context.WithoutCancel(ctx)
		var derr error
		if had {
			_, derr = g.db.Exec(bctx, "UPDATE email_digests SET day = ?, sent_at_ms = ? WHERE user_id = ?", prev.day, prev.sentAtMs, user)
		} else {
			_, derr = g.db.Exec(bctx, "DELETE FROM email_digests WHERE user_id = ?", user)
		}
		return errors.Join(fmt.Errorf("notify: digest to user %d: %w", user, err), derr)
	}
	if _, err = g.db.Exec(ctx, "UPDATE email_digests SET sent_at_ms = ? WHERE user_id = ?", now.UnixMilli(), user); err != nil {
		return fmt.Errorf("notify: record digest: %w", err)
	}
	return nil
}

type lastDigest struct {
	day      string
	sentAtMs int64 // Unix milliseconds; 0: interrupted while sending
}

// lastDigests returns, per person who ever had one, the latest digest.
func (g *Digests) lastDigests(ctx context.Context) (map[int64]lastDigest, error) {
	rows, err := g.db.Query(ctx, "SELECT user_id, day, sent_at_ms FROM email_digests")
	if err != nil {
		return nil, fmt.Errorf("notify: digests sent: %w", err)
	}
	defer rows.Close()
	out := map[int64]lastDigest{}
	for rows.Next() {
		var id int64
		var l lastDigest
		if err := rows.Scan(&id, &l.day, &l.sentAtMs); err != nil {
			return nil, fmt.Errorf("notify: digests sent: %w", err)
		}
		out[id] = l
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notify: digests sent: %w", err)
	}
	return out, nil
}

// newerThan reports whether a message came after the previous digest.
func newerThan(person []Unread, sentAtMs int64) bool {
	for _, u := range person {
		if u.Newest.UnixMilli() > sentAtMs {
			return true
		}
	}
	return false
}

// compose writes the French digest of one person. It names conversations
// by their kind and, for class channels, groups and lessons, their title;
// never a message's text, a mailbox message's subject or a correspondent.
func compose(person []Unread, site string) Mail {
	total := 0
	var b strings.Builder
	fmt.Fprintf(&b, "Bonjour %s,\n\nDes messages vous attendent dans Préau :\n\n", oneLine(person[0].Name, 80))
	for _, u := range person {
		total += u.Count
		fmt.Fprintf(&b, "- %s : %s\n", label(u), plural(u.Count, "message non lu", "messages non lus"))
	}
	fmt.Fprintf(&b, "\nPour les lire, connectez-vous à votre messagerie :\n%s/messagerie\n\n", site)
	b.WriteString("Ce courriel ne reproduit jamais le contenu des messages. Vous le recevez au plus une fois par jour, " +
		"et seulement quand de nouveaux messages sont arrivés.\n\n-- \nPréau, l'espace numérique de travail\n")
	return Mail{
		To:      person[0].Email,
		Subject: "Préau : " + plural(total, "message non lu", "messages non lus"),
		Body:    b.String(),
	}
}

// label names a conversation in a digest.
func label(u Unread) string {
	title := oneLine(u.Title, 80)
	switch u.Kind {
	case "private":
		return "Conversation privée"
	case "mail":
		return "Message reçu dans la messagerie"
	case "report":
		return "Signalement à examiner"
	case "class":
		return "Classe " + title
	case "class_parents":
		return "Parents de la classe " + title
	case "lesson":
		return "Cours en direct " + title
	}
	if title == "" {
		return "Conversation de groupe"
	}
	return "Groupe « " + title + " »"
}

func plural(n int, one, many string) string {
	if n <= 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine keeps a name on one line and at most max characters.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return s
}
