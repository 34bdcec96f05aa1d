package demo

import (
	"context"
	"fmt"
	"time"

	"preau/ent/timetable"
)

// The demo collège's timetable: one-hour lessons, Monday to Friday (no
// Wednesday afternoon), each class's weekly hours of each subject laid out
// by a simple greedy plan that keeps a class, a teacher and a room in one
// place at a time; and, next week, one cancelled lesson in 3e A so the
// page shows what a change looks like.

// weeklyHours per subject code, by level.
var weeklyHours = map[string]map[string]int{
	"6e": {"FRANCAIS": 4, "MATHS": 4, "HISTGEO": 3, "ANGLAIS": 3, "SVT": 1, "PHYCHI": 1, "TECHNO": 1, "EPS": 3, "ARTPLA": 1, "EDMUS": 1},
	"3e": {"FRANCAIS": 4, "MATHS": 4, "HISTGEO": 3, "ANGLAIS": 3, "ESPAGNOL": 2, "SVT": 2, "PHYCHI": 2, "TECHNO": 1, "EPS": 3, "ARTPLA": 1, "EDMUS": 1},
}

// subjectOrder fixes the order subjects are placed in (maps are unordered).
var subjectOrder = []string{"EPS", "MATHS", "FRANCAIS", "HISTGEO", "ANGLAIS", "ESPAGNOL", "SVT", "PHYCHI", "TECHNO", "ARTPLA", "EDMUS"}

// hours are the starts of the lessons of a day: 8–12 and 13:30–16:30.
var hours = []int{8 * 60, 9 * 60, 10 * 60, 11 * 60, 13*60 + 30, 14*60 + 30, 15*60 + 30}

var rooms = map[string]string{"EPS": "Gymnase", "SVT": "Labo SVT", "PHYCHI": "Labo PC", "TECHNO": "Salle techno",
	"ARTPLA": "Salle d'arts", "EDMUS": "Salle de musique"}

var homeRooms = map[string]string{"6e A": "101", "6e B": "102", "3e A": "201", "3e B": "202"}

// timetable writes the week of every class, then next week's cancelled
// lesson.
func (w *writer) timetable(ctx context.Context, teachers map[string]map[string]int64, now time.Time) error {
	type place struct{ day, hour int }
	busyTeacher := map[int64]map[place]bool{}
	busyRoom := map[string]map[place]bool{}
	var first timetable.Slot
	for ci, c := range collegeClasses {
		level := c.name[:2]
		busyClass := map[place]bool{}
		for _, code := range subjectOrder {
			n := weeklyHours[level][code]
			teacher := teachers[code][c.name]
			room := rooms[code]
			if room == "" {
				room = homeRooms[c.name]
			}
			for k := range n {
				placed := false
				// Spread a subject's hours over the week: start on a
				// different day for each hour and class.
				for try := 0; try < 5*len(hours) && !placed; try++ {
					day := 1 + (k*2+ci+try/len(hours))%5
					h := (try + ci + k) % len(hours)
					p := place{day, h}
					if (day == 3 && hours[h] >= 12*60) || busyClass[p] || busyTeacher[teacher][p] || busyRoom[room][p] {
						continue
					}
					sl, err := timetable.InsertSlot(ctx, w.q, timetable.Slot{ClassID: w.classes[c.name], SubjectID: w.subjects[code],
						TeacherID: teacher, Room: room, Weekday: day, Start: hours[h], End: hours[h] + 55})
					if err != nil {
						return fmt.Errorf("demo: timetable %s %s: %w", c.name, code, err)
					}
					if c.name == "3e A" && code == "MATHS" && first.ID == 0 {
						first = sl
					}
					busyClass[p] = true
					if busyTeacher[teacher] == nil {
						busyTeacher[teacher] = map[place]bool{}
					}
					busyTeacher[teacher][p] = true
					if busyRoom[room] == nil {
						busyRoom[room] = map[place]bool{}
					}
					busyRoom[room][p] = true
					placed = true
				}
				if !placed {
					return fmt.Errorf("demo: timetable: no room left for %s in %s", code, c.name)
				}
			}
		}
	}
	if first.ID == 0 {
		return nil
	}
	next := timetable.Monday(now).AddDate(0, 0, 7+first.Weekday-1)
	return timetable.InsertChange(ctx, w.q, timetable.Change{SlotID: first.ID, Date: next.Format(timetable.DateLayout),
		Status: timetable.Cancelled, Note: "Professeur en formation"}, now)
}
