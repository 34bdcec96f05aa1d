package meetings_test

import (
	"errors"
	"testing"
	"time"

	"preau/ent/meetings"
)

func TestSeries(t *testing.T) {
	ok := meetings.Series{TeacherIDs: []int64{3, 4, 3}, Date: "2026-12-01", From: "17:00", Until: "18:10", Minutes: 15, Mode: meetings.InPerson, Place: " B12 "}
	ss, err := ok.Slots(1, 9)
	if err != nil || len(ss) != 8 || ss[0].Place != "B12" || ss[4].TeacherID != 4 {
		t.Fatalf("slots %+v %v", ss, err)
	}
	if got := ss[3].End.In(meetings.Paris).Format("15:04"); got != "18:00" {
		t.Errorf("fourth slot ends %s", got)
	}
	for name, r := range map[string]meetings.Series{
		"no teacher": {Date: "2026-12-01", From: "17:00", Until: "18:00", Minutes: 15, Mode: meetings.Video},
		"bad date":   {TeacherIDs: []int64{1}, Date: "1/12/2026", From: "17:00", Until: "18:00", Minutes: 15, Mode: meetings.Video},
		"bad from":   {TeacherIDs: []int64{1}, Date: "2026-12-01", From: "25:00", Until: "18:00", Minutes: 15, Mode: meetings.Video},
		"too short":  {TeacherIDs: []int64{1}, Date: "2026-12-01", From: "17:00", Until: "17:10", Minutes: 15, Mode: meetings.Video},
		"minutes":    {TeacherIDs: []int64{1}, Date: "2026-12-01", From: "17:00", Until: "18:00", Minutes: 2, Mode: meetings.Video},
		"mode":       {TeacherIDs: []int64{1}, Date: "2026-12-01", From: "17:00", Until: "18:00", Minutes: 15, Mode: "phone"},
		"no room":    {TeacherIDs: []int64{1}, Date: "2026-12-01", From: "17:00", Until: "18:00", Minutes: 15, Mode: meetings.InPerson},
		"control":    {TeacherIDs: []int64{1}, Date: "2026-12-01", From: "17:00", Until: "18:00", Minutes: 15, Mode: meetings.InPerson, Place: "a\x00"},
		"too many":   {TeacherIDs: []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, Date: "2026-12-01", From: "08:00", Until: "20:00", Minutes: 5, Mode: meetings.Video},
	} {
		var inv *meetings.Invalid
		if _, err := r.Slots(1, 9); !errors.As(err, &inv) || inv.Msg == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRoomWindow(t *testing.T) {
	start := time.Date(2026, 12, 1, 17, 0, 0, 0, meetings.Paris)
	s := meetings.Slot{ID: 42, Mode: meetings.Video, Start: start, End: start.Add(15 * time.Minute), Booking: &meetings.Booking{ParentID: 1}}
	if s.Room() != "rdv-42" {
		t.Errorf("room %q", s.Room())
	}
	if id, ok := meetings.SlotOfRoom("rdv-42"); !ok || id != 42 {
		t.Errorf("slot of room: %d %v", id, ok)
	}
	for _, bad := range []string{"rdv-", "rdv-042", "rdv-x", "cours-42", "rdv--1"} {
		if _, ok := meetings.SlotOfRoom(bad); ok {
			t.Errorf("SlotOfRoom(%q) ok", bad)
		}
	}
	for _, c := range []struct {
		at   time.Duration
		open bool
	}{{-11 * time.Minute, false}, {-10 * time.Minute, true}, {0, true}, {14 * time.Minute, true}, {15 * time.Minute, false}} {
		if got := s.OpenAt(start.Add(c.at)); got != c.open {
			t.Errorf("open at %v: %v", c.at, got)
		}
	}
	free := s
	free.Booking = nil
	if free.OpenAt(start) {
		t.Error("a free slot's room opens")
	}
	inPerson := s
	inPerson.Mode = meetings.InPerson
	if inPerson.OpenAt(start) || inPerson.Room() != "" {
		t.Error("an in-person slot has a room")
	}
	if got := meetings.FrDay(start) + " " + meetings.FrClock(start); got != "mardi 1er décembre 17 h 00" {
		t.Errorf("French date %q", got)
	}
}
