package identity_test

import (
	"fmt"
	"strings"
	"testing"

	. "preau/identity"
)

// resources lists every resource the policy knows. A module that adds a
// resource to Policy adds it here and its rows to wantPolicy.
var resources = []Resource{Structure, Class, Person, Guardianship, Import, Activation, Account, Live, File, Assignment, Quota, Timetable, HelpRequest, Evaluation, Grade, Notice, NoticeAck, Homework, HomeworkDone, InternshipOffer, InternshipApplication, InternshipFollowUp, LibraryBook, LibraryLoan, Absence, AbsenceJustification, Course, MeetingSlot, MeetingBooking, Council, CouncilNotes}

// wantPolicy is the whole matrix, written out by hand so that a change to
// Policy must be made twice, on purpose. Every resource × action is listed,
// including those nobody may do; "-" is None.
const wantPolicy = `
resource      action  eleve   parent  enseignant  personnel  direction  admin
structure     read    school  school  school      school     school     all
structure     create  -       -       -           -          -          all
structure     update  -       -       -           -          school     all
structure     delete  -       -       -           -          -          all
class         read    taught  family  school      school     school     all
class         create  -       -       -           -          school     all
class         update  -       -       -           -          school     all
class         delete  -       -       -           -          school     all
person        read    self    family  taught      school     school     all
person        create  -       -       -           -          school     all
person        update  -       -       -           -          school     all
person        delete  -       -       -           -          -          all
guardianship  read    -       family  -           school     school     all
guardianship  create  -       -       -           -          school     all
guardianship  update  -       -       -           -          school     all
guardianship  delete  -       -       -           -          school     all
import        read    -       -       -           -          -          -
import        create  -       -       -           -          school     all
import        update  -       -       -           -          -          -
import        delete  -       -       -           -          -          -
activation    read    -       -       -           school     school     all
activation    create  -       -       -           school     school     all
activation    update  -       -       -           -          -          -
activation    delete  -       -       -           -          -          -
account       read    self    self    self        self       self       self
account       create  -       -       -           -          -          -
account       update  self    self    self        self       self       self
account       delete  -       -       -           -          -          -
live          read    taught  -       taught      school     school     all
live          create  -       -       taught      -          school     all
live          update  -       -       taught      -          school     all
live          delete  -       -       -           -          -          -
file          read    taught  -       taught      school     school     all
file          create  -       -       taught      -          school     all
file          update  -       -       taught      -          school     all
file          delete  -       -       taught      -          school     all
assignment    read    taught  -       taught      -          -          -
assignment    create  -       -       taught      -          -          -
assignment    update  -       -       taught      -          -          -
assignment    delete  -       -       taught      -          -          -
quota         read    self    self    taught      school     school     all
quota         create  -       -       -           -          -          -
quota         update  -       -       -           -          school     all
quota         delete  -       -       -           -          -          -
timetable     read    taught  family  taught      school     school     all
timetable     create  -       -       -           school     school     all
timetable     update  -       -       -           school     school     all
timetable     delete  -       -       -           school     school     all
help_request  read    self    self    self        self       school     all
help_request  create  self    self    self        self       self       self
help_request  update  -       -       -           -          school     all
help_request  delete  -       -       -           -          -          -
message_eleve        read    -       -       -           -          -          -
message_eleve        create  taught  -       taught      school     school     all
message_eleve        update  -       -       -           -          -          -
message_eleve        delete  -       -       -           -          -          -
message_parent       read    -       -       -           -          -          -
message_parent       create  -       -       taught      school     school     all
message_parent       update  -       -       -           -          -          -
message_parent       delete  -       -       -           -          -          -
message_enseignant   read    -       -       -           -          -          -
message_enseignant   create  taught  family  school      school     school     all
message_enseignant   update  -       -       -           -          -          -
message_enseignant   delete  -       -       -           -          -          -
message_personnel    read    -       -       -           -          -          -
message_personnel    create  school  school  school      school     school     all
message_personnel    update  -       -       -           -          -          -
message_personnel    delete  -       -       -           -          -          -
message_direction    read    -       -       -           -          -          -
message_direction    create  school  school  school      school     school     all
message_direction    update  -       -       -           -          -          -
message_direction    delete  -       -       -           -          -          -
message_admin        read    -       -       -           -          -          -
message_admin        create  -       -       -           -          -          all
message_admin        update  -       -       -           -          -          -
message_admin        delete  -       -       -           -          -          -
mailbox              read    -       -       -           -          -          -
mailbox              create  -       -       taught      school     school     all
mailbox              update  -       -       -           -          -          -
mailbox              delete  -       -       -           -          -          -
evaluation    read    -       -       taught      school     school     all
evaluation    create  -       -       taught      -          -          -
evaluation    update  -       -       taught      -          -          -
evaluation    delete  -       -       taught      -          -          -
grade         read    self    family  taught      school     school     all
grade         create  -       -       -           -          -          -
grade         update  -       -       taught      -          -          -
grade         delete  -       -       -           -          -          -
notice        read    school  school  school      school     school     all
notice        create  -       -       taught      school     school     all
notice        update  -       -       self        self       school     all
notice        delete  -       -       self        self       school     all
notice_ack    read    -       -       self        school     school     all
notice_ack    create  -       family  -           -          -          -
notice_ack    update  -       -       -           -          -          -
notice_ack    delete  -       -       -           -          -          -
homework      read    taught  family  taught      school     school     all
homework      create  -       -       taught      -          -          -
homework      update  -       -       taught      -          -          -
homework      delete  -       -       taught      -          -          -
homework_done read    self    family  -           -          -          -
homework_done create  -       -       -           -          -          -
homework_done update  self    -       -           -          -          -
homework_done delete  -       -       -           -          -          -
internship_offer        read    school  -       school      school     school     all
internship_offer        create  -       -       school      school     school     all
internship_offer        update  -       -       self        school     school     all
internship_offer        delete  -       -       self        school     school     all
internship_application  read    self    family  taught      school     school     all
internship_application  create  self    -       -           -          -          -
internship_application  update  -       -       taught      school     school     all
internship_application  delete  self    -       -           -          -          -
internship_followup     read    -       -       taught      school     school     all
internship_followup     create  -       -       -           -          -          -
internship_followup     update  -       -       -           -          -          -
internship_followup     delete  -       -       -           -          -          -
library_book  read    school  school  school      school     school     all
library_book  create  -       -       -           school     school     all
library_book  update  -       -       -           school     school     all
library_book  delete  -       -       -           school     school     all
library_loan  read    self    family  self        school     school     all
library_loan  create  self    -       self        self       self       -
library_loan  update  -       -       -           school     school     all
library_loan  delete  self    -       self        school     school     all
absence       read    self    family  taught      school     school     all
absence       create  -       -       taught      school     school     -
absence       update  -       -       taught      school     school     -
absence       delete  -       -       -           school     school     -
absence_justification read    -       -       -           -          -          -
absence_justification create  -       family  -           -          -          -
absence_justification update  -       -       -           school     school     -
absence_justification delete  -       -       -           -          -          -
course        read    taught  family  taught      -          -          -
course        create  -       -       taught      -          -          -
course        update  -       -       taught      -          -          -
course        delete  -       -       taught      -          -          -
meeting_slot  read    -       family  self        -          school     all
meeting_slot  create  -       -       self        -          school     -
meeting_slot  update  -       -       self        -          school     -
meeting_slot  delete  -       -       self        -          school     -
meeting_booking read  -       -       -           -          -          -
meeting_booking create -      family  -           -          -          -
meeting_booking update -      -       -           -          -          -
meeting_booking delete -      family  -           -          -          -
council       read    self    self    self        self       self       -
council       create  -       -       -           school     school     -
council       update  -       -       -           school     school     -
council       delete  -       -       -           school     school     -
council_notes read    -       -       -           -          -          -
council_notes create  -       -       -           -          -          -
council_notes update  self    self    self        self       self       -
council_notes delete  -       -       -           -          -          -
`

