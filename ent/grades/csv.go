package grades

import (
	"encoding/csv"
	"fmt"
	"io"
)

// WriteCSV writes a grade table for a spreadsheet: UTF-8 with a byte-order
// mark (so Excel reads the accents), a semicolon separator (the French
// Excel's list separator), CRLF line ends, French headers and decimal
// commas. One row per pupil, one column per evaluation ("Titre (jj/mm/aaaa)
// /20 coef. 1"), then the pupil's average /20; three closing rows give the
// class average, lowest and highest. Cells starting with = + - @ (a title, a
// name) are prefixed with ' so that nothing is run as a formula.
func WriteCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	head := []string{"Élève"}
	for _, s := range t.Sheets {
		head = append(head, safeCell(fmt.Sprintf("%s (%s) /%d coef. %s", s.Title, FrDate(s.Date), s.Scale, s.Coef)))
	}
	head = append(head, "Moyenne /20")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range t.Rows {
		rec := []string{safeCell(r.Name)}
		for _, m := range r.Marks {
			if m == nil {
				rec = append(rec, "")
			} else {
				rec = append(rec, m.String())
			}
		}
		if err := cw.Write(append(rec, r.Average.String())); err != nil {
			return err
		}
	}
	foot := func(label string, cell func(Stats) string, subject Avg) error {
		rec := []string{label}
		for _, st := range t.Stats {
			if st.Counted == 0 {
				rec = append(rec, "")
			} else {
				rec = append(rec, cell(st))
			}
		}
		return cw.Write(append(rec, subject.String()))
	}
	if err := foot("Moyenne de la classe", func(s Stats) string { return s.Mean.String() }, t.ClassAverage); err != nil {
		return err
	}
	if err := foot("Note la plus basse", func(s Stats) string { return FormatQuarters(s.Min) }, t.Min); err != nil {
		return err
	}
	if err := foot("Note la plus haute", func(s Stats) string { return FormatQuarters(s.Max) }, t.Max); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("grades: write CSV: %w", err)
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
