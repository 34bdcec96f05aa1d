package files

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"preau/db"
	"preau/identity"
)

// insertNode adds a node; a name already taken in the folder is ErrExists.
func (s *Service) insertNode(ctx context.Context, q db.Querier, n node) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO file_nodes (space_id, parent_id, name, kind, owner_id, quota_kind, quota_id,
		content_type, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		n.SpaceID, n.ParentID, n.Name, n.Kind, n.OwnerID, n.QuotaKind, n.QuotaID, n.ContentType, n.CreatedMs, n.CreatedMs).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("files: insert node: %w", err)
	}
	return id, nil
}

// childByName finds a live child of a folder by name.
func childByName(ctx context.Context, q db.Querier, spaceID, parentID int64, name string) (node, error) {
	var n node
	err := scanNode(q.QueryRow(ctx, "SELECT "+nodeCols+` FROM file_nodes
		WHERE space_id = ? AND parent_id = ? AND name = ? AND deleted_at_ms = 0`, spaceID, parentID, name), &n)
	if err != nil {
		return n, ErrNotFound
	}
	return n, nil
}

// CreateFolder makes a folder in a space (parentID 0: at its root).
func (s *Service) CreateFolder(ctx context.Context, p *identity.Principal, spaceID, parentID int64, name string) (Node, error) {
	name, err := CleanName(name)
	if err != nil {
		return Node{}, err
	}
	var out Node
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		sp, c, lv, err := s.folderTarget(ctx, tx, p, spaceID, parentID)
		if err != nil {
			return err
		}
		if lv < writeAccess {
			return ErrForbidden
		}
		if len(c) >= maxDepth {
			return fmt.Errorf("%w: folders nested too deep", ErrInvalid)
		}
		qk, qid := quotaAccount(sp, p)
		now := s.nowMs()
		n := node{SpaceID: sp.ID, ParentID: parentID, Name: name, Kind: Folder, OwnerID: p.UserID, QuotaKind: qk, QuotaID: qid, CreatedMs: now, UpdatedMs: now}
		if n.ID, err = s.insertNode(ctx, tx, n); err != nil {
			return err
		}
		out = n.public(writeAccess)
		return nil
	})
	return out, err
}

// Rename gives a node a new name in the same folder.
func (s *Service) Rename(ctx context.Context, p *identity.Principal, id int64, name string) (Node, error) {
	name, err := CleanName(name)
	if err != nil {
		return Node{}, err
	}
	var out Node
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		n, sp, _, err := s.reachWrite(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := checkHandInTop(p, n, sp); err != nil {
			return err
		}
		n.Name, n.UpdatedMs = name, s.nowMs()
		_, err = tx.Exec(ctx, "UPDATE file_nodes SET name = ?, updated_at_ms = ? WHERE id = ?", n.Name, n.UpdatedMs, n.ID)
		if db.IsUniqueViolation(err) {
			return ErrExists
		}
		if err != nil {
			return fmt.Errorf("files: rename: %w", err)
		}
		out = n.public(writeAccess)
		return nil
	})
	return out, err
}

// checkHandInTop keeps a pupil's hand-in folder where the service made it: a
// pupil may not rename, move or delete the folder itself.
func checkHandInTop(p *identity.Principal, n node, sp space) error {
	if sp.Kind == HandIn && n.ParentID == 0 && !teachesSpace(p, sp) {
		return ErrForbidden
	}
	return nil
}

// Move puts a node in another folder of the same space (toFolder 0: the
// root). Between spaces, Copy then Delete: quotas are per space.
func (s *Service) Move(ctx context.Context, p *identity.Principal, id, toFolder int64) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n, sp, _, err := s.reachWrite(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := checkHandInTop(p, n, sp); err != nil {
			return err
		}
		tsp, tc, lv, err := s.folderTarget(ctx, tx, p, sp.ID, toFolder)
		if err != nil {
			return err
		}
		if tsp.ID != sp.ID {
			return fmt.Errorf("%w: across spaces", ErrBadMove)
		}
		if lv < writeAccess {
			return ErrForbidden
		}
		for _, a := range tc {
			if a.ID == n.ID {
				return fmt.Errorf("%w: into itself", ErrBadMove)
			}
		}
		n.ParentID, n.UpdatedMs = toFolder, s.nowMs()
		_, err = tx.Exec(ctx, "UPDATE file_nodes SET parent_id = ?, updated_at_ms = ? WHERE id = ?", n.ParentID, n.UpdatedMs, n.ID)
		if db.IsUniqueViolation(err) {
			return ErrExists
		}
		if err != nil {
			return fmt.Errorf("files: move: %w", err)
		}
		out = n.public(writeAccess)
		return nil
	})
	return out, err
}

