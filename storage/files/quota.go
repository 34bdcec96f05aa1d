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
// default of the person's profiles, or the class default, as the
// administrator set them (file_quota_defaults) or built in.
func (s *Service) defaultLimit(ctx context.Context, q db.Querier, kind string, id int64) (int64, error) {
	defaults, err := s.defaults(ctx, q)
	if err != nil {
		return 0, err
	}
	if kind == "class" {
		return defaults[ClassSubject], nil
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
		best = max(best, defaults[prof])
	}
	return best, rows.Err()
}

// ClassSubject names the default of class spaces among the profiles'.
const ClassSubject = "classe"

// MaxQuota bounds any limit an administrator sets (1 TiB).
const MaxQuota = 1 << 40

// QuotaDefault is the limit of the accounts of one profile (or of classes)
// that have no override of their own.
type QuotaDefault struct {
	Subject string `json:"subject"` // a profile ("eleve", "parent", …) or "classe"
	Limit   int64  `json:"limit"`   // in force
	Builtin int64  `json:"builtin"` // Préau's own default
	Set     bool   `json:"set"`     // changed by the administrator
}

// quotaSubjects lists the defaults in the order pages show them.
var quotaSubjects = []string{string(identity.Pupil), string(identity.Parent), string(identity.Teacher),
	string(identity.Staff), string(identity.Head), string(identity.Admin), ClassSubject}

func (s *Service) builtinDefault(subject string) (int64, bool) {
	if subject == ClassSubject {
		return s.cfg.ClassQuota, true
	}
	n, ok := s.cfg.PersonQuotas[identity.Profile(subject)]
	return n, ok
}

// defaults returns the limit in force for every subject. The table holds at
// most one row per subject: reading it whole on each charge is cheap.
func (s *Service) defaults(ctx context.Context, q db.Querier) (map[string]int64, error) {
	out := make(map[string]int64, len(quotaSubjects))
	for _, sub := range quotaSubjects {
		out[sub], _ = s.builtinDefault(sub)
	}
	rows, err := q.Query(ctx, "SELECT subject, limit_bytes FROM file_quota_defaults")
	if err != nil {
		return nil, fmt.Errorf("files: quota defaults: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub string
		var n int64
		if err := rows.Scan(&sub, &n); err != nil {
			return nil, err
		}
		if _, ok := out[sub]; ok {
			out[sub] = n
		}
	}
	return out, rows.Err()
}

// QuotaDefaults lists the defaults per profile and for classes. Anyone may
// read them (the figures are not personal).
func (s *Service) QuotaDefaults(ctx context.Context) ([]QuotaDefault, error) {
	in, err := s.defaults(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]QuotaDefault, 0, len(quotaSubjects))
	for _, sub := range quotaSubjects {
		b, _ := s.builtinDefault(sub)
		out = append(out, QuotaDefault{Subject: sub, Limit: in[sub], Builtin: b})
	}
	rows, err := s.db.Query(ctx, "SELECT subject FROM file_quota_defaults")
	if err != nil {
		return nil, fmt.Errorf("files: quota defaults: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub string
		if err := rows.Scan(&sub); err != nil {
			return nil, err
		}
		for i := range out {
			if out[i].Subject == sub {
				out[i].Set = true
			}
		}
	}
	return out, rows.Err()
}

// SetQuotaDefault changes the default of a profile or of classes (0: back to
// Préau's built-in one). Only the ENT administrator may: the defaults apply
// to every school. Accounts with an override keep it; the others take the
// new limit at once, even below what they use (they can then only delete).
func (s *Service) SetQuotaDefault(ctx context.Context, p *identity.Principal, subject string, limit int64) error {
	if !p.Has(identity.Admin) {
		return ErrNotFound
	}
	if _, ok := s.builtinDefault(subject); !ok {
		return fmt.Errorf("%w: quota subject %q", ErrInvalid, subject)
	}
	if limit < 0 || limit > MaxQuota {
		return fmt.Errorf("%w: quota %d out of range", ErrInvalid, limit)
	}
	var err error
	if limit == 0 {
		_, err = s.db.Exec(ctx, "DELETE FROM file_quota_defaults WHERE subject = ?", subject)
	} else {
		_, err = s.db.Exec(ctx, `INSERT INTO file_quota_defaults (subject, limit_bytes) VALUES (?, ?)
			ON CONFLICT (subject) DO UPDATE SET limit_bytes = excluded.limit_bytes`, subject, limit)
	}
	if err != nil {
		return fmt.Errorf("files: set quota default: %w", err)
	}
	return nil
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

// quotaReach checks that p may do a on the quota account kind/id (a person
// through any of their schools, a class through its school): ErrNotFound
// otherwise, as for an account that does not exist.
func (s *Service) quotaReach(ctx context.Context, p *identity.Principal, a identity.Action, kind string, id int64) error {
	var targets []identity.Target
	switch kind {
	case "person":
		ts, err := s.dir.PersonTargets(ctx, id)
		if err != nil {
			return ErrNotFound
		}
		targets = ts
	case "class":
		c, err := s.dir.Class(ctx, id)
		if err != nil {
			return ErrNotFound
		}
		targets = []identity.Target{{Structure: c.StructureID, Classes: []int64{c.ID}}}
	default:
		return fmt.Errorf("%w: quota kind %q", ErrInvalid, kind)
	}
	for _, t := range targets {
		if p.Can(identity.Quota, a, t) {
			return nil
		}
	}
	return ErrNotFound
}

// Quota returns an account's state for someone who may read it (the person
// themself, their school's staff and head, the administrator).
func (s *Service) Quota(ctx context.Context, p *identity.Principal, kind string, id int64) (Usage, error) {
	if err := s.quotaReach(ctx, p, identity.Read, kind, id); err != nil {
		return Usage{}, err
	}
	return s.usage(ctx, s.db, kind, id)
}

// SetQuota sets an account's limit (0: back to the default). Only the
// administrator (anywhere) and a school's direction (its people and
// classes) may.
func (s *Service) SetQuota(ctx context.Context, p *identity.Principal, kind string, id, limit int64) (Usage, error) {
	if limit < 0 || limit > MaxQuota {
		return Usage{}, fmt.Errorf("%w: quota %d out of range", ErrInvalid, limit)
	}
	if err := s.quotaReach(ctx, p, identity.Update, kind, id); err != nil {
		return Usage{}, err
	}
	if err := ensureQuota(ctx, s.db, kind, id); err != nil {
		return Usage{}, err
	}
	if _, err := s.db.Exec(ctx, "UPDATE file_quotas SET limit_bytes = ? WHERE subject_kind = ? AND subject_id = ?", limit, kind, id); err != nil {
		return Usage{}, fmt.Errorf("files: set quota: %w", err)
	}
	return s.usage(ctx, s.db, kind, id)
}
