package frtime

import (
	"testing"
	"time"
)

// TestParis: the real zone, summer time included (a fixed CET would say
// +01:00 all year).
func TestParis(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC), 3600},
		{time.Date(2027, 7, 15, 12, 0, 0, 0, time.UTC), 7200},
	} {
		if _, off := tc.at.In(Paris).Zone(); off != tc.want {
			t.Errorf("%v in Paris: offset %d s, want %d", tc.at, off, tc.want)
		}
	}
}
