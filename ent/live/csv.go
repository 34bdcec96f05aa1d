package live

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"
)

// csvHeader is in French: the file is for the school's staff.
var csvHeader = []string{"Nom", "Identifiant", "Rôle", "Première arrivée", "Dernier départ", "Durée totale (min)", "Connexions"}

// WriteCSV writes the roll call for a spreadsheet: UTF-8 with a byte-order
// mark (so Excel reads the accents), a semicolon separator (the French
// Excel's list separator), CRLF line ends, times in loc as "02/01/2006
// 15:04", the duration in whole minutes (rounded up: a pupil present 20 s
// shows 1). Cells starting with = + - @ are prefixed with ' so a name is
// never run as a formula.
func WriteCSV(w io.Writer, roll []Attendance, loc *time.Location) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, a := range roll {
		role := "Participant"
		if a.Role == "moderator" {
			role = "Enseignant"
		}
		minutes := (a.Total + time.Minute - 1) / time.Minute
		if err := cw.Write([]string{safeCell(a.Name), strconv.FormatInt(a.UserID, 10), role,
			a.FirstJoin.In(loc).Format("02/01/2006 15:04"), a.LastLeave.In(loc).Format("02/01/2006 15:04"),
			strconv.FormatInt(int64(minutes), 10), strconv.Itoa(a.Sessions)}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("live: write CSV: %w", err)
	}
	return nil
}

// safeCell defuses spreadsheet formulas (CSV injection).
func safeCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
