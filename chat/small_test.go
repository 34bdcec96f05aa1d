package chat

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"preau/db"
	"preau/ent/directory"
	"preau/internal/dbtest"
)

// TestSmallConversation: the bounded counts that decide per-member presence
// and typing (isSmall, smallConversationsOf) say small up to
// SmallConversation members and large from one more, on both engines.
func TestSmallConversation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		users := make([]int64, SmallConversation+1)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			for i := range users {
				p, err := directory.CreatePerson(ctx, tx, directory.Person{FirstName: "M", LastName: fmt.Sprint(i)})
				if err != nil {
					return err
				}
				users[i] = p.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		small := groupConv(t, s, f, "Petit", users[:SmallConversation-1]...) // with its creator: SmallConversation
		large := groupConv(t, s, f, "Grand", users...)                       // SmallConversation + 2
		for _, tc := range []struct {
			conv int64
			want bool
		}{{small, true}, {large, false}} {
			if got, err := s.isSmall(ctx, tc.conv); err != nil || got != tc.want {
				t.Errorf("isSmall(%d) = %v, %v; want %v", tc.conv, got, err, tc.want)
			}
		}
		got, err := s.smallConversationsOf(ctx, users[0])
		if err != nil || !slices.Equal(got, []int64{small}) {
			t.Fatalf("smallConversationsOf = %v, %v; want [%d]", got, err, small)
		}
		if err := s.RemoveMember(ctx, large, users[0]); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, large, users[1]); err != nil {
			t.Fatal(err)
		}
		if got, err := s.isSmall(ctx, large); err != nil || !got {
			t.Fatalf("isSmall after two left = %v, %v; want true (%d members)", got, err, SmallConversation)
		}
	})
}
