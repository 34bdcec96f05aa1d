package courses

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

// Store keeps the courses in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

// Teaches reports whether teacher teaches class (any subject) this school
// year.
func Teaches(ctx context.Context, q db.Querier, teacher, class int64) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM teachings t JOIN classes c ON c.id = t.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE t.teacher_id = ? AND t.class_id = ?`, teacher, class).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("courses: teaches: %w", err)
	}
	return n > 0, nil
}

// Visible returns the course as a reader sees it: with drafts when
// drafts is true (its author), else only the published items and the
// chapters holding some.
func (c Course) Visible(drafts bool) Course {
	if drafts {
		return c
	}
	out := c
	out.Chapters = []Chapter{}
	for _, ch := range c.Chapters {
		items := []Item{}
		for _, it := range ch.Items {
			if it.Published() {
				items = append(items, it)
			}
		}
		if len(items) > 0 {
			ch.Items = items
			out.Chapters = append(out.Chapters, ch)
		}
	}
	return out
}

const courseColumns = `k.id, k.structure_id, k.class_id, c.name, k.author_id,
	COALESCE(u.first_name || ' ' || u.last_name, ''), k.title, k.summary, k.created_at, k.updated_at,
	(SELECT COUNT(*) FROM course_items i JOIN course_chapters h ON h.id = i.chapter_id
		WHERE h.course_id = k.id AND i.published_at <> 0)`

const courseFrom = ` FROM courses k JOIN classes c ON c.id = k.class_id LEFT JOIN users u ON u.id = k.author_id`

func inList(col string, ids []int64) (string, []any) {
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		args = append(args, id)
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// Courses lists the courses of classes, without their chapters, by class
// then title.
func (s *Store) Courses(ctx context.Context, classes []int64) ([]Course, error) {
	out := []Course{}
	if len(classes) == 0 {
		return out, nil
	}
	w, args := inList("k.class_id", classes)
	rows, err := s.db.Query(ctx, "SELECT "+courseColumns+courseFrom+" WHERE "+w+" ORDER BY c.name, k.title, k.id LIMIT 1000", args...)
	if err != nil {
		return nil, fmt.Errorf("courses: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCourse(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanCourse(r scanner) (Course, error) {
	var c Course
	err := r.Scan(&c.ID, &c.StructureID, &c.ClassID, &c.ClassName, &c.AuthorID, &c.AuthorName, &c.Title, &c.Summary,
		&c.CreatedAt, &c.UpdatedAt, &c.Published)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("courses: course: %w", err)
	}
	c.AuthorName = strings.TrimSpace(c.AuthorName)
	c.Chapters = []Chapter{}
	return c, nil
}

const itemColumns = `i.id, i.chapter_id, i.position, i.kind, i.title, i.body, i.url, i.file_id, i.file_version, i.file_name,
	i.file_size, i.published_at, i.created_at, i.updated_at`

func scanItem(r scanner) (Item, error) {
	var it Item
	err := r.Scan(&it.ID, &it.ChapterID, &it.Position, &it.Kind, &it.Title, &it.Body, &it.URL, &it.FileID, &it.Version,
		&it.FileName, &it.FileSize, &it.PublishedAt, &it.CreatedAt, &it.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return it, ErrNotFound
	}
	if err != nil {
		return it, fmt.Errorf("courses: item: %w", err)
	}
	return it, nil
}

// Course returns a course with all its chapters and items, drafts
// included (see Visible).
func (s *Store) Course(ctx context.Context, id int64) (Course, error) {
	c, err := scanCourse(s.db.QueryRow(ctx, "SELECT "+courseColumns+courseFrom+" WHERE k.id = ?", id))
	if err != nil {
		return c, err
	}
	rows, err := s.db.Query(ctx, "SELECT id, course_id, position, title FROM course_chapters WHERE course_id = ? ORDER BY position, id", id)
	if err != nil {
		return c, fmt.Errorf("courses: chapters: %w", err)
	}
	byID := map[int64]int{}
	for rows.Next() {
		ch := Chapter{Items: []Item{}}
		if err := rows.Scan(&ch.ID, &ch.CourseID, &ch.Position, &ch.Title); err != nil {
			rows.Close()
			return c, fmt.Errorf("courses: chapters: %w", err)
		}
		byID[ch.ID] = len(c.Chapters)
		c.Chapters = append(c.Chapters, ch)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(c.Chapters) == 0 {
		return c, err
	}
	rows, err = s.db.Query(ctx, "SELECT "+itemColumns+` FROM course_items i JOIN course_chapters h ON h.id = i.chapter_id
		WHERE h.course_id = ? ORDER BY i.chapter_id, i.position, i.id`, id)
	if err != nil {
		return c, fmt.Errorf("courses: items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return c, err
		}
		i := byID[it.ChapterID]
		c.Chapters[i].Items = append(c.Chapters[i].Items, it)
	}
	return c, rows.Err()
}

// Create adds a course (without chapters) for c.ClassID by c.AuthorID;
// the caller checked the author teaches the class this year.
func (s *Store) Create(ctx context.Context, c Course) (Course, error) {
	var id int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		id, err = Insert(ctx, tx, c, s.now())
		return err
	})
	if err != nil {
		return Course{}, err
	}
	return s.Course(ctx, id)
}

// Insert adds a course inside the caller's transaction, with the checks of
// Create (the demo school uses it while it writes the directory).
func Insert(ctx context.Context, q db.Querier, c Course, now time.Time) (int64, error) {
	if err := c.Check(); err != nil {
		return 0, err
	}
	var structure int64
	err := q.QueryRow(ctx, "SELECT structure_id FROM classes WHERE id = ?", c.ClassID).Scan(&structure)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, invalid("cette classe n'existe pas")
	}
	if err != nil {
		return 0, fmt.Errorf("courses: class: %w", err)
	}
	var id int64
	err = q.QueryRow(ctx, `INSERT INTO courses (structure_id, class_id, author_id, title, summary, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, structure, c.ClassID, c.AuthorID, c.Title, c.Summary, now.Unix(), now.Unix()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("courses: create: %w", err)
	}
	return id, nil
}

