package files

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// Assignment is work a teacher asks a class to hand in by a date. Its
// hand-in space holds one folder per pupil, made when the pupil first opens
// it; the teacher returns a corrected file by putting it in that folder.
type Assignment struct {
	ID           int64     `json:"id"`
	ClassID      int64     `json:"class_id"`
	ClassName    string    `json:"class_name"`
	Title        string    `json:"title"`
	Instructions string    `json:"instructions"`
	DueAt        time.Time `json:"due_at"`
	CreatedBy    int64     `json:"created_by"`
	SpaceID      int64     `json:"space_id"`
	// Teacher: the caller manages it (sees every hand-in).
	Teacher bool `json:"teacher"`
	// HandedIn (pupils): the caller's folder holds a file of theirs.
	HandedIn bool `json:"handed_in"`
}

// HandInStatus is one pupil's hand-in, as the teacher sees it.
type HandInStatus struct {
	PupilID  int64      `json:"pupil_id"`
	Name     string     `json:"name"`
	FolderID int64      `json:"folder_id,omitempty"`
	Files    int        `json:"files"`    // files the pupil put there
	Returned int        `json:"returned"` // files the teachers put there
	LastAt   *time.Time `json:"last_at,omitempty"`
	Late     bool       `json:"late"`
}

func (s *Service) classTarget(ctx context.Context, classID int64) (directory.Class, identity.Target, error) {
	c, err := s.dir.Class(ctx, classID)
	if errors.Is(err, directory.ErrNotFound) {
		return c, identity.Target{}, ErrNotFound
	}
	if err != nil {
		return c, identity.Target{}, err
	}
	return c, identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}}, nil
}

// CreateAssignment sets an assignment for a class the caller teaches.
func (s *Service) CreateAssignment(ctx context.Context, p *identity.Principal, classID int64, title, instructions string, due time.Time) (Assignment, error) {
	c, t, err := s.classTarget(ctx, classID)
	if err != nil {
		return Assignment{}, err
	}
	if !p.Can(identity.Assignment, identity.Create, t) {
		return Assignment{}, ErrNotFound
	}
	title = strings.TrimSpace(title)
	if title == "" || utf8.RuneCountInString(title) > 200 || utf8.RuneCountInString(instructions) > 5000 || due.IsZero() {
		return Assignment{}, fmt.Errorf("%w: title (1–200 characters), instructions (≤ 5,000) and due date required", ErrInvalid)
	}
	a := Assignment{ClassID: c.ID, ClassName: c.Name, Title: title, Instructions: instructions, DueAt: due.UTC(), CreatedBy: p.UserID, Teacher: true}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO file_assignments (class_id, structure_id, title, instructions, due_at_ms, created_by, created_at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.ID, c.StructureID, title, instructions, due.UnixMilli(), p.UserID, s.nowMs()).Scan(&a.ID); err != nil {
			return fmt.Errorf("files: create assignment: %w", err)
		}
		var err error
		a.SpaceID, err = s.ensureSpace(ctx, tx, space{Kind: HandIn, ClassID: c.ID, AssignmentID: a.ID, StructureID: c.StructureID})
		return err
	})
	return a, err
}

