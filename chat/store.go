package chat

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"preau/db"
	"preau/ent/directory"
)

// Errors of the chat store. A conversation the user is not a member of is
// ErrNotFound, exactly like one that does not exist.
var (
	ErrNotFound  = errors.New("chat: not found")
	ErrForbidden = errors.New("chat: not the author")
	ErrTooLate   = errors.New("chat: edit window closed")
	ErrInvalid   = errors.New("chat: invalid")
	// ErrMuted: a moderator muted the sender in this conversation for now.
	ErrMuted = errors.New("chat: muted")
	// ErrReadOnly: the conversation is for announcements; only its
	// moderators post.
	ErrReadOnly = errors.New("chat: announcements only")
	// ErrOutOfHours: the conversation is outside its opening hours.
	ErrOutOfHours = errors.New("chat: closed at this hour")
	// ErrBusy: too many messages are waiting to be stored; nothing was
	// stored, the sender may try again.
	ErrBusy = errors.New("chat: too many messages waiting to be stored")
)

// Kind is what a conversation is for.
type Kind string

// Conversation kinds; the values are stored.
const (
	KindClass        Kind = "class"         // a class's pupils and teachers
	KindClassParents Kind = "class_parents" // a class's parents and teachers
	KindGroup        Kind = "group"
	KindPrivate      Kind = "private"
	KindLesson       Kind = "lesson" // a live lesson's chat
	KindMail         Kind = "mail"   // a message with a subject to many recipients (the mailbox)
	KindReport       Kind = "report" // a reported message, for the moderators
)

func (k Kind) valid() bool {
	switch k {
	case KindClass, KindClassParents, KindGroup, KindPrivate, KindLesson, KindMail, KindReport:
		return true
	}
	return false
}

// Member roles; the values are stored.
const (
	RoleMember    = "member"
	RoleModerator = "moderator"
)

// EditWindow is how long an author may edit or delete their message.
const EditWindow = 15 * time.Minute

// Conversation is a conversation's row.
type Conversation struct {
	ID          int64
	Kind        Kind
	StructureID int64
	ClassID     int64 // 0 when not bound to a class
	Title       string
	CreatedBy   int64 // 0: created by Préau
	CreatedAtMs int64
	LastSeq     int64
	// AnnounceOnly: only moderators post.
	AnnounceOnly bool
	// OpenFromMin and OpenToMin are the opening hours for members who are
	// not moderators, in minutes after midnight (Europe/Paris); equal
	// values mean always open.
	OpenFromMin, OpenToMin int
}

// Member is a user's membership of a conversation.
type Member struct {
	UserID      int64
	Role        string
	LastReadSeq int64
	JoinedAtMs  int64
	// MutedUntilMs: the member cannot post before this time.
	MutedUntilMs int64
}

// Message is a stored message. A deleted message keeps its seq and loses its
// body.
type Message struct {
	ConversationID int64
	Seq            int64
	SenderID       int64
	ClientID       string
	Body           string
	CreatedAtMs    int64
	EditedAtMs     int64
	DeletedAtMs    int64
	// ReplyTo is the seq of the message this one answers, 0 for none.
	ReplyTo int64
	// Attachments are the files sent with it (attach.go); none once the
	// message is deleted.
	Attachments []Attachment
}

// Store keeps conversations, members and messages in the database.
type Store struct {
	db  *db.DB
	dir *directory.Store
	// now is the clock; tests move it.
	now func() time.Time

	// listeners are told what a commit changed that live connections or
	// stored contents must follow: the hubs serving this store.
	listenMu  sync.Mutex
	listeners map[storeListener]struct{}

	// writer commits posts in batches (writer.go); nil: each post commits
	// on its own (PostgreSQL).
	writer *postWriter
	stmts  stmtCache // the writer's prepared statements
}

// storeListener follows a store's committed changes (Hub).
type storeListener interface {
	// membersLeft: users are no longer members of conv (rights.go).
	membersLeft(ctx context.Context, conv int64, users []int64)
	// copiesFreed: attachment copies no message keeps any more.
	copiesFreed(keys []string)
	// hoursChanged: conv's opening hours are now from–to (quiet.go).
	hoursChanged(ctx context.Context, conv int64, from, to int)
}

