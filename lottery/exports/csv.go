package exports

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
)

// BOM is the UTF-8 byte order mark an export starts with unless asked not
// to: Excel reads a CSV file without it in the machine's code page, which
// garbles Korean names.
const BOM = "\uFEFF"

// SafeCell defuses CSV formula injection (OWASP): a cell a spreadsheet
// would read as a formula or command (starting with = + - @, a tab or a
// carriage return) is prefixed with a single quote, so it shows as text.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// sheet writes rows as it is given them: encoding/csv quoting, every cell
// through SafeCell, nothing held beyond the csv.Writer's buffer.
type sheet struct {
	w    *csv.Writer
	rows int // data rows written, the header not counted
	row  []string
}

func newSheet(w io.Writer, bom bool, header []string) (*sheet, error) {
	if bom {
		if _, err := io.WriteString(w, BOM); err != nil {
			return nil, err
		}
	}
	s := &sheet{w: csv.NewWriter(w)}
	if err := s.put(header); err != nil {
		return nil, err
	}
	s.rows = 0
	return s, nil
}

// put writes one row (safe cells).
func (s *sheet) put(cells []string) error {
	s.row = s.row[:0]
	for _, c := range cells {
		s.row = append(s.row, SafeCell(c))
	}
	if err := s.w.Write(s.row); err != nil {
		return err
	}
	s.rows++
	return nil
}

func (s *sheet) close() error {
	s.w.Flush()
	return s.w.Error()
}

// timeCell is a time in the event's zone ("2026-04-01 09:30:00"), or "".
func timeCell(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}

func timePtrCell(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return timeCell(*t, loc)
}

func itoa(n int) string { return strconv.Itoa(n) }

// amountCell is an amount in minor units as a plain decimal in the
// currency's unit ("50000" won, "12.50" dollars): no symbol, no grouping,
// so a spreadsheet reads it as a number.
func amountCell(minor int64, currency string) string {
	d := lottery.MinorDigits(currency)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor, 10)
	if d > 0 {
		if len(s) <= d {
			s = strings.Repeat("0", d-len(s)+1) + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
