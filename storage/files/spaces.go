package files

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// Space is a tree of folders and files: "Mes documents", a class's space or
// an assignment's hand-in space.
type Space struct {
	ID           int64  `json:"id"`
	Kind         string `json:"kind"` // personal | class | handin
	Name         string `json:"name"`
	ClassID      int64  `json:"class_id,omitempty"`
	AssignmentID int64  `json:"assignment_id,omitempty"`
	// CanWrite: the caller may add at the root.
	CanWrite bool `json:"can_write"`
}

// Node is a file or a folder as the caller sees it.
type Node struct {
	ID          int64      `json:"id"`
	SpaceID     int64      `json:"space_id"`
	ParentID    int64      `json:"parent_id"`
	Name        string     `json:"name"`
	Kind        string     `json:"kind"` // file | folder
	OwnerID     int64      `json:"owner_id"`
	Size        int64      `json:"size"`
	ContentType string     `json:"content_type,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
	// CanWrite: the caller may rename, move, replace or delete it.
	CanWrite bool `json:"can_write"`
	// Inline: its content may be shown in the page (image or PDF).
	Inline bool `json:"inline"`
}

func (n node) public(lv level) Node {
	out := Node{ID: n.ID, SpaceID: n.SpaceID, ParentID: n.ParentID, Name: n.Name, Kind: n.Kind, OwnerID: n.OwnerID,
		Size: n.Size, ContentType: n.ContentType, CreatedAt: ms(n.CreatedMs), UpdatedAt: ms(n.UpdatedMs),
		CanWrite: lv == writeAccess, Inline: n.Kind == File && Inline(n.ContentType)}
	if n.DeletedMs != 0 {
		t := ms(n.DeletedMs)
		out.DeletedAt = &t
	}
	return out
}

// Listing is one folder (or a space's root) and what it holds.
type Listing struct {
	Space    Space  `json:"space"`
	Folder   *Node  `json:"folder,omitempty"` // nil at the root
	Path     []Node `json:"path"`             // from the root down to Folder
	Children []Node `json:"children"`         // folders first, then by name
	CanWrite bool   `json:"can_write"`        // the caller may add here
}

// ensureSpace returns the id of a space, making it on first use.
func (s *Service) ensureSpace(ctx context.Context, q db.Querier, sp space) (int64, error) {
	const find = "SELECT id FROM file_spaces WHERE kind = ? AND owner_id = ? AND class_id = ? AND assignment_id = ?"
	var id int64
	// Read first: pages ask on every view, and a read takes no write lock.
	if err := q.QueryRow(ctx, find, sp.Kind, sp.OwnerID, sp.ClassID, sp.AssignmentID).Scan(&id); err == nil {
		return id, nil
	}
	if _, err := q.Exec(ctx, `INSERT INTO file_spaces (kind, owner_id, class_id, assignment_id, structure_id, created_at_ms)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, sp.Kind, sp.OwnerID, sp.ClassID, sp.AssignmentID, sp.StructureID, s.nowMs()); err != nil {
		return 0, fmt.Errorf("files: make space: %w", err)
	}
	if err := q.QueryRow(ctx, find, sp.Kind, sp.OwnerID, sp.ClassID, sp.AssignmentID).Scan(&id); err != nil {
		return 0, fmt.Errorf("files: space: %w", err)
	}
	return id, nil
}

// PersonalSpace returns the caller's own space ("Mes documents").
func (s *Service) PersonalSpace(ctx context.Context, p *identity.Principal) (Space, error) {
	id, err := s.ensureSpace(ctx, s.db, space{Kind: Personal, OwnerID: p.UserID})
	if err != nil {
		return Space{}, err
	}
	return Space{ID: id, Kind: Personal, Name: "Mes documents", CanWrite: true}, nil
}

// ClassSpace returns the space of a class the caller can read.
func (s *Service) ClassSpace(ctx context.Context, p *identity.Principal, classID int64) (Space, error) {
	c, err := s.dir.Class(ctx, classID)
	if errors.Is(err, directory.ErrNotFound) {
		return Space{}, ErrNotFound
	}
	if err != nil {
		return Space{}, err
	}
	sp := space{Kind: ClassKind, ClassID: c.ID, StructureID: c.StructureID}
	lv := rootLevel(p, sp)
	if lv == noAccess {
		return Space{}, ErrNotFound
	}
	if sp.ID, err = s.ensureSpace(ctx, s.db, sp); err != nil {
		return Space{}, err
	}
	return Space{ID: sp.ID, Kind: ClassKind, Name: "Classe " + c.Name, ClassID: c.ID, CanWrite: lv == writeAccess}, nil
}

