// Package meetings is the parent–teacher meetings module (rendez-vous):
// a teacher — or the direction, for a whole evening and several teachers —
// publishes time slots (a day, a start, a length; in person in a room, or
// by video); a parent books one slot per teacher of their children, for a
// given child, never two slots of theirs that overlap; a slot is never
// booked twice. A parent cancels their booking, a teacher cancels it or
// removes the slot: the slot is free again and the other side is told
// (package web, through the chat hub).
//
// A video slot has its own meeting room (Slot.Room), open from OpenBefore
// before its start to its end, for the teacher and the child's family only
// (package web creates it on the SFU). Who may do what is the identity
// table (resources "meeting_slot" and "meeting_booking"); refused input is
// an *Invalid with a French message, an overlapping booking a *Conflict
// naming the other one (docs/meetings.md).
package meetings
