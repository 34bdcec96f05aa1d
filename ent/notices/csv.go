package notices

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteAcksCSV writes the follow-up for a spreadsheet: UTF-8 with a
// byte-order mark (so Excel reads the accents), a semicolon separator (the
// French Excel's list separator), CRLF line ends, dates in loc as
// "02/01/2006 15:04". Cells starting with = + - @ (or a tab, a carriage
// return) are prefixed with ' so a name is never run as a formula.
func WriteAcksCSV(w io.Writer, rep AckReport, loc *time.Location) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	if err := cw.Write([]string{"Élève", "Classe", "Responsables", "Pris connaissance", "Par", "Le"}); err != nil {
		return err
	}
	for _, r := range rep.Rows {
		var names, by, at []string
		for _, g := range r.Guardians {
			names = append(names, g.Name)
			if !g.AckedAt.IsZero() {
				by = append(by, g.Name)
				at = append(at, g.AckedAt.In(loc).Format("02/01/2006 15:04"))
			}
		}
		done := "non"
		switch {
		case len(r.Guardians) == 0:
			done = "sans responsable"
		case r.Done:
			done = "oui"
		}
		if err := cw.Write([]string{safeCell(r.Pupil), safeCell(r.Class), safeCell(strings.Join(names, ", ")), done,
			safeCell(strings.Join(by, ", ")), strings.Join(at, ", ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("notices: write CSV: %w", err)
	}
	return nil
}

// safeCell defuses spreadsheet formulas (CSV injection).
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
