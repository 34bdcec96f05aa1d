package csvimport

import (
	"encoding/csv"
	"io"
	"strings"
	"time"

	"preau/ent/directory"
	"preau/identity"
)

// codeHeader is the first row of the activation codes file.
var codeHeader = []string{"Identifiant", "Nom", "Prénom", "Profil", "Classe", "Code d'activation", "Valable jusqu'au"}

// codeWriter writes the activation codes CSV for the school to hand out:
// UTF-8 with a BOM and ';' so that Excel opens it as is. The BOM and header
// are written with the first code only.
type codeWriter struct {
	w  io.Writer
	cw *csv.Writer
}

func (c *codeWriter) write(p directory.Person, prof identity.Profile, class, code string, exp time.Time) error {
	if c.w == nil {
		return nil
	}
	if c.cw == nil {
		if _, err := io.WriteString(c.w, "\uFEFF"); err != nil {
			return err
		}
		c.cw = csv.NewWriter(c.w)
		c.cw.Comma = ';'
		c.cw.UseCRLF = true
		if err := c.cw.Write(codeHeader); err != nil {
			return err
		}
	}
	return c.cw.Write([]string{cell(p.Login), cell(p.LastName), cell(p.FirstName), prof.Label(), cell(class), code,
		exp.Format("02/01/2006 15:04")})
}

func (c *codeWriter) flush() error {
	if c.cw == nil {
		return nil
	}
	c.cw.Flush()
	return c.cw.Error()
}

// cell defuses spreadsheet formulas: a cell starting with = + - @ would be
// evaluated by Excel (CSV injection), so it gets a leading apostrophe.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