// Copy copies a file or a folder (with what it holds, at most 1,000 nodes)
// into a folder of any space the caller writes to, under the same name or
// the next free "name (2)". Contents are copied by the store (server-side
// on S3) before the rows commit; the copy is charged to the target's quota.
func (s *Service) Copy(ctx context.Context, p *identity.Principal, id, toSpace, toFolder int64) (Node, error) {
	src, _, _, _, err := s.reach(ctx, s.db, p, id)
	if err != nil {
		return Node{}, err
	}
	tsp, _, lv, err := s.folderTarget(ctx, s.db, p, toSpace, toFolder)
	if err != nil {
		return Node{}, err
	}
	if lv < writeAccess {
		return Node{}, ErrForbidden
	}
	// Gather the subtree and its current versions.
	type item struct {
		n          node
		key, ctype string
		sha        string
		size       int64
		newKey     string
	}
	var items []item
	var walk func(n node) error
	walk = func(n node) error {
		if len(items) >= maxCopyNodes {
			return fmt.Errorf("%w: more than %d items to copy", ErrTooLarge, maxCopyNodes)
		}
		it := item{n: n}
		if n.Kind == File {
			if err := s.db.QueryRow(ctx, "SELECT storage_key, content_type, sha256, size FROM file_versions WHERE id = ?", n.VersionID).
				Scan(&it.key, &it.ctype, &it.sha, &it.size); err != nil {
				return fmt.Errorf("files: copy %d: %w", n.ID, err)
			}
		}
		items = append(items, it)
		if n.Kind != Folder {
			return nil
		}
		rows, err := s.db.Query(ctx, "SELECT "+nodeCols+" FROM file_nodes WHERE parent_id = ? AND space_id = ? AND deleted_at_ms = 0", n.ID, n.SpaceID)
		if err != nil {
			return err
		}
		var kids []node
		for rows.Next() {
			var k node
			if err := scanNode(rows, &k); err != nil {
				rows.Close()
				return err
			}
			kids = append(kids, k)
		}
		rows.Close()
		for _, k := range kids {
			if err := walk(k); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(src); err != nil {
		return Node{}, err
	}
	var made []string
	var total int64
	for i := range items {
		if items[i].n.Kind != File {
			continue
		}
		k := newKey()
		if err := s.store.Copy(ctx, k, items[i].key); err != nil {
			s.dropKeys(made...)
			return Node{}, storeErr("copy", err)
		}
		made = append(made, k)
		items[i].newKey = k
		total += items[i].size
	}
	var out Node
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		qk, qid := quotaAccount(tsp, p)
		if err := s.charge(ctx, tx, qk, qid, total); err != nil {
			return err
		}
		now := s.nowMs()
		newID := map[int64]int64{}
		for i, it := range items {
			parent := toFolder
			name := it.n.Name
			if i > 0 {
				parent = newID[it.n.ParentID]
			} else if name, err = freeName(ctx, tx, tsp.ID, toFolder, name); err != nil {
				return err
			}
			n := node{SpaceID: tsp.ID, ParentID: parent, Name: name, Kind: it.n.Kind, OwnerID: p.UserID, QuotaKind: qk, QuotaID: qid,
				ContentType: it.ctype, CreatedMs: now, UpdatedMs: now}
			id, err := s.insertNode(ctx, tx, n)
			if err != nil {
				return err
			}
			newID[it.n.ID] = id
			n.ID = id
			if it.n.Kind == File {
				vid, err := insertVersion(ctx, tx, id, 1, it.newKey, it.size, it.sha, it.ctype, now, p.UserID)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, "UPDATE file_nodes SET version_id = ?, size = ? WHERE id = ?", vid, it.size, id); err != nil {
					return err
				}
				n.VersionID, n.Size = vid, it.size
			}
			if i == 0 {
				out = n.public(writeAccess)
			}
		}
		return nil
	})
	if err != nil {
		s.dropKeys(made...)
		return Node{}, err
	}
	return out, nil
}

// freeName returns name, or "name (2)", "name (3)"… the first one free in
// the folder (the number goes before the extension).
func freeName(ctx context.Context, q db.Querier, spaceID, parentID int64, name string) (string, error) {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		base, ext = name[:i], name[i:]
	}
	for i := 1; i < 1000; i++ {
		cand := name
		if i > 1 {
			cand = base + " (" + strconv.Itoa(i) + ")" + ext
		}
		if len(cand) > MaxNameBytes {
			break
		}
		if _, err := childByName(ctx, q, spaceID, parentID, cand); errors.Is(err, ErrNotFound) {
			return cand, nil
		}
	}
	return "", ErrExists
}

// Delete puts a node (and what it holds) in the bin of its space, from
// which Restore takes it back for BinRetention (30 days by default).
func (s *Service) Delete(ctx context.Context, p *identity.Principal, id int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		n, sp, _, err := s.reachWrite(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := checkHandInTop(p, n, sp); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE file_nodes SET deleted_at_ms = ?, deleted_by = ? WHERE id = ?", s.nowMs(), p.UserID, n.ID)
		return err
	})
}