func parseScope(t *testing.T, s string) Scope {
	t.Helper()
	if s == "-" {
		return None
	}
	for sc := None; sc <= All; sc++ {
		if sc.String() == s {
			return sc
		}
	}
	t.Fatalf("unknown scope %q in wantPolicy", s)
	return None
}

func TestPolicyWholeMatrix(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(wantPolicy), "\n")
	header := strings.Fields(lines[0])
	for i, prof := range Profiles {
		if header[2+i] != string(prof) {
			t.Fatalf("wantPolicy column %d is %q, want profile %q", 2+i, header[2+i], prof)
		}
	}
	seen := map[string]bool{}
	for _, line := range lines[1:] {
		cols := strings.Fields(line)
		if len(cols) != 2+len(Profiles) {
			t.Fatalf("wantPolicy line %q: %d columns, want %d", line, len(cols), 2+len(Profiles))
		}
		r, a := Resource(cols[0]), Action(cols[1])
		key := cols[0] + "/" + cols[1]
		if seen[key] {
			t.Errorf("wantPolicy lists %s twice", key)
		}
		seen[key] = true
		for i, prof := range Profiles {
			want := parseScope(t, cols[2+i])
			if got := Allowed(prof, r, a); got != want {
				t.Errorf("Allowed(%s, %s, %s) = %s, want %s", prof, r, a, got, want)
			}
		}
	}
	// The expected table covers every resource × action…
	for _, r := range resources {
		for _, a := range Actions {
			if !seen[fmt.Sprintf("%s/%s", r, a)] {
				t.Errorf("wantPolicy has no row for %s/%s", r, a)
			}
		}
	}
	// …and Policy has nothing the expected table does not know.
	for _, rule := range Policy {
		if !seen[fmt.Sprintf("%s/%s", rule.Resource, rule.Action)] {
			t.Errorf("Policy has a rule %s/%s missing from wantPolicy: add the resource and its rows", rule.Resource, rule.Action)
		}
		for prof, sc := range rule.Scopes {
			if !prof.Valid() {
				t.Errorf("Policy %s/%s names unknown profile %q", rule.Resource, rule.Action, prof)
			}
			if sc == None {
				t.Errorf("Policy %s/%s lists %s with None: leave it out instead", rule.Resource, rule.Action, prof)
			}
		}
	}
}

