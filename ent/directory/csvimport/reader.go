package csvimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Limits on what Import reads. A file or a row over them is refused.
const (
	MaxFileSize  = 50 << 20 // bytes of the file as uploaded
	MaxRowSize   = 64 << 10 // bytes of one row (after decoding)
	MaxFields    = 64       // columns of one row
	MaxRowErrors = 20       // bad rows reported before giving up
)

// ErrFileTooLarge is returned when the file exceeds MaxFileSize.
var ErrFileTooLarge = fmt.Errorf("fichier trop volumineux (%d Mio au plus)", MaxFileSize>>20)

// errRowTooLong is returned by rowLimiter when one record grows past the
// limit; it is turned into a row error with the line number.
var errRowTooLong = errors.New("ligne trop longue")

const peekSize = 64 << 10

// sizeLimiter fails with ErrFileTooLarge once more than max bytes were read.
// The error is sticky because bufio.Reader.Peek forgets errors.
type sizeLimiter struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (l *sizeLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if rest := l.max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		l.err = ErrFileTooLarge
		return 0, l.err
	}
	return n, err
}

// rowLimiter bounds the bytes csv.Reader may pull for one record, so a
// missing quote or a endless line cannot make it buffer the whole file. The
// caller resets n after each record. csv.Reader reads ahead through its own
// 4 KiB buffer, hence the slack; the exact MaxRowSize check is done on
// InputOffset.
type rowLimiter struct {
	r   io.Reader
	n   int64
	err error
}

const rowSlack = 16 << 10

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	rest := int64(MaxRowSize+rowSlack) - l.n
	if rest <= 0 {
		l.err = errRowTooLong
		return 0, l.err
	}
	if int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// decoder turns the file into UTF-8. A BOM decides (UTF-8, UTF-16 as Excel's
// "Texte Unicode" writes); otherwise the first non-ASCII bytes decide: valid
// UTF-8 → UTF-8, else Windows-1252 (a superset of Latin-1 for letters).
// The decision looks ahead at most peekSize bytes, so the file streams.
func decoder(raw *bufio.Reader) (io.Reader, error) {
	b, err := raw.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		raw.Discard(3)
		return &autoDecoder{src: raw, mode: modeUTF8}, nil
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), nil
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return transform.NewReader(raw, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), nil
	}
	return &autoDecoder{src: raw}, nil
}

const (
	modeUnknown = iota
	modeUTF8
	mode1252
)

// autoDecoder passes ASCII through until it meets the first non-ASCII byte,
// then settles on UTF-8 or Windows-1252 for the rest of the file. In UTF-8
// mode invalid sequences later on are passed through and rejected per row.
type autoDecoder struct {
	src  *bufio.Reader
	mode int
	dec  io.Reader
}

func (a *autoDecoder) Read(p []byte) (int, error) {
	switch a.mode {
	case modeUTF8:
		return a.src.Read(p)
	case mode1252:
		return a.dec.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	b, err := a.src.Peek(a.src.Size())
	if len(b) == 0 {
		return 0, err
	}
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i > 0 {
		n := copy(p, b[:i])
		a.src.Discard(n)
		return n, nil
	}
	w := b
	if err == nil || errors.Is(err, bufio.ErrBufferFull) {
		w = trimPartialRune(w) // more is coming: a rune may be cut at the window's end
	}
	if utf8.Valid(w) {
		a.mode = modeUTF8
	} else {
		a.mode = mode1252
		a.dec = transform.NewReader(a.src, charmap.Windows1252.NewDecoder())
	}
	return a.Read(p)
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b.
func trimPartialRune(b []byte) []byte {
	for k := 1; k <= utf8.UTFMax && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < utf8.RuneSelf {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-k:]) {
				return b[:len(b)-k]
			}
			return b
		}
	}
	return b
}

// detectSeparator reads the header line without consuming it and returns the
// most frequent of ';', ',' and tab outside quotes (';' on a tie: French
// Excel's choice).
func detectSeparator(br *bufio.Reader) (rune, error) {
	b, err := br.Peek(peekSize)
	if len(b) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return 0, errEmpty
		}
		return 0, err
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, err
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	} else if len(b) == peekSize {
		return 0, errHeaderTooLong
	}
	var semi, comma, tab int
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ';':
			semi++
		case c == ',':
			comma++
		case c == '\t':
			tab++
		}
	}
	switch {
	case tab > semi && tab > comma:
		return '\t', nil
	case comma > semi:
		return ',', nil
	}
	return ';', nil
}

var (
	errEmpty         = errors.New("le fichier est vide")
	errHeaderTooLong = errors.New("ligne d'en-tête trop longue ou absente")
)

// source yields the records of a CSV file with their physical line numbers.
type source struct {
	cr      *csv.Reader
	lim     *rowLimiter
	lastOff int64
}

// newSource reads r, refusing more than maxSize bytes with ErrFileTooLarge.
func newSource(r io.Reader, maxSize int64) (*source, error) {
	raw := bufio.NewReaderSize(&sizeLimiter{r: r, max: maxSize}, peekSize)
	dec, err := decoder(raw)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(dec, peekSize)
	sep, err := detectSeparator(br)
	if err != nil {
		return nil, err
	}
	lim := &rowLimiter{r: br}
	cr := csv.NewReader(lim)
	cr.Comma = sep
	cr.FieldsPerRecord = -1 // checked per row, to report the line instead of stopping
	cr.ReuseRecord = true
	cr.TrimLeadingSpace = true
	return &source{cr: cr, lim: lim}, nil
}

// next returns the next record and the line it starts on. A non-nil msg is a
// problem with that record only (the caller reports it and goes on); err is
// io.EOF at the end or a problem that stops the reading.
func (s *source) next() (rec []string, line int, msg string, err error) {
	s.lim.n = 0
	rec, err = s.cr.Read()
	off := s.cr.InputOffset()
	size := off - s.lastOff
	s.lastOff = off
	var pe *csv.ParseError
	switch {
	case err == nil:
	case errors.As(err, &pe):
		if errors.Is(pe.Err, errRowTooLong) {
			return nil, pe.StartLine, "", &RowErrors{Rows: []RowError{{pe.StartLine, fmt.Sprintf("ligne trop longue (%d Kio au plus) ; un guillemet n'est peut-être pas fermé", MaxRowSize>>10)}}}
		}
		return nil, pe.StartLine, csvMessage(pe), nil
	case errors.Is(err, errRowTooLong):
		l, _ := s.cr.FieldPos(0)
		return nil, l, "", &RowErrors{Rows: []RowError{{l, fmt.Sprintf("ligne trop longue (%d Kio au plus) ; un guillemet n'est peut-être pas fermé", MaxRowSize>>10)}}}
	default:
		return nil, 0, "", err
	}
	line, _ = s.cr.FieldPos(0)
	switch {
	case size > MaxRowSize:
		return nil, line, fmt.Sprintf("ligne trop longue (%d Kio au plus)", MaxRowSize>>10), nil
	case len(rec) > MaxFields:
		return nil, line, fmt.Sprintf("trop de colonnes (%d au plus)", MaxFields), nil
	}
	return rec, line, "", nil
}

func csvMessage(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf("guillemet (\") mal placé, colonne %d : entourez le champ de guillemets et doublez ceux qu'il contient", pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf("guillemet (\") non fermé ou suivi de texte, colonne %d", pe.Column)
	}
	return "ligne illisible : " + pe.Err.Error()
}
