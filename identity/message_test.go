package identity_test

import (
	"testing"

	. "preau/identity"
)

// The chat's resources join the whole-matrix test (policy_test.go).
func init() {
	resources = append(resources, MessagePupil, MessageParent, MessageTeacher, MessageStaff, MessageHead, MessageAdmin, Mailbox)
}

// TestCanMessage walks who may write to whom over the département of
// policy_test.go: collège 1 (3e A, 3e B), lycée 2.
func TestCanMessage(t *testing.T) {
	var (
		tomP     = &Principal{UserID: tom, Roles: []Role{role(college, Pupil, "")}, Classes: []int64{classA}}
		hugoP    = &Principal{UserID: hugo, Roles: []Role{role(college, Pupil, "")}, Classes: []int64{classB}}
		inesP    = &Principal{UserID: ines, Roles: []Role{role(lycee, Pupil, "")}, Classes: []int64{classLycee}}
		parentB  = &Principal{UserID: 202, Roles: []Role{role(college, Parent, "")}, Children: []int64{hugo}, ChildClasses: []int64{classB}}
		teacherB = &Principal{UserID: 302, Roles: []Role{role(college, Teacher, "")}, Classes: []int64{classB}}
		teacherL = &Principal{UserID: 303, Roles: []Role{role(lycee, Teacher, "")}, Classes: []int64{classLycee}}
		cpeL     = &Principal{UserID: 402, Roles: []Role{role(lycee, Staff, "CPE")}}
		lyHead   = &Principal{UserID: lyceeHead, Roles: []Role{role(lycee, Head, "")}}
		stranger = &Principal{UserID: unrelatedAdultID}
	)
	tests := []struct {
		name     string
		from, to *Principal
		want     bool
	}{
		{"pupil → classmate", pupilLea, tomP, true},
		{"pupil → pupil of another class", pupilLea, hugoP, false},
		{"pupil → pupil of another school", pupilLea, inesP, false},
		{"pupil → own teacher", pupilLea, teacherA, true},
		{"pupil → teacher of another class", pupilLea, teacherB, false},
		{"pupil → teacher of another school", pupilLea, teacherL, false},
		{"pupil → CPE of the school", pupilLea, cpe, true},
		{"pupil → CPE of another school", pupilLea, cpeL, false},
		{"pupil → head of the school", pupilLea, head, true},
		{"pupil → a classmate's parent", pupilLea, parentB, false},
		{"pupil → own parent (not a rule)", pupilLea, parentLea, false},
		{"pupil → someone with no role", pupilLea, stranger, false},
		{"pupil → ENT admin", pupilLea, entAdmin, false},
		{"pupil → themselves", pupilLea, pupilLea, false},

		{"parent → child's teacher", parentLea, teacherA, true},
		{"parent → teacher of another class", parentLea, teacherB, false},
		{"parent → CPE", parentLea, cpe, true},
		{"parent → head", parentLea, head, true},
		{"parent → lycée CPE", parentLea, cpeL, false},
		{"parent → own child (not a rule)", parentLea, pupilLea, false},
		{"parent → child's classmate", parentLea, tomP, false},
		{"parent → another pupil", parentLea, hugoP, false},
		{"parent → another parent", parentLea, parentB, false},

		{"teacher → pupil of a class taught", teacherA, tomP, true},
		{"teacher → pupil of another class", teacherA, hugoP, false},
		{"teacher → pupil of another school", teacherA, inesP, false},
		{"teacher → parent of a pupil taught", teacherA, parentLea, true},
		{"teacher → parent of another class", teacherA, parentB, false},
		{"teacher → colleague", teacherA, teacherB, true},
		{"teacher → teacher of another school", teacherA, teacherL, false},
		{"teacher → CPE", teacherA, cpe, true},

		{"CPE → any pupil of the school", cpe, hugoP, true},
		{"CPE → any parent of the school", cpe, parentB, true},
		{"CPE → pupil of another school", cpe, inesP, false},
		{"head → parent of the school", head, parentB, true},
		{"lycée head → collège pupil", lyHead, pupilLea, false},
		{"département head → lycée pupil", deptHead, inesP, true},
		{"admin → anyone", entAdmin, inesP, true},
		{"admin → someone with no role", entAdmin, stranger, false},
		{"nobody → anyone", nil, pupilLea, false},
	}
	for _, tt := range tests {
		if got := tt.from.CanMessage(tt.to); got != tt.want {
			t.Errorf("%s: CanMessage = %v, want %v", tt.name, got, tt.want)
		}
	}
}