func TestPolicyUnknownResourceOrAction(t *testing.T) {
	for _, prof := range append(Profiles, Profile("inconnu"), Profile("")) {
		for _, a := range append(Actions, Action("publish"), Action("")) {
			if got := Allowed(prof, Resource("cantine"), a); got != None {
				t.Errorf("Allowed(%s, cantine, %s) = %s, want none", prof, a, got)
			}
		}
		for _, r := range resources {
			if got := Allowed(prof, r, Action("publish")); got != None {
				t.Errorf("Allowed(%s, %s, publish) = %s, want none", prof, r, got)
			}
		}
	}
	// An unknown profile gets nothing, even where every profile has a scope.
	if got := Allowed(Profile("superviseur"), Account, Read); got != None {
		t.Errorf("unknown profile reads accounts with %s", got)
	}
	p := &Principal{UserID: 1, Roles: []Role{{StructureID: 0, Profile: Admin}}}
	if p.Can(Resource("cantine"), Read, Target{Structure: 1}) {
		t.Error("even an admin reaches a resource the policy does not know")
	}
	if p.CanAny(Structure, Action("publish")) {
		t.Error("CanAny true for an unknown action")
	}
}

// The people of a small département, as the directory would load them:
// collège 1 (classes 11 "3e A" and 12 "3e B"), lycée 2 (class 21).
const (
	college, lycee   = int64(1), int64(2)
	classA, classB   = int64(11), int64(12)
	classLycee       = int64(21)
	lastYearClassA   = int64(9)                           // taught last year; not in Principal.Classes
	lea, hugo, ines  = int64(101), int64(102), int64(103) // pupils: 3e A, 3e B, lycée
	tom              = int64(104)                         // pupil, Léa's classmate in 3e A
	mmeMartin        = int64(201)                         // Léa's mother
	mDupont          = int64(301)                         // teaches 3e A only
	mmeCPE, mHead    = int64(401), int64(501)
	mAdmin           = int64(601)
	lyceeHead        = int64(502)
	unrelatedAdultID = int64(999)
)

