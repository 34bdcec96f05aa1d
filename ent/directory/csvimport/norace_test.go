//go:build !race

package csvimport

const raceEnabled = false
