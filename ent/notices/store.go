package notices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"preau/db"
)

// Store keeps notices, their audience, documents, reads and
// acknowledgements in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// Today is the store's current date in Europe/Paris.
func (s *Store) Today() string { return Today(s.now()) }

const noticeColumns = `n.id, n.structure_id, n.author_id, COALESCE(u.first_name || ' ' || u.last_name, ''), n.title, n.body,
	n.valid_from, n.valid_until, n.draft, n.requires_ack, n.created_at_ms, n.updated_at_ms`

const noticeFrom = ` FROM notices n LEFT JOIN users u ON u.id = n.author_id`

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// load reads notices and completes them with their audience and files.
func load(ctx context.Context, q db.Querier, where string, args ...any) ([]Notice, error) {
	rows, err := q.Query(ctx, "SELECT "+noticeColumns+noticeFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("notices: list: %w", err)
	}
	var out []Notice
	for rows.Next() {
		var n Notice
		var created, updated int64
		if err := rows.Scan(&n.ID, &n.StructureID, &n.AuthorID, &n.AuthorName, &n.Title, &n.Body, &n.From, &n.Until,
			&n.Draft, &n.RequiresAck, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("notices: list: %w", err)
		}
		n.CreatedAt, n.UpdatedAt = time.UnixMilli(created), time.UnixMilli(updated)
		n.Audience, n.Files = []Audience{}, []Attachment{}
		out = append(out, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	idx := map[int64]int{}
	ids := make([]int64, len(out))
	for i, n := range out {
		idx[n.ID], ids[i] = i, n.ID
	}
	rows, err = q.Query(ctx, `SELECT a.notice_id, a.kind, a.profile, a.class_id, COALESCE(c.name, '') FROM notice_audiences a
		LEFT JOIN classes c ON c.id = a.class_id WHERE a.notice_id IN (`+placeholders(len(ids))+`)
		ORDER BY a.notice_id, a.kind DESC, a.profile, c.name`, int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("notices: audience: %w", err)
	}
	for rows.Next() {
		var id int64
		var a Audience
		if err := rows.Scan(&id, &a.Kind, &a.Profile, &a.ClassID, &a.ClassName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("notices: audience: %w", err)
		}
		out[idx[id]].Audience = append(out[idx[id]].Audience, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT notice_id, n, file_id, version, name, size, content_type, sha256, storage_key FROM notice_files
		WHERE notice_id IN (`+placeholders(len(ids))+`) ORDER BY notice_id, n`, int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("notices: files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var f Attachment
		if err := rows.Scan(&id, &f.N, &f.FileID, &f.Version, &f.Name, &f.Size, &f.ContentType, &f.SHA256, &f.Key); err != nil {
			return nil, fmt.Errorf("notices: files: %w", err)
		}
		out[idx[id]].Files = append(out[idx[id]].Files, f)
	}
	return out, rows.Err()
}

// Get returns one notice, whoever asks: the caller checks CanRead.
func (s *Store) Get(ctx context.Context, id int64) (Notice, error) {
	ns, err := load(ctx, s.db, "n.id = ?", id)
	if err != nil {
		return Notice{}, err
	}
	if len(ns) == 0 {
		return Notice{}, ErrNotFound
	}
	return ns[0], nil
}

// Filter chooses the notices List returns, before the caller's CanRead.
type Filter struct {
	// Structures are the schools looked at; nil with AllSchools: all.
	Structures []int64
	AllSchools bool
	// LiveOn, when set, keeps the notices live on that day; otherwise
	// every state (drafts, scheduled, expired) is returned.
	LiveOn string
	// Limit caps the answer (default and maximum 500).
	Limit int
}

// List returns the filter's notices, newest first (by start date, then
// creation).
func (s *Store) List(ctx context.Context, f Filter) ([]Notice, error) {
	var conds []string
	var args []any
	if !f.AllSchools {
		if len(f.Structures) == 0 {
			return nil, nil
		}
		conds = append(conds, "n.structure_id IN ("+placeholders(len(f.Structures))+")")
		args = append(args, int64Args(f.Structures)...)
	}
	if f.LiveOn != "" {
		conds = append(conds, "NOT n.draft AND n.valid_from <= ? AND n.valid_until >= ?")
		args = append(args, f.LiveOn, f.LiveOn)
	}
	if len(conds) == 0 {
		conds = append(conds, "1 = 1")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	return load(ctx, s.db, strings.Join(conds, " AND ")+
		fmt.Sprintf(" ORDER BY n.valid_from DESC, n.id DESC LIMIT %d", f.Limit), args...)
}

// Marks says, for one person, which notices they have opened and which
// they have acknowledged.
type Marks struct {
	Read, Acked map[int64]bool
}

// MarksOf returns user's marks on the notices ids.
func (s *Store) MarksOf(ctx context.Context, user int64, ids []int64) (Marks, error) {
	m := Marks{Read: map[int64]bool{}, Acked: map[int64]bool{}}
	if len(ids) == 0 {
		return m, nil
	}
	for _, t := range []struct {
		q   string
		out map[int64]bool
	}{
		{"SELECT notice_id FROM notice_reads WHERE user_id = ? AND notice_id IN (", m.Read},
		{"SELECT notice_id FROM notice_acks WHERE parent_id = ? AND notice_id IN (", m.Acked},
	} {
		rows, err := s.db.Query(ctx, t.q+placeholders(len(ids))+")", append([]any{user}, int64Args(ids)...)...)
		if err != nil {
			return m, fmt.Errorf("notices: marks: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return m, err
			}
			t.out[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return m, err
		}
	}
	return m, nil
}

// MarkRead records that user opened the notice (once).
func (s *Store) MarkRead(ctx context.Context, id, user int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO notice_reads (notice_id, user_id, read_at_ms) VALUES (?, ?, ?)
		ON CONFLICT (notice_id, user_id) DO NOTHING`, id, user, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("notices: mark read: %w", err)
	}
	return nil
}

// Ack records parent's acknowledgement of the notice; a second one keeps
// the first date. The caller checks MustAck.
func (s *Store) Ack(ctx context.Context, id, parent int64) error {
	_, err := s.db.Exec(ctx, `INSERT INTO notice_acks (notice_id, parent_id, acked_at_ms) VALUES (?, ?, ?)
		ON CONFLICT (notice_id, parent_id) DO NOTHING`, id, parent, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("notices: ack: %w", err)
	}
	return s.MarkRead(ctx, id, parent)
}

// check completes a normalized notice against the directory: the school
// exists, each class is one of its classes of the current year.
func check(ctx context.Context, q db.Querier, n *Notice) error {
	if err := Normalize(n); err != nil {
		return err
	}
	var one int
	if err := q.QueryRow(ctx, "SELECT 1 FROM structures WHERE id = ?", n.StructureID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return invalid("cet établissement n'existe pas")
	} else if err != nil {
		return fmt.Errorf("notices: structure: %w", err)
	}
	for i, a := range n.Audience {
		if a.ClassID == 0 {
			continue
		}
		err := q.QueryRow(ctx, `SELECT c.name FROM classes c JOIN school_years y ON y.id = c.year_id
			WHERE c.id = ? AND c.structure_id = ? AND y.is_current`, a.ClassID, n.StructureID).Scan(&n.Audience[i].ClassName)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("cette classe n'est pas une classe de l'établissement cette année")
		}
		if err != nil {
			return fmt.Errorf("notices: class: %w", err)
		}
	}
	return nil
}

func writeAudience(ctx context.Context, q db.Querier, n Notice) error {
	if _, err := q.Exec(ctx, "DELETE FROM notice_audiences WHERE notice_id = ?", n.ID); err != nil {
		return fmt.Errorf("notices: audience: %w", err)
	}
	for _, a := range n.Audience {
		if _, err := q.Exec(ctx, "INSERT INTO notice_audiences (notice_id, kind, profile, class_id) VALUES (?, ?, ?, ?)",
			n.ID, a.Kind, string(a.Profile), a.ClassID); err != nil {
			return fmt.Errorf("notices: audience: %w", err)
		}
	}
	return nil
}

func insertFile(ctx context.Context, q db.Querier, id int64, f Attachment) error {
	_, err := q.Exec(ctx, `INSERT INTO notice_files (notice_id, n, file_id, version, name, size, content_type, sha256, storage_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, f.N, f.FileID, f.Version, f.Name, f.Size, f.ContentType, f.SHA256, f.Key)
	if err != nil {
		return fmt.Errorf("notices: file: %w", err)
	}
	return nil
}

// Create checks and stores a new notice with its documents (whose copies
// the caller made), and returns it.
func (s *Store) Create(ctx context.Context, n Notice) (Notice, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		n, err = Insert(ctx, tx, n, s.now())
		return err
	})
	if err != nil {
		return Notice{}, err
	}
	return s.Get(ctx, n.ID)
}

// Insert checks and stores a notice inside the caller's transaction, as of
// at (the demo school writes its notices this way).
func Insert(ctx context.Context, q db.Querier, n Notice, at time.Time) (Notice, error) {
	if err := check(ctx, q, &n); err != nil {
		return Notice{}, err
	}
	err := q.QueryRow(ctx, `INSERT INTO notices (structure_id, author_id, title, body, valid_from, valid_until, draft, requires_ack,
		created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, n.StructureID, n.AuthorID, n.Title,
		n.Body, n.From, n.Until, n.Draft, n.RequiresAck, at.UnixMilli(), at.UnixMilli()).Scan(&n.ID)
	if err != nil {
		return Notice{}, fmt.Errorf("notices: create: %w", err)
	}
	if err := writeAudience(ctx, q, n); err != nil {
		return Notice{}, err
	}
	for i := range n.Files {
		n.Files[i].N = i + 1
		if err := insertFile(ctx, q, n.ID, n.Files[i]); err != nil {
			return Notice{}, err
		}
	}
	return n, nil
}

// Update replaces the notice's fields and audience (its school and author
// stay). n.Files is the whole new list: entries with N > 0 keep an
// attached document, entries with N == 0 are new copies. It returns the
// notice and the storage keys of the documents no longer attached, for the
// caller to delete once committed.
func (s *Store) Update(ctx context.Context, n Notice) (Notice, []string, error) {
	var dropped []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := load(ctx, tx, "n.id = ?", n.ID)
		if err != nil {
			return err
		}
		if len(old) == 0 {
			return ErrNotFound
		}
		n.StructureID, n.AuthorID = old[0].StructureID, old[0].AuthorID
		if err := check(ctx, tx, &n); err != nil {
			return err
		}
		next := 1
		for _, f := range old[0].Files {
			next = max(next, f.N+1)
			if !slices.ContainsFunc(n.Files, func(g Attachment) bool { return g.N == f.N }) {
				dropped = append(dropped, f.Key)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE notices SET title = ?, body = ?, valid_from = ?, valid_until = ?, draft = ?, requires_ack = ?,
			updated_at_ms = ? WHERE id = ?`, n.Title, n.Body, n.From, n.Until, n.Draft, n.RequiresAck, s.now().UnixMilli(), n.ID); err != nil {
			return fmt.Errorf("notices: update: %w", err)
		}
		if err := writeAudience(ctx, tx, n); err != nil {
			return err
		}
		for _, f := range old[0].Files {
			if !slices.ContainsFunc(n.Files, func(g Attachment) bool { return g.N == f.N }) {
				if _, err := tx.Exec(ctx, "DELETE FROM notice_files WHERE notice_id = ? AND n = ?", n.ID, f.N); err != nil {
					return fmt.Errorf("notices: update files: %w", err)
				}
			}
		}
		for _, f := range n.Files {
			switch {
			case f.N > 0 && !slices.ContainsFunc(old[0].Files, func(g Attachment) bool { return g.N == f.N }):
				return invalid("ce document n'est plus joint à l'information")
			case f.N == 0:
				f.N = next
				next++
				if err := insertFile(ctx, tx, n.ID, f); err != nil {
					return err
				}
			}
		}
		if !n.RequiresAck {
			// Acknowledgements asked no more are forgotten.
			if _, err := tx.Exec(ctx, "DELETE FROM notice_acks WHERE notice_id = ?", n.ID); err != nil {
				return fmt.Errorf("notices: update acks: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Notice{}, nil, err
	}
	out, err := s.Get(ctx, n.ID)
	return out, dropped, err
}

// Delete removes a notice with its reads and acknowledgements, and returns
// the storage keys of its documents for the caller to delete.
func (s *Store) Delete(ctx context.Context, id int64) ([]string, error) {
	var keys []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		ns, err := load(ctx, tx, "n.id = ?", id)
		if err != nil {
			return err
		}
		if len(ns) == 0 {
			return ErrNotFound
		}
		for _, f := range ns[0].Files {
			keys = append(keys, f.Key)
		}
		for _, t := range []string{"notice_acks", "notice_reads", "notice_files", "notice_audiences"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+t+" WHERE notice_id = ?", id); err != nil {
				return fmt.Errorf("notices: delete: %w", err)
			}
		}
		_, err = tx.Exec(ctx, "DELETE FROM notices WHERE id = ?", id)
		return err
	})
	return keys, err
}

// AckGuardian is a guardian of a pupil and when they acknowledged (zero:
// not yet).
type AckGuardian struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// AckRow is one pupil whose parents the notice asks: done once one of
// their guardians has acknowledged.
type AckRow struct {
	PupilID   int64         `json:"pupil_id"`
	Pupil     string        `json:"pupil"`
	Class     string        `json:"class"`
	Guardians []AckGuardian `json:"guardians"`
	Done      bool          `json:"done"`
}

// AckReport is the follow-up of a notice's acknowledgements.
type AckReport struct {
	Rows []AckRow `json:"rows"`
	// Done and Pending count pupils; NoGuardian those with no guardian
	// (who cannot acknowledge, counted in neither).
	Done       int `json:"done"`
	Pending    int `json:"pending"`
	NoGuardian int `json:"no_guardian"`
}

// Acks returns who has and who has not yet acknowledged n: every pupil of
// this year whose parents the audience reaches, by class and name.
func (s *Store) Acks(ctx context.Context, n Notice) (AckReport, error) {
	rep := AckReport{Rows: []AckRow{}}
	whole := false
	var classes []int64
	for _, a := range n.Audience {
		switch {
		case a.Kind == School || (a.Kind == Profile && a.Profile == "parent"):
			whole = true
		case a.Kind == Class || a.Kind == ClassParents:
			classes = append(classes, a.ClassID)
		}
	}
	if !whole && len(classes) == 0 {
		return rep, nil
	}
	pupils := `SELECT e.user_id FROM enrolments e JOIN classes c ON c.id = e.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current WHERE c.structure_id = ?`
	args := []any{n.StructureID}
	if !whole {
		pupils += " AND e.class_id IN (" + placeholders(len(classes)) + ")"
		args = append(args, int64Args(classes)...)
	}
	rows, err := s.db.Query(ctx, `SELECT u.id, u.first_name || ' ' || u.last_name,
		COALESCE((SELECT MIN(c2.name) FROM enrolments e2 JOIN classes c2 ON c2.id = e2.class_id AND c2.kind = 'class'
			JOIN school_years y2 ON y2.id = c2.year_id AND y2.is_current WHERE e2.user_id = u.id AND c2.structure_id = ?), '') AS cname
		FROM users u WHERE u.id IN (`+pupils+`) ORDER BY cname, u.last_name, u.first_name, u.id`, append([]any{n.StructureID}, args...)...)
	if err != nil {
		return rep, fmt.Errorf("notices: acks: %w", err)
	}
	idx := map[int64]int{}
	for rows.Next() {
		var r AckRow
		if err := rows.Scan(&r.PupilID, &r.Pupil, &r.Class); err != nil {
			rows.Close()
			return rep, fmt.Errorf("notices: acks: %w", err)
		}
		r.Guardians = []AckGuardian{}
		idx[r.PupilID] = len(rep.Rows)
		rep.Rows = append(rep.Rows, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	rows, err = s.db.Query(ctx, `SELECT g.child_id, p.id, p.first_name || ' ' || p.last_name, COALESCE(a.acked_at_ms, 0)
		FROM guardianships g JOIN users p ON p.id = g.parent_id
		LEFT JOIN notice_acks a ON a.notice_id = ? AND a.parent_id = g.parent_id
		WHERE g.child_id IN (`+pupils+`) ORDER BY p.last_name, p.first_name, p.id`, append([]any{n.ID}, args...)...)
	if err != nil {
		return rep, fmt.Errorf("notices: acks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var child, at int64
		var g AckGuardian
		if err := rows.Scan(&child, &g.ID, &g.Name, &at); err != nil {
			return rep, fmt.Errorf("notices: acks: %w", err)
		}
		if at != 0 {
			g.AckedAt = time.UnixMilli(at)
		}
		if i, ok := idx[child]; ok {
			rep.Rows[i].Guardians = append(rep.Rows[i].Guardians, g)
			rep.Rows[i].Done = rep.Rows[i].Done || at != 0
		}
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	for _, r := range rep.Rows {
		switch {
		case len(r.Guardians) == 0:
			rep.NoGuardian++
		case r.Done:
			rep.Done++
		default:
			rep.Pending++
		}
	}
	return rep, nil
}

// Attachment returns document number k of notice id.
func (s *Store) Attachment(ctx context.Context, id int64, k int) (Attachment, error) {
	var f Attachment
	err := s.db.QueryRow(ctx, `SELECT n, file_id, version, name, size, content_type, sha256, storage_key FROM notice_files
		WHERE notice_id = ? AND n = ?`, id, k).Scan(&f.N, &f.FileID, &f.Version, &f.Name, &f.Size, &f.ContentType, &f.SHA256, &f.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("notices: attachment: %w", err)
	}
	return f, nil
}

// InsertAck records an acknowledgement inside the caller's transaction,
// without the checks of MustAck: for data known to be right (the demo).
func InsertAck(ctx context.Context, q db.Querier, id, parent int64, at time.Time) error {
	_, err := q.Exec(ctx, "INSERT INTO notice_acks (notice_id, parent_id, acked_at_ms) VALUES (?, ?, ?)", id, parent, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("notices: insert ack: %w", err)
	}
	return nil
}
