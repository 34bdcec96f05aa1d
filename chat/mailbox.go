package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"preau/db"
	"preau/identity"
)

// The secure mailbox: a teacher or the school's staff sends a message with a
// subject to people, to classes, or to roles within a class ("tous les
// parents de 3e B").
//
// Storage choice: each such message is one conversation (kind "mail") whose
// title is the subject, whose members are the sender (moderator) and the
// recipients, and which is announcements only. Sending inserts one
// membership row per recipient, once, in multi-row INSERTs of 200; reading
// is an ordinary conversation read — no per-recipient copy of the text, no
// fan-out per read. The read receipt is the members' last_read_seq:
// "vu par 27/30" is one COUNT over the conversation's members (its primary
// key). Recipients do not answer to everyone: Store.ReplyToSender opens the
// private conversation between a recipient and the sender.

// MaxMailRecipients is the most recipients one message reaches.
const MaxMailRecipients = 2000

// ClassAudience names some people of one class.
type ClassAudience struct {
	ClassID  int64
	Pupils   bool
	Parents  bool // the pupils' guardians
	Teachers bool // this year's teachers
}

// Audience is who a mailbox message goes to.
type Audience struct {
	People  []int64
	Classes []ClassAudience
}

// Mail is a sent mailbox message.
type Mail struct {
	Conversation Conversation
	Message      Message
	Recipients   int
}

// SendMail sends a message with a subject from pr to the audience. A class
// is reachable with the policy's mailbox rule (a teacher: the classes they
// teach; staff and head: their school's), a person with the message_*
// rules; only those with some mailbox right send at all; anything out of reach answers ErrNotFound and nothing is sent.
// clientID is the form's token (one per form shown): sending it again, even
// at the same time, returns the first message and sends nothing
// (conversations.mail_key is unique).
func (s *Store) SendMail(ctx context.Context, pr *identity.Principal, subject, body, clientID string, aud Audience) (Mail, error) {
	if !pr.CanAny(identity.Mailbox, identity.Create) {
		return Mail{}, ErrNotFound
	}
	subject = strings.TrimSpace(subject)
	if subject == "" {
		return Mail{}, fmt.Errorf("%w: empty subject", ErrInvalid)
	}
	if err := checkText(subject, maxTitleChars); err != nil {
		return Mail{}, err
	}
	if err := CheckBody(body); err != nil {
		return Mail{}, err
	}
	if err := CheckClientID(clientID); err != nil {
		return Mail{}, err
	}
	var structure int64
	set := map[int64]bool{}
	for _, ca := range aud.Classes {
		class, err := s.dir.Class(ctx, ca.ClassID)
		if err != nil {
			return Mail{}, ErrNotFound
		}
		if !pr.Can(identity.Mailbox, identity.Create, identity.Target{Structure: class.StructureID, Classes: []int64{class.ID}}) {
			return Mail{}, ErrNotFound
		}
		if structure == 0 {
			structure = class.StructureID
		}
		var lists [][]int64
		if ca.Pupils {
			l, err := ids(ctx, s.db, "SELECT user_id FROM enrolments WHERE class_id = ?", ca.ClassID)
			if err != nil {
				return Mail{}, fmt.Errorf("chat: send mail: %w", err)
			}
			lists = append(lists, l)
		}
		if ca.Parents {
			l, err := s.classParents(ctx, s.db, ca.ClassID)
			if err != nil {
				return Mail{}, fmt.Errorf("chat: send mail: %w", err)
			}
			lists = append(lists, l)
		}
		if ca.Teachers {
			l, err := ids(ctx, s.db, "SELECT DISTINCT teacher_id FROM teachings WHERE class_id = ?", ca.ClassID)
			if err != nil {
				return Mail{}, fmt.Errorf("chat: send mail: %w", err)
			}
			lists = append(lists, l)
		}
		for _, l := range lists {
			for _, id := range l {
				set[id] = true
			}
		}
	}
	if len(aud.People) > 0 {
		people := slices.Compact(slices.Sorted(slices.Values(aud.People)))
		to, err := s.addressees(ctx, s.db, people)
		if err != nil {
			return Mail{}, fmt.Errorf("chat: send mail: %w", err)
		}
		for _, id := range people {
			if !pr.CanMessage(to[id]) {
				return Mail{}, ErrNotFound
			}
			set[id] = true
			if structure == 0 {
				structure = firstStructure(pr, to[id])
			}
		}
	}
	delete(set, pr.UserID)
	if len(set) == 0 {
		return Mail{}, fmt.Errorf("%w: no recipient", ErrInvalid)
	}
	if len(set) > MaxMailRecipients {
		return Mail{}, fmt.Errorf("%w: %d recipients", ErrInvalid, len(set))
	}
	if structure == 0 {
		return Mail{}, fmt.Errorf("%w: no structure", ErrInvalid)
	}
	key := strconv.FormatInt(pr.UserID, 10) + ":" + clientID
	if m, err := s.mailByKey(ctx, key); err == nil || !errors.Is(err, ErrNotFound) {
		return m, err // the form sent again: the first send
	}
	recipients := slices.Sorted(func(yield func(int64) bool) {
		for id := range set {
			if !yield(id) {
				return
			}
		}
	})
	now := s.nowMs()
	m := Mail{Recipients: len(recipients),
		Conversation: Conversation{Kind: KindMail, StructureID: structure, Title: subject, CreatedBy: pr.UserID,
			CreatedAtMs: now, LastSeq: 1, AnnounceOnly: true},
		Message: Message{Seq: 1, SenderID: pr.UserID, ClientID: clientID, Body: body, CreatedAtMs: now}}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, title, created_by, created_at_ms, last_seq, announce_only, mail_key)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`, string(KindMail), structure, subject, pr.UserID, now, true, key).Scan(&m.Conversation.ID); err != nil {
			return err
		}
		// The sender has read their own message.
		if _, err := tx.Exec(ctx, `INSERT INTO conversation_members (conversation_id, user_id, role, joined_at_ms, last_read_seq)
			VALUES (?, ?, ?, ?, 1)`, m.Conversation.ID, pr.UserID, RoleModerator, now); err != nil {
			return err
		}
		if err := addMembers(ctx, tx, m.Conversation.ID, recipients, RoleMember, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, created_at_ms, body_folded, folded)
			VALUES (?, 1, ?, ?, ?, ?, ?, 1)`, m.Conversation.ID, pr.UserID, clientID, body, now, Fold(body))
		return err
	})
	if err != nil && db.IsUniqueViolation(err) {
		// The same form sent twice at once: the other send committed.
		return s.mailByKey(ctx, key)
	}
	if err != nil {
		return Mail{}, fmt.Errorf("chat: send mail: %w", err)
	}
	m.Message.ConversationID = m.Conversation.ID
	return m, nil
}

