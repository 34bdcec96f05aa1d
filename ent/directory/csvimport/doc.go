// Package csvimport loads the school directory from CSV files as French
// schools export them (SIECLE for pupils and their parents, STS or a
// spreadsheet for teachers): one file of pupils, parents (responsables) or
// teachers at a time, for one school.
//
//	rep, err := csvimport.Import(ctx, d, file, csvimport.Options{UAI: "0451234A", Kind: csvimport.Pupils, Codes: w})
//
// Import is used by `preau import` and by the administration pages; it knows
// nothing of either.
//
// # Files
//
// Encoding: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Texte
// Unicode"), else Windows-1252/Latin-1. Without a BOM the first non-ASCII
// bytes decide: valid UTF-8 means UTF-8, anything else Windows-1252. The
// separator is the most frequent of ';', ',' and tab in the header line.
// Fields may be quoted ("…", with "" for a quote); a stray quote is an error.
//
// Headers are matched ignoring case, accents and punctuation, with a few
// synonyms each (see synonyms in header.go); other columns are ignored. When
// Options.Kind is empty the kind is guessed from the headers.
//
//	eleves       Nom, Prénom, Classe, INE and/or Identifiant (or "N° interne"…);
//	             Date de naissance (JJ/MM/AAAA) and Courriel optional.
//	parents      Nom, Prénom, and the child: "INE élève" (or "INE"), or
//	             "Identifiant élève", or "Nom élève" + "Prénom élève" [+ Classe];
//	             Civilité, Courriel, Lien (Mère, Père, Tuteur…), Identifiant
//	             optional. One row per parent and child.
//	enseignants  Nom, Prénom, Identifiant and/or Courriel; Civilité; Discipline
//	             and Classes, each a list separated by ',', '|' or ';'
//	             ("Français | Latin", "6A, 3B").
//
// Empty rows and empty trailing cells are ignored. Limits: MaxFileSize,
// MaxRowSize, MaxFields.
//
// # All or nothing
//
// A file is applied in one transaction. A bad row (its physical line number
// and a French message) does not stop the reading at once: up to
// MaxRowErrors rows are collected so several can be fixed at once, then the
// transaction is rolled back and Import returns a *RowErrors. A dry run does
// the same work and rolls back, so it checks exactly what a real run would.
//
// # Matching: a re-import updates, never duplicates
//
//   - Pupils: by INE, else by the school's identifier. A pupil in another
//     class of the current year is moved with directory.Transfer (which also
//     moves them from another school, keeping their account).
//   - Parents and teachers: by the school's identifier; else by the stable
//     key (folded Nom, folded Prénom, lower-case Courriel), looked up among
//     the accounts whose login derives from that name (prenom.nom,
//     prenom.nom2…) through the login index; else, for a parent with neither
//     identifier nor e-mail, by name among the child's current guardians.
//     Such a parent listed with two children therefore gets two accounts:
//     files should carry an identifier or an e-mail.
//
// External identifiers are stored namespaced, "UAI:kind:id" (e.g.
// "0451234A:eleves:1234"), because school software numbers records per
// school and per kind while users.external_id is unique across the ENT. A
// person keeps the identifier of the first school that gave one; another
// school finds them by INE (pupils) or by the stable key.
//
// The import adds and updates: columns present in the file replace stored
// values (an empty Courriel clears the e-mail; INE and identifiers are never
// cleared); it never deletes people, roles, links or teachings — that is
// done in the administration pages. Existing roles are left as they are
// (their function may have been set by hand).
//
// # Results
//
// Report counts rows: Created (new accounts), Updated, Unchanged; further
// rows of an account created by the same file (a parent's second child)
// count only in Rows. Options.Changes gets one French line per change.
//
// Every new account gets a single-use activation code (auth.IssueCode, 72 h)
// in the same transaction; existing accounts get none. The codes are written
// to Options.Codes as CSV — UTF-8 with BOM, ';', header
// Identifiant;Nom;Prénom;Profil;Classe;Code d'activation;Valable jusqu'au —
// with cells starting with = + - @ prefixed by an apostrophe so a
// spreadsheet does not run them. They are valid only if Import returns nil.
//
// # Memory and speed
//
// Rows are read and applied one at a time; only the classes and subjects of
// the school are cached (bounded). Memory stays flat whatever the file size.
// Each row costs about ten statements, so an import is bound by database
// round trips. On SQLite the transaction holds the write lock for its
// whole duration: other writers wait (busy_timeout) during a large import.
//
// GeneratePupils and GenerateParents write synthetic files of any size for
// tests and measurements.
package csvimport
