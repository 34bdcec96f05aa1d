package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
)

// Share gives a person or a class access to a node and what it holds.
type Share struct {
	NodeID      int64     `json:"node_id"`
	GranteeKind string    `json:"grantee_kind"` // person | class
	GranteeID   int64     `json:"grantee_id"`
	GranteeName string    `json:"grantee_name"`
	Write       bool      `json:"write"`
	CreatedAt   time.Time `json:"created_at"`
}

// canShare: sharing is for those who manage the space (its owner, the
// class's teachers), not for hand-ins.
func (s *Service) canShare(ctx context.Context, q db.Querier, p *identity.Principal, id int64) (node, error) {
	n, sp, _, lv, err := s.reach(ctx, q, p, id)
	if err != nil {
		return n, err
	}
	if sp.Kind == HandIn || rootLevel(p, sp) < writeAccess {
		if lv >= readAccess {
			return n, ErrForbidden
		}
		return n, ErrNotFound
	}
	return n, nil
}

// SetShare shares a node with a person the caller may see in the directory,
// or with a class they may see; write lets the grantee add, rename, replace
// and delete below it. Setting it again changes write.
func (s *Service) SetShare(ctx context.Context, p *identity.Principal, id int64, kind string, granteeID int64, write bool) (Share, error) {
	n, err := s.canShare(ctx, s.db, p, id)
	if err != nil {
		return Share{}, err
	}
	sh := Share{NodeID: n.ID, GranteeKind: kind, GranteeID: granteeID, Write: write, CreatedAt: s.cfg.Now().UTC()}
	switch kind {
	case "person":
		ok, err := s.dir.CanSeePerson(ctx, p, identity.Read, granteeID)
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return Share{}, err
		}
		if !ok || granteeID == p.UserID {
			return Share{}, fmt.Errorf("%w: person %d", ErrInvalid, granteeID)
		}
	case "class":
		c, err := s.dir.Class(ctx, granteeID)
		if err != nil || !p.Can(identity.Class, identity.Read, identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}}) {
			return Share{}, fmt.Errorf("%w: class %d", ErrInvalid, granteeID)
		}
	default:
		return Share{}, fmt.Errorf("%w: share kind %q", ErrInvalid, kind)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM file_shares WHERE node_id = ? AND grantee_kind = ? AND grantee_id = ?", n.ID, kind, granteeID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO file_shares (node_id, grantee_kind, grantee_id, can_write, created_by, created_at_ms)
			VALUES (?, ?, ?, ?, ?, ?)`, n.ID, kind, granteeID, write, p.UserID, s.nowMs())
		return err
	})
	if err != nil {
		return Share{}, fmt.Errorf("files: share: %w", err)
	}
	sh.GranteeName = s.granteeName(ctx, kind, granteeID)
	return sh, nil
}

// RemoveShare ends a share.
func (s *Service) RemoveShare(ctx context.Context, p *identity.Principal, id int64, kind string, granteeID int64) error {
	n, err := s.canShare(ctx, s.db, p, id)
	if err != nil {
		return err
	}
	_, err = s.db.Exec(ctx, "DELETE FROM file_shares WHERE node_id = ? AND grantee_kind = ? AND grantee_id = ?", n.ID, kind, granteeID)
	return err
}

// Shares lists the shares of a node, for those who may share it.
func (s *Service) Shares(ctx context.Context, p *identity.Principal, id int64) ([]Share, error) {
	n, err := s.canShare(ctx, s.db, p, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT grantee_kind, grantee_id, can_write, created_at_ms FROM file_shares WHERE node_id = ? ORDER BY created_at_ms", n.ID)
	if err != nil {
		return nil, err
	}
	out := []Share{}
	for rows.Next() {
		sh := Share{NodeID: n.ID}
		var at int64
		if err := rows.Scan(&sh.GranteeKind, &sh.GranteeID, &sh.Write, &at); err != nil {
			rows.Close()
			return nil, err
		}
		sh.CreatedAt = ms(at)
		out = append(out, sh)
	}
	rows.Close()
	for i := range out {
		out[i].GranteeName = s.granteeName(ctx, out[i].GranteeKind, out[i].GranteeID)
	}
	return out, nil
}

func (s *Service) granteeName(ctx context.Context, kind string, id int64) string {
	if kind == "class" {
		if c, err := s.dir.Class(ctx, id); err == nil {
			return c.Name
		}
		return ""
	}
	if pr, err := s.dir.Person(ctx, id); err == nil {
		return pr.FullName()
	}
	return ""
}

// SharedWithMe lists the nodes shared with the caller or their classes,
// outside the bin.
func (s *Service) SharedWithMe(ctx context.Context, p *identity.Principal) ([]Node, error) {
	q := "SELECT DISTINCT node_id FROM file_shares WHERE (grantee_kind = 'person' AND grantee_id = ?)"
	args := []any{p.UserID}
	for _, c := range p.Classes {
		q += " OR (grantee_kind = 'class' AND grantee_id = ?)"
		args = append(args, c)
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("files: shared with me: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	out := []Node{}
	for _, id := range ids {
		n, err := s.Get(ctx, p, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n.OwnerID == p.UserID {
			continue // shared by me with a class I am in
		}
		out = append(out, n)
	}
	sortNodes(out)
	return out, nil
}