// binReach loads a node that is itself in the bin and whose space the
// caller writes to (or that they deleted through a share).
func (s *Service) binReach(ctx context.Context, q db.Querier, p *identity.Principal, id int64) (node, space, error) {
	n, err := loadNode(ctx, q, id)
	if err != nil {
		return n, space{}, err
	}
	if n.DeletedMs == 0 {
		return n, space{}, ErrNotFound
	}
	sp, err := loadSpace(ctx, q, n.SpaceID)
	if err != nil {
		return n, sp, err
	}
	c, err := chain(ctx, q, n)
	if err != nil {
		return n, sp, err
	}
	lv, err := s.nodeLevel(ctx, q, p, sp, c)
	if err != nil {
		return n, sp, err
	}
	if lv < writeAccess {
		return n, sp, ErrNotFound
	}
	return n, sp, nil
}

// Bin lists what was deleted in a space, newest first, for those who write
// there.
func (s *Service) Bin(ctx context.Context, p *identity.Principal, spaceID int64) ([]Node, error) {
	rows, err := s.db.Query(ctx, "SELECT "+nodeCols+" FROM file_nodes WHERE space_id = ? AND deleted_at_ms <> 0 ORDER BY deleted_at_ms DESC", spaceID)
	if err != nil {
		return nil, fmt.Errorf("files: bin: %w", err)
	}
	var ns []node
	for rows.Next() {
		var n node
		if err := scanNode(rows, &n); err != nil {
			rows.Close()
			return nil, err
		}
		ns = append(ns, n)
	}
	rows.Close()
	out := []Node{}
	for _, n := range ns {
		if _, _, err := s.binReach(ctx, s.db, p, n.ID); err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, n.public(writeAccess))
	}
	return out, nil
}

// Restore takes a node out of the bin, back in its folder (at the root if
// the folder is gone too), renamed "name (2)" if the name was taken since.
func (s *Service) Restore(ctx context.Context, p *identity.Principal, id int64) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		n, _, err := s.binReach(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if n.ParentID != 0 {
			if pc, err := loadNode(ctx, tx, n.ParentID); err != nil {
				n.ParentID = 0
			} else if c, err := chain(ctx, tx, pc); err != nil || inBin(c) {
				n.ParentID = 0
			}
		}
		if n.Name, err = freeName(ctx, tx, n.SpaceID, n.ParentID, n.Name); err != nil {
			return err
		}
		n.DeletedMs, n.UpdatedMs = 0, s.nowMs()
		if _, err := tx.Exec(ctx, "UPDATE file_nodes SET deleted_at_ms = 0, deleted_by = 0, parent_id = ?, name = ?, updated_at_ms = ? WHERE id = ?",
			n.ParentID, n.Name, n.UpdatedMs, n.ID); err != nil {
			return fmt.Errorf("files: restore: %w", err)
		}
		out = n.public(writeAccess)
		return nil
	})
	return out, err
}

// Purge deletes a node of the bin for good now.
func (s *Service) Purge(ctx context.Context, p *identity.Principal, id int64) error {
	if _, _, err := s.binReach(ctx, s.db, p, id); err != nil {
		return err
	}
	return s.purge(ctx, id)
}

// purge removes a node, its subtree, versions and shares, gives their bytes
// back to the quotas, then deletes the contents.
func (s *Service) purge(ctx context.Context, id int64) error {
	var keys []string
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		keys = nil
		ids := []int64{id}
		for i := 0; i < len(ids); i++ {
			rows, err := tx.Query(ctx, "SELECT id FROM file_nodes WHERE parent_id = ? AND parent_id <> 0", ids[i])
			if err != nil {
				return err
			}
			for rows.Next() {
				var k int64
				rows.Scan(&k)
				ids = append(ids, k)
			}
			rows.Close()
		}
		// Deepest first, so that no row points to a parent already gone.
		for i := len(ids) - 1; i >= 0; i-- {
			n, err := loadNode(ctx, tx, ids[i])
			if err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "SELECT storage_key, size FROM file_versions WHERE node_id = ?", n.ID)
			if err != nil {
				return err
			}
			var freed int64
			for rows.Next() {
				var k string
				var sz int64
				rows.Scan(&k, &sz)
				keys = append(keys, k)
				freed += sz
			}
			rows.Close()
			if err := s.release(ctx, tx, n.QuotaKind, n.QuotaID, freed); err != nil {
				return err
			}
			for _, q := range []string{"DELETE FROM file_versions WHERE node_id = ?", "DELETE FROM file_shares WHERE node_id = ?", "DELETE FROM file_nodes WHERE id = ?"} {
				if _, err := tx.Exec(ctx, q, n.ID); err != nil {
					return fmt.Errorf("files: purge: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.dropKeys(keys...)
	return nil
}

// Sweep deletes for good what has been in a bin longer than BinRetention and
// aborts resumable uploads past their expiry. main runs it periodically.
func (s *Service) Sweep(ctx context.Context) (purged int, err error) {
	cut := s.cfg.Now().Add(-s.cfg.BinRetention).UnixMilli()
	rows, err := s.db.Query(ctx, "SELECT id FROM file_nodes WHERE deleted_at_ms <> 0 AND deleted_at_ms < ?", cut)
	if err != nil {
		return 0, fmt.Errorf("files: sweep: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := s.purge(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return purged, err
		}
		purged++
	}
	if err := s.expireUploads(ctx); err != nil {
		return purged, err
	}
	return purged, nil
}
