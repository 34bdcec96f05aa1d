// Package demo creates a ready-to-try demo school for `preau serve --demo`:
// the Collège Jean Zay in Orléans with two 6e and two 3e classes of about 25
// pupils, their parents (some with two children at the collège), a teacher
// for each subject, a CPE, a principal, a professeur documentaliste and an
// ENT administrator, plus the Lycée Pothier with a "2nde 1" class so that a
// 3e pupil can be moved on to it.
//
// Seed is idempotent: a restart finds the collège by its UAI and creates
// nothing. Names are drawn from fixed lists (names.go) with a fixed seed
// (plan.go), so every demo holds the same people; six accounts have fixed
// logins (eleve.demo, parent.demo, prof.demo, cpe.demo, direction.demo,
// admin.demo) and all share one password. Email addresses use exemple.fr and
// exemple.com only.
package demo
