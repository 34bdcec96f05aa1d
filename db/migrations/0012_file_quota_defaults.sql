-- Documents: quota defaults changed by the ENT administrator. subject is a
-- profile ('eleve', 'parent', 'enseignant', 'personnel', 'direction',
-- 'admin') or 'classe'; a subject without a row keeps Préau's built-in
-- default (docs/files.md, "Quotas"). Overrides of one person or class stay
-- in file_quotas.limit_bytes.
CREATE TABLE file_quota_defaults (
    subject TEXT PRIMARY KEY,
    limit_bytes BIGINT NOT NULL
);
