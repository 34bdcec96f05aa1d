// Package frtime is the time zone of the pages and of every school date:
// Europe/Paris, from the zone database embedded in the binary (time/tzdata),
// so that a machine or an image without one still gets summer time right.
package frtime

import (
	"time"
	_ "time/tzdata" // Europe/Paris without a zoneinfo database
)

// Paris is Europe/Paris.
var Paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // embedded by time/tzdata
	}
	return l
}()
