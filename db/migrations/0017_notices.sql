-- Notice board (affichage, docs/notices.md): notices of a school with their
-- audience, their attached documents (the notice's own copies), who read
-- them and which parents acknowledged them. Dates are 'YYYY-MM-DD' in
-- Europe/Paris, both ends included; times are Unix milliseconds. No foreign
-- key on author_id: a notice outlives its author's account.

CREATE TABLE notices (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    author_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    draft BOOLEAN NOT NULL DEFAULT FALSE,
    requires_ack BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX notices_structure ON notices (structure_id, valid_until);
CREATE INDEX notices_author ON notices (author_id);

-- To whom: 'school' (everyone of the school), 'profile' (profile set),
-- 'class' (its pupils, their parents and its teachers) or 'class_parents'
-- (the parents of the class's pupils; class_id set).
CREATE TABLE notice_audiences (
    notice_id BIGINT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    profile TEXT NOT NULL DEFAULT '',
    class_id BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (notice_id, kind, profile, class_id)
);
CREATE INDEX notice_audiences_class ON notice_audiences (class_id);

-- Documents attached (at most 5): a copy of a version of the author's file,
-- owned by the notice (storage key 'm/…').
CREATE TABLE notice_files (
    notice_id BIGINT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    file_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    PRIMARY KEY (notice_id, n)
);

CREATE TABLE notice_reads (
    notice_id BIGINT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    read_at_ms BIGINT NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);
CREATE INDEX notice_reads_user ON notice_reads (user_id);

-- "J'ai pris connaissance": one row per parent; a child counts as done once
-- one of their guardians has acknowledged.
CREATE TABLE notice_acks (
    notice_id BIGINT NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
    parent_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    acked_at_ms BIGINT NOT NULL,
    PRIMARY KEY (notice_id, parent_id)
);
