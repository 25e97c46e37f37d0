package web

import (
	"time"

	"github.com/startline/startline/lottery"
)

// Race details, prices and the refund policy on the event page (issue 13):
// the template functions part_event_details.html and part_giveback.html use.

func init() {
	funcs["money"] = func(ev lottery.Event, amount int64) lottery.Money {
		return lottery.Money{Amount: amount, Currency: ev.Currency}
	}
	funcs["raceDay"] = raceDay
	funcs["drawWhen"] = drawWhen
	funcs["refundWords"] = refundWords
	funcs["raceStart"] = raceStart
}

var weekdays = map[string][7]string{
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	"ko": {"일요일", "월요일", "화요일", "수요일", "목요일", "금요일", "토요일"},
}

// formatDay writes a day as runners read it: "Sunday, 2 May 2027" or
// "2027년 5월 2일 일요일".
func formatDay(d time.Time, lang string) string {
	if lang == "ko" {
		return d.Format("2006년 1월 2일 ") + weekdays["ko"][d.Weekday()]
	}
	return weekdays["en"][d.Weekday()] + ", " + d.Format("2 January 2006")
}

// raceDay is the race day in words ("" when not announced).
func raceDay(ev lottery.Event, lang string) string {
	d, err := time.Parse(time.DateOnly, ev.RaceDate)
	if err != nil {
		return ""
	}
	return formatDay(d, lang)
}

// raceStart is the start time with its zone ("07:30 KST"), "" when unset.
func raceStart(ev lottery.Event) string {
	t, ok := ev.RaceStartsAt()
	if !ok {
		return ""
	}
	return t.Format("15:04 MST")
}

// drawWhen is when the draw is expected, a day or a time in the event's
// time zone ("" when not announced).
func drawWhen(ev lottery.Event, lang string) string {
	if ev.DrawAt != nil {
		return ev.DrawAt.In(location(ev.TimeZone)).Format("2006-01-02 15:04 MST")
	}
	if d, err := time.Parse(time.DateOnly, ev.DrawDate); err == nil {
		return formatDay(d, lang)
	}
	return ""
}

// refundWords states the refund policy in the page's language, one line
// per tier and what holds after the last (or that there are no refunds).
func refundWords(ev lottery.Event, lang string, t func(string, ...any) string) []string {
	if len(ev.RefundPolicy.Tiers) == 0 {
		return []string{t("fees.refund.none")}
	}
	var out []string
	for _, tier := range ev.RefundPolicy.Tiers {
		var when string
		if d, err := time.Parse(time.DateOnly, tier.Date); err == nil {
			when = t("fees.refund.through", formatDay(d, lang))
		} else {
			when = t("fees.refund.before", tier.Until.In(location(ev.TimeZone)).Format("2006-01-02 15:04 MST"))
		}
		if tier.Percent == 100 {
			out = append(out, t("fees.refund.full", when))
		} else {
			out = append(out, t("fees.refund.part", when, tier.Percent))
		}
	}
	return append(out, t("fees.refund.after"))
}