// Update changes a course's title and presentation.
func (s *Store) Update(ctx context.Context, c Course) (Course, error) {
	if err := c.Check(); err != nil {
		return Course{}, err
	}
	res, err := s.db.Exec(ctx, "UPDATE courses SET title = ?, summary = ?, updated_at = ? WHERE id = ?", c.Title, c.Summary, s.now().Unix(), c.ID)
	if err != nil {
		return Course{}, fmt.Errorf("courses: update: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Course{}, ErrNotFound
	}
	return s.Course(ctx, c.ID)
}

// Delete removes a course with its chapters and items.
func (s *Store) Delete(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		// Children first: not every database cascades (foreign keys are a
		// pragma in SQLite).
		for _, q := range []string{
			"DELETE FROM course_items WHERE chapter_id IN (SELECT id FROM course_chapters WHERE course_id = ?)",
			"DELETE FROM course_chapters WHERE course_id = ?",
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("courses: delete: %w", err)
			}
		}
		res, err := tx.Exec(ctx, "DELETE FROM courses WHERE id = ?", id)
		if err != nil {
			return fmt.Errorf("courses: delete: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

func (s *Store) touch(ctx context.Context, q db.Querier, course int64) error {
	_, err := q.Exec(ctx, "UPDATE courses SET updated_at = ? WHERE id = ?", s.now().Unix(), course)
	return err
}

// Chapter returns a chapter, without its items.
func (s *Store) Chapter(ctx context.Context, id int64) (Chapter, error) {
	ch := Chapter{Items: []Item{}}
	err := s.db.QueryRow(ctx, "SELECT id, course_id, position, title FROM course_chapters WHERE id = ?", id).
		Scan(&ch.ID, &ch.CourseID, &ch.Position, &ch.Title)
	if errors.Is(err, sql.ErrNoRows) {
		return ch, ErrNotFound
	}
	if err != nil {
		return ch, fmt.Errorf("courses: chapter: %w", err)
	}
	return ch, nil
}

// AddChapter adds a chapter at the end of a course.
func (s *Store) AddChapter(ctx context.Context, course int64, ch Chapter) (Chapter, error) {
	if err := ch.Check(); err != nil {
		return Chapter{}, err
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		ch.ID, err = InsertChapter(ctx, tx, course, ch.Title)
		if err == nil {
			err = s.touch(ctx, tx, course)
		}
		return err
	})
	if err != nil {
		return Chapter{}, err
	}
	return s.Chapter(ctx, ch.ID)
}

// InsertChapter adds a chapter at the end of a course inside the caller's
// transaction.
func InsertChapter(ctx context.Context, q db.Querier, course int64, title string) (int64, error) {
	ch := Chapter{Title: title}
	if err := ch.Check(); err != nil {
		return 0, err
	}
	var n, last int
	if err := q.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM course_chapters WHERE course_id = ?", course).Scan(&n, &last); err != nil {
		return 0, fmt.Errorf("courses: add chapter: %w", err)
	}
	if n >= MaxChapters {
		return 0, invalid("%d chapitres au plus par cours", MaxChapters)
	}
	var id int64
	if err := q.QueryRow(ctx, "INSERT INTO course_chapters (course_id, position, title) VALUES (?, ?, ?) RETURNING id",
		course, last+1, ch.Title).Scan(&id); err != nil {
		return 0, fmt.Errorf("courses: add chapter: %w", err)
	}
	return id, nil
}

// RenameChapter changes a chapter's title.
func (s *Store) RenameChapter(ctx context.Context, id int64, title string) (Chapter, error) {
	ch := Chapter{Title: title}
	if err := ch.Check(); err != nil {
		return Chapter{}, err
	}
	old, err := s.Chapter(ctx, id)
	if err != nil {
		return Chapter{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE course_chapters SET title = ? WHERE id = ?", ch.Title, id); err != nil {
			return fmt.Errorf("courses: rename chapter: %w", err)
		}
		return s.touch(ctx, tx, old.CourseID)
	})
	if err != nil {
		return Chapter{}, err
	}
	return s.Chapter(ctx, id)
}

