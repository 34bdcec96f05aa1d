package chat

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"preau/db"
	"preau/internal/dbtest"
)

// TestLessonChat: a lesson's chat gathers the class, its teachers and the
// vie scolaire, with the starter moderating; asking again for the room —
// even from racing nodes — gives the same conversation; another class's
// pupils are not in it.
func TestLessonChat(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sc := newSchool(t, d)
		st := NewStore(d)
		if _, err := st.LessonChat(ctx, "", sc.c3A, sc.prof, "x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("no room: %v", err)
		}
		const room = "lesson-3eA-20261128T1930"
		var wg sync.WaitGroup
		got := make([]Conversation, 4)
		errs := make([]error, 4)
		for i := range got {
			wg.Go(func() {
				got[i], errs[i] = st.LessonChat(ctx, room, sc.c3A, sc.prof, "Cours en direct — 3e A")
			})
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil || got[i].ID != got[0].ID {
				t.Fatalf("racing LessonChat: %+v %v vs %+v", got[i], errs[i], got[0])
			}
		}
		c := got[0]
		if c.Kind != KindLesson || c.StructureID != sc.college || c.Title != "Cours en direct — 3e A" {
			t.Errorf("lesson chat %+v", c)
		}
		ms, err := st.Members(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		roles := map[int64]string{}
		for _, m := range ms {
			roles[m.UserID] = m.Role
		}
		for id, want := range map[int64]string{sc.lea: RoleMember, sc.tom: RoleMember, sc.prof: RoleModerator, sc.cpe: RoleModerator} {
			if roles[id] != want {
				t.Errorf("%s: role %q, want %q", sc.names[id], roles[id], want)
			}
		}
		for _, id := range []int64{sc.hugo, sc.zoe, sc.parent, sc.profB} {
			if _, ok := roles[id]; ok {
				t.Errorf("%s is in 3e A's lesson chat", sc.names[id])
			}
		}
		again, err := st.LessonChatOf(ctx, room)
		if err != nil || again.ID != c.ID {
			t.Errorf("LessonChatOf: %+v %v", again, err)
		}
		if _, err := st.LessonChatOf(ctx, "no-such-room"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown room: %v", err)
		}
		// A second lesson of the same class has its own chat.
		other, err := st.LessonChat(ctx, "lesson-3eA-20261129T0800", sc.c3A, sc.prof, "Cours en direct — 3e A")
		if err != nil || other.ID == c.ID {
			t.Errorf("second lesson: %+v %v", other, err)
		}
		// Messages go through as in any conversation.
		m, err := st.Post(ctx, c.ID, sc.lea, "m1", "Je n'entends pas le son.")
		if err != nil || m.Seq != 1 {
			t.Fatalf("post: %+v %v", m, err)
		}
		if ok, _ := st.IsModerator(ctx, c.ID, sc.prof); !ok {
			t.Error("the teacher does not moderate the lesson chat")
		}
		if !slices.ContainsFunc(ms, func(m Member) bool { return m.UserID == sc.prof }) {
			t.Error("starter missing")
		}
	})
}
