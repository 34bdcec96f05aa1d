-- Homework book (cahier de textes): what was done in a lesson of a class
-- (or group) in a subject, and the work to do for a later date with its
-- attachments; each pupil ticks the work done. Dates are 'YYYY-MM-DD' in
-- Europe/Paris, times Unix seconds (docs/homework.md).

-- One lesson's entry (séance). No foreign key on author_id: the book
-- outlives the teacher's account.
CREATE TABLE homework_entries (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    subject_id BIGINT NOT NULL REFERENCES subjects(id),
    author_id BIGINT NOT NULL,
    lesson_on TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX homework_entries_class ON homework_entries (class_id, subject_id, lesson_on);

-- The work to do (travail à faire) given in a lesson, numbered from 1.
CREATE TABLE homework_items (
    id {{pk}},
    entry_id BIGINT NOT NULL REFERENCES homework_entries(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    description TEXT NOT NULL,
    due_on TEXT NOT NULL,
    minutes INTEGER NOT NULL DEFAULT 0  -- estimated duration; 0: not said
);
CREATE INDEX homework_items_entry ON homework_items (entry_id);
CREATE INDEX homework_items_due ON homework_items (due_on);

-- A work's attachments (at most 5): one version of a file of the teacher's
-- Documents, with the name and size it had when attached. No foreign key:
-- a version pruned or purged downloads as "not found".
CREATE TABLE homework_attachments (
    item_id BIGINT NOT NULL REFERENCES homework_items(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    file_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (item_id, n)
);

-- A pupil's tick: this work is done.
CREATE TABLE homework_done (
    item_id BIGINT NOT NULL REFERENCES homework_items(id) ON DELETE CASCADE,
    pupil_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    done_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, pupil_id)
);
CREATE INDEX homework_done_pupil ON homework_done (pupil_id);
