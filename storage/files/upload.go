package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"preau/db"
	"preau/identity"
	"preau/storage"
)

// Upload is a file sent in one request.
type Upload struct {
	SpaceID  int64
	FolderID int64 // 0: the space's root
	Name     string
	Size     int64 // announced (Content-Length); the body must be exactly that
	Body     io.Reader
}

// target is where an upload lands, checked before any byte is stored.
type target struct {
	sp       space
	folderID int64
	name     string
	replace  int64 // the file replaced, 0 for a new one
	qk       string
	qid      int64
}

// prepare checks an upload before its content is read: name, size, the
// caller's right to write there (or to replace the file of that name), and
// whether the quota has room now (checked again at commit).
func (s *Service) prepare(ctx context.Context, p *identity.Principal, spaceID, folderID int64, name string, size, limit int64) (target, error) {
	var t target
	name, err := CleanName(name)
	if err != nil {
		return t, err
	}
	switch {
	case size == 0:
		return t, ErrEmpty
	case size < 0:
		return t, fmt.Errorf("%w: size unknown", ErrInvalid)
	case size > limit:
		return t, ErrTooLarge
	}
	sp, _, lv, err := s.folderTarget(ctx, s.db, p, spaceID, folderID)
	if err != nil {
		return t, err
	}
	t = target{sp: sp, folderID: folderID, name: name}
	t.qk, t.qid = quotaAccount(sp, p)
	if old, err := childByName(ctx, s.db, sp.ID, folderID, name); err == nil {
		if old.Kind != File {
			return t, ErrExists
		}
		_, _, _, err := s.reachWrite(ctx, s.db, p, old.ID)
		if err != nil {
			return t, err
		}
		t.replace = old.ID
		t.qk, t.qid = old.QuotaKind, old.QuotaID
	} else if lv < writeAccess {
		return t, ErrForbidden
	}
	u, err := s.usage(ctx, s.db, t.qk, t.qid)
	if err != nil {
		return t, err
	}
	if u.Used+size > u.Limit {
		return t, &QuotaError{Kind: t.qk, Used: u.Used, Limit: u.Limit, Need: size}
	}
	return t, nil
}

// Upload stores a file sent in one request (at most MaxUpload bytes),
// streamed to the store, never whole in memory. A file of the same name in
// the folder is replaced: its previous versions are kept (the last few). The
// content is written before the version row commits, and deleted if the
// commit fails, so that an interrupted or refused upload leaves nothing and
// charges nothing.
func (s *Service) Upload(ctx context.Context, p *identity.Principal, u Upload) (Node, error) {
	t, err := s.prepare(ctx, p, u.SpaceID, u.FolderID, u.Name, u.Size, s.cfg.MaxUpload)
	if err != nil {
		return Node{}, err
	}
	head := make([]byte, min(512, u.Size))
	if _, err := io.ReadFull(u.Body, head); err != nil {
		return Node{}, fmt.Errorf("%w: %v", ErrInterrupted, err)
	}
	ctype := Sniff(head)
	if err := checkClaim(t.name, ctype); err != nil {
		return Node{}, err
	}
	h := sha256.New()
	h.Write(head)
	body := io.MultiReader(bytes.NewReader(head), io.TeeReader(u.Body, h))
	key := newKey()
	if err := s.store.Put(ctx, key, body, u.Size); err != nil {
		s.dropKeys(key)
		return Node{}, storeErr("put", err)
	}
	v := version{key: key, size: u.Size, sha: hex.EncodeToString(h.Sum(nil)), ctype: ctype}
	n, err := s.commit(ctx, p, t, v)
	if err != nil {
		s.dropKeys(key)
		return Node{}, err
	}
	return n, nil
}

type version struct {
	key, sha, ctype string
	size            int64
}