// listen registers (on) or removes a listener.
func (s *Store) listen(l storeListener, on bool) {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if !on {
		delete(s.listeners, l)
		return
	}
	if s.listeners == nil {
		s.listeners = map[storeListener]struct{}{}
	}
	s.listeners[l] = struct{}{}
}

func (s *Store) each(fn func(storeListener)) {
	s.listenMu.Lock()
	ls := make([]storeListener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, l)
	}
	s.listenMu.Unlock()
	for _, l := range ls {
		fn(l)
	}
}

// membersLeft tells the listeners that users left conv (committed).
func (s *Store) membersLeft(ctx context.Context, conv int64, users []int64) {
	if len(users) > 0 {
		s.each(func(l storeListener) { l.membersLeft(ctx, conv, users) })
	}
}

// copiesFreed hands the listeners attachment copies that a deleted message
// no longer keeps (committed). Copies exist only where a hub resolves
// attachments, so one listener with files deletes them.
func (s *Store) copiesFreed(keys []string) {
	if len(keys) > 0 {
		s.each(func(l storeListener) { l.copiesFreed(keys) })
	}
}

// RemoveMember removes a user from a conversation; live connections of the
// user stop receiving it at once, on every node (rights.go). Removing a
// user who is not a member is ErrNotFound.
func (s *Store) RemoveMember(ctx context.Context, convID, userID int64) error {
	res, err := s.db.Exec(ctx, "DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?", convID, userID)
	if err != nil {
		return fmt.Errorf("chat: remove member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	s.membersLeft(ctx, convID, []int64{userID})
	return nil
}

// NewStore returns a store over d.
// On SQLite, posts are committed by one writer in batches (writer.go).
func NewStore(d *db.DB) *Store {
	s := &Store{db: d, dir: directory.New(d), now: time.Now}
	if d.Dialect() == db.SQLite {
		s.writer = newPostWriter(s)
	}
	return s
}

func (s *Store) nowMs() int64 { return s.now().UnixMilli() }

// CreateConversation creates a conversation; ID, CreatedAtMs and LastSeq
// are set by the store. The creator, when not 0, becomes a moderator.
func (s *Store) CreateConversation(ctx context.Context, c Conversation) (Conversation, error) {
	if !c.Kind.valid() {
		return c, fmt.Errorf("%w: kind %q", ErrInvalid, c.Kind)
	}
	if err := checkText(c.Title, maxTitleChars); err != nil {
		return c, err
	}
	c.CreatedAtMs, c.LastSeq = s.nowMs(), 0
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, class_id, title, created_by, created_at_ms)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, string(c.Kind), c.StructureID, nullID(c.ClassID), c.Title,
			c.CreatedBy, c.CreatedAtMs).Scan(&c.ID); err != nil {
			return err
		}
		if c.CreatedBy != 0 {
			return addMember(ctx, tx, c.ID, c.CreatedBy, RoleModerator, c.CreatedAtMs)
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("chat: create conversation: %w", err)
	}
	return c, nil
}

// Conversation returns one conversation.
func (s *Store) Conversation(ctx context.Context, id int64) (Conversation, error) {
	var c Conversation
	var class sql.NullInt64
	err := s.db.QueryRow(ctx, `SELECT id, kind, structure_id, class_id, title, created_by, created_at_ms, last_seq,
		announce_only, open_from_min, open_to_min FROM conversations WHERE id = ?`, id).Scan(&c.ID, &c.Kind,
		&c.StructureID, &class, &c.Title, &c.CreatedBy, &c.CreatedAtMs, &c.LastSeq, &c.AnnounceOnly, &c.OpenFromMin, &c.OpenToMin)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	c.ClassID = class.Int64
	return c, err
}

// AddMember adds a user to a conversation; adding an existing member again
// changes nothing.
func (s *Store) AddMember(ctx context.Context, convID, userID int64, role string) error {
	if role != RoleMember && role != RoleModerator {
		return fmt.Errorf("%w: role %q", ErrInvalid, role)
	}
	if err := addMember(ctx, s.db, convID, userID, role, s.nowMs()); err != nil {
		return fmt.Errorf("chat: add member: %w", err)
	}
	return nil
}

