package absences

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// safeCell keeps a spreadsheet from reading a cell as a formula: cells
// starting with = + - @ (or a tab or carriage return) get a leading quote.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writer(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	return cw, nil
}

// WriteCSV writes records for a spreadsheet: UTF-8 with a byte-order mark,
// ";" separators, formula-looking cells guarded.
func WriteCSV(w io.Writer, rs []Record) error {
	cw, err := writer(w)
	if err != nil {
		return err
	}
	cw.Write([]string{"Date", "Début", "Fin", "Classe", "Élève", "Type", "Retard (min)", "Matière", "Statut", "Motif", "Précision", "Commentaire"})
	for _, r := range rs {
		kind, late := "Absence", ""
		if r.Kind == Late {
			kind, late = "Retard", fmt.Sprint(r.LateMin)
		}
		cw.Write([]string{r.Date, FrHour(r.Start), FrHour(r.End), safeCell(r.ClassName), safeCell(r.PupilName), kind, late,
			safeCell(r.Subject), StatusLabel(r.Status), ReasonLabel(r.Reason), safeCell(r.ReasonText), safeCell(r.Comment)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteCountsCSV writes per-pupil counts and their total.
func WriteCountsCSV(w io.Writer, per []Count, total Count) error {
	cw, err := writer(w)
	if err != nil {
		return err
	}
	cw.Write([]string{"Élève", "Classe", "Absences", "Justifiées", "Non justifiées", "Demi-journées", "Demi-journées non justifiées",
		"Retards", "Retards justifiés", "Retards non justifiés", "Minutes de retard", "À examiner"})
	row := func(name, class string, c Count) {
		cw.Write([]string{safeCell(name), safeCell(class), fmt.Sprint(c.Absences), fmt.Sprint(c.AbsencesJustified),
			fmt.Sprint(c.AbsencesUnjustified), fmt.Sprint(c.HalfDays), fmt.Sprint(c.HalfDaysUnjustified), fmt.Sprint(c.Lates),
			fmt.Sprint(c.LatesJustified), fmt.Sprint(c.LatesUnjustified), fmt.Sprint(c.LateMinutes), fmt.Sprint(c.Pending)})
	}
	for _, c := range per {
		row(c.PupilName, c.ClassName, c)
	}
	row("Total", "", total)
	cw.Flush()
	return cw.Error()
}