// Assignments lists the assignments of a class the caller is in or teaches,
// latest due first.
func (s *Service) Assignments(ctx context.Context, p *identity.Principal, classID int64) ([]Assignment, error) {
	c, t, err := s.classTarget(ctx, classID)
	if err != nil {
		return nil, err
	}
	if !p.Can(identity.Assignment, identity.Read, t) {
		return nil, ErrNotFound
	}
	teacher := p.Can(identity.Assignment, identity.Update, t)
	rows, err := s.db.Query(ctx, `SELECT a.id, a.title, a.instructions, a.due_at_ms, a.created_by, sp.id
		FROM file_assignments a JOIN file_spaces sp ON sp.kind = 'handin' AND sp.assignment_id = a.id
		WHERE a.class_id = ? ORDER BY a.due_at_ms DESC, a.id DESC`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("files: assignments: %w", err)
	}
	out := []Assignment{}
	for rows.Next() {
		a := Assignment{ClassID: c.ID, ClassName: c.Name, Teacher: teacher}
		var due int64
		if err := rows.Scan(&a.ID, &a.Title, &a.Instructions, &due, &a.CreatedBy, &a.SpaceID); err != nil {
			rows.Close()
			return nil, err
		}
		a.DueAt = ms(due)
		out = append(out, a)
	}
	rows.Close()
	if !teacher {
		for i := range out {
			var n int
			if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM file_nodes f JOIN file_nodes d ON d.id = f.parent_id
				WHERE f.space_id = ? AND d.parent_id = 0 AND d.owner_id = ? AND f.owner_id = ? AND f.kind = 'file' AND f.deleted_at_ms = 0 AND d.deleted_at_ms = 0`,
				out[i].SpaceID, p.UserID, p.UserID).Scan(&n); err != nil {
				return nil, err
			}
			out[i].HandedIn = n > 0
		}
	}
	return out, nil
}

// assignment loads one assignment the caller reaches.
func (s *Service) assignment(ctx context.Context, p *identity.Principal, id int64) (Assignment, space, error) {
	var a Assignment
	var due int64
	err := s.db.QueryRow(ctx, "SELECT id, class_id, title, instructions, due_at_ms, created_by FROM file_assignments WHERE id = ?", id).
		Scan(&a.ID, &a.ClassID, &a.Title, &a.Instructions, &due, &a.CreatedBy)
	if err != nil {
		return a, space{}, ErrNotFound
	}
	a.DueAt = ms(due)
	c, t, err := s.classTarget(ctx, a.ClassID)
	if err != nil {
		return a, space{}, err
	}
	if !p.Can(identity.Assignment, identity.Read, t) {
		return a, space{}, ErrNotFound
	}
	a.ClassName, a.Teacher = c.Name, p.Can(identity.Assignment, identity.Update, t)
	sp := space{Kind: HandIn, ClassID: c.ID, AssignmentID: a.ID, StructureID: c.StructureID}
	if sp.ID, err = s.ensureSpace(ctx, s.db, sp); err != nil {
		return a, sp, err
	}
	a.SpaceID = sp.ID
	return a, sp, nil
}

// GetAssignment returns one assignment the caller reaches.
func (s *Service) GetAssignment(ctx context.Context, p *identity.Principal, id int64) (Assignment, error) {
	a, _, err := s.assignment(ctx, p, id)
	return a, err
}

// HandInFolder returns the caller's own hand-in folder of an assignment,
// made on first use; pupils upload their work into it.
func (s *Service) HandInFolder(ctx context.Context, p *identity.Principal, assignmentID int64) (Node, error) {
	a, sp, err := s.assignment(ctx, p, assignmentID)
	if err != nil {
		return Node{}, err
	}
	if a.Teacher {
		return Node{}, fmt.Errorf("%w: teachers hand nothing in", ErrInvalid)
	}
	var out Node
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n node
		err := scanNode(tx.QueryRow(ctx, "SELECT "+nodeCols+` FROM file_nodes WHERE space_id = ? AND parent_id = 0 AND owner_id = ?
			AND kind = 'folder' AND deleted_at_ms = 0`, sp.ID, p.UserID), &n)
		if err == nil {
			out = n.public(writeAccess)
			return nil
		}
		name := "Élève " + fmt.Sprint(p.UserID)
		if pr, err := s.dir.Person(ctx, p.UserID); err == nil {
			if name, err = CleanName(pr.LastName + " " + pr.FirstName); err != nil {
				name = "Élève " + fmt.Sprint(p.UserID)
			}
		}
		if name, err = freeName(ctx, tx, sp.ID, 0, name); err != nil {
			return err
		}
		now := s.nowMs()
		n = node{SpaceID: sp.ID, Name: name, Kind: Folder, OwnerID: p.UserID, QuotaKind: "person", QuotaID: p.UserID, CreatedMs: now, UpdatedMs: now}
		if n.ID, err = s.insertNode(ctx, tx, n); err != nil {
			return err
		}
		out = n.public(writeAccess)
		return nil
	})
	return out, err
}

// HandIns lists every pupil of the class with their hand-in, for the
// assignment's teachers: who handed in, when, late or not, and who has not.
func (s *Service) HandIns(ctx context.Context, p *identity.Principal, assignmentID int64) ([]HandInStatus, error) {
	a, sp, err := s.assignment(ctx, p, assignmentID)
	if err != nil {
		return nil, err
	}
	if !a.Teacher {
		return nil, ErrNotFound
	}
	pupils, err := s.dir.ClassPupils(ctx, a.ClassID)
	if err != nil {
		return nil, err
	}
	out := make([]HandInStatus, 0, len(pupils))
	for _, pu := range pupils {
		h := HandInStatus{PupilID: pu.ID, Name: pu.LastName + " " + pu.FirstName}
		err := s.db.QueryRow(ctx, "SELECT id FROM file_nodes WHERE space_id = ? AND parent_id = 0 AND owner_id = ? AND kind = 'folder' AND deleted_at_ms = 0",
			sp.ID, pu.ID).Scan(&h.FolderID)
		if err == nil {
			var last int64
			if err := s.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(updated_at_ms), 0) FROM file_nodes
				WHERE parent_id = ? AND owner_id = ? AND kind = 'file' AND deleted_at_ms = 0`, h.FolderID, pu.ID).Scan(&h.Files, &last); err != nil {
				return nil, err
			}
			if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM file_nodes WHERE parent_id = ? AND owner_id <> ? AND kind = 'file' AND deleted_at_ms = 0`,
				h.FolderID, pu.ID).Scan(&h.Returned); err != nil {
				return nil, err
			}
			if last != 0 {
				t := ms(last)
				h.LastAt, h.Late = &t, t.After(a.DueAt)
			}
		} else if !isNoRows(err) {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}
