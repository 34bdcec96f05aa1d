-- The school directory (annuaire) and accounts.
-- Times are Unix seconds (UTC) in BIGINT columns; dates are 'YYYY-MM-DD' text.

-- A school: collège or lycée, identified by its UAI code.
CREATE TABLE structures (
    id {{pk}},
    uai TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,            -- 'college' | 'lycee'
    commune TEXT NOT NULL DEFAULT ''
);

-- A school year, e.g. '2026-2027'; exactly one is current.
CREATE TABLE school_years (
    id {{pk}},
    label TEXT NOT NULL UNIQUE,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    is_current BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE subjects (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,     -- e.g. 'MATHS'
    name TEXT NOT NULL             -- e.g. 'Mathématiques'
);

-- A class (6e A) or a teaching group (Latin 5e) of one structure in one year.
CREATE TABLE classes (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    year_id BIGINT NOT NULL REFERENCES school_years(id),
    name TEXT NOT NULL,
    level TEXT NOT NULL DEFAULT '', -- '6e', '5e', '4e', '3e', '2nde', '1re', 'Tle'
    kind TEXT NOT NULL DEFAULT 'class', -- 'class' | 'group'
    UNIQUE (structure_id, year_id, name)
);

-- A person's account. It follows the person for their whole schooling: moving
-- school or year adds enrolments and roles, it never makes a new account.
CREATE TABLE users (
    id {{pk}},
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT,            -- NULL until activated
    civility TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    birth_date TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    ine TEXT UNIQUE,               -- national pupil identifier, pupils only
    external_id TEXT UNIQUE,       -- the school software's identifier
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL DEFAULT 0
);

-- What a person is in a structure. structure_id is NULL for a département-wide
-- ENT administrator.
CREATE TABLE roles (
    id {{pk}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    structure_id BIGINT REFERENCES structures(id),
    profile TEXT NOT NULL,         -- eleve | parent | enseignant | personnel | direction | admin
    function TEXT NOT NULL DEFAULT '' -- e.g. 'CPE', 'Documentaliste'
);
CREATE UNIQUE INDEX roles_unique ON roles (user_id, structure_id, profile);
CREATE INDEX roles_structure ON roles (structure_id, profile);

-- A pupil in a class (or group) for a year; history is kept across years.
CREATE TABLE enrolments (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    class_id BIGINT NOT NULL REFERENCES classes(id),
    PRIMARY KEY (user_id, class_id)
);
CREATE INDEX enrolments_class ON enrolments (class_id);

-- Parent or legal guardian of a child; several each way.
CREATE TABLE guardianships (
    parent_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    relation TEXT NOT NULL DEFAULT '', -- 'Mère', 'Père', 'Tuteur'…
    PRIMARY KEY (parent_id, child_id)
);
CREATE INDEX guardianships_child ON guardianships (child_id);

-- A teacher teaches a subject to a class; the class carries the year.
CREATE TABLE teachings (
    teacher_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    class_id BIGINT NOT NULL REFERENCES classes(id),
    subject_id BIGINT NOT NULL REFERENCES subjects(id),
    PRIMARY KEY (teacher_id, class_id, subject_id)
);
CREATE INDEX teachings_class ON teachings (class_id);

-- Single-use activation codes; only a SHA-256 of the code is stored.
CREATE TABLE activation_codes (
    code_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT
);
CREATE INDEX activation_codes_user ON activation_codes (user_id);

-- Sessions; only a SHA-256 of the token is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
