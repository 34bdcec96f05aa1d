-- Absences and lateness (vie scolaire, docs/absences.md): one record per
-- pupil and lesson (absent, or late by some minutes), its justification by
-- the family and the vie scolaire's decision; the roll calls teachers took.
-- Dates are 'YYYY-MM-DD' and times minutes after midnight in Europe/Paris;
-- instants are Unix milliseconds. No foreign key on the *_by columns: a
-- record outlives the accounts of those who wrote it.

CREATE TABLE absences (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    pupil_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,                         -- 'absence' | 'late'
    on_date TEXT NOT NULL,
    start_min INTEGER NOT NULL,
    end_min INTEGER NOT NULL,
    late_min INTEGER NOT NULL DEFAULT 0,        -- 'late': minutes late
    subject TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'unjustified', -- 'unjustified' | 'pending' | 'justified' | 'refused'
    reason TEXT NOT NULL DEFAULT '',            -- a code of the fixed list (ent/absences Reasons)
    reason_text TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',           -- the vie scolaire's comment
    recorded_by BIGINT NOT NULL,
    recorded_at_ms BIGINT NOT NULL,
    justified_by BIGINT NOT NULL DEFAULT 0,
    justified_at_ms BIGINT NOT NULL DEFAULT 0,
    decided_by BIGINT NOT NULL DEFAULT 0,
    decided_at_ms BIGINT NOT NULL DEFAULT 0,
    -- The document given with the justification: the record's own copy of
    -- a version of the parent's file (storage key 'm/…'), '' for none.
    doc_key TEXT NOT NULL DEFAULT '',
    doc_name TEXT NOT NULL DEFAULT '',
    doc_size BIGINT NOT NULL DEFAULT 0,
    doc_type TEXT NOT NULL DEFAULT '',
    doc_sha256 TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX absences_lesson ON absences (pupil_id, on_date, start_min);
CREATE INDEX absences_class ON absences (class_id, on_date);
CREATE INDEX absences_structure ON absences (structure_id, on_date);

-- A roll call taken for a lesson of a class (whoever took it last).
CREATE TABLE absence_rolls (
    id {{pk}},
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    start_min INTEGER NOT NULL,
    end_min INTEGER NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    taken_by BIGINT NOT NULL,
    taken_at_ms BIGINT NOT NULL,
    pupils INTEGER NOT NULL,
    absent INTEGER NOT NULL,
    late INTEGER NOT NULL,
    from_live BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX absence_rolls_lesson ON absence_rolls (class_id, on_date, start_min);

-- Conversations written by Préau and found again by a key (chat/notify.go),
-- e.g. 'vie-scolaire:<pupil id>' for a family's announcements.
ALTER TABLE conversations ADD COLUMN notice_key TEXT;
CREATE UNIQUE INDEX conversations_notice_key ON conversations (notice_key);
