package grades

import (
	"fmt"
	"strings"
	"time"
)

// Chart is the geometry of a line chart of each subject's running average
// over a term, for a template to draw as SVG. Everything is computed here so
// the template only writes numbers and escaped text. Subjects are told apart
// by a marker shape and a dash pattern as well as a colour, and named in a
// legend, so the chart reads without colour.
type Chart struct {
	Width, Height int
	// The plotting area.
	Left, Top, Right, Bottom float64
	YTicks, XTicks           []Tick
	Series                   []Series
	Title, Desc              string
	// Where the axis labels and the legend's names go.
	YLabelX, XLabelY, LegendX float64
}

// Tick is a graduation of an axis.
type Tick struct {
	Pos   float64 // x or y in the SVG
	Label string
}

// Series is one subject's line.
type Series struct {
	Name   string
	Color  string
	Dash   string // stroke-dasharray; "" for a solid line
	Marker string // the marker's name, for the legend's text
	Path   string // the line, as SVG path data
	Points []ChartPoint
	// LegendY is the legend entry's baseline; LegendMarker its marker.
	LegendY      float64
	LegendMarker string
	LegendLine   string
}

// ChartPoint is one marker of a line.
type ChartPoint struct {
	X, Y   float64
	Marker string // SVG path data of the marker around (X, Y)
	Label  string // "Mathématiques — Contrôle 2 (12/10/2026) : 13,50"
}

// Palette, dashes and markers: series i uses entry i modulo their lengths,
// chosen so that no two of the first six series share a marker.
var (
	palette = []string{"#1f4e9d", "#a3161b", "#1d6b3a", "#7a4b00", "#6b2d86", "#00626b", "#444b55"}
	dashes  = []string{"", "6 3", "2 3", "8 3 2 3", "4 4", "1 2", "10 4"}
	markers = []string{"cercle", "carré", "triangle", "losange", "croix", "étoile"}
)

func markerPath(kind string, x, y float64) string {
	const r = 4.5
	switch kind {
	case "carré":
		return fmt.Sprintf("M%.1f %.1fh%.1fv%.1fh%.1fz", x-r, y-r, 2*r, 2*r, -2*r)
	case "triangle":
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fz", x, y-r-1, x+r+1, y+r, x-r-1, y+r)
	case "losange":
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz", x, y-r-1, x+r+1, y, x, y+r+1, x-r-1, y)
	case "croix":
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f", x-r, y-r, x+r, y+r, x-r, y+r, x+r, y-r)
	case "étoile":
		return fmt.Sprintf("M%.1f %.1fv%.1fM%.1f %.1fh%.1fM%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f",
			x, y-r-1, 2*r+2, x-r-1, y, 2*r+2, x-r, y-r, x+r, y+r, x-r, y+r, x+r, y-r)
	}
	// A circle as two arcs.
	return fmt.Sprintf("M%.1f %.1fa%.1f %.1f 0 1 0 %.1f 0a%.1f %.1f 0 1 0 %.1f 0z", x-r, y, r, r, 2*r, r, r, -2*r)
}

var shortMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

// NewChart lays out the running averages of the report's subjects over the
// term from → to ("YYYY-MM-DD"), out of 20. termName names the term in the
// title.
func NewChart(r Report, from, to, termName string) Chart {
	c := Chart{Width: 760, Height: 300, Left: 48, Top: 16, Right: 520, Bottom: 260}
	c.YLabelX, c.XLabelY, c.LegendX = c.Left-8, c.Bottom+18, c.Right+52 // the legend has 188 px
	start, err1 := time.Parse(time.DateOnly, from)
	end, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || !end.After(start) {
		end = start.AddDate(0, 3, 0)
	}
	span := end.Sub(start).Hours()
	x := func(day string) float64 {
		d, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return c.Left
		}
		f := d.Sub(start).Hours() / span
		f = max(0, min(1, f))
		return c.Left + f*(c.Right-c.Left)
	}
	y := func(v float64) float64 { return c.Bottom - v/20*(c.Bottom-c.Top) }
	for v := 0; v <= 20; v += 5 {
		c.YTicks = append(c.YTicks, Tick{Pos: y(float64(v)), Label: fmt.Sprint(v)})
	}
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(end); m = m.AddDate(0, 1, 0) {
		if m.Before(start) {
			continue
		}
		c.XTicks = append(c.XTicks, Tick{Pos: x(m.Format(time.DateOnly)), Label: shortMonths[m.Month()-1]})
	}
	c.Title = "Évolution des moyennes par matière — " + termName
	var desc []string
	i := 0
	for _, s := range r.Subjects {
		if len(s.Running) == 0 {
			continue
		}
		se := Series{Name: s.Subject, Color: palette[i%len(palette)], Dash: dashes[i%len(dashes)],
			Marker: markers[i%len(markers)]}
		var path strings.Builder
		for j, p := range s.Running {
			px, py := x(p.Date), y(p.Average.Float())
			if j == 0 {
				fmt.Fprintf(&path, "M%.1f %.1f", px, py)
			} else {
				fmt.Fprintf(&path, "L%.1f %.1f", px, py)
			}
			se.Points = append(se.Points, ChartPoint{X: px, Y: py, Marker: markerPath(se.Marker, px, py),
				Label: fmt.Sprintf("%s — %s (%s) : moyenne %s", s.Subject, p.Title, FrDate(p.Date), p.Average)})
		}
		se.Path = path.String()
		se.LegendY = c.Top + 8 + float64(i)*22
		se.LegendLine = fmt.Sprintf("M%.1f %.1fh28", c.Right+16, se.LegendY-4)
		se.LegendMarker = markerPath(se.Marker, c.Right+30, se.LegendY-4)
		c.Series = append(c.Series, se)
		last := s.Running[len(s.Running)-1]
		desc = append(desc, fmt.Sprintf("%s (%s) : de %s à %s après %d note(s)", s.Subject, se.Marker,
			s.Running[0].Average, last.Average, len(s.Running)))
		i++
	}
	if len(desc) == 0 {
		c.Desc = "Aucune note pour ce trimestre."
	} else {
		c.Desc = "Moyenne de chaque matière sur 20 après chaque note du trimestre. " + strings.Join(desc, " ; ") + "."
	}
	if h := int(c.Top) + 8 + 22*len(c.Series) + 8; h > c.Height {
		c.Height = h
	}
	return c
}