// Spaces lists the spaces of the caller's tree: their own, then those of
// their classes (made on first visit).
func (s *Service) Spaces(ctx context.Context, p *identity.Principal) ([]Space, error) {
	own, err := s.PersonalSpace(ctx, p)
	if err != nil {
		return nil, err
	}
	out := []Space{own}
	var classes []Space
	for _, id := range p.Classes {
		sp, err := s.ClassSpace(ctx, p, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		classes = append(classes, sp)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i].Name < classes[j].Name })
	return append(out, classes...), nil
}

// space describes a space the caller reaches at its root (a pupil reaches
// the root of a hand-in space, where they see only their own folder).
func (s *Service) describe(ctx context.Context, p *identity.Principal, sp space) (Space, error) {
	lv := rootLevel(p, sp)
	out := Space{ID: sp.ID, Kind: sp.Kind, ClassID: sp.ClassID, AssignmentID: sp.AssignmentID}
	switch sp.Kind {
	case Personal:
		out.Name = "Mes documents"
		if sp.OwnerID != p.UserID {
			if owner, err := s.dir.Person(ctx, sp.OwnerID); err == nil {
				out.Name = "Documents de " + owner.FullName()
			}
		}
	case ClassKind:
		if c, err := s.dir.Class(ctx, sp.ClassID); err == nil {
			out.Name = "Classe " + c.Name
		}
	case HandIn:
		var title string
		if err := s.db.QueryRow(ctx, "SELECT title FROM file_assignments WHERE id = ?", sp.AssignmentID).Scan(&title); err == nil {
			out.Name = "Rendu : " + title
		}
	}
	out.CanWrite = lv == writeAccess
	return out, nil
}

// List returns a folder of a space (folderID 0: its root) with what it
// holds. A folder reached only through a share lists fine; a space whose
// root the caller cannot reach is ErrNotFound.
func (s *Service) List(ctx context.Context, p *identity.Principal, spaceID, folderID int64) (Listing, error) {
	sp, c, lv, err := s.folderTarget(ctx, s.db, p, spaceID, folderID)
	if err != nil {
		return Listing{}, err
	}
	if folderID == 0 && sp.ID != spaceID {
		return Listing{}, ErrNotFound
	}
	var out Listing
	if out.Space, err = s.describe(ctx, p, sp); err != nil {
		return out, err
	}
	out.CanWrite = lv == writeAccess
	if len(c) > 0 {
		f := c[0].public(lv)
		out.Folder = &f
		for i := len(c) - 1; i >= 0; i-- {
			out.Path = append(out.Path, c[i].public(readAccess))
		}
	}
	rows, err := s.db.Query(ctx, "SELECT "+nodeCols+" FROM file_nodes WHERE space_id = ? AND parent_id = ? AND deleted_at_ms = 0",
		sp.ID, folderID)
	if err != nil {
		return out, fmt.Errorf("files: list: %w", err)
	}
	var kids []node
	for rows.Next() {
		var n node
		if err := scanNode(rows, &n); err != nil {
			rows.Close()
			return out, err
		}
		kids = append(kids, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	out.Children = []Node{}
	for _, k := range kids {
		klv := lv
		switch {
		case sp.Kind == HandIn:
			// A pupil sees only their own folder (nodeLevel knows).
			klv, err = s.nodeLevel(ctx, s.db, p, sp, append([]node{k}, c...))
		case lv < writeAccess:
			// lv already holds the shares of the folders above; a share
			// of the child itself may add to it.
			var sh level
			sh, err = s.shareLevel(ctx, s.db, p, []node{k})
			klv = max(lv, sh)
		}
		if err != nil {
			return out, err
		}
		if klv == noAccess {
			continue
		}
		out.Children = append(out.Children, k.public(klv))
	}
	sortNodes(out.Children)
	return out, nil
}

func sortNodes(ns []Node) {
	slices.SortFunc(ns, func(a, b Node) int {
		if a.Kind != b.Kind {
			if a.Kind == Folder {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}

// Get returns one node the caller can read.
func (s *Service) Get(ctx context.Context, p *identity.Principal, id int64) (Node, error) {
	n, _, _, lv, err := s.reach(ctx, s.db, p, id)
	if err != nil {
		return Node{}, err
	}
	return n.public(lv), nil
}
