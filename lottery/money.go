package lottery

import (
	"strconv"
	"strings"
)

// Money is an amount in a currency's minor unit (KRW has none, USD has
// cents), stored and charged exactly: never a float.
type Money struct {
	Amount   int64  // minor units
	Currency string // ISO 4217, lower case as stored ("krw")
}

// minorDigits is the number of minor-unit digits of a currency (ISO 4217);
// currencies not listed have two.
var minorDigits = map[string]int{"krw": 0, "jpy": 0, "vnd": 0, "clp": 0, "isk": 0, "twd": 2,
	"bhd": 3, "kwd": 3, "jod": 3, "omr": 3, "tnd": 3}

// MinorDigits is how many decimal places the currency's minor unit has.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[strings.ToLower(currency)]; ok {
		return d
	}
	return 2
}

var currencySymbols = map[string]string{"krw": "₩", "usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}

// Code is the upper-case ISO code ("KRW"), as API.md shows it.
func (m Money) Code() string { return strings.ToUpper(m.Currency) }

// IsZero reports a free entry.
func (m Money) IsZero() bool { return m.Amount == 0 }

// String formats the amount for people: "₩50,000", "$12.50", "CHF 8.00".
// Digits are grouped by thousands in both English and Korean.
func (m Money) String() string {
	d := MinorDigits(m.Currency)
	neg := m.Amount < 0
	a := m.Amount
	if neg {
		a = -a
	}
	var unit int64 = 1
	for i := 0; i < d; i++ {
		unit *= 10
	}
	whole, frac := a/unit, a%unit
	s := group(strconv.FormatInt(whole, 10))
	if d > 0 {
		f := strconv.FormatInt(frac, 10)
		s += "." + strings.Repeat("0", d-len(f)) + f
	}
	if sym, ok := currencySymbols[strings.ToLower(m.Currency)]; ok {
		s = sym + s
	} else {
		s = m.Code() + " " + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	if pre > 0 {
		b.WriteString(digits[:pre])
	}
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