func addMember(ctx context.Context, q db.Querier, convID, userID int64, role string, at int64) error {
	_, err := q.Exec(ctx, `INSERT INTO conversation_members (conversation_id, user_id, role, joined_at_ms)
		VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, user_id) DO NOTHING`, convID, userID, role, at)
	return err
}

// Members lists a conversation's members by user id.
func (s *Store) Members(ctx context.Context, convID int64) ([]Member, error) {
	rows, err := s.db.Query(ctx, `SELECT user_id, role, last_read_seq, joined_at_ms, muted_until_ms FROM conversation_members
		WHERE conversation_id = ? ORDER BY user_id`, convID)
	if err != nil {
		return nil, fmt.Errorf("chat: members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.UserID, &m.Role, &m.LastReadSeq, &m.JoinedAtMs, &m.MutedUntilMs); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// isSmall reports whether a conversation has at most SmallConversation
// members. It counts no further than one more: every member of a school
// channel subscribing (a join storm) costs each one the same, not a count
// of all the members.
func (s *Store) isSmall(ctx context.Context, convID int64) (bool, error) {
	var large bool
	err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = ?
		ORDER BY user_id LIMIT 1 OFFSET ?)`, convID, SmallConversation).Scan(&large)
	return !large, err
}

func (s *Store) memberIDs(ctx context.Context, convID int64) ([]int64, error) {
	return ids(ctx, s.db, "SELECT user_id FROM conversation_members WHERE conversation_id = ? ORDER BY user_id", convID)
}

// smallConversationsOf lists the user's conversations with at most
// SmallConversation members: those that get their presence events.
func (s *Store) smallConversationsOf(ctx context.Context, userID int64) ([]int64, error) {
	// The count stops at one more than SmallConversation: a user of a
	// 5,000-member channel costs the same as one of a class (join and
	// leave storms grow with the members, not with their square).
	return ids(ctx, s.db, `SELECT m.conversation_id FROM conversation_members m WHERE m.user_id = ?
		AND NOT EXISTS (SELECT 1 FROM conversation_members x WHERE x.conversation_id = m.conversation_id
			ORDER BY x.user_id LIMIT 1 OFFSET ?)
		ORDER BY m.conversation_id`, userID, SmallConversation)
}

// IsMember reports whether the user belongs to the conversation.
func (s *Store) IsMember(ctx context.Context, convID, userID int64) (bool, error) {
	var one int
	err := s.db.QueryRow(ctx, "SELECT 1 FROM conversation_members WHERE conversation_id = ? AND user_id = ?",
		convID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("chat: is member: %w", err)
	}
	return true, nil
}

// EnsureClassChannel returns the class's channel (kind "class"), creating it
// if needed, and makes its members the class's pupils (members), its current
// teachers and the school's vie scolaire (moderators): newcomers are added,
// people who left are removed.
func (s *Store) EnsureClassChannel(ctx context.Context, classID int64) (Conversation, error) {
	return s.ensureClassKind(ctx, classID, KindClass)
}

// EnsureClassParentsChannel returns the class's parents channel (kind
// "class_parents"), creating it if needed: the guardians of the class's
// pupils (members), its teachers and the school's vie scolaire
// (moderators), kept in step with the directory like EnsureClassChannel.
func (s *Store) EnsureClassParentsChannel(ctx context.Context, classID int64) (Conversation, error) {
	return s.ensureClassKind(ctx, classID, KindClassParents)
}

func (s *Store) ensureClassKind(ctx context.Context, classID int64, kind Kind) (Conversation, error) {
	class, err := s.dir.Class(ctx, classID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: class channel %d: %w", classID, err)
	}
	want := map[int64]string{}
	if kind == KindClass {
		pupils, err := s.dir.ClassPupils(ctx, classID)
		if err != nil {
			return Conversation{}, fmt.Errorf("chat: class channel %d: %w", classID, err)
		}
		for _, p := range pupils {
			want[p.ID] = RoleMember
		}
	} else {
		parents, err := s.classParents(ctx, s.db, classID)
		if err != nil {
			return Conversation{}, fmt.Errorf("chat: class parents channel %d: %w", classID, err)
		}
		for _, id := range parents {
			want[id] = RoleMember
		}
	}
	teachings, err := s.dir.ClassTeachings(ctx, classID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: class channel %d: %w", classID, err)
	}
	for _, t := range teachings {
		want[t.TeacherID] = RoleModerator
	}
	vs, err := s.vieScolaire(ctx, s.db, class.StructureID)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: class channel %d: %w", classID, err)
	}
	for _, id := range vs {
		want[id] = RoleModerator
	}
	title := class.Name
	if kind == KindClassParents {
		title = class.Name + " — parents"
	}
	c, err := s.syncChannel(ctx, Conversation{Kind: kind, StructureID: class.StructureID, ClassID: classID, Title: title}, want)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: class channel %d: %w", classID, err)
	}
	return c, nil
}

// classParents returns the guardians of a class's pupils.
func (s *Store) classParents(ctx context.Context, q db.Querier, classID int64) ([]int64, error) {
	return ids(ctx, q, `SELECT DISTINCT g.parent_id FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id
		WHERE e.class_id = ? ORDER BY g.parent_id`, classID)
}

// vieScolaireSQL selects, among staff roles, those of the vie scolaire:
// by their service (directory.ServiceVieScolaire); by their job title
// only while no service is recorded (imported data), as IsVieScolaire.
const vieScolaireSQL = `profile = 'personnel' AND (service = 'vie_scolaire'
	OR (service = '' AND (LOWER(function) LIKE '%cpe%' OR LOWER(function) LIKE '%vie scolaire%')))`

// vieScolaire returns the school's vie scolaire (CPE): they moderate every
// class channel of the school and receive the reports.
func (s *Store) vieScolaire(ctx context.Context, q db.Querier, structureID int64) ([]int64, error) {
	return ids(ctx, q, "SELECT DISTINCT user_id FROM roles WHERE structure_id = ? AND "+vieScolaireSQL+" ORDER BY user_id", structureID)
}

// VieScolaireOf lists the structures where the user is of the vie scolaire
// (see vieScolaire).
func (s *Store) VieScolaireOf(ctx context.Context, userID int64) ([]int64, error) {
	out, err := ids(ctx, s.db, "SELECT DISTINCT structure_id FROM roles WHERE user_id = ? AND structure_id IS NOT NULL AND "+
		vieScolaireSQL+" ORDER BY structure_id", userID)
	if err != nil {
		return nil, fmt.Errorf("chat: vie scolaire of %d: %w", userID, err)
	}
	return out, nil
}

func ids(ctx context.Context, q db.Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// syncChannel finds the class's channel of c.Kind, creating it if needed,
// and makes its members exactly want (user → role).
func (s *Store) syncChannel(ctx context.Context, c Conversation, want map[int64]string) (Conversation, error) {
	var removed []int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		removed = removed[:0]
		now := s.nowMs()
		err := tx.QueryRow(ctx, `SELECT id, last_seq, created_at_ms, announce_only, open_from_min, open_to_min
			FROM conversations WHERE class_id = ? AND kind = ?`, c.ClassID, string(c.Kind)).Scan(&c.ID, &c.LastSeq,
			&c.CreatedAtMs, &c.AnnounceOnly, &c.OpenFromMin, &c.OpenToMin)
		if errors.Is(err, sql.ErrNoRows) {
			c.CreatedAtMs = now
			err = tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, class_id, title, created_by, created_at_ms)
				VALUES (?, ?, ?, ?, 0, ?) RETURNING id`, string(c.Kind), c.StructureID, c.ClassID, c.Title, now).Scan(&c.ID)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT user_id, role FROM conversation_members WHERE conversation_id = ?", c.ID)
		if err != nil {
			return err
		}
		have := map[int64]string{}
		for rows.Next() {
			var id int64
			var role string
			if err := rows.Scan(&id, &role); err != nil {
				rows.Close()
				return err
			}
			have[id] = role
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for id, role := range have {
			if _, ok := want[id]; !ok {
				if _, err := tx.Exec(ctx, "DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?", c.ID, id); err != nil {
					return err
				}
				removed = append(removed, id)
			} else if want[id] != role {
				if _, err := tx.Exec(ctx, "UPDATE conversation_members SET role = ? WHERE conversation_id = ? AND user_id = ?", want[id], c.ID, id); err != nil {
					return err
				}
			}
		}
		for id, role := range want {
			if _, ok := have[id]; !ok {
				if err := addMember(ctx, tx, c.ID, id, role, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil {
		s.membersLeft(ctx, c.ID, removed)
	}
	return c, err
}

// Limits on what Post accepts.
const (
	MaxBodyChars   = 4000
	MaxClientIDLen = 64
	maxTitleChars  = 200
	messageColumns = "conversation_id, seq, sender_id, client_id, body, created_at_ms, edited_at_ms, deleted_at_ms, reply_to"
)

func scanMessage(r interface{ Scan(...any) error }, m *Message) error {
	return r.Scan(&m.ConversationID, &m.Seq, &m.SenderID, &m.ClientID, &m.Body, &m.CreatedAtMs, &m.EditedAtMs, &m.DeletedAtMs, &m.ReplyTo)
}

// Post stores a message from sender, who must be a member (ErrNotFound
// otherwise), with the conversation's next seq. It is idempotent on
// (sender, clientID): a resend returns the original message and stores
// nothing. The returned message is committed.
func (s *Store) Post(ctx context.Context, convID, sender int64, clientID, body string) (Message, error) {
	m, _, err := s.post(ctx, convID, sender, clientID, body, Extra{})
	return m, err
}

// PostWith is Post for a message with a reply or attachments (Extra). The
// attachments must already be checked against the sender's rights to the
// files (Hub does it with its FileResolver).
func (s *Store) PostWith(ctx context.Context, convID, sender int64, clientID, body string, x Extra) (Message, error) {
	m, _, err := s.post(ctx, convID, sender, clientID, body, x)
	return m, err
}

// post is Post that also reports whether the message is new (false for a
// resend), so that the hub broadcasts a message once.
func (s *Store) post(ctx context.Context, convID, sender int64, clientID, body string, x Extra) (m Message, created bool, err error) {
	if err := CheckClientID(clientID); err != nil {
		return Message{}, false, err
	}
	if err := x.check(); err != nil {
		return Message{}, false, err
	}
	if len(x.Attachments) == 0 || body != "" {
		// A message of attachments alone may have no text.
		if err := CheckBody(body); err != nil {
			return Message{}, false, err
		}
	}
	if s.writer != nil {
		// Folded here, in the poster's goroutine: the writer's is the one
		// that every post waits for.
		m, created, err = s.writer.post(ctx, &postReq{ctx: ctx, conv: convID, sender: sender, clientID: clientID, body: body,
			folded: Fold(body), x: x})
	} else {
		m, created, err = s.postDirect(ctx, convID, sender, clientID, body, x)
	}
	if errors.Is(err, ErrInvalid) {
		return Message{}, false, err
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrMuted) || errors.Is(err, ErrReadOnly) || errors.Is(err, ErrOutOfHours) ||
		errors.Is(err, ErrBusy) {
		return Message{}, false, err
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("chat: post in %d: %w", convID, err)
	}
	return m, created, nil
}

// postDirect commits one post in its own transaction (PostgreSQL: the
// row lock of the conversation serialises posters, on every node).
func (s *Store) postDirect(ctx context.Context, convID, sender int64, clientID, body string, x Extra) (m Message, created bool, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		m, created, err = s.postIn(ctx, tx, convID, sender, clientID, body, Fold(body), x)
		return err
	})
	if err != nil && db.IsUniqueViolation(err) {
		// A concurrent resend of the same client_id won the race; its
		// transaction is committed, ours rolled back with its seq.
		m, created, err = s.resent(ctx, s.db, convID, sender, clientID)
	}
	return m, created, err
}

// resent reads back the message stored for (sender, clientID).
func (s *Store) resent(ctx context.Context, q db.Querier, convID, sender int64, clientID string) (m Message, created bool, err error) {
	err = scanMessage(q.QueryRow(ctx, "SELECT "+messageColumns+
		" FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?", convID, sender, clientID), &m)
	if err == nil {
		m.Attachments, err = loadAttachments(ctx, q, convID, m.Seq, m.Seq)
	}
	return m, false, err
}

// postIn stores one post inside tx: the stored message for a resend
// (created false), else the message with the conversation's next seq.
// folded is Fold(body).
func (s *Store) postIn(ctx context.Context, tx db.Querier, convID, sender int64, clientID, body, folded string, x Extra) (m Message, created bool, err error) {
	m = Message{ConversationID: convID, SenderID: sender, ClientID: clientID, Body: body, ReplyTo: x.ReplyTo}
	err = scanMessage(tx.QueryRow(ctx, "SELECT "+messageColumns+
		" FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?", convID, sender, clientID), &m)
	if err == nil {
		// A resend: the original, nothing stored.
		m.Attachments, err = loadAttachments(ctx, tx, convID, m.Seq, m.Seq)
		return m, false, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return m, false, err
	}
	if err := s.mayPost(ctx, tx, convID, sender); err != nil {
		return m, false, err
	}
	// The UPDATE takes the conversation row's write lock (PostgreSQL) or
	// runs under SQLite's single writer: concurrent posters queue here,
	// and each reads back its own seq. Membership is checked in the
	// same statement.
	err = tx.QueryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? AND EXISTS
		(SELECT 1 FROM conversation_members WHERE conversation_id = ? AND user_id = ?) RETURNING last_seq`,
		convID, convID, sender).Scan(&m.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, ErrNotFound
	}
	if err != nil {
		return m, false, err
	}
	if x.ReplyTo >= m.Seq {
		return m, false, fmt.Errorf("%w: reply_to %d", ErrInvalid, x.ReplyTo)
	}
	m.CreatedAtMs = s.nowMs()
	if _, err = tx.Exec(ctx, `INSERT INTO messages (conversation_id, seq, sender_id, client_id, body, created_at_ms, reply_to,
		body_folded, folded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`,
		convID, m.Seq, sender, clientID, body, m.CreatedAtMs, x.ReplyTo, folded); err != nil {
		return m, false, err
	}
	m.Attachments = x.Attachments
	if err := insertAttachments(ctx, tx, convID, m.Seq, x.Attachments); err != nil {
		return m, false, err
	}
	return m, true, nil
}

// Since returns up to limit messages of a conversation with seq > afterSeq,
// in seq order. limit ≤ 0 means 100; it is capped at 1000.
func (s *Store) Since(ctx context.Context, convID, afterSeq int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.db.Query(ctx, "SELECT "+messageColumns+
		" FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?", convID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("chat: since: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := scanMessage(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) > 0 {
		if err := attachTo(ctx, s.db, convID, out); err != nil {
			return nil, fmt.Errorf("chat: since: %w", err)
		}
	}
	return out, nil
}

// Edit replaces the body of the author's own message within EditWindow.
func (s *Store) Edit(ctx context.Context, convID, seq, author int64, body string) (Message, error) {
	if err := CheckBody(body); err != nil {
		return Message{}, err
	}
	return s.change(ctx, convID, seq, author, false, "body = ?, body_folded = ?, folded = 1, edited_at_ms = ?", body, Fold(body))
}

// Delete clears the body of the author's own message within EditWindow; the
// message keeps its seq so that no gap appears.
func (s *Store) Delete(ctx context.Context, convID, seq, author int64) (Message, error) {
	return s.change(ctx, convID, seq, author, true, "body = '', body_folded = '', folded = 1, deleted_at_ms = ?")
}

func (s *Store) change(ctx context.Context, convID, seq, author int64, deleting bool, set string, args ...any) (Message, error) {
	var m Message
	var freed []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		err := scanMessage(tx.QueryRow(ctx, "SELECT "+messageColumns+" FROM messages WHERE conversation_id = ? AND seq = ?",
			convID, seq), &m)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.nowMs()
		switch {
		case m.DeletedAtMs != 0:
			return ErrNotFound
		case m.SenderID != author:
			return ErrForbidden
		case now-m.CreatedAtMs > EditWindow.Milliseconds():
			return ErrTooLate
		}
		args = append(args, now, convID, seq)
		if _, err := tx.Exec(ctx, "UPDATE messages SET "+set+" WHERE conversation_id = ? AND seq = ?", args...); err != nil {
			return err
		}
		if deleting {
			var err error
			if freed, err = freeAttachments(ctx, tx, convID, seq); err != nil {
				return err
			}
		}
		return scanMessage(tx.QueryRow(ctx, "SELECT "+messageColumns+" FROM messages WHERE conversation_id = ? AND seq = ?",
			convID, seq), &m)
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrTooLate) {
		return Message{}, err
	}
	if err != nil {
		return Message{}, fmt.Errorf("chat: change %d/%d: %w", convID, seq, err)
	}
	s.copiesFreed(freed)
	return m, nil
}

// MarkRead records that the member has read up to seq (never backwards,
// never past the conversation's last message).
func (s *Store) MarkRead(ctx context.Context, convID, userID, seq int64) error {
	var last int64
	err := s.db.QueryRow(ctx, `SELECT c.last_seq FROM conversations c JOIN conversation_members m
		ON m.conversation_id = c.id WHERE c.id = ? AND m.user_id = ?`, convID, userID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err == nil {
		seq = min(seq, last)
		_, err = s.db.Exec(ctx, `UPDATE conversation_members SET last_read_seq = ?
			WHERE conversation_id = ? AND user_id = ? AND last_read_seq < ?`, seq, convID, userID, seq)
	}
	if err != nil {
		return fmt.Errorf("chat: mark read: %w", err)
	}
	return nil
}

// Unread returns, for each conversation of the user, how many messages of
// others that are not deleted come after the user's last read seq.
func (s *Store) Unread(ctx context.Context, userID int64) (map[int64]int, error) {
	rows, err := s.db.Query(ctx, `SELECT m.conversation_id, COUNT(g.seq) FROM conversation_members m
		LEFT JOIN messages g ON g.conversation_id = m.conversation_id AND g.seq > m.last_read_seq
			AND g.sender_id <> m.user_id AND g.deleted_at_ms = 0
		WHERE m.user_id = ? GROUP BY m.conversation_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("chat: unread: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Listed is a conversation as its member sees it in their list.
type Listed struct {
	Conversation
	// Unread counts the messages of others, not deleted, after the
	// member's last read seq (as Unread does).
	Unread int
	// Peer is the other member's name in a private conversation.
	Peer string
}

// Name is what the list shows: the title, or the other person's name for
// a private conversation.
func (l Listed) Name() string {
	if l.Kind == KindPrivate && l.Peer != "" {
		return l.Peer
	}
	return l.Title
}

// ConversationsOf lists the conversations the user is a member of, by
// title, with their unread counts.
func (s *Store) ConversationsOf(ctx context.Context, userID int64) ([]Listed, error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, c.kind, c.structure_id, c.class_id, c.title, c.created_by, c.created_at_ms,
			c.last_seq, COUNT(g.seq),
			COALESCE((SELECT u.first_name || ' ' || u.last_name FROM conversation_members o JOIN users u ON u.id = o.user_id
				WHERE c.kind = 'private' AND o.conversation_id = c.id AND o.user_id <> ? LIMIT 1), '')
		FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
		LEFT JOIN messages g ON g.conversation_id = m.conversation_id AND g.seq > m.last_read_seq
			AND g.sender_id <> m.user_id AND g.deleted_at_ms = 0
		WHERE m.user_id = ?
		GROUP BY c.id, c.kind, c.structure_id, c.class_id, c.title, c.created_by, c.created_at_ms, c.last_seq
		ORDER BY c.title, c.id`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("chat: conversations of %d: %w", userID, err)
	}
	defer rows.Close()
	var out []Listed
	for rows.Next() {
		var l Listed
		var class sql.NullInt64
		if err := rows.Scan(&l.ID, &l.Kind, &l.StructureID, &class, &l.Title, &l.CreatedBy, &l.CreatedAtMs,
			&l.LastSeq, &l.Unread, &l.Peer); err != nil {
			return nil, fmt.Errorf("chat: conversations of %d: %w", userID, err)
		}
		l.ClassID = class.Int64
		out = append(out, l)
	}
	return out, rows.Err()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CheckBody reports whether a message body is acceptable: valid UTF-8, not
// blank, no NUL, at most MaxBodyChars characters.
func CheckBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return fmt.Errorf("%w: empty body", ErrInvalid)
	}
	return checkText(body, MaxBodyChars)
}

func checkText(s string, maxChars int) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: invalid text", ErrInvalid)
	}
	if utf8.RuneCountInString(s) > maxChars {
		return fmt.Errorf("%w: %w", ErrInvalid, ErrTooLong)
	}
	return nil
}

// ErrTooLong is wrapped by ErrInvalid when a text is over its limit.
var ErrTooLong = errors.New("chat: too long")

// CheckClientID reports whether a client message id is acceptable: 1 to
// MaxClientIDLen bytes of letters, digits and . _ : -
func CheckClientID(id string) error {
	if id == "" || len(id) > MaxClientIDLen {
		return fmt.Errorf("%w: client_id length", ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return fmt.Errorf("%w: client_id character", ErrInvalid)
		}
	}
	return nil
}

// Found is a message found by Search, with its conversation's name.
type Found struct {
	Message
	Kind  Kind
	Title string
}

// Search finds the messages of the user's conversations whose text
// contains q, ignoring case and accents (Fold: "eleve" finds "Élève"; LIKE's
// wildcards are taken literally), not deleted, latest first, at most limit
// (default 50, at most 200).
func (s *Store) Search(ctx context.Context, userID int64, q string, limit int) ([]Found, error) {
	q = Fold(strings.TrimSpace(q))
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	if err := s.foldPending(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	rows, err := s.db.Query(ctx, `SELECT g.conversation_id, g.seq, g.sender_id, g.client_id, g.body, g.created_at_ms,
			g.edited_at_ms, g.deleted_at_ms, c.kind, c.title
		FROM conversation_members m JOIN messages g ON g.conversation_id = m.conversation_id
		JOIN conversations c ON c.id = m.conversation_id
		WHERE m.user_id = ? AND g.deleted_at_ms = 0 AND g.body_folded LIKE ? ESCAPE '\'
		ORDER BY g.created_at_ms DESC, g.conversation_id, g.seq DESC LIMIT ?`, userID, "%"+EscapeLike(q)+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("chat: search: %w", err)
	}
	defer rows.Close()
	var out []Found
	for rows.Next() {
		var f Found
		if err := rows.Scan(&f.ConversationID, &f.Seq, &f.SenderID, &f.ClientID, &f.Body, &f.CreatedAtMs,
			&f.EditedAtMs, &f.DeletedAtMs, &f.Kind, &f.Title); err != nil {
			return nil, fmt.Errorf("chat: search: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// IsVieScolaire reports whether a staff job title reads as the vie
// scolaire's (CPE): the fallback used while a role records no service
// (directory.Service); see vieScolaire.
func IsVieScolaire(function string) bool {
	f := strings.ToLower(function)
	return strings.Contains(f, "cpe") || strings.Contains(f, "vie scolaire")
}

// EnsureSchoolChannels creates the class and parents channels of every
// class of the structure's current year that has none yet (existing
// channels are left to EnsureClassChannel's updates), so that the vie
// scolaire finds them all.
func (s *Store) EnsureSchoolChannels(ctx context.Context, structureID int64) error {
	rows, err := s.db.Query(ctx, `SELECT c.id, k.kind FROM classes c JOIN school_years y ON y.id = c.year_id AND y.is_current
		CROSS JOIN (SELECT 'class' AS kind UNION ALL SELECT 'class_parents') k
		WHERE c.structure_id = ? AND c.kind = 'class'
		AND NOT EXISTS (SELECT 1 FROM conversations v WHERE v.class_id = c.id AND v.kind = k.kind)`, structureID)
	if err != nil {
		return fmt.Errorf("chat: school channels: %w", err)
	}
	type missing struct {
		class int64
		kind  Kind
	}
	var todo []missing
	err = scanPairs(rows, func(r *sql.Rows) error {
		var m missing
		if err := r.Scan(&m.class, &m.kind); err != nil {
			return err
		}
		todo = append(todo, m)
		return nil
	})
	if err != nil {
		return fmt.Errorf("chat: school channels: %w", err)
	}
	for _, m := range todo {
		if _, err := s.ensureClassKind(ctx, m.class, m.kind); err != nil {
			return err
		}
	}
	return nil
}
