package chat

import (
	"context"
	"errors"
	"strings"
	"testing"

	"preau/db"
	"preau/identity"
	"preau/internal/dbtest"
)

// fakeFiles is a FileResolver: each file belongs to one user, who alone may
// read it.
type fakeFiles map[int64]struct {
	owner int64
	size  int64
}

var errNoFile = errors.New("fake: not found")

func (f fakeFiles) DropAttachments([]string) {}

func (f fakeFiles) ResolveAttachment(_ context.Context, p *identity.Principal, id int64) (Attachment, error) {
	x, ok := f[id]
	if !ok || x.owner != p.UserID {
		return Attachment{}, errNoFile
	}
	return Attachment{FileID: id, Version: 1, Name: "fichier-" + string(rune('a'+id%26)) + ".pdf", Size: x.size, ContentType: "application/pdf"}, nil
}

func att(id, size int64) Attachment {
	return Attachment{FileID: id, Version: 1, Name: "devoir.pdf", Size: size, ContentType: "application/pdf"}
}

// TestStoreAttachmentsAndReplies: attachments are stored with the message,
// reached by members only, gone with the message; replies name an earlier
// seq; limits are enforced.
func TestStoreAttachmentsAndReplies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		s := NewStore(d)
		c := classChannel(t, s, f)
		m, err := s.PostWith(ctx, c.ID, f.teacher, "t-1", "Le devoir", Extra{Attachments: []Attachment{att(7, 1000), att(8, 2000)}})
		if err != nil || len(m.Attachments) != 2 {
			t.Fatalf("post with attachments: %+v %v", m, err)
		}
		again, err := s.PostWith(ctx, c.ID, f.teacher, "t-1", "Le devoir", Extra{Attachments: []Attachment{att(7, 1000), att(8, 2000)}})
		if err != nil || again.Seq != m.Seq || len(again.Attachments) != 2 {
			t.Fatalf("resend: %+v %v", again, err)
		}
		// Attachments alone, no text.
		if _, err := s.PostWith(ctx, c.ID, f.teacher, "t-2", "", Extra{Attachments: []Attachment{att(9, 10)}}); err != nil {
			t.Fatalf("attachment without text: %v", err)
		}
		if _, err := s.PostWith(ctx, c.ID, f.teacher, "t-3", "", Extra{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty message: %v", err)
		}
		six := make([]Attachment, 6)
		for i := range six {
			six[i] = att(int64(i+1), 10)
		}
		if _, err := s.PostWith(ctx, c.ID, f.teacher, "t-4", "six", Extra{Attachments: six}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("6 attachments: %v", err)
		}
		if _, err := s.PostWith(ctx, c.ID, f.teacher, "t-5", "gros", Extra{Attachments: []Attachment{att(1, MaxAttachmentSize+1)}}); !errors.Is(err, ErrAttachment) {
			t.Fatalf("over 10 MiB: %v", err)
		}
		// Replies: an earlier seq only.
		r, err := s.PostWith(ctx, c.ID, f.pupilA, "a-1", "Merci !", Extra{ReplyTo: m.Seq})
		if err != nil || r.ReplyTo != m.Seq {
			t.Fatalf("reply: %+v %v", r, err)
		}
		if _, err := s.PostWith(ctx, c.ID, f.pupilA, "a-2", "futur", Extra{ReplyTo: r.Seq + 1}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("reply to a later seq: %v", err)
		}
		ms, err := s.Since(ctx, c.ID, 0, 0)
		if err != nil || len(ms) != 3 || len(ms[0].Attachments) != 2 || ms[0].Attachments[1].FileID != 8 || ms[2].ReplyTo != m.Seq {
			t.Fatalf("since: %+v %v", ms, err)
		}
		if a, err := s.Attachment(ctx, c.ID, m.Seq, 2, f.pupilB); err != nil || a.FileID != 8 || a.Size != 2000 {
			t.Fatalf("member's attachment: %+v %v", a, err)
		}
		if _, err := s.Attachment(ctx, c.ID, m.Seq, 1, f.outsider); !errors.Is(err, ErrNotFound) {
			t.Fatalf("outsider's attachment: %v", err)
		}
		if _, err := s.Attachment(ctx, c.ID, m.Seq, 3, f.pupilB); !errors.Is(err, ErrNotFound) {
			t.Fatalf("attachment 3 of 2: %v", err)
		}
		if _, err := s.Delete(ctx, c.ID, m.Seq, f.teacher); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Attachment(ctx, c.ID, m.Seq, 1, f.pupilB); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted message's attachment: %v", err)
		}
		if ms, _ := s.Since(ctx, c.ID, 0, 1); len(ms) != 1 || len(ms[0].Attachments) != 0 {
			t.Fatalf("deleted message still lists attachments: %+v", ms)
		}
	})
}

