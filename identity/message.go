package identity

// MessageTo is the policy resource for writing to a person who holds
// profile p (MessagePupil, MessageParent…); "" for an unknown profile.
func MessageTo(p Profile) Resource {
	switch p {
	case Pupil:
		return MessagePupil
	case Parent:
		return MessageParent
	case Teacher:
		return MessageTeacher
	case Staff:
		return MessageStaff
	case Head:
		return MessageHead
	case Admin:
		return MessageAdmin
	}
	return ""
}

// CanMessage reports whether the principal may write to the person to: start
// a private conversation with them, add them to a group, send them a
// message with a subject. It asks the policy table once per role the
// addressee holds, with a target made of that role's structure and the
// classes that role is about: the classes a pupil is enrolled in, a
// teacher teaches, a parent's children are in. Nobody writes to themselves.
func (p *Principal) CanMessage(to *Principal) bool {
	if p == nil || to == nil || to.UserID == p.UserID {
		return false
	}
	for _, role := range to.Roles {
		r := MessageTo(role.Profile)
		if r == "" {
			continue
		}
		t := Target{Structure: role.StructureID}
		switch role.Profile {
		case Pupil, Teacher:
			t.Classes = to.Classes
		case Parent:
			t.Classes = to.ChildClasses
		}
		if p.Can(r, Create, t) {
			return true
		}
	}
	return false
}