// commit makes stored content a file's current version in one transaction:
// the node (made or locked), the quota charge, the version row, and the
// pruning of versions beyond KeepVersions (whose contents are deleted after
// the commit). A new name taken meanwhile by a concurrent upload turns into a
// replace of that file.
func (s *Service) commit(ctx context.Context, p *identity.Principal, t target, v version) (Node, error) {
	var out Node
	var pruned []string
	attempt := func() error {
		pruned = nil
		return s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.nowMs()
			var n node
			var err error
			if t.replace == 0 {
				if old, err := childByName(ctx, tx, t.sp.ID, t.folderID, t.name); err == nil {
					t.replace = old.ID
				}
			}
			if t.replace != 0 {
				// Lock the file's row first: concurrent replaces then run
				// one after the other and each sees the other's version.
				if _, err := tx.Exec(ctx, "UPDATE file_nodes SET updated_at_ms = ? WHERE id = ?", now, t.replace); err != nil {
					return fmt.Errorf("files: lock node: %w", err)
				}
				if n, _, _, err = s.reachWrite(ctx, tx, p, t.replace); err != nil {
					return err
				}
				if n.Kind != File {
					return ErrExists
				}
			} else {
				// Re-check the folder inside the transaction.
				if _, _, lv, err := s.folderTarget(ctx, tx, p, t.sp.ID, t.folderID); err != nil {
					return err
				} else if lv < writeAccess {
					return ErrForbidden
				}
				n = node{SpaceID: t.sp.ID, ParentID: t.folderID, Name: t.name, Kind: File, OwnerID: p.UserID,
					QuotaKind: t.qk, QuotaID: t.qid, ContentType: v.ctype, CreatedMs: now, UpdatedMs: now}
				if n.ID, err = s.insertNode(ctx, tx, n); err != nil {
					return err
				}
			}
			if err := s.charge(ctx, tx, n.QuotaKind, n.QuotaID, v.size); err != nil {
				return err
			}
			var last int64
			if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(n), 0) FROM file_versions WHERE node_id = ?", n.ID).Scan(&last); err != nil {
				return err
			}
			vid, err := insertVersion(ctx, tx, n.ID, last+1, v.key, v.size, v.sha, v.ctype, now, p.UserID)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE file_nodes SET version_id = ?, size = ?, content_type = ?, updated_at_ms = ? WHERE id = ?",
				vid, v.size, v.ctype, now, n.ID); err != nil {
				return fmt.Errorf("files: set version: %w", err)
			}
			n.VersionID, n.Size, n.ContentType, n.UpdatedMs = vid, v.size, v.ctype, now
			if pruned, err = s.prune(ctx, tx, n); err != nil {
				return err
			}
			out = n.public(writeAccess)
			return nil
		})
	}
	err := attempt()
	if errors.Is(err, ErrExists) && t.replace == 0 {
		err = attempt() // someone made the same name meanwhile: replace it
	}
	if err != nil {
		return Node{}, err
	}
	s.dropKeys(pruned...)
	return out, nil
}

func insertVersion(ctx context.Context, q db.Querier, nodeID, n int64, key string, size int64, sha, ctype string, now, by int64) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `INSERT INTO file_versions (node_id, n, storage_key, size, sha256, content_type, created_at_ms, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, nodeID, n, key, size, sha, ctype, now, by).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("files: insert version: %w", err)
	}
	return id, nil
}

// prune drops the versions of a file beyond KeepVersions (never the current
// one), gives their bytes back to the quota and returns their keys.
func (s *Service) prune(ctx context.Context, tx *db.Tx, n node) ([]string, error) {
	rows, err := tx.Query(ctx, "SELECT id, storage_key, size FROM file_versions WHERE node_id = ? AND id <> ? ORDER BY n DESC", n.ID, n.VersionID)
	if err != nil {
		return nil, err
	}
	type old struct {
		id   int64
		key  string
		size int64
	}
	var olds []old
	for rows.Next() {
		var o old
		rows.Scan(&o.id, &o.key, &o.size)
		olds = append(olds, o)
	}
	rows.Close()
	var keys []string
	var freed int64
	for i, o := range olds {
		if i < s.cfg.KeepVersions-1 {
			continue
		}
		if _, err := tx.Exec(ctx, "DELETE FROM file_versions WHERE id = ?", o.id); err != nil {
			return nil, err
		}
		keys = append(keys, o.key)
		freed += o.size
	}
	return keys, s.release(ctx, tx, n.QuotaKind, n.QuotaID, freed)
}

// Version is a kept version of a file.
type Version struct {
	N           int64     `json:"n"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   int64     `json:"created_by"`
	Current     bool      `json:"current"`
}

