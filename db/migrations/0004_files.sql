-- Files: spaces, folders and files, their versions, shares, quotas, resumable
-- uploads and hand-in assignments (package storage/files, docs/files.md).
-- Contents live in the content store under server-made keys; only metadata
-- is here. Times are Unix MILLISECONDS (UTC) in BIGINT columns named *_ms;
-- 0 means "not yet" (not deleted). Ids that may be absent are 0, not NULL,
-- so that unique indexes see them.

-- A space: 'personal' (owner_id: the person), 'class' (class_id) or 'handin'
-- (assignment_id; class_id is the assignment's class).
CREATE TABLE file_spaces (
    id {{pk}},
    kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL DEFAULT 0,
    class_id BIGINT NOT NULL DEFAULT 0,
    assignment_id BIGINT NOT NULL DEFAULT 0,
    structure_id BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX file_spaces_unique ON file_spaces (kind, owner_id, class_id, assignment_id);

-- A file or folder. parent_id 0 is the space's root. version_id is the
-- current version of a file (0 for folders). A node in the bin has
-- deleted_at_ms set; its descendants are in the bin with it without being
-- marked. quota_kind/quota_id is the account its versions are charged to
-- ('person' | 'class').
CREATE TABLE file_nodes (
    id {{pk}},
    space_id BIGINT NOT NULL REFERENCES file_spaces(id),
    parent_id BIGINT NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,            -- 'file' | 'folder'
    owner_id BIGINT NOT NULL,
    version_id BIGINT NOT NULL DEFAULT 0,
    size BIGINT NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    quota_kind TEXT NOT NULL,
    quota_id BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    deleted_at_ms BIGINT NOT NULL DEFAULT 0,
    deleted_by BIGINT NOT NULL DEFAULT 0
);
-- Names are unique among the live children of a folder.
CREATE UNIQUE INDEX file_nodes_name ON file_nodes (space_id, parent_id, name) WHERE deleted_at_ms = 0;
CREATE INDEX file_nodes_parent ON file_nodes (space_id, parent_id);
CREATE INDEX file_nodes_deleted ON file_nodes (deleted_at_ms);

-- A version of a file: its content under storage_key. The last few are kept.
CREATE TABLE file_versions (
    id {{pk}},
    node_id BIGINT NOT NULL REFERENCES file_nodes(id) ON DELETE CASCADE,
    n BIGINT NOT NULL,
    storage_key TEXT NOT NULL UNIQUE,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    UNIQUE (node_id, n)
);

-- A share of a node (and what is below it) with a person or a class.
CREATE TABLE file_shares (
    node_id BIGINT NOT NULL REFERENCES file_nodes(id) ON DELETE CASCADE,
    grantee_kind TEXT NOT NULL,    -- 'person' | 'class'
    grantee_id BIGINT NOT NULL,
    can_write BOOLEAN NOT NULL DEFAULT FALSE,
    created_by BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (node_id, grantee_kind, grantee_id)
);
CREATE INDEX file_shares_grantee ON file_shares (grantee_kind, grantee_id);

-- A quota account: used_bytes counts every kept version (bin included) of
-- the nodes charged to it; limit_bytes 0 means the profile's default.
CREATE TABLE file_quotas (
    subject_kind TEXT NOT NULL,    -- 'person' | 'class'
    subject_id BIGINT NOT NULL,
    limit_bytes BIGINT NOT NULL DEFAULT 0,
    used_bytes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (subject_kind, subject_id)
);

-- A resumable upload: parts go to the store's Uploader; the version row
-- appears (and the quota is charged) only when it completes.
CREATE TABLE file_uploads (
    id TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    space_id BIGINT NOT NULL,
    parent_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    replace_id BIGINT NOT NULL DEFAULT 0,
    size BIGINT NOT NULL,
    part_size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    storage_upload_id TEXT NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE TABLE file_upload_parts (
    upload_id TEXT NOT NULL REFERENCES file_uploads(id) ON DELETE CASCADE,
    n BIGINT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (upload_id, n)
);

-- An assignment: a teacher asks a class to hand work in by a date. Its
-- hand-in space holds one folder per pupil.
CREATE TABLE file_assignments (
    id {{pk}},
    class_id BIGINT NOT NULL REFERENCES classes(id),
    structure_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    instructions TEXT NOT NULL DEFAULT '',
    due_at_ms BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX file_assignments_class ON file_assignments (class_id);
