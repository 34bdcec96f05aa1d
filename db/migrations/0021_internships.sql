-- Internships of 3e pupils, "Décroche ton stage" (docs/internships.md): the
-- bank of offers of a school, the pupils' applications and the address book
-- of companies that took pupils before. Times are Unix milliseconds; weeks
-- are ISO weeks ('2027-W05') stored as ',2027-W05,2027-W06,' so that a
-- search by week is one LIKE; commune_key is the commune folded (no
-- accents, lower case) for the search. No foreign key on author_id or
-- decided_by: the rows outlive the accounts.

CREATE TABLE internship_offers (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    company TEXT NOT NULL,
    sector TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    commune TEXT NOT NULL,
    commune_key TEXT NOT NULL,
    weeks TEXT NOT NULL,
    places INTEGER NOT NULL,
    -- taken counts the accepted applications; it only moves through
    -- "UPDATE … SET taken = taken + 1 WHERE taken < places", so an offer is
    -- never over-filled, whatever runs at the same time.
    taken INTEGER NOT NULL DEFAULT 0,
    description TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    author_id BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    CHECK (places >= 1 AND taken >= 0 AND taken <= places)
);
CREATE INDEX internship_offers_structure ON internship_offers (structure_id, sector, commune_key);

-- An application of a pupil to an offer, with what was sent: the message,
-- the CV (the application's own copy of a file of the pupil's Documents,
-- storage key 'm/…', or none) and the company and its contact as the offer
-- gave them (the application outlives the offer). status: 'sent', 'read',
-- 'accepted', 'refused' or 'withdrawn'. class_id is the pupil's 3e class
-- when applying.
CREATE TABLE internship_applications (
    id {{pk}},
    offer_id BIGINT NOT NULL,
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    pupil_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    class_id BIGINT NOT NULL REFERENCES classes(id),
    company TEXT NOT NULL,
    sector TEXT NOT NULL,
    commune TEXT NOT NULL,
    weeks TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    cv_file_id BIGINT NOT NULL DEFAULT 0,
    cv_version BIGINT NOT NULL DEFAULT 0,
    cv_name TEXT NOT NULL DEFAULT '',
    cv_size BIGINT NOT NULL DEFAULT 0,
    cv_content_type TEXT NOT NULL DEFAULT '',
    cv_sha256 TEXT NOT NULL DEFAULT '',
    cv_key TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'sent',
    note TEXT NOT NULL DEFAULT '',
    decided_by BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX internship_applications_pupil ON internship_applications (pupil_id);
CREATE INDEX internship_applications_class ON internship_applications (class_id);
CREATE INDEX internship_applications_offer ON internship_applications (offer_id);
-- One live application per pupil and offer, and one placement per pupil.
CREATE UNIQUE INDEX internship_applications_live ON internship_applications (offer_id, pupil_id)
    WHERE status IN ('sent', 'read', 'accepted');
CREATE UNIQUE INDEX internship_applications_placed ON internship_applications (pupil_id)
    WHERE status = 'accepted';

-- The address book: companies of a school that took pupils before, written
-- when an application is accepted (one row per company name and commune).
CREATE TABLE internship_companies (
    id {{pk}},
    structure_id BIGINT NOT NULL REFERENCES structures(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    sector TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    commune TEXT NOT NULL,
    commune_key TEXT NOT NULL,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    placements INTEGER NOT NULL DEFAULT 0,
    last_at_ms BIGINT NOT NULL,
    UNIQUE (structure_id, name_key, commune_key)
);
