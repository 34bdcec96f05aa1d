package grades

import "testing"

// FuzzParseMark: whatever a teacher types, ParseMark does not panic, and a
// mark it accepts fits the scale and reads back the same from its display.
func FuzzParseMark(f *testing.F) {
	for _, s := range []string{"12", "12,5", "12.25", "abs", "Dispensé", "NN", "", "-0", "20,00", "1e1", "NaN", "0x1p3", "٣", "12,,5", "+3"} {
		f.Add(s, 20)
	}
	f.Fuzz(func(t *testing.T, s string, scale int) {
		if scale < MinScale || scale > MaxScale {
			return
		}
		m, ok, err := ParseMark(s, scale)
		if err != nil || !ok {
			return
		}
		if err := CheckMark(m, scale); err != nil {
			t.Fatalf("ParseMark(%q) = %+v, which CheckMark refuses: %v", s, m, err)
		}
		back, ok, err := ParseMark(m.String(), scale)
		if err != nil || !ok || back != m {
			t.Fatalf("ParseMark(%q) = %+v, shown %q, read back %+v %v", s, m, m.String(), back, err)
		}
	})
}

// FuzzParseCoef: an accepted coefficient is within bounds and reads back the
// same from its display.
func FuzzParseCoef(f *testing.F) {
	for _, s := range []string{"1", "1,5", "0.75", "10", "0,4", "", ",", "1.", "007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCoef(s)
		if err != nil {
			return
		}
		if c < MinCoef || c > MaxCoef {
			t.Fatalf("ParseCoef(%q) = %d out of bounds", s, c)
		}
		if back, err := ParseCoef(c.String()); err != nil || back != c {
			t.Fatalf("ParseCoef(%q) = %d, shown %q, read back %d %v", s, c, c.String(), back, err)
		}
	})
}