// Versions lists the kept versions of a file, newest first.
func (s *Service) Versions(ctx context.Context, p *identity.Principal, id int64) ([]Version, error) {
	n, _, _, _, err := s.reach(ctx, s.db, p, id)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT id, n, size, content_type, sha256, created_at_ms, created_by FROM file_versions WHERE node_id = ? ORDER BY n DESC", n.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		var v Version
		var vid, at int64
		if err := rows.Scan(&vid, &v.N, &v.Size, &v.ContentType, &v.SHA256, &at, &v.CreatedBy); err != nil {
			return nil, err
		}
		v.CreatedAt, v.Current = ms(at), vid == n.VersionID
		out = append(out, v)
	}
	return out, rows.Err()
}

// RestoreVersion makes a kept version the current one again (its content
// is shared, so no quota is charged).
func (s *Service) RestoreVersion(ctx context.Context, p *identity.Principal, id, n int64) (Node, error) {
	var out Node
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		nd, _, _, err := s.reachWrite(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var vid, size int64
		var ctype string
		if err := tx.QueryRow(ctx, "SELECT id, size, content_type FROM file_versions WHERE node_id = ? AND n = ?", nd.ID, n).Scan(&vid, &size, &ctype); err != nil {
			return ErrNotFound
		}
		nd.VersionID, nd.Size, nd.ContentType, nd.UpdatedMs = vid, size, ctype, s.nowMs()
		if _, err := tx.Exec(ctx, "UPDATE file_nodes SET version_id = ?, size = ?, content_type = ?, updated_at_ms = ? WHERE id = ?",
			vid, size, ctype, nd.UpdatedMs, nd.ID); err != nil {
			return err
		}
		out = nd.public(writeAccess)
		return nil
	})
	return out, err
}

// Download is what the web needs to send a file's content.
type Download struct {
	Node        Node
	Key         string
	Size        int64
	ContentType string
	SHA256      string
}

// Open checks the caller may read a file and returns its current version
// (or version n when n > 0).
func (s *Service) Open(ctx context.Context, p *identity.Principal, id, n int64) (Download, error) {
	nd, _, _, lv, err := s.reach(ctx, s.db, p, id)
	if err != nil {
		return Download{}, err
	}
	if nd.Kind != File {
		return Download{}, ErrNotFound
	}
	q := "SELECT storage_key, size, content_type, sha256 FROM file_versions WHERE id = ?"
	arg := nd.VersionID
	if n > 0 {
		q, arg = "SELECT storage_key, size, content_type, sha256 FROM file_versions WHERE node_id = ? AND n = ?", nd.ID
	}
	d := Download{Node: nd.public(lv)}
	args := []any{arg}
	if n > 0 {
		args = append(args, n)
	}
	if err := s.db.QueryRow(ctx, q, args...).Scan(&d.Key, &d.Size, &d.ContentType, &d.SHA256); err != nil {
		return Download{}, ErrNotFound
	}
	return d, nil
}

// Reader returns a ReadSeeker over the content of d, for http.ServeContent
// (range requests).
func (s *Service) Reader(ctx context.Context, d Download) *ObjectReader {
	return NewObjectReader(ctx, s.store, d.Key, d.Size)
}

// DirectDownloads reports whether pages should send downloads straight to
// the store: it presigns and browsers are known to reach it (an S3 store
// with a public URL, docs/storage.md).
func (s *Service) DirectDownloads() bool {
	_, presigns := s.store.(storage.Presigner)
	pub, ok := s.store.(interface{ Public() bool })
	return presigns && ok && pub.Public()
}

// DirectURL returns a URL the browser may download d from straight from the
// store (S3, presigned, valid storage.MaxPresignTTL), to be handed out only
// after Open checked the caller; "" when the store cannot presign.
func (s *Service) DirectURL(ctx context.Context, d Download) (string, error) {
	ps, ok := s.store.(storage.Presigner)
	if !ok {
		return "", nil
	}
	u, err := ps.PresignGet(ctx, d.Key, d.Node.Name, d.ContentType, storage.MaxPresignTTL)
	if err != nil {
		return "", storeErr("presign", err)
	}
	return u, nil
}
