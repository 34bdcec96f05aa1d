// Package internships is "Décroche ton stage", the observation internship
// of 3e pupils: a bank of offers of a school (company, sector from a fixed
// list, address and commune, ISO weeks, places, description, contact), the
// applications of its 3e pupils (a message and a CV copied from their
// Documents) moving through sent → read → accepted / refused / withdrawn,
// the follow-up of who has found a placement, class by class, and the
// address book of the companies that took pupils before.
//
// Places are never over-filled: an offer's taken count moves only through
// a conditional UPDATE (taken < places) in the transaction that accepts an
// application, and a unique index keeps one accepted placement per pupil.
//
// Access is the identity table (resources "internship_offer",
// "internship_application", "internship_followup"), checked by the caller
// with the Target methods and MayMove; this package checks what makes data
// valid and answers French messages (Invalid). docs/internships.md has the
// rules.
package internships
