-- Online courses (cours en ligne, docs/courses.md): a teacher's course for a
-- class or group, its ordered chapters and their ordered items (Markdown
-- text, a file of the Documents, a link, the live lesson). An item is a
-- draft until published (published_at, Unix seconds; 0: draft). Times are
-- Unix seconds.

-- A course. No foreign key on author_id: a course outlives the teacher's
-- account.
CREATE TABLE courses (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    class_id BIGINT NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX courses_class ON courses (class_id);

-- A chapter, at position 1, 2… in its course.
CREATE TABLE course_chapters (
    id {{pk}},
    course_id BIGINT NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    title TEXT NOT NULL
);
CREATE INDEX course_chapters_course ON course_chapters (course_id, position);

-- An item of a chapter. kind: 'text' (body: Markdown), 'file' (a version
-- of a file of the Documents, with the name and size it had when
-- attached), 'link' (url), 'live' (the class's live lesson; the file
-- columns hold its recording, if any). No foreign key on file_id: a
-- version pruned or purged downloads as "not found".
CREATE TABLE course_items (
    id {{pk}},
    chapter_id BIGINT NOT NULL REFERENCES course_chapters(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    file_id BIGINT NOT NULL DEFAULT 0,
    file_version BIGINT NOT NULL DEFAULT 0,
    file_name TEXT NOT NULL DEFAULT '',
    file_size BIGINT NOT NULL DEFAULT 0,
    published_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX course_items_chapter ON course_items (chapter_id, position);
