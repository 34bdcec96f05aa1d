-- The link catalogues of the ENT (docs/resources.md): national digital
-- resources (kind 'media': Pix, Lumni…) shown as tiles, and tele-services
-- (kind 'teleservice': scholarship, lycée enrolment…) shown to families at
-- the right time of year. profiles and levels are comma-separated lists
-- ('' = everyone); from_md/to_md ('MM-DD', tele-services only) bound the
-- yearly window in which it is shown on the home page ('' = all year; a
-- window may run over the new year).
CREATE TABLE resources (
    id {{pk}},
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL,
    profiles TEXT NOT NULL DEFAULT '',
    levels TEXT NOT NULL DEFAULT '',
    from_md TEXT NOT NULL DEFAULT '',
    to_md TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX resources_kind ON resources (kind, position);

INSERT INTO resources (kind, title, description, url, profiles, levels, position) VALUES
 ('media', 'Pix', 'Tester et développer ses compétences numériques, jusqu''à la certification en 3e.', 'https://pix.fr', 'eleve,enseignant', '', 1),
 ('media', 'Lumni', 'Vidéos, jeux et articles pour apprendre et réviser, du service public de l''audiovisuel.', 'https://www.lumni.fr', '', '', 2),
 ('media', 'Éduthèque', 'Ressources pédagogiques des grands établissements publics culturels et scientifiques, pour les enseignants.', 'https://www.edutheque.fr', 'enseignant', '', 3);

INSERT INTO resources (kind, title, description, url, profiles, levels, from_md, to_md, position) VALUES
 ('teleservice', 'Bourse de collège', 'Demander la bourse de collège pour votre enfant, en ligne, avec votre compte ÉduConnect.', 'https://teleservices.education.gouv.fr', 'parent', '6e,5e,4e,3e', '09-01', '10-31', 1),
 ('teleservice', 'Orientation après la 3e', 'Indiquer les intentions puis les choix d''orientation de votre enfant de 3e (fiche de dialogue).', 'https://teleservices.education.gouv.fr', 'parent', '3e', '01-15', '06-15', 2),
 ('teleservice', 'Inscription au lycée', 'Inscrire votre enfant dans le lycée où il est affecté, après le résultat de l''affectation.', 'https://teleservices.education.gouv.fr', 'parent', '3e', '06-20', '07-15', 3),
 ('teleservice', 'Bourse de lycée', 'Demander la bourse de lycée pour la rentrée suivante.', 'https://teleservices.education.gouv.fr', 'parent', '3e,2nde,1re', '03-15', '06-15', 4);
