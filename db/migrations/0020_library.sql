-- Library (CDI, docs/library.md): the catalogue of a school (titles and
-- their copies), reservations with their waiting list, and loans. Dates are
-- 'YYYY-MM-DD' in Europe/Paris; times are Unix milliseconds. No foreign key
-- on people: a loan's history outlives the account.
--
-- No copy is reserved or lent twice: a copy's state changes only by a
-- conditional UPDATE (… WHERE state = 'available'), and the unique partial
-- indexes below refuse a second open loan or a second ready reservation of
-- a copy whatever the code does.

CREATE TABLE library_books (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    isbn TEXT NOT NULL DEFAULT '',       -- ISBN-13 digits, '' when unknown
    title TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '',    -- "Nom, Prénom; Nom, Prénom"
    publisher TEXT NOT NULL DEFAULT '',
    year INTEGER NOT NULL DEFAULT 0,
    subjects TEXT NOT NULL DEFAULT '',   -- "roman; aventure"
    folded TEXT NOT NULL,                -- title, authors, subjects, publisher, ISBN without accents or case
    authors_folded TEXT NOT NULL,
    subjects_folded TEXT NOT NULL,
    -- The cover: the CDI's own copy ('m/…' in the content store) of an
    -- image from the documentaliste's Documents; '' when none.
    cover_key TEXT NOT NULL DEFAULT '',
    cover_name TEXT NOT NULL DEFAULT '',
    cover_type TEXT NOT NULL DEFAULT '',
    cover_sha256 TEXT NOT NULL DEFAULT '',
    cover_size BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX library_books_structure ON library_books (structure_id, title);
CREATE UNIQUE INDEX library_books_isbn ON library_books (structure_id, isbn) WHERE isbn <> '';

-- A copy: 'available' on the shelf, 'held' for a ready reservation,
-- 'lent', or 'withdrawn' (lost, damaged).
CREATE TABLE library_copies (
    id {{pk}},
    book_id BIGINT NOT NULL REFERENCES library_books(id) ON DELETE CASCADE,
    structure_id BIGINT NOT NULL,
    shelf_mark TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'available',
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX library_copies_book ON library_copies (book_id, state);

-- A reservation: 'waiting' in the book's queue (first come, first
-- served: by id), 'ready' once a copy is held for the person until
-- expires_on, then 'collected' (lent), 'cancelled' or 'expired'.
CREATE TABLE library_reservations (
    id {{pk}},
    book_id BIGINT NOT NULL REFERENCES library_books(id) ON DELETE CASCADE,
    structure_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    copy_id BIGINT NOT NULL DEFAULT 0,
    expires_on TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL,
    ready_at_ms BIGINT NOT NULL DEFAULT 0,
    closed_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX library_reservations_held ON library_reservations (copy_id) WHERE status = 'ready';
CREATE UNIQUE INDEX library_reservations_active ON library_reservations (book_id, person_id) WHERE status IN ('waiting', 'ready');
CREATE INDEX library_reservations_person ON library_reservations (person_id, status);
CREATE INDEX library_reservations_queue ON library_reservations (book_id, status, id);
CREATE INDEX library_reservations_due ON library_reservations (status, expires_on);

-- A loan; returned_at_ms = 0 while the copy is out.
CREATE TABLE library_loans (
    id {{pk}},
    copy_id BIGINT NOT NULL REFERENCES library_copies(id) ON DELETE CASCADE,
    book_id BIGINT NOT NULL,
    structure_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    lent_by BIGINT NOT NULL,
    lent_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    returned_at_ms BIGINT NOT NULL DEFAULT 0,
    reminders INTEGER NOT NULL DEFAULT 0,
    reminded_at_ms BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX library_loans_open ON library_loans (copy_id) WHERE returned_at_ms = 0;
CREATE INDEX library_loans_person ON library_loans (person_id, returned_at_ms);
CREATE INDEX library_loans_structure ON library_loans (structure_id, returned_at_ms, due_on);