var (
	pupilLea   = &Principal{UserID: lea, Roles: []Role{role(college, Pupil, "")}, Classes: []int64{classA}}
	parentLea  = &Principal{UserID: mmeMartin, Roles: []Role{role(college, Parent, "")}, Children: []int64{lea}, ChildClasses: []int64{classA}}
	teacherA   = &Principal{UserID: mDupont, Roles: []Role{role(college, Teacher, "")}, Classes: []int64{classA}}
	cpe        = &Principal{UserID: mmeCPE, Roles: []Role{role(college, Staff, "CPE")}}
	head       = &Principal{UserID: mHead, Roles: []Role{role(college, Head, "Principal")}}
	entAdmin   = &Principal{UserID: mAdmin, Roles: []Role{role(0, Admin, "")}}
	deptHead   = &Principal{UserID: 700, Roles: []Role{role(0, Head, "IA-DASEN")}}
	personLea  = Target{Structure: college, Person: lea, Classes: []int64{classA}}
	personHugo = Target{Structure: college, Person: hugo, Classes: []int64{classB}}
	personInes = Target{Structure: lycee, Person: ines, Classes: []int64{classLycee}}
	personTom  = Target{Structure: college, Person: tom, Classes: []int64{classA}}
)

func role(st int64, p Profile, function string) Role {
	return Role{StructureID: st, Profile: p, Function: function}
}

