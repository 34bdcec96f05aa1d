package files

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"preau/db"
	"preau/identity"
)

// Space kinds.
const (
	Personal  = "personal"
	ClassKind = "class"
	HandIn    = "handin"
)

// Node kinds.
const (
	File   = "file"
	Folder = "folder"
)

// level is what a caller may do with a node or a space root.
type level int

const (
	noAccess level = iota
	readAccess
	writeAccess
)

type space struct {
	ID           int64
	Kind         string
	OwnerID      int64
	ClassID      int64
	AssignmentID int64
	StructureID  int64
}

type node struct {
	ID, SpaceID, ParentID int64
	Name, Kind            string
	OwnerID, VersionID    int64
	Size                  int64
	ContentType           string
	QuotaKind             string
	QuotaID               int64
	CreatedMs, UpdatedMs  int64
	DeletedMs             int64
}

const nodeCols = "id, space_id, parent_id, name, kind, owner_id, version_id, size, content_type, quota_kind, quota_id, created_at_ms, updated_at_ms, deleted_at_ms"

func scanNode(r interface{ Scan(...any) error }, n *node) error {
	return r.Scan(&n.ID, &n.SpaceID, &n.ParentID, &n.Name, &n.Kind, &n.OwnerID, &n.VersionID, &n.Size,
		&n.ContentType, &n.QuotaKind, &n.QuotaID, &n.CreatedMs, &n.UpdatedMs, &n.DeletedMs)
}

func loadNode(ctx context.Context, q db.Querier, id int64) (node, error) {
	var n node
	err := scanNode(q.QueryRow(ctx, "SELECT "+nodeCols+" FROM file_nodes WHERE id = ?", id), &n)
	if errors.Is(err, sql.ErrNoRows) {
		return n, ErrNotFound
	}
	if err != nil {
		return n, fmt.Errorf("files: node %d: %w", id, err)
	}
	return n, nil
}

func loadSpace(ctx context.Context, q db.Querier, id int64) (space, error) {
	var sp space
	err := q.QueryRow(ctx, "SELECT id, kind, owner_id, class_id, assignment_id, structure_id FROM file_spaces WHERE id = ?", id).
		Scan(&sp.ID, &sp.Kind, &sp.OwnerID, &sp.ClassID, &sp.AssignmentID, &sp.StructureID)
	if errors.Is(err, sql.ErrNoRows) {
		return sp, ErrNotFound
	}
	if err != nil {
		return sp, fmt.Errorf("files: space %d: %w", id, err)
	}
	return sp, nil
}

// chain returns the node and its ancestors, the node first.
func chain(ctx context.Context, q db.Querier, n node) ([]node, error) {
	out := []node{n}
	for cur := n; cur.ParentID != 0; {
		if len(out) > maxDepth+1 {
			return nil, fmt.Errorf("files: node %d: folders nested too deep", n.ID)
		}
		p, err := loadNode(ctx, q, cur.ParentID)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		cur = p
	}
	return out, nil
}

// inBin reports whether the node or a folder above it is in the bin.
func inBin(c []node) bool {
	for _, n := range c {
		if n.DeletedMs != 0 {
			return true
		}
	}
	return false
}

func (sp space) target() identity.Target {
	switch sp.Kind {
	case Personal:
		return identity.Target{Person: sp.OwnerID}
	default:
		return identity.Target{Structure: sp.StructureID, Classes: []int64{sp.ClassID}}
	}
}

// rootLevel is what the caller may do at the root of a space, without shares.
// Personal spaces are private whatever the role: only their owner.
// Class spaces follow the File rules on the class. Hand-in spaces follow the
// Assignment rules: teachers of the class (update) write anywhere, pupils
// (read) only reach their own folder (handinLevel).
func rootLevel(p *identity.Principal, sp space) level {
	t := sp.target()
	switch sp.Kind {
	case Personal:
		// Outside the policy table: a person's own space is theirs alone,
		// whatever their role (even the ENT administrator's "all" does not
		// reach into someone else's documents).
		if sp.OwnerID == p.UserID && len(p.Roles) > 0 {
			return writeAccess
		}
	case ClassKind:
		if p.Can(identity.File, identity.Update, t) {
			return writeAccess
		}
		if p.Can(identity.File, identity.Read, t) {
			return readAccess
		}
	case HandIn:
		if p.Can(identity.Assignment, identity.Update, t) {
			return writeAccess
		}
		if p.Can(identity.Assignment, identity.Read, t) {
			return readAccess
		}
	}
	return noAccess
}

// teachesSpace reports whether the caller manages a hand-in space (sees every
// pupil's folder).
func teachesSpace(p *identity.Principal, sp space) bool {
	return sp.Kind == HandIn && rootLevel(p, sp) == writeAccess
}

