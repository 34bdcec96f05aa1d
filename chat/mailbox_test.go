package chat

import (
	"context"
	"sync"
	"testing"

	"preau/db"
	"preau/internal/dbtest"
)

// TestMailSentTwice: the mailbox form sent twice with its token — one after
// the other, or both at once — makes one message; another token makes
// another. On both databases.
func TestMailSentTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		s := NewStore(d)
		prof := principal(t, d, sc.prof)
		aud := Audience{Classes: []ClassAudience{{ClassID: sc.c3A, Parents: true}}}
		first, err := s.SendMail(ctx, prof, "Sortie", "Chers parents", "form-1", aud)
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.SendMail(ctx, prof, "Sortie", "Chers parents", "form-1", aud)
		if err != nil || again.Conversation.ID != first.Conversation.ID || again.Recipients != first.Recipients ||
			again.Message.Body != "Chers parents" {
			t.Fatalf("second send: %+v %v, first %+v", again, err, first)
		}
		// Both at once.
		var wg sync.WaitGroup
		got := make([]int64, 4)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				m, err := s.SendMail(ctx, prof, "Cantine", "Menu", "form-2", aud)
				if err != nil {
					t.Error(err)
				}
				got[i] = m.Conversation.ID
			}()
		}
		wg.Wait()
		for _, id := range got[1:] {
			if id != got[0] || id == first.Conversation.ID {
				t.Fatalf("concurrent sends made conversations %v", got)
			}
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM conversations WHERE kind = 'mail'").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d mail conversations (%v), want 2", n, err)
		}
	})
}