// mailByKey returns the mailbox message sent with a sender's form token
// (conversations.mail_key): ErrNotFound when none.
func (s *Store) mailByKey(ctx context.Context, key string) (Mail, error) {
	var id int64
	err := s.db.QueryRow(ctx, "SELECT id FROM conversations WHERE mail_key = ?", key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Mail{}, ErrNotFound
	}
	if err != nil {
		return Mail{}, fmt.Errorf("chat: send mail: %w", err)
	}
	var m Mail
	if m.Conversation, err = s.Conversation(ctx, id); err != nil {
		return Mail{}, fmt.Errorf("chat: send mail: %w", err)
	}
	if m.Message, err = s.Message(ctx, id, 1); err != nil {
		return Mail{}, err
	}
	if _, m.Recipients, err = s.Receipts(ctx, id); err != nil {
		return Mail{}, err
	}
	return m, nil
}

// Receipts counts a conversation's members other than its creator, and
// those of them who have read its first message: "vu par Read/Total".
func (s *Store) Receipts(ctx context.Context, convID int64) (read, total int, err error) {
	err = s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN m.last_read_seq >= 1 THEN 1 ELSE 0 END), 0)
		FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.conversation_id = ? AND m.user_id <> c.created_by`, convID).Scan(&total, &read)
	if err != nil {
		return 0, 0, fmt.Errorf("chat: receipts: %w", err)
	}
	return read, total, nil
}

// ReplyToSender returns the private conversation between a recipient of a
// mailbox message and its sender, creating it if needed. Being written to
// is enough to answer: the message_* rules are not asked again.
func (s *Store) ReplyToSender(ctx context.Context, userID, mailID int64) (Conversation, error) {
	c, err := s.Conversation(ctx, mailID)
	if err != nil {
		return Conversation{}, err
	}
	ok, err := s.IsMember(ctx, mailID, userID)
	if err != nil {
		return Conversation{}, err
	}
	if !ok || c.Kind != KindMail || c.CreatedBy == userID || c.CreatedBy == 0 {
		return Conversation{}, ErrNotFound
	}
	var sender int64
	err = s.db.QueryRow(ctx, "SELECT id FROM users WHERE id = ?", c.CreatedBy).Scan(&sender)
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, ErrNotFound
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: reply: %w", err)
	}
	return s.private(ctx, c.CreatedBy, userID, c.StructureID)
}
