-- Class councils (conseils de classe, docs/meetings.md): one per class and
-- term, with its members, a shared agenda and notes (plain text, edited by
-- members with a version check) and a video room for members. Instants are
-- Unix milliseconds; pages show them in Europe/Paris.

CREATE TABLE councils (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    term_id BIGINT NOT NULL REFERENCES terms(id) ON DELETE CASCADE,
    starts_at_ms BIGINT NOT NULL,
    ends_at_ms BIGINT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    agenda TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_by BIGINT NOT NULL,
    updated_by BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (class_id, term_id)
);
CREATE INDEX councils_structure ON councils (structure_id, starts_at_ms);

-- Role: 'teacher' | 'head' | 'cpe' | 'staff' | 'pupil_delegate' | 'parent_delegate'.
CREATE TABLE council_members (
    council_id BIGINT NOT NULL REFERENCES councils(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (council_id, user_id)
);
CREATE INDEX council_members_user ON council_members (user_id);
