package chat

import (
	"context"
	"errors"
	"testing"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

// TestUnreadForDigest: counts as Unread does (others' messages, not
// deleted, after last_read_seq), for members with an email address and an
// enabled account, only where the oldest unread message is old enough.
func TestUnreadForDigest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		st, err := directory.CreateStructure(ctx, d, directory.Structure{UAI: "0451234A", Name: "Collège Test", Kind: directory.College})
		if err != nil {
			t.Fatal(err)
		}
		person := func(first, email string) int64 {
			p, err := directory.CreatePerson(ctx, d, directory.Person{FirstName: first, LastName: "Test", Email: email})
			if err != nil {
				t.Fatal(err)
			}
			return p.ID
		}
		author, reader, noMail, off := person("Auteur", "a@example.fr"), person("Lecteur", "l@example.fr"),
			person("Sans", ""), person("Désactivé", "d@example.fr")
		if _, err := d.Exec(ctx, "UPDATE users SET disabled = TRUE WHERE id = ?", off); err != nil {
			t.Fatal(err)
		}
		s := NewStore(d)
		c, err := s.CreateGroupWith(ctx, st, "Groupe", []int64{author, reader, noMail, off})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"1", "2", "3"} {
			if _, err := s.Post(ctx, c.ID, author, id, "texte "+id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Delete(ctx, c.ID, 3, author); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Post(ctx, c.ID, reader, "r1", "réponse"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRead(ctx, c.ID, reader, 1); err != nil {
			t.Fatal(err)
		}
		if got, err := s.UnreadForDigest(ctx, time.Now().Add(-time.Hour)); err != nil || len(got) != 0 {
			t.Fatalf("nothing an hour old: %+v, %v", got, err)
		}
		got, err := s.UnreadForDigest(ctx, time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// The author has the reader's reply unread; the reader has message 2
		// (1 is read, 3 deleted, r1 its own).
		if len(got) != 2 || got[0].UserID != author || got[0].Unread != 1 || got[1].UserID != reader || got[1].Unread != 1 ||
			got[1].Email != "l@example.fr" || got[1].Kind != KindGroup || got[1].Title != "Groupe" || got[1].NewestMs < got[1].OldestMs {
			t.Fatalf("got %+v", got)
		}
		if err := s.DeleteConversations(ctx, []int64{c.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Conversation(ctx, c.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted conversation: %v", err)
		}
	})
}
