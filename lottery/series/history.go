package series

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/startline/startline/antibot/identity"
	"github.com/startline/startline/lottery"
)

// HistoryRow is one person of an imported history file, kept as the
// identity keys registration matches on: no name, birth date or address as
// written survives the import.
type HistoryRow struct {
	RowNo        int    // the file's line (the header is line 1)
	EmailKey     string // identity.NormalizeEmail's key; "" when not given
	Phone        string // E.164; "" when not given
	PersonKey    string // identity.PersonKey(name, birth date)
	Applications int    // earlier unsuccessful applications, 1..100
	Years        []int  // optional, newest first
}

// MaxHistoryRows bounds one file.
const MaxHistoryRows = 100000

// historyColumns are the file's columns; the header names them in any
// order, years is optional and so is one of email and phone.
var historyColumns = []string{"name", "birth_date", "email", "phone", "previous_applications", "years"}

// ParseHistory reads an organizer's history CSV: a header naming the
// columns name, birth_date (YYYY-MM-DD), email and/or phone,
// previous_applications (1 to 100) and optionally years (e.g. "2024;2023"),
// then one person per line. Every row is normalized with antibot/identity;
// the first bad row is a field error named "rows[N].column", N being the
// file's line. Rows with 0 previous applications are skipped: they earn
// nothing.
func ParseHistory(r io.Reader, phoneRegion string) ([]HistoryRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, lottery.Fieldf("file", "the file is empty or not CSV: give a header line first")
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(historyColumns, h) {
			return nil, lottery.Fieldf("rows[1]", "unknown column %q: use %s", cut(h), strings.Join(historyColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, lottery.Fieldf("rows[1]", "column %q is given twice", h)
		}
		col[h] = i
	}
	for _, need := range []string{"name", "birth_date", "previous_applications"} {
		if _, ok := col[need]; !ok {
			return nil, lottery.Fieldf("rows[1]", "the header needs a %s column", need)
		}
	}
	_, hasEmail := col["email"]
	_, hasPhone := col["phone"]
	if !hasEmail && !hasPhone {
		return nil, lottery.Fieldf("rows[1]", "the header needs an email or a phone column")
	}
	var out []HistoryRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				line = pe.StartLine
			}
			return nil, lottery.Fieldf(fmt.Sprintf("rows[%d]", line), "line %d is not valid CSV", line)
		}
		line, _ := cr.FieldPos(0) // the file's line, blank lines counted
		if len(out) >= MaxHistoryRows {
			return nil, lottery.Fieldf("file", "give at most %d rows per file", MaxHistoryRows)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // a blank line
		}
		row, err := parseHistoryRow(line, get, phoneRegion)
		if err != nil {
			return nil, err
		}
		if row.Applications > 0 {
			out = append(out, row)
		}
	}
	if len(out) == 0 {
		return nil, lottery.Fieldf("file", "the file has no rows with earlier applications")
	}
	return out, nil
}

// parseHistoryRow normalizes one line of the file.
func parseHistoryRow(line int, get func(string) string, phoneRegion string) (HistoryRow, error) {
	bad := func(column, format string, args ...any) error {
		return lottery.Fieldf(fmt.Sprintf("rows[%d].%s", line, column), "line %d: "+format, append([]any{line}, args...)...)
	}
	row := HistoryRow{RowNo: line}
	for _, c := range historyColumns {
		if v := get(c); !utf8.ValidString(v) || strings.ContainsRune(v, 0) || len(v) > 300 {
			return HistoryRow{}, bad(c, "the value is not plain text of at most 300 bytes")
		}
	}
	name := strings.Join(strings.Fields(get("name")), " ")
	if name == "" {
		return HistoryRow{}, bad("name", "give the runner's name")
	}
	birth, err := time.Parse(time.DateOnly, get("birth_date"))
	if err != nil || birth.Year() < 1900 {
		return HistoryRow{}, bad("birth_date", "use the form YYYY-MM-DD")
	}
	row.PersonKey = identity.PersonKey(name, birth)
	if row.PersonKey == "" {
		return HistoryRow{}, bad("name", "give the runner's name")
	}
	if v := get("email"); v != "" {
		addr, err := identity.NormalizeEmail(v)
		if err != nil {
			return HistoryRow{}, bad("email", "give a valid e-mail address")
		}
		row.EmailKey = addr.Key
	}
	if v := get("phone"); v != "" {
		p, err := identity.NormalizePhone(v, phoneRegion)
		if err != nil {
			return HistoryRow{}, bad("phone", "give a valid phone number, e.g. +82 10 1234 5678")
		}
		row.Phone = p
	}
	if row.EmailKey == "" && row.Phone == "" {
		return HistoryRow{}, bad("email", "give an e-mail address or a phone number")
	}
	n, err := strconv.Atoi(get("previous_applications"))
	if err != nil || n < 0 || n > lottery.MaxRecordedApplications {
		return HistoryRow{}, bad("previous_applications", "give a number from 0 to %d", lottery.MaxRecordedApplications)
	}
	row.Applications = n
	if v := get("years"); v != "" {
		for f := range strings.FieldsFuncSeq(v, func(r rune) bool { return r == ';' || r == ' ' || r == '/' || r == '|' }) {
			y, err := strconv.Atoi(f)
			if err != nil || y < 1900 || y > 2200 {
				return HistoryRow{}, bad("years", "give years like 2024;2023")
			}
			row.Years = append(row.Years, y)
		}
		slices.Sort(row.Years)
		slices.Reverse(row.Years)
		row.Years = slices.Compact(row.Years)
		if len(row.Years) > n {
			return HistoryRow{}, bad("years", "%d years for %d applications: give at most one year per application", len(row.Years), n)
		}
	}
	return row, nil
}

// cut shortens an echoed header name.
func cut(s string) string {
	if len(s) <= 40 {
		return s
	}
	for i := 40; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