// TestHubAttachments: over the WebSocket, the sender attaches files by id;
// a file the sender cannot read, six files or a file over 10 MiB are
// refused; members receive the attachments and the reply.
func TestHubAttachments(t *testing.T) {
	checkLeaks(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := NewStore(d)
		b := NewMemoryBroker(0)
		t.Cleanup(func() { b.Close() })
		h, url := startHub(t, s, b, Config{}, nil)
		h.SetFiles(fakeFiles{1: {f.teacher, 500}, 2: {f.pupilA, 600}, 3: {f.teacher, MaxAttachmentSize + 1}})
		conv := classChannel(t, s, f)
		teacher, pupil := connect(t, url, f.teacher), connect(t, url, f.pupilA)
		teacher.subscribe(conv.ID, 0)
		pupil.subscribe(conv.ID, 0)
		teacher.expect(TypeSubscribed)
		pupil.expect(TypeSubscribed)

		send := func(c *wsClient, clientID string, ids []int64, replyTo int64) {
			c.request(TypeSend, map[string]any{"conversation": conv.ID, "client_id": clientID, "body": "Voici",
				"attachments": ids, "reply_to": replyTo})
		}
		send(teacher, "t-1", []int64{1}, 0)
		teacher.expect(TypeAck, TypeMessage, TypePresence)
		got := pupil.next(TypePresence, TypeTyping).message(t)
		if len(got.Attachments) != 1 || got.Attachments[0].Size != 500 || got.Attachments[0].Name == "" {
			t.Fatalf("pupil receives %+v", got)
		}
		// The teacher's file is not the pupil's to attach.
		send(pupil, "p-1", []int64{1}, 0)
		if e := pupil.expect(TypeError, TypeMessage, TypePresence); !strings.Contains(string(e.Data), CodeAttachment) {
			t.Fatalf("pupil attaches the teacher's file: %s", e.Data)
		}
		send(teacher, "t-2", []int64{3}, 0)
		if e := teacher.expect(TypeError, TypeMessage, TypePresence); !strings.Contains(string(e.Data), CodeAttachment) {
			t.Fatalf("over 10 MiB: %s", e.Data)
		}
		send(teacher, "t-3", []int64{1, 4, 5, 6, 7, 8}, 0)
		if e := teacher.expect(TypeError, TypeMessage, TypePresence); !strings.Contains(string(e.Data), CodeBadRequest) {
			t.Fatalf("6 attachments: %s", e.Data)
		}
		// A reply with the pupil's own file.
		send(pupil, "p-2", []int64{2}, got.Seq)
		pupil.expect(TypeAck, TypeMessage, TypePresence)
		r := teacher.next(TypePresence, TypeTyping, TypeAck).message(t)
		if r.ReplyTo != got.Seq || len(r.Attachments) != 1 || r.Sender != f.pupilA {
			t.Fatalf("teacher receives %+v", r)
		}
		if n := len(mustSince(t, s, conv.ID)); n != 2 {
			t.Fatalf("%d messages stored, want 2", n)
		}
	})
}

func mustSince(t *testing.T, s *Store, conv int64) []Message {
	t.Helper()
	ms, err := s.Since(context.Background(), conv, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
