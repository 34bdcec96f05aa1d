package identity

import "slices"

// Resource is a kind of object access is checked on.
type Resource string

// Action is what is done to a resource.
type Action string

// Scope says how far a permission reaches.
type Scope int

// Scopes, from none to all. Each includes the meaning below it only where
// stated.
const (
	None   Scope = iota // never
	Self                // objects about the person themselves
	Family              // the person themselves and their children; their children's classes
	Taught              // the person themselves and the classes they are in or teach this year
	School              // objects of a structure where the person holds that profile
	All                 // everything (département-wide)
)

var scopeNames = [...]string{"none", "self", "family", "taught", "school", "all"}

func (s Scope) String() string { return scopeNames[s] }

// Actions.
const (
	Read   Action = "read"
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Actions lists every action.
var Actions = []Action{Read, Create, Update, Delete}

// Resources of the foundation; modules add theirs to Policy.
const (
	Structure    Resource = "structure"    // schools
	Class        Resource = "class"        // classes and groups
	Person       Resource = "person"       // directory entries
	Guardianship Resource = "guardianship" // parent ↔ child links
	Import       Resource = "import"       // CSV imports
	Activation   Resource = "activation"   // activation codes (reset access)
	Account      Resource = "account"      // one's own password and sessions
	Live         Resource = "live"         // live lessons of a class: start (create), join (read), moderate and end (update)
	File         Resource = "file"         // files and folders of class spaces (personal spaces are their owner's alone; storage/files)
	Assignment   Resource = "assignment"   // hand-in assignments of a class and their hand-in spaces
	Quota        Resource = "quota"        // file quotas of people and classes (defaults per profile, overrides)
	Timetable    Resource = "timetable"    // weekly slots of a class and the changes to them (ent/timetable)
	HelpRequest  Resource = "help_request" // requests to the assistance (ent/help); target: the sender's school

	// Who may write to whom (package chat): one resource per profile of the
	// person written to; "create" is starting a conversation with them or
	// adding them to one. The target's Classes are the addressee's classes
	// for that profile: enrolled (pupil), taught (teacher), their children's
	// (parent). See Principal.CanMessage.
	MessagePupil   Resource = "message_eleve"
	MessageParent  Resource = "message_parent"
	MessageTeacher Resource = "message_enseignant"
	MessageStaff   Resource = "message_personnel"
	MessageHead    Resource = "message_direction"
	MessageAdmin   Resource = "message_admin"
	// Mailbox is the secure mailbox: a message with a subject to a whole
	// class or to its parents, pupils or teachers (create, on the class).
	Mailbox Resource = "mailbox"
	// Evaluation is the evaluations of a class (target: the class) with
	// their grade table; Grade is one pupil's grades and averages (target:
	// the pupil and their classes). Writing also needs the teacher to teach
	// the evaluation's subject to the class (package grades).
	Evaluation Resource = "evaluation"
	Grade      Resource = "grade"
	// Notice is the notice board (ent/notices, docs/notices.md); its
	// target is the notice's school, its author (Person) and the classes
	// it is addressed to. Reading is further narrowed to the audience by
	// package notices. NoticeAck is the parents' acknowledgement:
	// giving one (create, target: the child) and the follow-up (read,
	// target: the notice's school and author).
	Notice    Resource = "notice"
	NoticeAck Resource = "notice_ack"
	// Homework is the homework book of a class (ent/homework, target: the
	// class); HomeworkDone is a pupil's ticks of the work done (target: the
	// pupil).
	Homework     Resource = "homework"
	HomeworkDone Resource = "homework_done"
	// Internships of 3e pupils (ent/internships, docs/internships.md).
	// InternshipOffer is the bank of offers of a school (target: the school
	// and the offer's author) and its address book; InternshipApplication a
	// pupil's application (target: the school, the pupil, their 3e class):
	// create is applying, update recording the company's answer (read,
	// accepted, refused) on its behalf, delete withdrawing it (it is kept,
	// marked withdrawn). InternshipFollowUp is the table of a class's
	// placements (target: the class).
	InternshipOffer       Resource = "internship_offer"
	InternshipApplication Resource = "internship_application"
	InternshipFollowUp    Resource = "internship_followup"
	// LibraryBook is the catalogue of a school's CDI (ent/library, target:
	// the school); writing it (and managing loans) is narrowed by package
	// library to the documentaliste among the staff. LibraryLoan is a
	// person's loans and reservations (target: the school and the person).
	LibraryBook Resource = "library_book"
	LibraryLoan Resource = "library_loan"
	// Absence is a pupil's absence or lateness record (ent/absences,
	// docs/absences.md; target: the school, the pupil and the record's
	// class); AbsenceJustification is the family's justification of it
	// (create: the parent; update: the decision of the vie scolaire).
	// Staff rights are further narrowed to the vie scolaire (package web).
	Absence              Resource = "absence"
	AbsenceJustification Resource = "absence_justification"
	// Course is the online courses of a class or group (ent/courses,
	// docs/courses.md; target: the course's class). Drafts are further
	// narrowed to their author (package web).
	Course Resource = "course"
	// MeetingSlot is a teacher's parent–teacher meeting slots
	// (ent/meetings, docs/meetings.md; target: the school and the teacher
	// — or, for families, the classes the teacher teaches, no Person);
	// update is cancelling a booking of the slot. MeetingBooking is a
	// parent's booking (target: the school and the child).
	MeetingSlot    Resource = "meeting_slot"
	MeetingBooking Resource = "meeting_booking"
	// Council is a class council (ent/councils; target: the school and the
	// class; reading: the member asking as Person, package councils checks
	// the membership). CouncilNotes is its shared agenda and notes.
	Council      Resource = "council"
	CouncilNotes Resource = "council_notes"
)

// Rule is one row of the policy table: for a resource and action, the scope
// each profile has. A profile absent from the map has None.
type Rule struct {
	Resource Resource
	Action   Action
	Scopes   map[Profile]Scope
}

// Policy is the one role × resource × action table. Keep it readable: one
// line per (resource, action). identity_test walks it whole.
var Policy = []Rule{
	{Structure, Read, map[Profile]Scope{Pupil: School, Parent: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{Structure, Create, map[Profile]Scope{Admin: All}},
	{Structure, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Structure, Delete, map[Profile]Scope{Admin: All}},

	{Class, Read, map[Profile]Scope{Pupil: Taught, Parent: Family, Teacher: School, Staff: School, Head: School, Admin: All}},
	{Class, Create, map[Profile]Scope{Head: School, Admin: All}},
	{Class, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Class, Delete, map[Profile]Scope{Head: School, Admin: All}},

	{Person, Read, map[Profile]Scope{Pupil: Self, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Person, Create, map[Profile]Scope{Head: School, Admin: All}},
	{Person, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Person, Delete, map[Profile]Scope{Admin: All}},

	{Guardianship, Read, map[Profile]Scope{Parent: Family, Staff: School, Head: School, Admin: All}},
	{Guardianship, Create, map[Profile]Scope{Head: School, Admin: All}},
	{Guardianship, Update, map[Profile]Scope{Head: School, Admin: All}},
	{Guardianship, Delete, map[Profile]Scope{Head: School, Admin: All}},

	{Import, Create, map[Profile]Scope{Head: School, Admin: All}},

	{Activation, Read, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{Activation, Create, map[Profile]Scope{Staff: School, Head: School, Admin: All}},

	{Account, Read, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self, Admin: Self}},
	{Account, Update, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self, Admin: Self}},

	// A live lesson is about one class: its teachers start and moderate it,
	// its pupils and the school's staff join it (pupils publish nothing until
	// given the floor), parents never see it. Rooms end; nobody deletes them.
	{Live, Create, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},
	{Live, Read, map[Profile]Scope{Pupil: Taught, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Live, Update, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},

	// Documents (storage/files, docs/files.md). A class space is read by its
	// pupils and the school's staff and written by its teachers; personal
	// spaces are outside this table (their owner's alone, plus shares).
	// Assignments: teachers of the class set them and see every hand-in;
	// pupils see their own only. Quotas are set by the administrator and,
	// within a school, its direction.
	{File, Read, map[Profile]Scope{Pupil: Taught, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{File, Create, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},
	{File, Update, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},
	{File, Delete, map[Profile]Scope{Teacher: Taught, Head: School, Admin: All}},
	{Assignment, Read, map[Profile]Scope{Pupil: Taught, Teacher: Taught}},
	{Assignment, Create, map[Profile]Scope{Teacher: Taught}},
	{Assignment, Update, map[Profile]Scope{Teacher: Taught}},
	{Assignment, Delete, map[Profile]Scope{Teacher: Taught}},
	{Quota, Read, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Quota, Update, map[Profile]Scope{Head: School, Admin: All}},

	// The timetable of a class is read by its pupils, their parents, its
	// teachers (a teacher's own week is their slots in the classes they
	// teach) and the school's staff; the vie scolaire and the direction
	// enter it, import it and record cancelled or moved lessons.
	{Timetable, Read, map[Profile]Scope{Pupil: Taught, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Timetable, Create, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{Timetable, Update, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{Timetable, Delete, map[Profile]Scope{Staff: School, Head: School, Admin: All}},

	// Help requests: anyone sends them and reads their own; the school's
	// direction and the ENT administrator read and answer the queue.
	{HelpRequest, Read, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: School, Admin: All}},
	{HelpRequest, Create, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self, Admin: Self}},
	{HelpRequest, Update, map[Profile]Scope{Head: School, Admin: All}},

	// Who may write to whom. A pupil: their classmates and teachers, the
	// school's staff and head; never a parent or a pupil of another class.
	// A parent: their children's teachers, the school's staff and head;
	// never a pupil, never another parent. A teacher: pupils of the classes
	// they teach and their parents, anyone on the school's staff. Staff and
	// head: anyone of the school. The Family scope here reaches the teachers
	// of the children's classes (the target has no Person).
	{MessagePupil, Create, map[Profile]Scope{Pupil: Taught, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{MessageParent, Create, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{MessageTeacher, Create, map[Profile]Scope{Pupil: Taught, Parent: Family, Teacher: School, Staff: School, Head: School, Admin: All}},
	{MessageStaff, Create, map[Profile]Scope{Pupil: School, Parent: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{MessageHead, Create, map[Profile]Scope{Pupil: School, Parent: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{MessageAdmin, Create, map[Profile]Scope{Admin: All}},
	// The mailbox: teachers write to the classes they teach, staff and head
	// to every class of the school.
	{Mailbox, Create, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School, Admin: All}},

	// Grades (docs/grades.md): teachers set evaluations and enter grades in
	// the classes they teach this year (and the subjects: checked by package
	// grades); they read the grade tables of those classes. A pupil reads
	// their own grades, a parent their children's; staff and head read the
	// whole school, the ENT administrator everything. Nobody else writes.
	{Evaluation, Read, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Evaluation, Create, map[Profile]Scope{Teacher: Taught}},
	{Evaluation, Update, map[Profile]Scope{Teacher: Taught}},
	{Evaluation, Delete, map[Profile]Scope{Teacher: Taught}},
	{Grade, Read, map[Profile]Scope{Pupil: Self, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Grade, Update, map[Profile]Scope{Teacher: Taught}},

	// Notices (docs/notices.md): everyone of a school may read its notices
	// addressed to them (package notices checks the audience). Teachers
	// publish to the classes they teach, the vie scolaire and the direction
	// to anyone of the school. An author changes and deletes their own
	// notices (Self), the direction any of the school's. Parents
	// acknowledge for their children; the author, the vie scolaire and the
	// direction follow who has.
	{Notice, Read, map[Profile]Scope{Pupil: School, Parent: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{Notice, Create, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Notice, Update, map[Profile]Scope{Teacher: Self, Staff: Self, Head: School, Admin: All}},
	{Notice, Delete, map[Profile]Scope{Teacher: Self, Staff: Self, Head: School, Admin: All}},
	{NoticeAck, Read, map[Profile]Scope{Teacher: Self, Staff: School, Head: School, Admin: All}},
	{NoticeAck, Create, map[Profile]Scope{Parent: Family}},

	// Homework book (docs/homework.md): teachers write in the classes they
	// teach this year (and only their subjects: checked by package
	// homework); pupils read their classes', parents their children's, staff
	// and head the whole school. A pupil ticks their own work done; their
	// parents see the ticks.
	{Homework, Read, map[Profile]Scope{Pupil: Taught, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Homework, Create, map[Profile]Scope{Teacher: Taught}},
	{Homework, Update, map[Profile]Scope{Teacher: Taught}},
	{Homework, Delete, map[Profile]Scope{Teacher: Taught}},
	{HomeworkDone, Read, map[Profile]Scope{Pupil: Self, Parent: Family}},
	{HomeworkDone, Update, map[Profile]Scope{Pupil: Self}},

	// Internships (docs/internships.md): pupils and the school's adults see
	// the offers of their school, parents do not (they follow their
	// children's applications). The vie scolaire and the direction manage
	// the offers; teachers propose some and change or remove their own. A
	// 3e pupil applies and withdraws (checked by package internships: only
	// 3e pupils); the teachers of the pupil's class, the school's staff and
	// direction record the company's answer and follow the classes.
	{InternshipOffer, Read, map[Profile]Scope{Pupil: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{InternshipOffer, Create, map[Profile]Scope{Teacher: School, Staff: School, Head: School, Admin: All}},
	{InternshipOffer, Update, map[Profile]Scope{Teacher: Self, Staff: School, Head: School, Admin: All}},
	{InternshipOffer, Delete, map[Profile]Scope{Teacher: Self, Staff: School, Head: School, Admin: All}},
	{InternshipApplication, Read, map[Profile]Scope{Pupil: Self, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{InternshipApplication, Create, map[Profile]Scope{Pupil: Self}},
	{InternshipApplication, Update, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{InternshipApplication, Delete, map[Profile]Scope{Pupil: Self}},
	{InternshipFollowUp, Read, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School, Admin: All}},

	// Library (CDI, docs/library.md): everyone of a school reads its
	// catalogue; the documentaliste (staff, narrowed by package library to
	// the CDI function) and the direction keep it and manage loans (update:
	// lend, return, due dates, reminders). Pupils, teachers and staff
	// reserve for themselves and cancel their own reservations; parents see
	// their children's loans.
	{LibraryBook, Read, map[Profile]Scope{Pupil: School, Parent: School, Teacher: School, Staff: School, Head: School, Admin: All}},
	{LibraryBook, Create, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{LibraryBook, Update, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{LibraryBook, Delete, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{LibraryLoan, Read, map[Profile]Scope{Pupil: Self, Parent: Family, Teacher: Self, Staff: School, Head: School, Admin: All}},
	{LibraryLoan, Create, map[Profile]Scope{Pupil: Self, Teacher: Self, Staff: Self, Head: Self}},
	{LibraryLoan, Update, map[Profile]Scope{Staff: School, Head: School, Admin: All}},
	{LibraryLoan, Delete, map[Profile]Scope{Pupil: Self, Teacher: Self, Staff: School, Head: School, Admin: All}},

	// Absences and lateness (docs/absences.md): teachers take the roll of
	// the classes they teach this year and read those classes' records; a
	// pupil reads their own, a parent their children's and justifies them;
	// the school's vie scolaire and direction manage all of the school
	// (create, edit, delete, decide on justifications); the ENT
	// administrator reads.
	{Absence, Read, map[Profile]Scope{Pupil: Self, Parent: Family, Teacher: Taught, Staff: School, Head: School, Admin: All}},
	{Absence, Create, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School}},
	{Absence, Update, map[Profile]Scope{Teacher: Taught, Staff: School, Head: School}},
	{Absence, Delete, map[Profile]Scope{Staff: School, Head: School}},
	{AbsenceJustification, Create, map[Profile]Scope{Parent: Family}},
	{AbsenceJustification, Update, map[Profile]Scope{Staff: School, Head: School}},

	// Online courses (docs/courses.md): a teacher publishes courses for the
	// classes and groups they teach this year, and changes or deletes their
	// own (package web: author only). Published items are read by the
	// class's pupils, their parents and its teachers; nobody else.
	{Course, Read, map[Profile]Scope{Pupil: Taught, Parent: Family, Teacher: Taught}},
	{Course, Create, map[Profile]Scope{Teacher: Taught}},
	{Course, Update, map[Profile]Scope{Teacher: Taught}},
	{Course, Delete, map[Profile]Scope{Teacher: Taught}},

	// Parent–teacher meetings (docs/meetings.md): a teacher publishes,
	// cancels and removes their own slots, the direction those of any
	// teacher of the school (a whole evening); parents see the slots of
	// their children's teachers and book one per teacher and child; the
	// ENT administrator reads.
	{MeetingSlot, Read, map[Profile]Scope{Parent: Family, Teacher: Self, Head: School, Admin: All}},
	{MeetingSlot, Create, map[Profile]Scope{Teacher: Self, Head: School}},
	{MeetingSlot, Update, map[Profile]Scope{Teacher: Self, Head: School}},
	{MeetingSlot, Delete, map[Profile]Scope{Teacher: Self, Head: School}},
	{MeetingBooking, Create, map[Profile]Scope{Parent: Family}},
	{MeetingBooking, Delete, map[Profile]Scope{Parent: Family}},

	// Class councils: the direction and the staff (CPE) schedule them for
	// the school's classes and choose the members; only members read a
	// council and edit its agenda and notes (Self: the member asking).
	{Council, Read, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self}},
	{Council, Create, map[Profile]Scope{Staff: School, Head: School}},
	{Council, Update, map[Profile]Scope{Staff: School, Head: School}},
	{Council, Delete, map[Profile]Scope{Staff: School, Head: School}},
	{CouncilNotes, Update, map[Profile]Scope{Pupil: Self, Parent: Self, Teacher: Self, Staff: Self, Head: Self}},
}

type ruleKey struct {
	r Resource
	a Action
}

var policyIndex = func() map[ruleKey]map[Profile]Scope {
	m := make(map[ruleKey]map[Profile]Scope, len(Policy))
	for _, r := range Policy {
		if _, dup := m[ruleKey{r.Resource, r.Action}]; dup {
			panic("identity: duplicate policy rule " + string(r.Resource) + "/" + string(r.Action))
		}
		m[ruleKey{r.Resource, r.Action}] = r.Scopes
	}
	return m
}()

// Allowed returns the scope profile p has for action a on resource r.
func Allowed(p Profile, r Resource, a Action) Scope {
	return policyIndex[ruleKey{r, a}][p]
}

// Target describes the object an access is about, as far as the policy
// needs: the structure it belongs to, the person it is about, and the
// classes it belongs to.
type Target struct {
	Structure int64
	Person    int64
	Classes   []int64
}

// Can reports whether the principal may do a on r for the target. It tries
// each of the principal's roles with that role's scope.
func (p *Principal) Can(r Resource, a Action, t Target) bool {
	if p == nil {
		return false
	}
	for _, role := range p.Roles {
		if p.reaches(role, Allowed(role.Profile, r, a), t) {
			return true
		}
	}
	return false
}

// CanAny reports whether the principal has at least some scope for a on r:
// enough to show a menu entry, never enough to reach an object.
func (p *Principal) CanAny(r Resource, a Action) bool {
	if p == nil {
		return false
	}
	for _, role := range p.Roles {
		if Allowed(role.Profile, r, a) != None {
			return true
		}
	}
	return false
}

func (p *Principal) reaches(role Role, s Scope, t Target) bool {
	self := t.Person != 0 && t.Person == p.UserID
	switch s {
	case Self:
		return self
	case Family:
		// About a person: themselves or one of their children, never a
		// classmate. About a class: one of their children's classes.
		if t.Person != 0 {
			return self || p.IsParentOf(t.Person)
		}
		return overlaps(t.Classes, p.ChildClasses)
	case Taught:
		return self || overlaps(t.Classes, p.Classes)
	case School:
		return role.StructureID == 0 || (t.Structure != 0 && t.Structure == role.StructureID)
	case All:
		return true
	}
	return false
}

func overlaps(a, b []int64) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