// DeleteChapter removes a chapter with its items; the chapters after it
// move up.
func (s *Store) DeleteChapter(ctx context.Context, id int64) error {
	ch, err := s.Chapter(ctx, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, q := range []string{"DELETE FROM course_items WHERE chapter_id = ?", "DELETE FROM course_chapters WHERE id = ?"} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("courses: delete chapter: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE course_chapters SET position = position - 1 WHERE course_id = ? AND position > ?",
			ch.CourseID, ch.Position); err != nil {
			return fmt.Errorf("courses: delete chapter: %w", err)
		}
		return s.touch(ctx, tx, ch.CourseID)
	})
}

// reorder sets the positions of the rows of table whose parent column is
// parent to the order of ids, which must list each of them exactly once.
func reorder(ctx context.Context, tx db.Querier, table, parentCol string, parent int64, ids []int64, what string) error {
	rows, err := tx.Query(ctx, "SELECT id FROM "+table+" WHERE "+parentCol+" = ?", parent)
	if err != nil {
		return fmt.Errorf("courses: order: %w", err)
	}
	var have []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		have = append(have, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	slices.Sort(have)
	if !slices.Equal(sorted, have) {
		return invalid("le nouvel ordre doit reprendre chacun des %s une fois", what)
	}
	for i, id := range ids {
		if _, err := tx.Exec(ctx, "UPDATE "+table+" SET position = ? WHERE id = ?", i+1, id); err != nil {
			return fmt.Errorf("courses: order: %w", err)
		}
	}
	return nil
}

// OrderChapters puts a course's chapters in the order of ids.
func (s *Store) OrderChapters(ctx context.Context, course int64, ids []int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := reorder(ctx, tx, "course_chapters", "course_id", course, ids, "chapitres"); err != nil {
			return err
		}
		return s.touch(ctx, tx, course)
	})
}

// Item returns an item.
func (s *Store) Item(ctx context.Context, id int64) (Item, error) {
	return scanItem(s.db.QueryRow(ctx, "SELECT "+itemColumns+" FROM course_items i WHERE i.id = ?", id))
}

// AddItem adds an item at the end of a chapter; it.PublishedAt non-zero
// publishes it at once (now).
func (s *Store) AddItem(ctx context.Context, chapter int64, it Item) (Item, error) {
	ch, err := s.Chapter(ctx, chapter)
	if err != nil {
		return Item{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		it.ID, err = InsertItem(ctx, tx, chapter, it, s.now())
		if err == nil {
			err = s.touch(ctx, tx, ch.CourseID)
		}
		return err
	})
	if err != nil {
		return Item{}, err
	}
	return s.Item(ctx, it.ID)
}

