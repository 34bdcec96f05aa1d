package homework

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// Store keeps the homework book in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// Teaches reports whether teacher teaches subject to class this school year.
func Teaches(ctx context.Context, q db.Querier, teacher, class, subject int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM teachings t JOIN classes c ON c.id = t.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE t.teacher_id = ? AND t.class_id = ? AND t.subject_id = ?`, teacher, class, subject).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("homework: teaches: %w", err)
	}
	return n > 0, nil
}

// classYear returns the structure of a class and the bounds of its school
// year.
func classYear(ctx context.Context, q db.Querier, class int64) (structure int64, start, end string, err error) {
	err = q.QueryRow(ctx, `SELECT c.structure_id, y.starts_on, y.ends_on FROM classes c
		JOIN school_years y ON y.id = c.year_id WHERE c.id = ?`, class).Scan(&structure, &start, &end)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", "", invalid("cette classe n'existe pas")
	}
	if err != nil {
		return 0, "", "", fmt.Errorf("homework: class: %w", err)
	}
	return structure, start, end, nil
}

const entryColumns = `e.id, e.structure_id, e.class_id, c.name, e.subject_id, sb.name, e.author_id,
	COALESCE(u.first_name || ' ' || u.last_name, ''), e.lesson_on, e.title, e.content, e.created_at, e.updated_at`

const entryFrom = ` FROM homework_entries e JOIN classes c ON c.id = e.class_id JOIN subjects sb ON sb.id = e.subject_id
	LEFT JOIN users u ON u.id = e.author_id`

// Filter chooses entries: of some classes, optionally one subject, with a
// lesson date from From to To (either may be empty); at most Limit (default
// and cap 500), newest lesson first.
type Filter struct {
	Classes   []int64
	SubjectID int64
	From, To  string
	Limit     int
}

func inList(col string, ids []int64) (string, []any) {
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		args = append(args, id)
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// Entries lists the filter's entries with their works.
func (s *Store) Entries(ctx context.Context, f Filter) ([]Entry, error) {
	if len(f.Classes) == 0 {
		return nil, nil
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	w, args := inList("e.class_id", f.Classes)
	if f.SubjectID != 0 {
		w += " AND e.subject_id = ?"
		args = append(args, f.SubjectID)
	}
	if f.From != "" {
		w += " AND e.lesson_on >= ?"
		args = append(args, f.From)
	}
	if f.To != "" {
		w += " AND e.lesson_on <= ?"
		args = append(args, f.To)
	}
	args = append(args, f.Limit)
	return s.entries(ctx, s.db, "SELECT "+entryColumns+entryFrom+" WHERE "+w+" ORDER BY e.lesson_on DESC, e.id DESC LIMIT ?", args...)
}

func (s *Store) entries(ctx context.Context, q db.Querier, query string, args ...any) ([]Entry, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("homework: entries: %w", err)
	}
	var out []Entry
	byID := map[int64]int{}
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.StructureID, &e.ClassID, &e.ClassName, &e.SubjectID, &e.Subject, &e.AuthorID,
			&e.AuthorName, &e.LessonOn, &e.Title, &e.Content, &e.CreatedAt, &e.UpdatedAt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("homework: entries: %w", err)
		}
		e.Items = []Item{}
		byID[e.ID] = len(out)
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(out))
	for _, e := range out {
		ids = append(ids, e.ID)
	}
	items, err := itemsOf(ctx, q, "entry_id", ids)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		i := byID[it.entryID]
		out[i].Items = append(out[i].Items, it.Item)
	}
	return out, nil
}

type itemRow struct {
	Item
	entryID int64
}

// itemsOf loads the works (with attachments) whose col is in ids.
func itemsOf(ctx context.Context, q db.Querier, col string, ids []int64) ([]itemRow, error) {
	w, args := inList("i."+col, ids)
	rows, err := q.Query(ctx, "SELECT i.id, i.entry_id, i.n, i.description, i.due_on, i.minutes FROM homework_items i WHERE "+w+
		" ORDER BY i.entry_id, i.n", args...)
	if err != nil {
		return nil, fmt.Errorf("homework: items: %w", err)
	}
	var out []itemRow
	byID := map[int64]int{}
	for rows.Next() {
		var it itemRow
		if err := rows.Scan(&it.ID, &it.entryID, &it.N, &it.Description, &it.DueOn, &it.Minutes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("homework: items: %w", err)
		}
		it.Attachments = []Attachment{}
		byID[it.ID] = len(out)
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	itemIDs := make([]int64, 0, len(out))
	for _, it := range out {
		itemIDs = append(itemIDs, it.ID)
	}
	w, args = inList("item_id", itemIDs)
	rows, err = q.Query(ctx, "SELECT item_id, n, file_id, version, name, size FROM homework_attachments WHERE "+w+" ORDER BY item_id, n", args...)
	if err != nil {
		return nil, fmt.Errorf("homework: attachments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a Attachment
		if err := rows.Scan(&id, &a.N, &a.FileID, &a.Version, &a.Name, &a.Size); err != nil {
			return nil, fmt.Errorf("homework: attachments: %w", err)
		}
		i := byID[id]
		out[i].Attachments = append(out[i].Attachments, a)
	}
	return out, rows.Err()
}

// Entry returns one entry with its works.
func (s *Store) Entry(ctx context.Context, id int64) (Entry, error) {
	out, err := s.entries(ctx, s.db, "SELECT "+entryColumns+entryFrom+" WHERE e.id = ?", id)
	if err != nil {
		return Entry{}, err
	}
	if len(out) == 0 {
		return Entry{}, ErrNotFound
	}
	return out[0], nil
}

// EntryOfItem returns the entry holding work item.
func (s *Store) EntryOfItem(ctx context.Context, item int64) (Entry, error) {
	var id int64
	err := s.db.QueryRow(ctx, "SELECT entry_id FROM homework_items WHERE id = ?", item).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("homework: item: %w", err)
	}
	return s.Entry(ctx, id)
}

// Create adds an entry with its works, after Check against the class's
// school year. e.AuthorID is the teacher; the caller checked they teach the
// subject to the class (Teaches).
func (s *Store) Create(ctx context.Context, e Entry) (Entry, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		e.ID, err = Insert(ctx, tx, e, s.now())
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	return s.Entry(ctx, e.ID)
}

// Insert adds an entry inside the caller's transaction, with the checks of
// Create (the demo school uses it while it writes the directory).
func Insert(ctx context.Context, q db.Querier, e Entry, now time.Time) (int64, error) {
	st, start, end, err := classYear(ctx, q, e.ClassID)
	if err != nil {
		return 0, err
	}
	if err := e.Check(start, end); err != nil {
		return 0, err
	}
	var one int
	if err := q.QueryRow(ctx, "SELECT 1 FROM subjects WHERE id = ?", e.SubjectID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return 0, invalid("cette matière n'existe pas")
	} else if err != nil {
		return 0, fmt.Errorf("homework: subject: %w", err)
	}
	var id int64
	err = q.QueryRow(ctx, `INSERT INTO homework_entries (structure_id, class_id, subject_id, author_id, lesson_on, title, content,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, st, e.ClassID, e.SubjectID, e.AuthorID,
		e.LessonOn, e.Title, e.Content, now.Unix(), now.Unix()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("homework: create: %w", err)
	}
	for _, it := range e.Items {
		if err := insertItem(ctx, q, id, it); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func insertItem(ctx context.Context, q db.Querier, entry int64, it Item) error {
	var id int64
	if err := q.QueryRow(ctx, "INSERT INTO homework_items (entry_id, n, description, due_on, minutes) VALUES (?, ?, ?, ?, ?) RETURNING id",
		entry, it.N, it.Description, it.DueOn, it.Minutes).Scan(&id); err != nil {
		return fmt.Errorf("homework: add work: %w", err)
	}
	return insertAttachments(ctx, q, id, it.Attachments)
}

func insertAttachments(ctx context.Context, q db.Querier, item int64, as []Attachment) error {
	for _, a := range as {
		if _, err := q.Exec(ctx, "INSERT INTO homework_attachments (item_id, n, file_id, version, name, size) VALUES (?, ?, ?, ?, ?, ?)",
			item, a.N, a.FileID, a.Version, a.Name, a.Size); err != nil {
			return fmt.Errorf("homework: attach: %w", err)
		}
	}
	return nil
}

// Update replaces an entry's date, title, content and works; its class,
// subject and author stay. A work with the ID of one of the entry's works
// replaces it (its ticks stay); one without an ID is added; the entry's
// works not given are removed.
func (s *Store) Update(ctx context.Context, e Entry) (Entry, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var class int64
		err := tx.QueryRow(ctx, "SELECT class_id FROM homework_entries WHERE id = ?", e.ID).Scan(&class)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("homework: update: %w", err)
		}
		_, start, end, err := classYear(ctx, tx, class)
		if err != nil {
			return err
		}
		if err := e.Check(start, end); err != nil {
			return err
		}
		existing := map[int64]bool{}
		rows, err := tx.Query(ctx, "SELECT id FROM homework_items WHERE entry_id = ?", e.ID)
		if err != nil {
			return fmt.Errorf("homework: update: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			existing[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		kept := map[int64]bool{}
		for _, it := range e.Items {
			if it.ID != 0 && !existing[it.ID] {
				return invalid("travail %d : ce travail n'appartient pas à cette séance", it.N)
			}
			if it.ID != 0 {
				kept[it.ID] = true
			}
		}
		for id := range existing {
			if !kept[id] {
				if _, err := tx.Exec(ctx, "DELETE FROM homework_items WHERE id = ?", id); err != nil {
					return fmt.Errorf("homework: remove work: %w", err)
				}
			}
		}
		for _, it := range e.Items {
			if it.ID == 0 {
				if err := insertItem(ctx, tx, e.ID, it); err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, "UPDATE homework_items SET n = ?, description = ?, due_on = ?, minutes = ? WHERE id = ?",
				it.N, it.Description, it.DueOn, it.Minutes, it.ID); err != nil {
				return fmt.Errorf("homework: update work: %w", err)
			}
			if _, err := tx.Exec(ctx, "DELETE FROM homework_attachments WHERE item_id = ?", it.ID); err != nil {
				return fmt.Errorf("homework: update work: %w", err)
			}
			if err := insertAttachments(ctx, tx, it.ID, it.Attachments); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "UPDATE homework_entries SET lesson_on = ?, title = ?, content = ?, updated_at = ? WHERE id = ?",
			e.LessonOn, e.Title, e.Content, s.now().Unix(), e.ID)
		return err
	})
	if err != nil {
		return Entry{}, err
	}
	return s.Entry(ctx, e.ID)
}

// Delete removes an entry with its works, attachments and ticks.
func (s *Store) Delete(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		// Children first: not every database cascades (foreign keys are a
		// pragma in SQLite).
		for _, q := range []string{
			"DELETE FROM homework_done WHERE item_id IN (SELECT id FROM homework_items WHERE entry_id = ?)",
			"DELETE FROM homework_attachments WHERE item_id IN (SELECT id FROM homework_items WHERE entry_id = ?)",
			"DELETE FROM homework_items WHERE entry_id = ?",
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("homework: delete: %w", err)
			}
		}
		res, err := tx.Exec(ctx, "DELETE FROM homework_entries WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("homework: delete: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Todo lists the works of classes due from from to to (either may be
// empty), with pupil's ticks, by due date then subject; today places them
// in buckets.
func (s *Store) Todo(ctx context.Context, pupil int64, classes []int64, from, to, today string) ([]Todo, error) {
	if len(classes) == 0 {
		return []Todo{}, nil
	}
	w, args := inList("e.class_id", classes)
	if from != "" {
		w += " AND i.due_on >= ?"
		args = append(args, from)
	}
	if to != "" {
		w += " AND i.due_on <= ?"
		args = append(args, to)
	}
	rows, err := s.db.Query(ctx, `SELECT i.id, i.entry_id, e.class_id, c.name, e.subject_id, sb.name, e.lesson_on, e.title,
		(SELECT COUNT(*) FROM homework_done d WHERE d.item_id = i.id AND d.pupil_id = ?)
		FROM homework_items i JOIN homework_entries e ON e.id = i.entry_id JOIN classes c ON c.id = e.class_id
		JOIN subjects sb ON sb.id = e.subject_id WHERE `+w+` ORDER BY i.due_on, sb.name, e.lesson_on, i.n LIMIT 500`,
		append([]any{pupil}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("homework: todo: %w", err)
	}
	out := []Todo{}
	var ids []int64
	for rows.Next() {
		var t Todo
		var done int
		if err := rows.Scan(&t.ID, &t.EntryID, &t.ClassID, &t.ClassName, &t.SubjectID, &t.Subject, &t.LessonOn, &t.Title, &done); err != nil {
			rows.Close()
			return nil, fmt.Errorf("homework: todo: %w", err)
		}
		t.Done = done > 0
		out = append(out, t)
		ids = append(ids, t.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	items, err := itemsOf(ctx, s.db, "id", ids)
	if err != nil {
		return nil, err
	}
	byID := map[int64]Item{}
	for _, it := range items {
		byID[it.ID] = it.Item
	}
	for i := range out {
		out[i].Item = byID[out[i].ID]
		out[i].Bucket = Bucket(out[i].DueOn, today)
	}
	return out, nil
}

// Done reports which of the works items the pupil has ticked.
func (s *Store) Done(ctx context.Context, pupil int64, items []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(items) == 0 {
		return out, nil
	}
	w, args := inList("item_id", items)
	rows, err := s.db.Query(ctx, "SELECT item_id FROM homework_done WHERE pupil_id = ? AND "+w, append([]any{pupil}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("homework: done: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// SetDone ticks (or unticks) work item for a pupil.
func (s *Store) SetDone(ctx context.Context, item, pupil int64, done bool) error {
	var err error
	if done {
		_, err = s.db.Exec(ctx, `INSERT INTO homework_done (item_id, pupil_id, done_at) VALUES (?, ?, ?)
			ON CONFLICT (item_id, pupil_id) DO NOTHING`, item, pupil, s.now().Unix())
	} else {
		_, err = s.db.Exec(ctx, "DELETE FROM homework_done WHERE item_id = ? AND pupil_id = ?", item, pupil)
	}
	if err != nil {
		return fmt.Errorf("homework: tick: %w", err)
	}
	return nil
}
