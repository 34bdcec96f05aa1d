package files

import (
	"context"
	"fmt"

	"preau/db"
	"preau/identity"
)

// Usage is a quota account's state.
type Usage struct {
	Kind  string `json:"kind"` // person | class
	ID    int64  `json:"id"`
	Used  int64  `json:"used"`
	Limit int64  `json:"limit"`
	// Default: no override, the limit is the profile's (or classes') default.
	Default bool `json:"default"`
}

// ensureQuota makes the account's row on first use.
func ensureQuota(ctx context.Context, q db.Querier, kind string, id int64) error {
	_, err := q.Exec(ctx, "INSERT INTO file_quotas (subject_kind, subject_id) VALUES (?, ?) ON CONFLICT DO NOTHING", kind, id)
	if err != nil {
		return fmt.Errorf("files: quota row: %w", err)
	}
	return nil
}

// defaultLimit is the account's limit when no override is set: the largest
// default of the person's profiles, or the class default.
func (s *Service) defaultLimit(ctx context.Context, q db.Querier, kind string, id int64) (int64, error) {
	if kind == "class" {
		return s.cfg.ClassQuota, nil
	}
	rows, err := q.Query(ctx, "SELECT profile FROM roles WHERE user_id = ?", id)
	if err != nil {
		return 0, fmt.Errorf("files: quota profiles: %w", err)
	}
	defer rows.Close()
	var best int64
	for rows.Next() {
		var prof string
		if err := rows.Scan(&prof); err != nil {
			return 0, err
		}
		best = max(best, s.cfg.PersonQuotas[identity.Profile(prof)])
	}
	return best, rows.Err()
}

func (s *Service) usage(ctx context.Context, q db.Querier, kind string, id int64) (Usage, error) {
	u := Usage{Kind: kind, ID: id}
	var limit int64
	err := q.QueryRow(ctx, "SELECT used_bytes, limit_bytes FROM file_quotas WHERE subject_kind = ? AND subject_id = ?", kind, id).Scan(&u.Used, &limit)
	if err != nil && !isNoRows(err) {
		return u, fmt.Errorf("files: quota: %w", err)
	}
	u.Limit, u.Default = limit, limit == 0
	if u.Default {
		if u.Limit, err = s.defaultLimit(ctx, q, kind, id); err != nil {
			return u, err
		}
	}
	return u, nil
}

// charge adds n bytes to an account inside the transaction that makes them
// visible. The conditional UPDATE is atomic on both engines: two uploads
// racing for the last megabytes cannot both pass.
func (s *Service) charge(ctx context.Context, tx db.Querier, kind string, id, n int64) error {
	if n == 0 {
		return nil
	}
	if err := ensureQuota(ctx, tx, kind, id); err != nil {
		return err
	}
	u, err := s.usage(ctx, tx, kind, id)
	if err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE file_quotas SET used_bytes = used_bytes + ?
		WHERE subject_kind = ? AND subject_id = ? AND used_bytes + ? <= ?`, n, kind, id, n, u.Limit)
	if err != nil {
		return fmt.Errorf("files: charge quota: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return &QuotaError{Kind: kind, Used: u.Used, Limit: u.Limit, Need: n}
	}
	return nil
}

// release gives n bytes back to an account.
func (s *Service) release(ctx context.Context, tx db.Querier, kind string, id, n int64) error {
	if n == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE file_quotas SET used_bytes = CASE WHEN used_bytes > ? THEN used_bytes - ? ELSE 0 END
		WHERE subject_kind = ? AND subject_id = ?`, n, n, kind, id)
	if err != nil {
		return fmt.Errorf("files: release quota: %w", err)
	}
	return nil
}

// SpaceUsage returns the quota account of a space the caller reaches at its
// root (for the gauge): the owner's, the class's, or the caller's own in a
// hand-in space.
func (s *Service) SpaceUsage(ctx context.Context, p *identity.Principal, spaceID int64) (Usage, error) {
	sp, _, _, err := s.folderTarget(ctx, s.db, p, spaceID, 0)
	if err != nil {
		return Usage{}, err
	}
	kind, id := quotaAccount(sp, p)
	return s.usage(ctx, s.db, kind, id)
}

// SetQuota sets an account's limit (0: back to the default). Only the
// administrator (anywhere) and a school's direction (its people and
// classes) may.
func (s *Service) SetQuota(ctx context.Context, p *identity.Principal, kind string, id, limit int64) (Usage, error) {
	if limit < 0 {
		return Usage{}, fmt.Errorf("%w: negative quota", ErrInvalid)
	}
	var ok bool
	switch kind {
	case "person":
		ts, err := s.dir.PersonTargets(ctx, id)
		if err != nil {
			return Usage{}, ErrNotFound
		}
		for _, t := range ts {
			ok = ok || p.Can(identity.Quota, identity.Update, t)
		}
	case "class":
		c, err := s.dir.Class(ctx, id)
		if err != nil {
			return Usage{}, ErrNotFound
		}
		ok = p.Can(identity.Quota, identity.Update, identity.Target{Structure: c.StructureID, Classes: []int64{c.ID}})
	default:
		return Usage{}, fmt.Errorf("%w: quota kind %q", ErrInvalid, kind)
	}
	if !ok {
		return Usage{}, ErrNotFound
	}
	if err := ensureQuota(ctx, s.db, kind, id); err != nil {
		return Usage{}, err
	}
	if _, err := s.db.Exec(ctx, "UPDATE file_quotas SET limit_bytes = ? WHERE subject_kind = ? AND subject_id = ?", limit, kind, id); err != nil {
		return Usage{}, fmt.Errorf("files: set quota: %w", err)
	}
	return s.usage(ctx, s.db, kind, id)
}
