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

// Who may write to whom is the policy table's (identity.Principal.CanMessage,
// resources message_*). This file loads, for the people a user might write
// to, what the rule needs — roles, classes, children's classes — in a few
// queries for many people at once, and starts private and group
// conversations with people the rule lets the user reach. A person out of
// reach answers ErrNotFound, exactly like one that does not exist.

// MaxGroupMembers is the most people a group conversation is started with;
// more is the mailbox's job.
const MaxGroupMembers = 50

// maxCandidates bounds how many people Reachable examines.
const maxCandidates = 5000

// Contact is a person one may write to, for the people picker.
type Contact struct {
	ID      int64
	Name    string
	Profile identity.Profile // the first of their profiles in display order
	Detail  string           // function, or nothing
}

// addressees loads the principals of the given people as CanMessage needs
// them: roles, current classes (enrolled or taught) and their children's
// current classes.
func (s *Store) addressees(ctx context.Context, q db.Querier, userIDs []int64) (map[int64]*identity.Principal, error) {
	out := make(map[int64]*identity.Principal, len(userIDs))
	for chunk := range slices.Chunk(userIDs, 500) {
		in := placeholders(len(chunk))
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
			out[id] = &identity.Principal{UserID: id}
		}
		rows, err := q.Query(ctx, "SELECT user_id, COALESCE(structure_id, 0), profile, function FROM roles WHERE user_id IN ("+in+") ORDER BY id", args...)
		if err != nil {
			return nil, err
		}
		err = scanPairs(rows, func(r *sql.Rows) error {
			var id int64
			var role identity.Role
			if err := r.Scan(&id, &role.StructureID, &role.Profile, &role.Function); err != nil {
				return err
			}
			out[id].Roles = append(out[id].Roles, role)
			return nil
		})
		if err != nil {
			return nil, err
		}
		classes := func(query string, add func(p *identity.Principal, class int64)) error {
			rows, err := q.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			return scanPairs(rows, func(r *sql.Rows) error {
				var id, class int64
				if err := r.Scan(&id, &class); err != nil {
					return err
				}
				add(out[id], class)
				return nil
			})
		}
		addClass := func(p *identity.Principal, c int64) { p.Classes = append(p.Classes, c) }
		if err := classes(`SELECT e.user_id, e.class_id FROM enrolments e JOIN classes c ON c.id = e.class_id
			JOIN school_years y ON y.id = c.year_id AND y.is_current WHERE e.user_id IN (`+in+`)`, addClass); err != nil {
			return nil, err
		}
		if err := classes(`SELECT DISTINCT t.teacher_id, t.class_id FROM teachings t JOIN classes c ON c.id = t.class_id
			JOIN school_years y ON y.id = c.year_id AND y.is_current WHERE t.teacher_id IN (`+in+`)`, addClass); err != nil {
			return nil, err
		}
		if err := classes(`SELECT DISTINCT g.parent_id, e.class_id FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id
			JOIN classes c ON c.id = e.class_id JOIN school_years y ON y.id = c.year_id AND y.is_current
			WHERE g.parent_id IN (`+in+`)`, func(p *identity.Principal, c int64) { p.ChildClasses = append(p.ChildClasses, c) }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func scanPairs(rows *sql.Rows, fn func(*sql.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CanWrite reports whether pr may write to the person (the policy's
// message_* rules); a person who does not exist is out of reach.
func (s *Store) CanWrite(ctx context.Context, pr *identity.Principal, userID int64) (bool, error) {
	to, err := s.addressees(ctx, s.db, []int64{userID})
	if err != nil {
		return false, fmt.Errorf("chat: can write: %w", err)
	}
	return pr.CanMessage(to[userID]), nil
}

// checkWrite returns ErrNotFound unless pr may write to every one of ids.
func (s *Store) checkWrite(ctx context.Context, pr *identity.Principal, userIDs []int64) error {
	to, err := s.addressees(ctx, s.db, userIDs)
	if err != nil {
		return fmt.Errorf("chat: can write: %w", err)
	}
	for _, id := range userIDs {
		if !pr.CanMessage(to[id]) {
			return ErrNotFound
		}
	}
	return nil
}

// EscapeLike escapes a user's text for a LIKE pattern with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Reachable lists the people pr may write to whose name contains search
// (any case; "" for everyone), by name, at most limit (default 50). Only
// people sharing a structure with pr are examined (everyone for a
// département-wide role).
func (s *Store) Reachable(ctx context.Context, pr *identity.Principal, search string, limit int) ([]Contact, error) {
	if limit <= 0 {
		limit = 50
	}
	var where []string
	var args []any
	structs := pr.Structures()
	if !slices.Contains(structs, 0) {
		if len(structs) == 0 {
			return nil, nil
		}
		where = append(where, "u.id IN (SELECT user_id FROM roles WHERE structure_id IN ("+placeholders(len(structs))+"))")
		for _, st := range structs {
			args = append(args, st)
		}
	}
	if q := strings.ToLower(strings.TrimSpace(search)); q != "" {
		like := "%" + EscapeLike(q) + "%"
		where = append(where, `(LOWER(u.first_name) LIKE ? ESCAPE '\' OR LOWER(u.last_name) LIKE ? ESCAPE '\'
			OR LOWER(u.first_name || ' ' || u.last_name) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like)
	}
	where = append(where, "u.disabled = ?", "u.id <> ?")
	args = append(args, false, pr.UserID, maxCandidates)
	rows, err := s.db.Query(ctx, `SELECT u.id, u.first_name, u.last_name FROM users u WHERE `+strings.Join(where, " AND ")+`
		ORDER BY u.last_name, u.first_name, u.id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("chat: reachable: %w", err)
	}
	var cands []Contact
	err = scanPairs(rows, func(r *sql.Rows) error {
		var c Contact
		var first, last string
		if err := r.Scan(&c.ID, &first, &last); err != nil {
			return err
		}
		c.Name = first + " " + last
		cands = append(cands, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat: reachable: %w", err)
	}
	idList := make([]int64, len(cands))
	for i, c := range cands {
		idList[i] = c.ID
	}
	to, err := s.addressees(ctx, s.db, idList)
	if err != nil {
		return nil, fmt.Errorf("chat: reachable: %w", err)
	}
	var out []Contact
	for _, c := range cands {
		p := to[c.ID]
		if !pr.CanMessage(p) {
			continue
		}
		for _, prof := range identity.Profiles {
			for _, r := range p.Roles {
				if r.Profile == prof && c.Profile == "" {
					c.Profile, c.Detail = prof, r.Function
				}
			}
		}
		out = append(out, c)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// firstStructure picks the structure a new conversation belongs to: one
// both sides share, else pr's, else the other's.
func firstStructure(pr, other *identity.Principal) int64 {
	for _, a := range pr.Roles {
		for _, b := range other.Roles {
			if a.StructureID != 0 && a.StructureID == b.StructureID {
				return a.StructureID
			}
		}
	}
	for _, p := range []*identity.Principal{pr, other} {
		for _, r := range p.Roles {
			if r.StructureID != 0 {
				return r.StructureID
			}
		}
	}
	return 0
}

// StartPrivate returns the private conversation between pr and the person,
// creating it if needed: ErrNotFound when pr may not write to them.
func (s *Store) StartPrivate(ctx context.Context, pr *identity.Principal, other int64) (Conversation, error) {
	to, err := s.addressees(ctx, s.db, []int64{other})
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: start private: %w", err)
	}
	if !pr.CanMessage(to[other]) {
		return Conversation{}, ErrNotFound
	}
	return s.private(ctx, pr.UserID, other, firstStructure(pr, to[other]))
}

func pairKey(a, b int64) string {
	if a > b {
		a, b = b, a
	}
	return strconv.FormatInt(a, 10) + ":" + strconv.FormatInt(b, 10)
}

// private finds or creates the private conversation of a and b. Two
// concurrent starts meet on pair_key's unique index.
func (s *Store) private(ctx context.Context, a, b, structure int64) (Conversation, error) {
	if structure == 0 {
		return Conversation{}, fmt.Errorf("%w: no common structure", ErrInvalid)
	}
	key := pairKey(a, b)
	find := func() (int64, error) {
		var id int64
		err := s.db.QueryRow(ctx, "SELECT id FROM conversations WHERE pair_key = ?", key).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return id, err
	}
	id, err := find()
	if err == nil && id == 0 {
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.nowMs()
			if err := tx.QueryRow(ctx, `INSERT INTO conversations (kind, structure_id, title, created_by, created_at_ms, pair_key)
				VALUES (?, ?, '', ?, ?, ?) RETURNING id`, string(KindPrivate), structure, a, now, key).Scan(&id); err != nil {
				return err
			}
			for _, u := range []int64{a, b} {
				if err := addMember(ctx, tx, id, u, RoleMember, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && db.IsUniqueViolation(err) {
			id, err = find()
		}
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: private conversation: %w", err)
	}
	return s.Conversation(ctx, id)
}

// CreateGroup starts a group conversation titled title between pr (its
// moderator) and members, each of whom pr must be allowed to write to
// (ErrNotFound otherwise).
func (s *Store) CreateGroup(ctx context.Context, pr *identity.Principal, title string, members []int64) (Conversation, error) {
	title = strings.TrimSpace(title)
	members = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(members))), func(id int64) bool { return id == pr.UserID })
	if title == "" || len(members) == 0 || len(members) > MaxGroupMembers {
		return Conversation{}, fmt.Errorf("%w: group title or size", ErrInvalid)
	}
	to, err := s.addressees(ctx, s.db, members)
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: create group: %w", err)
	}
	for _, id := range members {
		if !pr.CanMessage(to[id]) {
			return Conversation{}, ErrNotFound
		}
	}
	st := firstStructure(pr, to[members[0]])
	if st == 0 {
		return Conversation{}, fmt.Errorf("%w: no structure", ErrInvalid)
	}
	c, err := s.CreateConversation(ctx, Conversation{Kind: KindGroup, StructureID: st, Title: title, CreatedBy: pr.UserID})
	if err != nil {
		return Conversation{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error { return addMembers(ctx, tx, c.ID, members, RoleMember, s.nowMs()) })
	if err != nil {
		return Conversation{}, fmt.Errorf("chat: create group: %w", err)
	}
	return c, nil
}

// addMembers adds many members with multi-row INSERTs, 200 rows at a time.
func addMembers(ctx context.Context, q db.Querier, convID int64, users []int64, role string, at int64) error {
	for chunk := range slices.Chunk(users, 200) {
		var b strings.Builder
		b.WriteString("INSERT INTO conversation_members (conversation_id, user_id, role, joined_at_ms) VALUES ")
		args := make([]any, 0, 4*len(chunk))
		for i, u := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, convID, u, role, at)
		}
		b.WriteString(" ON CONFLICT (conversation_id, user_id) DO NOTHING")
		if _, err := q.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