// nodeLevel is what the caller may do with the node whose chain is c (the
// node first), from the space rules and the shares. It does not look at the
// bin.
func (s *Service) nodeLevel(ctx context.Context, q db.Querier, p *identity.Principal, sp space, c []node) (level, error) {
	lv := rootLevel(p, sp)
	if sp.Kind == HandIn && lv == readAccess {
		// A pupil reaches only the folder made for them (the top of the
		// chain) and writes only what they put there themselves.
		top := c[len(c)-1]
		switch {
		case top.OwnerID != p.UserID || top.Kind != Folder:
			lv = noAccess
		case c[0].OwnerID == p.UserID:
			lv = writeAccess
		}
	}
	if lv == writeAccess {
		return lv, nil
	}
	sh, err := s.shareLevel(ctx, q, p, c)
	if err != nil {
		return noAccess, err
	}
	return max(lv, sh), nil
}

// shareLevel is the best share of the chain with the caller or one of their
// classes.
func (s *Service) shareLevel(ctx context.Context, q db.Querier, p *identity.Principal, c []node) (level, error) {
	best := noAccess
	for _, n := range c {
		rows, err := q.Query(ctx, "SELECT grantee_kind, grantee_id, can_write FROM file_shares WHERE node_id = ?", n.ID)
		if err != nil {
			return noAccess, fmt.Errorf("files: shares: %w", err)
		}
		for rows.Next() {
			var kind string
			var id int64
			var w bool
			if err := rows.Scan(&kind, &id, &w); err != nil {
				rows.Close()
				return noAccess, err
			}
			if (kind == "person" && id == p.UserID) || (kind == "class" && slices.Contains(p.Classes, id)) {
				best = max(best, readAccess)
				if w {
					best = writeAccess
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return noAccess, err
		}
	}
	return best, nil
}

// reach loads a node the caller can at least read, outside the bin:
// anything else is ErrNotFound.
func (s *Service) reach(ctx context.Context, q db.Querier, p *identity.Principal, id int64) (node, space, []node, level, error) {
	n, err := loadNode(ctx, q, id)
	if err != nil {
		return n, space{}, nil, noAccess, err
	}
	c, err := chain(ctx, q, n)
	if err != nil {
		return n, space{}, nil, noAccess, err
	}
	if inBin(c) {
		return n, space{}, nil, noAccess, ErrNotFound
	}
	sp, err := loadSpace(ctx, q, n.SpaceID)
	if err != nil {
		return n, sp, nil, noAccess, err
	}
	lv, err := s.nodeLevel(ctx, q, p, sp, c)
	if err != nil {
		return n, sp, nil, noAccess, err
	}
	if lv == noAccess {
		return n, sp, nil, noAccess, ErrNotFound
	}
	return n, sp, c, lv, nil
}

// reachWrite is reach for a change: read-only is ErrForbidden.
func (s *Service) reachWrite(ctx context.Context, q db.Querier, p *identity.Principal, id int64) (node, space, []node, error) {
	n, sp, c, lv, err := s.reach(ctx, q, p, id)
	if err == nil && lv < writeAccess {
		err = ErrForbidden
	}
	return n, sp, c, err
}

// folderTarget resolves where something is put: the root of a space
// (folderID 0) or a live folder in it. It returns the space and the level
// the caller has there.
func (s *Service) folderTarget(ctx context.Context, q db.Querier, p *identity.Principal, spaceID, folderID int64) (space, []node, level, error) {
	if folderID == 0 {
		sp, err := loadSpace(ctx, q, spaceID)
		if err != nil {
			return sp, nil, noAccess, err
		}
		// Pupils reach the root of a hand-in space read-only: they put
		// things in their own folder only.
		lv := rootLevel(p, sp)
		if lv == noAccess {
			return sp, nil, noAccess, ErrNotFound
		}
		return sp, nil, lv, nil
	}
	n, sp, c, lv, err := s.reach(ctx, q, p, folderID)
	if err != nil {
		return sp, nil, noAccess, err
	}
	if spaceID != 0 && n.SpaceID != spaceID {
		return sp, nil, noAccess, ErrNotFound
	}
	if n.Kind != Folder {
		return sp, nil, noAccess, fmt.Errorf("%w: not a folder", ErrInvalid)
	}
	if sp.Kind == HandIn && lv == writeAccess && !teachesSpace(p, sp) && n.OwnerID != p.UserID {
		// Pupils write in their own folder, not in a folder the teacher made.
		lv = readAccess
	}
	return sp, c, lv, nil
}

// quotaAccount is the account a new node in the space is charged to: the
// owner of a personal space (also for what others put in a folder shared
// with them), the class of a class space, the person who hands in.
func quotaAccount(sp space, p *identity.Principal) (string, int64) {
	switch sp.Kind {
	case Personal:
		return "person", sp.OwnerID
	case ClassKind:
		return "class", sp.ClassID
	}
	return "person", p.UserID
}