func TestCanByScope(t *testing.T) {
	tests := []struct {
		name string
		p    *Principal
		r    Resource
		a    Action
		t    Target
		want bool
	}{
		// Self: a pupil reads themselves, not another pupil.
		{"self: pupil reads own entry", pupilLea, Person, Read, personLea, true},
		{"self: pupil reads another pupil", pupilLea, Person, Read, personHugo, false},
		{"self: pupil reads a classmate", pupilLea, Person, Read, personTom, false},
		{"self: pupil changes own account", pupilLea, Account, Update, Target{Person: lea}, true},
		{"self: head changes someone else's account", head, Account, Update, Target{Structure: college, Person: lea}, false},
		{"self: target without a person is nobody's self", pupilLea, Person, Read, Target{Structure: college}, false},

		// Family: a parent reaches themselves, their child and the child's class.
		{"family: parent reads own child", parentLea, Person, Read, personLea, true},
		{"family: parent reads themselves", parentLea, Person, Read, Target{Structure: college, Person: mmeMartin}, true},
		{"family: parent reads another family's child", parentLea, Person, Read, personHugo, false},
		{"family: parent reads child's guardians", parentLea, Guardianship, Read, personLea, true},
		{"family: parent reads another child's guardians", parentLea, Guardianship, Read, personInes, false},
		{"family: parent reads child's class", parentLea, Class, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"family: parent reads another class", parentLea, Class, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"family: parent cannot update child", parentLea, Person, Update, personLea, false},

		// Taught: this year's classes only.
		{"taught: teacher reads pupil of a class taught", teacherA, Person, Read, personLea, true},
		{"taught: teacher reads pupil of another class", teacherA, Person, Read, personHugo, false},
		{"taught: teacher reads pupil of another school", teacherA, Person, Read, personInes, false},
		{"taught: pupil reads own class", pupilLea, Class, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"taught: pupil reads another class", pupilLea, Class, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"taught: pupil reads last year's class", pupilLea, Class, Read, Target{Structure: college, Classes: []int64{lastYearClassA}}, false},
		{"taught: teacher has no guardianship access", teacherA, Guardianship, Read, personLea, false},

		// School: the structures where the role is held.
		{"school: CPE reads a pupil of the school", cpe, Person, Read, personHugo, true},
		{"school: CPE reads a pupil of another school", cpe, Person, Read, personInes, false},
		{"school: CPE issues an activation code in the school", cpe, Activation, Create, personLea, true},
		{"school: CPE cannot update a person", cpe, Person, Update, personLea, false},
		{"school: head updates a person of the school", head, Person, Update, personHugo, true},
		{"school: head updates a person of another school", head, Person, Update, personInes, false},
		{"school: head cannot reach a target with no structure", head, Person, Read, Target{Person: unrelatedAdultID}, false},
		{"school: head cannot delete a person", head, Person, Delete, personHugo, false},
		{"school: teacher reads any class of the school", teacherA, Class, Read, Target{Structure: college, Classes: []int64{classB}}, true},
		{"school: département-wide head reaches every school", deptHead, Person, Update, personInes, true},
		{"school: lycée head does not reach the collège", &Principal{UserID: lyceeHead, Roles: []Role{role(lycee, Head, "")}}, Person, Read, personLea, false},

		// All: the département-wide ENT administrator.
		{"all: admin reads a pupil anywhere", entAdmin, Person, Read, personInes, true},
		{"all: admin deletes a person", entAdmin, Person, Delete, personHugo, true},
		{"all: admin creates a structure", entAdmin, Structure, Create, Target{}, true},
		{"all: admin reads a person with no role", entAdmin, Person, Read, Target{Person: unrelatedAdultID}, true},
		{"all: admin still changes only their own account", entAdmin, Account, Update, Target{Person: lea}, false},

		// Live lessons: the class's teachers start and moderate, its pupils
		// and the school's staff join, parents never.
		{"live: teacher starts a lesson for a class taught", teacherA, Live, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"live: teacher starts a lesson for another class", teacherA, Live, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"live: pupil joins own class's lesson", pupilLea, Live, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"live: pupil joins another class's lesson", pupilLea, Live, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"live: pupil cannot moderate", pupilLea, Live, Update, Target{Structure: college, Classes: []int64{classA}}, false},
		{"live: parent cannot join child's class lesson", parentLea, Live, Read, Target{Structure: college, Classes: []int64{classA}}, false},
		{"live: CPE joins but does not moderate", cpe, Live, Read, Target{Structure: college, Classes: []int64{classB}}, true},
		{"live: CPE cannot moderate", cpe, Live, Update, Target{Structure: college, Classes: []int64{classB}}, false},
		{"live: head moderates a lesson of the school", head, Live, Update, Target{Structure: college, Classes: []int64{classB}}, true},
		{"live: head does not reach another school", head, Live, Read, Target{Structure: lycee, Classes: []int64{classLycee}}, false},

		// Documents: pupils read their class space, its teachers write it,
		// parents never reach it; assignments are the class's teachers'.
		{"file: pupil reads own class space", pupilLea, File, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"file: pupil cannot write own class space", pupilLea, File, Update, Target{Structure: college, Classes: []int64{classA}}, false},
		{"file: pupil reads another class space", pupilLea, File, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"file: teacher writes a class space taught", teacherA, File, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"file: teacher writes another class space", teacherA, File, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"file: parent reads child's class space", parentLea, File, Read, Target{Structure: college, Classes: []int64{classA}}, false},
		{"file: CPE reads a class space of the school", cpe, File, Read, Target{Structure: college, Classes: []int64{classB}}, true},
		{"assignment: teacher sets one for a class taught", teacherA, Assignment, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"assignment: teacher sets one for another class", teacherA, Assignment, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"assignment: pupil sees own class's", pupilLea, Assignment, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"assignment: pupil cannot manage", pupilLea, Assignment, Update, Target{Structure: college, Classes: []int64{classA}}, false},
		{"assignment: head does not see hand-ins", head, Assignment, Read, Target{Structure: college, Classes: []int64{classA}}, false},
		{"quota: admin sets anyone's", entAdmin, Quota, Update, personInes, true},
		{"quota: pupil cannot set own", pupilLea, Quota, Update, personLea, false},

		// Grades: a pupil reads their own, a parent their child's, never a
		// classmate's; teachers write in the classes they teach this year.
		{"grade: pupil reads own grades", pupilLea, Grade, Read, personLea, true},
		{"grade: pupil reads a classmate's grades", pupilLea, Grade, Read, personTom, false},
		{"grade: parent reads own child's grades", parentLea, Grade, Read, personLea, true},
		{"grade: parent reads the child's classmate's grades", parentLea, Grade, Read, personTom, false},
		{"grade: parent reads another family's child", parentLea, Grade, Read, personHugo, false},
		{"grade: teacher reads a pupil of a class taught", teacherA, Grade, Read, personLea, true},
		{"grade: teacher reads a pupil of another class", teacherA, Grade, Read, personHugo, false},
		{"grade: teacher grades a pupil of a class taught", teacherA, Grade, Update, personTom, true},
		{"grade: teacher grades a pupil of another class", teacherA, Grade, Update, personHugo, false},
		{"grade: pupil cannot grade", pupilLea, Grade, Update, personLea, false},
		{"grade: CPE reads a pupil of the school", cpe, Grade, Read, personHugo, true},
		{"grade: CPE cannot grade", cpe, Grade, Update, personHugo, false},
		{"grade: head reads a pupil of the school", head, Grade, Read, personHugo, true},
		{"grade: head does not read another school", head, Grade, Read, personInes, false},
		{"grade: admin reads anyone's", entAdmin, Grade, Read, personInes, true},
		{"grade: admin cannot grade", entAdmin, Grade, Update, personInes, false},
		{"evaluation: teacher creates one in a class taught", teacherA, Evaluation, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"evaluation: teacher creates one in another class", teacherA, Evaluation, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"evaluation: teacher creates one in last year's class", teacherA, Evaluation, Create, Target{Structure: college, Classes: []int64{lastYearClassA}}, false},
		{"evaluation: pupil cannot read the class's grade table", pupilLea, Evaluation, Read, Target{Structure: college, Classes: []int64{classA}}, false},
		{"evaluation: parent cannot read the class's grade table", parentLea, Evaluation, Read, Target{Structure: college, Classes: []int64{classA}}, false},
		{"evaluation: CPE reads a class of the school", cpe, Evaluation, Read, Target{Structure: college, Classes: []int64{classB}}, true},
		{"evaluation: head cannot create", head, Evaluation, Create, Target{Structure: college, Classes: []int64{classB}}, false},

		// Homework book: a class's pupils, their parents and its teachers
		// read it; teachers write it; a pupil ticks only their own work.
		{"homework: pupil reads own class's", pupilLea, Homework, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"homework: pupil reads another class's", pupilLea, Homework, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"homework: parent reads child's class's", parentLea, Homework, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"homework: parent reads another class's", parentLea, Homework, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"homework: teacher writes in a class taught", teacherA, Homework, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"homework: teacher writes in another class", teacherA, Homework, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"homework: teacher writes in last year's class", teacherA, Homework, Update, Target{Structure: college, Classes: []int64{lastYearClassA}}, false},
		{"homework: pupil cannot write", pupilLea, Homework, Create, Target{Structure: college, Classes: []int64{classA}}, false},
		{"homework: CPE reads a class of the school", cpe, Homework, Read, Target{Structure: college, Classes: []int64{classB}}, true},
		{"homework: CPE cannot write", cpe, Homework, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"homework: head does not read another school", head, Homework, Read, Target{Structure: lycee, Classes: []int64{classLycee}}, false},
		{"homework_done: pupil ticks own work", pupilLea, HomeworkDone, Update, personLea, true},
		{"homework_done: pupil ticks a classmate's", pupilLea, HomeworkDone, Update, personTom, false},
		{"homework_done: parent sees child's ticks", parentLea, HomeworkDone, Read, personLea, true},
		{"homework_done: parent sees a classmate's ticks", parentLea, HomeworkDone, Read, personTom, false},
		{"homework_done: parent cannot tick", parentLea, HomeworkDone, Update, personLea, false},
		// Online courses: the class's pupils, their parents and its teachers
		// read; its teachers of this year write; nobody else.
		{"course: pupil reads own class's", pupilLea, Course, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"course: pupil reads another class's", pupilLea, Course, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"course: parent reads child's class's", parentLea, Course, Read, Target{Structure: college, Classes: []int64{classA}}, true},
		{"course: parent reads another class's", parentLea, Course, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"course: parent cannot write", parentLea, Course, Create, Target{Structure: college, Classes: []int64{classA}}, false},
		{"course: teacher writes in a class taught", teacherA, Course, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"course: teacher writes in another class", teacherA, Course, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"course: teacher writes in last year's class", teacherA, Course, Update, Target{Structure: college, Classes: []int64{lastYearClassA}}, false},
		{"course: pupil cannot write", pupilLea, Course, Create, Target{Structure: college, Classes: []int64{classA}}, false},
		{"course: CPE does not read", cpe, Course, Read, Target{Structure: college, Classes: []int64{classB}}, false},
		{"course: head does not read", head, Course, Read, Target{Structure: college, Classes: []int64{classA}}, false},
		{"library_book: pupil reads own school's catalogue", pupilLea, LibraryBook, Read, Target{Structure: college}, true},
		{"library_book: pupil does not read another school's", pupilLea, LibraryBook, Read, Target{Structure: lycee}, false},
		{"library_book: pupil cannot catalogue", pupilLea, LibraryBook, Create, Target{Structure: college}, false},
		{"library_loan: pupil reserves for herself", pupilLea, LibraryLoan, Create, Target{Structure: college, Person: lea}, true},
		{"library_loan: pupil does not reserve for a classmate", pupilLea, LibraryLoan, Create, personTom, false},
		{"library_loan: pupil does not see a classmate's loans", pupilLea, LibraryLoan, Read, personTom, false},
		{"library_loan: parent sees child's loans", parentLea, LibraryLoan, Read, personLea, true},
		{"library_loan: parent does not reserve", parentLea, LibraryLoan, Create, personLea, false},
		{"library_loan: head manages loans of the school", head, LibraryLoan, Update, personLea, true},
		{"library_loan: head does not manage another school's", head, LibraryLoan, Update, Target{Structure: lycee, Person: lea}, false},

		// Notices: teachers publish to the classes they teach, authors
		// change their own (Self), the direction any of the school's;
		// parents acknowledge for their own children only.
		{"notice: teacher publishes to a class taught", teacherA, Notice, Create, Target{Structure: college, Classes: []int64{classA}}, true},
		{"notice: teacher publishes to another class", teacherA, Notice, Create, Target{Structure: college, Classes: []int64{classB}}, false},
		{"notice: teacher publishes to the whole school", teacherA, Notice, Create, Target{Structure: college}, false},
		{"notice: CPE publishes to the whole school", cpe, Notice, Create, Target{Structure: college}, true},
		{"notice: parent cannot publish", parentLea, Notice, Create, Target{Structure: college, Classes: []int64{classA}}, false},
		{"notice: teacher changes their own", teacherA, Notice, Update, Target{Structure: college, Person: mDupont}, true},
		{"notice: CPE changes the head's", cpe, Notice, Update, Target{Structure: college, Person: mHead}, false},
		{"notice: head deletes the CPE's", head, Notice, Delete, Target{Structure: college, Person: mmeCPE}, true},
		{"notice: lycée head deletes the collège's", &Principal{UserID: lyceeHead, Roles: []Role{role(lycee, Head, "")}}, Notice, Delete, Target{Structure: college, Person: mmeCPE}, false},
		{"notice_ack: parent acknowledges for own child", parentLea, NoticeAck, Create, Target{Structure: college, Person: lea}, true},
		{"notice_ack: parent acknowledges for another child", parentLea, NoticeAck, Create, Target{Structure: college, Person: tom}, false},
		{"notice_ack: CPE follows the school's", cpe, NoticeAck, Read, Target{Structure: college, Person: mDupont}, true},
		{"notice_ack: teacher follows another's", teacherA, NoticeAck, Read, Target{Structure: college, Person: mHead}, false},

		// None.
		{"none: pupil creates a class", pupilLea, Class, Create, Target{Structure: college, Classes: []int64{classA}}, false},
		{"none: nil principal", nil, Structure, Read, Target{Structure: college}, false},
		{"none: no roles", &Principal{UserID: 5}, Structure, Read, Target{Structure: college}, false},
	}
	for _, tt := range tests {
		if got := tt.p.Can(tt.r, tt.a, tt.t); got != tt.want {
			t.Errorf("%s: Can(%s, %s, %+v) = %v, want %v", tt.name, tt.r, tt.a, tt.t, got, tt.want)
		}
	}
}

