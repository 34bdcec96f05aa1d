// Package directory is the school directory (annuaire): structures, school
// years, subjects, classes and groups, people and their roles, parent ↔ child
// links, and teacher ↔ class ↔ subject assignments.
//
// An account follows its person for their whole schooling: moving a pupil to
// another class, year or structure adds an enrolment and a role, and never
// creates a new account (see Store.Transfer).
package directory