// InsertItem adds an item at the end of a chapter inside the caller's
// transaction; a non-zero it.PublishedAt is replaced by now.
func InsertItem(ctx context.Context, q db.Querier, chapter int64, it Item, now time.Time) (int64, error) {
	if err := it.Check(); err != nil {
		return 0, err
	}
	var n, last int
	if err := q.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MAX(position), 0) FROM course_items WHERE chapter_id = ?", chapter).Scan(&n, &last); err != nil {
		return 0, fmt.Errorf("courses: add item: %w", err)
	}
	if n >= MaxItems {
		return 0, invalid("%d éléments au plus par chapitre", MaxItems)
	}
	if it.PublishedAt != 0 {
		it.PublishedAt = now.Unix()
	}
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO course_items (chapter_id, position, kind, title, body, url, file_id, file_version, file_name,
		file_size, published_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		chapter, last+1, it.Kind, it.Title, it.Body, it.URL, it.FileID, it.Version, it.FileName, it.FileSize, it.PublishedAt,
		now.Unix(), now.Unix()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("courses: add item: %w", err)
	}
	return id, nil
}

// courseOfItem returns the course of an item's chapter.
func courseOfItem(ctx context.Context, q db.Querier, item int64) (int64, error) {
	var course int64
	err := q.QueryRow(ctx, "SELECT h.course_id FROM course_items i JOIN course_chapters h ON h.id = i.chapter_id WHERE i.id = ?", item).Scan(&course)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("courses: item: %w", err)
	}
	return course, nil
}

// UpdateItem changes an item's title and content; its kind, place and
// publication stay.
func (s *Store) UpdateItem(ctx context.Context, it Item) (Item, error) {
	old, err := s.Item(ctx, it.ID)
	if err != nil {
		return Item{}, err
	}
	it.Kind = old.Kind
	if err := it.Check(); err != nil {
		return Item{}, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE course_items SET title = ?, body = ?, url = ?, file_id = ?, file_version = ?, file_name = ?,
			file_size = ?, updated_at = ? WHERE id = ?`, it.Title, it.Body, it.URL, it.FileID, it.Version, it.FileName, it.FileSize,
			s.now().Unix(), it.ID); err != nil {
			return fmt.Errorf("courses: update item: %w", err)
		}
		course, err := courseOfItem(ctx, tx, it.ID)
		if err != nil {
			return err
		}
		return s.touch(ctx, tx, course)
	})
	if err != nil {
		return Item{}, err
	}
	return s.Item(ctx, it.ID)
}

// Publish publishes (or takes back to draft) an item. first reports that
// the item was published for the first time now: the moment to tell the
// class.
func (s *Store) Publish(ctx context.Context, id int64, publish bool) (it Item, first bool, err error) {
	at := int64(0)
	if publish {
		at = s.now().Unix()
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var was, created, updated int64
		err := tx.QueryRow(ctx, "SELECT published_at, created_at, updated_at FROM course_items WHERE id = ?", id).Scan(&was, &created, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("courses: publish: %w", err)
		}
		if (was != 0) == publish {
			return nil // already so: keep the first publication's date
		}
		first = publish
		if _, err := tx.Exec(ctx, "UPDATE course_items SET published_at = ? WHERE id = ?", at, id); err != nil {
			return fmt.Errorf("courses: publish: %w", err)
		}
		course, err := courseOfItem(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.touch(ctx, tx, course)
	})
	if err != nil {
		return Item{}, false, err
	}
	it, err = s.Item(ctx, id)
	return it, first, err
}

// DeleteItem removes an item; the items after it move up.
func (s *Store) DeleteItem(ctx context.Context, id int64) error {
	it, err := s.Item(ctx, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		course, err := courseOfItem(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM course_items WHERE id = ?", id); err != nil {
			return fmt.Errorf("courses: delete item: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE course_items SET position = position - 1 WHERE chapter_id = ? AND position > ?",
			it.ChapterID, it.Position); err != nil {
			return fmt.Errorf("courses: delete item: %w", err)
		}
		return s.touch(ctx, tx, course)
	})
}

// OrderItems puts a chapter's items in the order of ids.
func (s *Store) OrderItems(ctx context.Context, chapter int64, ids []int64) error {
	ch, err := s.Chapter(ctx, chapter)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := reorder(ctx, tx, "course_items", "chapter_id", chapter, ids, "éléments"); err != nil {
			return err
		}
		return s.touch(ctx, tx, ch.CourseID)
	})
}