// TestFamilyReachesOnlyOwnChildren: SECURITY.md says a parent sees only their
// own children. A classmate of the child shares the child's class, and the
// Family scope must not turn that into access to the classmate's entry or to
// their guardians.
func TestFamilyReachesOnlyOwnChildren(t *testing.T) {
	if parentLea.Can(Person, Read, personTom) {
		t.Error("a parent reads the directory entry of their child's classmate")
	}
	if parentLea.Can(Guardianship, Read, personTom) {
		t.Error("a parent reads the guardians of their child's classmate")
	}
}

func TestCanWithSeveralRoles(t *testing.T) {
	// A teacher of the collège who is also the parent of a lycée pupil.
	p := &Principal{UserID: 800, Roles: []Role{role(college, Teacher, ""), role(lycee, Parent, "")},
		Classes: []int64{classA}, Children: []int64{ines}, ChildClasses: []int64{classLycee}}
	if !p.Can(Person, Read, personLea) {
		t.Error("teacher role: pupil of a taught class refused")
	}
	if !p.Can(Person, Read, personInes) {
		t.Error("parent role: own child refused")
	}
	if !p.Can(Guardianship, Read, personInes) {
		t.Error("parent role: own child's guardians refused")
	}
	if p.Can(Guardianship, Read, personLea) {
		t.Error("teacher role lent guardianship access to a pupil taught")
	}
	if p.Can(Class, Read, Target{Structure: lycee, Classes: []int64{22}}) {
		t.Error("parent role reaches a lycée class their child is not in")
	}
}

func TestCanAny(t *testing.T) {
	tests := []struct {
		p    *Principal
		r    Resource
		a    Action
		want bool
	}{
		{cpe, Activation, Create, true},
		{teacherA, Activation, Create, false},
		{head, Import, Create, true},
		{parentLea, Person, Create, false},
		{nil, Structure, Read, false},
	}
	for _, tt := range tests {
		if got := tt.p.CanAny(tt.r, tt.a); got != tt.want {
			t.Errorf("CanAny(%v, %s, %s) = %v, want %v", tt.p, tt.r, tt.a, got, tt.want)
		}
	}
}

func TestScopeString(t *testing.T) {
	want := []string{"none", "self", "family", "taught", "school", "all"}
	for i, w := range want {
		if got := Scope(i).String(); got != w {
			t.Errorf("Scope(%d) = %q, want %q", i, got, w)
		}
	}
	if !(None < Self && Self < Family && Family < Taught && Taught < School && School < All) {
		t.Error("scopes are not ordered from none to all")
	}
}
