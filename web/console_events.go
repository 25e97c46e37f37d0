package web

// The organizer console's events (issue 14): the organization's events with
// their key numbers (/admin), the event form that creates a draft
// (/admin/events/new) or edits one (/admin/events/:slug/edit), and a
// preview of the public event page (/admin/events/:slug/preview).
//
// The form is decode → spec → service: eventForm holds what was typed
// (strings, so a bad value is shown back as typed), its inputs are named by
// the field paths lottery's rules report ("courses[1].pace_groups[0].capacity"),
// so an error lands beside its input. The rules live in lottery
// (EventSpec.Build, EventPatch.Apply, FormSpec.Build); nothing is checked
// twice here.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
)

func (p *pages) registerEvents(r gin.IRoutes) {
	r.GET("/admin", p.eventsList)
	r.GET("/admin/events/new", p.newEventForm)
	r.POST("/admin/events/new", p.refuseCrossSite, p.createEventForm)
	r.GET("/admin/events/:slug/edit", p.editEventForm)
	r.POST("/admin/events/:slug/edit", p.refuseCrossSite, p.saveEventForm)
	r.GET("/admin/events/:slug/preview", p.previewEvent)
}

// eventsPage is /admin: the organization's events, newest window first.
type eventsPage struct {
	consoleBase
	Rows []eventsRow
}

type eventsRow struct {
	Event  lottery.Event
	Phase  lottery.EventStatus
	Counts lottery.EventCounts
}

func (p *pages) eventsList(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok {
		return
	}
	base.Tab = "events"
	ctx := c.Request.Context()
	evs, err := p.Svc.OrgEvents(ctx, base.Staff)
	if err != nil {
		p.fail(c, err)
		return
	}
	counts, err := p.Svc.EventCounts(ctx, base.Staff, evs)
	if err != nil {
		p.fail(c, err)
		return
	}
	now := p.Svc.Now()
	page := eventsPage{consoleBase: base}
	for _, e := range evs {
		page.Rows = append(page.Rows, eventsRow{Event: e, Phase: e.Phase(now), Counts: counts[e.ID]})
	}
	p.render(c, http.StatusOK, "console_events", translator(p.lang(c))("console.events.title"), page, nil)
}

// eventFormPage is the create or edit form.
type eventFormPage struct {
	consoleBase
	Form  eventForm
	Edit  bool // editing Event; else creating
	Saved bool // back from a successful save
	// What an edit may no longer change, each with its reason shown.
	Fix fixed
}

// fixed says which parts of an edited event are read-only.
type fixed struct {
	Structure bool // name, window, courses, rules: fixed once the event is published
	Terms     bool // prices, currency, refund policy: fixed once registration opened
	Questions bool // questions and documents: fixed once registration opened
}

// eventForm is the form's values as typed.
type eventForm struct {
	Slug, Name, TimeZone, OpensAt, ClosesAt, OfferHold, DisputeWindow string
	MaxGroupSize, TicketRule, Series, EditionYear, EditionLabel       string
	Unreviewed, ReviewAt, RejectAt, MinFillMS                         string
	RaceDate, RaceStart, Place, Description, DrawDate, Currency       string
	Tiers                                                             []tierRow
	Courses                                                           []courseRow
	Questions                                                         []questionRow
	PrivacyVersion, Purpose, PurposeKO, Retention, RetentionKO        string
	WaiverVersion, WaiverText, WaiverTextKO                           string
}

type tierRow struct{ Until, Percent string }

type courseRow struct {
	Code, Name, Distance string
	Paces                []paceRow
}

type paceRow struct {
	Code, Label, PaceMin, PaceMax, Capacity, Mode, Admit, Prequeue, Price string
}

type questionRow struct {
	ID, Kind, Label, LabelKO, Options string
	Required                          bool
}

// The blank rows a form shows at least; "add another" buttons add more.
const (
	minCourses   = 1
	minPaces     = 2
	minTiers     = 2
	minQuestions = 1
	maxRows      = 50 // rows read per list: more than any rule allows
)

// datetimeLocal is the value format of an <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

// readEventForm reads the posted form. Rows are read while their inputs
// are present (a disabled input is not posted, so an edit reads only what
// it may change).
func readEventForm(c *gin.Context) eventForm {
	g := c.PostForm
	f := eventForm{Slug: g("slug"), Name: g("name"), TimeZone: g("time_zone"), OpensAt: g("opens_at"), ClosesAt: g("closes_at"),
		OfferHold: g("offer_hold"), DisputeWindow: g("dispute_window"), MaxGroupSize: g("max_group_size"),
		TicketRule: g("ticket_rule"), Series: g("series"), EditionYear: g("edition_year"), EditionLabel: g("edition_label"),
		Unreviewed: g("unreviewed_policy"), ReviewAt: g("risk_rules.review_at"), RejectAt: g("risk_rules.reject_at"),
		MinFillMS: g("risk_rules.min_fill_ms"), RaceDate: g("race_date"), RaceStart: g("race_start"), Place: g("place"),
		Description: g("description"), DrawDate: g("draw_date"), Currency: g("currency"),
		PrivacyVersion: g("privacy.version"), Purpose: g("privacy.purpose"), PurposeKO: g("privacy.purpose_ko"),
		Retention: g("privacy.retention"), RetentionKO: g("privacy.retention_ko"), WaiverVersion: g("waiver.version"),
		WaiverText: g("waiver.text"), WaiverTextKO: g("waiver.text_ko")}
	has := func(name string) bool { _, ok := c.GetPostForm(name); return ok }
	for i := 0; i < maxRows && has(fmt.Sprintf("refund_policy.tiers[%d].until", i)); i++ {
		pre := fmt.Sprintf("refund_policy.tiers[%d].", i)
		f.Tiers = append(f.Tiers, tierRow{Until: g(pre + "until"), Percent: g(pre + "percent")})
	}
	for i := 0; i < maxRows && (has(fmt.Sprintf("courses[%d].code", i)) || has(fmt.Sprintf("courses[%d].pace_groups[0].price", i))); i++ {
		pre := fmt.Sprintf("courses[%d].", i)
		cr := courseRow{Code: g(pre + "code"), Name: g(pre + "name"), Distance: g(pre + "distance_km")}
		for j := 0; j < maxRows && has(fmt.Sprintf("%space_groups[%d].price", pre, j)); j++ {
			pp := fmt.Sprintf("%space_groups[%d].", pre, j)
			cr.Paces = append(cr.Paces, paceRow{Code: g(pp + "code"), Label: g(pp + "label"), PaceMin: g(pp + "pace_min"),
				PaceMax: g(pp + "pace_max"), Capacity: g(pp + "capacity"), Mode: g(pp + "mode"), Admit: g(pp + "admit_per_minute"),
				Prequeue: g(pp + "prequeue_minutes"), Price: g(pp + "price")})
		}
		f.Courses = append(f.Courses, cr)
	}
	for i := 0; i < maxRows && has(fmt.Sprintf("questions[%d].id", i)); i++ {
		pre := fmt.Sprintf("questions[%d].", i)
		f.Questions = append(f.Questions, questionRow{ID: g(pre + "id"), Kind: g(pre + "kind"), Label: g(pre + "label"),
			LabelKO: g(pre + "label_ko"), Options: g(pre + "options"), Required: g(pre+"required") != ""})
	}
	return f
}

// blank reports a row left empty (a select's default does not count).
func blank(s ...string) bool {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func (r paceRow) blank() bool {
	return blank(r.Code, r.Label, r.PaceMin, r.PaceMax, r.Capacity, r.Admit, r.Prequeue, r.Price)
}

// compact drops the rows left blank, so that the spec's indexes (and the
// errors' paths) are the rows shown.
func (f eventForm) compact() eventForm {
	var courses []courseRow
	for _, cr := range f.Courses {
		var paces []paceRow
		for _, pr := range cr.Paces {
			if !pr.blank() {
				paces = append(paces, pr)
			}
		}
		cr.Paces = paces
		if !blank(cr.Code, cr.Name, cr.Distance) || len(paces) > 0 {
			courses = append(courses, cr)
		}
	}
	f.Courses = courses
	var tiers []tierRow
	for _, t := range f.Tiers {
		if !blank(t.Until, t.Percent) {
			tiers = append(tiers, t)
		}
	}
	f.Tiers = tiers
	var qs []questionRow
	for _, q := range f.Questions {
		if !blank(q.ID, q.Label, q.LabelKO, q.Options) {
			qs = append(qs, q)
		}
	}
	f.Questions = qs
	return f
}

// padded adds blank rows up to the minimums, and the row an "add another"
// button asked for ("course", "pace-<course>", "tier", "question"); courses
// and pace groups only when structure (they may change).
func (f eventForm) padded(add string, structure bool) eventForm {
	f.Courses = append([]courseRow(nil), f.Courses...)
	if structure && add == "course" {
		f.Courses = append(f.Courses, courseRow{})
	}
	for structure && len(f.Courses) < minCourses {
		f.Courses = append(f.Courses, courseRow{})
	}
	for i := range f.Courses {
		f.Courses[i].Paces = append([]paceRow(nil), f.Courses[i].Paces...)
		if structure && add == fmt.Sprintf("pace-%d", i) {
			f.Courses[i].Paces = append(f.Courses[i].Paces, paceRow{Mode: string(lottery.ModeLottery)})
		}
		for structure && len(f.Courses[i].Paces) < minPaces {
			f.Courses[i].Paces = append(f.Courses[i].Paces, paceRow{Mode: string(lottery.ModeLottery)})
		}
	}
	if add == "tier" {
		f.Tiers = append(f.Tiers, tierRow{})
	}
	for len(f.Tiers) < minTiers {
		f.Tiers = append(f.Tiers, tierRow{})
	}
	if add == "question" {
		f.Questions = append(f.Questions, questionRow{Kind: string(lottery.KindText)})
	}
	for len(f.Questions) < minQuestions {
		f.Questions = append(f.Questions, questionRow{Kind: string(lottery.KindText)})
	}
	return f
}

// Decoding: numbers and times as typed. A value that is not one is the
// field's error, like a JSON type error in the API.

type decoder struct{ err error }

func (d *decoder) int(name, s string) int { return int(d.int64(name, s)) }

func (d *decoder) int64(name, s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" || d.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d.err = lottery.Fieldf(name, "give a whole number")
	}
	return n
}

func (d *decoder) float(name, s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" || d.err != nil {
		return 0
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		d.err = lottery.Fieldf(name, "give a number, e.g. 21.1")
	}
	return n
}

// time reads a datetime-local value in the event's time zone (UTC when the
// zone does not load: the spec's rules then name the zone).
func (d *decoder) time(name, s, tz string) time.Time {
	s = strings.TrimSpace(s)
	if d.err != nil {
		return time.Time{}
	}
	loc, err := time.LoadLocation(strings.TrimSpace(tz))
	if err != nil || tz == "" {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(datetimeLocal, s, loc)
	if err != nil {
		d.err = lottery.Fieldf(name, "give a date and time")
	}
	return t
}

// spec is the EventSpec the form describes (rows compacted first).
func (f eventForm) spec() (lottery.EventSpec, error) {
	var d decoder
	s := lottery.EventSpec{Slug: strings.TrimSpace(f.Slug), Name: f.Name, TimeZone: strings.TrimSpace(f.TimeZone),
		OfferHold: strings.TrimSpace(f.OfferHold), DisputeWindow: strings.TrimSpace(f.DisputeWindow),
		TicketRule: f.TicketRule, Series: strings.TrimSpace(f.Series), EditionLabel: f.EditionLabel, UnreviewedPolicy: f.Unreviewed}
	s.OpensAt = d.time("opens_at", f.OpensAt, f.TimeZone)
	s.ClosesAt = d.time("closes_at", f.ClosesAt, f.TimeZone)
	s.MaxGroupSize = d.int("max_group_size", f.MaxGroupSize)
	s.EditionYear = d.int("edition_year", f.EditionYear)
	if !blank(f.ReviewAt, f.RejectAt, f.MinFillMS) {
		s.RiskRules = &lottery.RiskRulesSpec{ReviewAt: d.int("risk_rules.review_at", f.ReviewAt),
			RejectAt: d.int("risk_rules.reject_at", f.RejectAt), MinFillMS: d.int("risk_rules.min_fill_ms", f.MinFillMS)}
	}
	for i, cr := range f.Courses {
		pre := fmt.Sprintf("courses[%d].", i)
		cs := lottery.CourseSpec{Code: strings.TrimSpace(cr.Code), Name: cr.Name, DistanceKM: d.float(pre+"distance_km", cr.Distance)}
		for j, pr := range cr.Paces {
			pp := fmt.Sprintf("%space_groups[%d].", pre, j)
			ps := lottery.PaceGroupSpec{Code: strings.TrimSpace(pr.Code), Label: pr.Label, PaceMin: strings.TrimSpace(pr.PaceMin),
				PaceMax: strings.TrimSpace(pr.PaceMax), Capacity: d.int(pp+"capacity", pr.Capacity), Mode: pr.Mode,
				AdmitPerMinute: d.int(pp+"admit_per_minute", pr.Admit), Price: d.int64(pp+"price", pr.Price)}
			if !blank(pr.Prequeue) {
				n := d.int(pp+"prequeue_minutes", pr.Prequeue)
				ps.PrequeueMinutes = &n
			}
			cs.PaceGroups = append(cs.PaceGroups, ps)
		}
		s.Courses = append(s.Courses, cs)
	}
	s.Details = f.details(&d)
	s.Form = f.formSpec()
	return s, d.err
}

func (f eventForm) details(d *decoder) lottery.DetailsSpec {
	ds := lottery.DetailsSpec{RaceDate: strings.TrimSpace(f.RaceDate), RaceStart: strings.TrimSpace(f.RaceStart), Place: f.Place,
		Description: f.Description, DrawDate: strings.TrimSpace(f.DrawDate), Currency: f.Currency,
		RefundPolicy: &lottery.RefundPolicySpec{}}
	for i, t := range f.Tiers {
		ds.RefundPolicy.Tiers = append(ds.RefundPolicy.Tiers, lottery.RefundTierSpec{Until: strings.TrimSpace(t.Until),
			Percent: d.int(fmt.Sprintf("refund_policy.tiers[%d].percent", i), t.Percent)})
	}
	return ds
}

// formSpec is the questions and documents. Options are one a line:
// "value | English label | Korean label", the labels optional.
func (f eventForm) formSpec() lottery.FormSpec {
	var s lottery.FormSpec
	for _, q := range f.Questions {
		qs := lottery.QuestionSpec{ID: strings.TrimSpace(q.ID), Kind: q.Kind, Required: q.Required, Label: q.Label, LabelKO: q.LabelKO}
		for _, line := range strings.Split(q.Options, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			parts := strings.SplitN(line, "|", 3)
			for len(parts) < 3 {
				parts = append(parts, "")
			}
			qs.Options = append(qs.Options, lottery.OptionSpec{Value: strings.TrimSpace(parts[0]),
				Label: strings.TrimSpace(parts[1]), LabelKO: strings.TrimSpace(parts[2])})
		}
		s.Questions = append(s.Questions, qs)
	}
	if !blank(f.PrivacyVersion, f.Purpose, f.PurposeKO, f.Retention, f.RetentionKO) {
		s.Privacy = &lottery.PrivacySpec{Version: f.PrivacyVersion, Purpose: f.Purpose, PurposeKO: f.PurposeKO,
			Retention: f.Retention, RetentionKO: f.RetentionKO}
	}
	if !blank(f.WaiverVersion, f.WaiverText, f.WaiverTextKO) {
		s.Waiver = &lottery.WaiverSpec{Version: f.WaiverVersion, Text: f.WaiverText, TextKO: f.WaiverTextKO}
	}
	return s
}

// formOf is an event's values in the form, as an organizer would type them.
func formOf(e lottery.Event) eventForm {
	loc := location(e.TimeZone)
	d := e.Details()
	f := eventForm{Slug: e.Slug, Name: e.Name, TimeZone: e.TimeZone, OpensAt: e.OpensAt.In(loc).Format(datetimeLocal),
		ClosesAt: e.ClosesAt.In(loc).Format(datetimeLocal), OfferHold: lottery.FormatHold(e.OfferHold),
		DisputeWindow: lottery.FormatHold(e.DisputeWindow), MaxGroupSize: strconv.Itoa(e.MaxGroupSize), TicketRule: e.TicketRule,
		Series: e.SeriesSlug, EditionLabel: e.EditionLabel, Unreviewed: e.UnreviewedPolicy,
		RaceDate: d.RaceDate, RaceStart: d.RaceStart, Place: d.Place, Description: d.Description, DrawDate: d.DrawDate,
		Currency: strings.ToUpper(d.Currency)}
	if e.EditionYear != 0 {
		f.EditionYear = strconv.Itoa(e.EditionYear)
	}
	if r := e.RiskRules; r != nil {
		f.ReviewAt, f.RejectAt, f.MinFillMS = strconv.Itoa(r.ReviewAt), strconv.Itoa(r.RejectAt), strconv.Itoa(r.MinFillMS)
	}
	if d.RefundPolicy != nil {
		for _, t := range d.RefundPolicy.Tiers {
			f.Tiers = append(f.Tiers, tierRow{Until: t.Until, Percent: strconv.Itoa(t.Percent)})
		}
	}
	paceText := func(s int) string {
		if s == 0 {
			return ""
		}
		return lottery.FormatPace(s)
	}
	for _, c := range e.Courses {
		cr := courseRow{Code: c.Code, Name: c.Name, Distance: strconv.FormatFloat(c.DistanceKM, 'f', -1, 64)}
		for _, pg := range c.PaceGroups {
			cr.Paces = append(cr.Paces, paceRow{Code: pg.Code, Label: pg.Label, PaceMin: paceText(pg.PaceMinS),
				PaceMax: paceText(pg.PaceMaxS), Capacity: strconv.Itoa(pg.Capacity), Mode: string(pg.Mode),
				Admit: strconv.Itoa(pg.AdmitPerMinute), Prequeue: strconv.Itoa(pg.PrequeueMinutes),
				Price: strconv.FormatInt(pg.Price, 10)})
		}
		f.Courses = append(f.Courses, cr)
	}
	form := e.Form.WithDefaults()
	for _, q := range form.Questions {
		qr := questionRow{ID: q.ID, Kind: string(q.Kind), Label: q.Label.EN, LabelKO: q.Label.KO, Required: q.Required}
		var lines []string
		for _, o := range q.Options {
			lines = append(lines, strings.TrimRight(strings.Join([]string{o.Value, o.Label.EN, o.Label.KO}, " | "), " |"))
		}
		qr.Options = strings.Join(lines, "\n")
		f.Questions = append(f.Questions, qr)
	}
	f.PrivacyVersion, f.Purpose, f.PurposeKO = form.Privacy.Version, form.Privacy.Purpose.EN, form.Privacy.Purpose.KO
	f.Retention, f.RetentionKO = form.Privacy.Retention.EN, form.Privacy.Retention.KO
	f.WaiverVersion, f.WaiverText, f.WaiverTextKO = form.Waiver.Version, form.Waiver.Text.EN, form.Waiver.Text.KO
	return f
}

func (p *pages) newEventForm(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok {
		return
	}
	base.Tab = "events"
	p.renderEventForm(c, http.StatusOK, eventFormPage{consoleBase: base, Form: eventForm{Currency: "KRW"}.padded("", true)}, nil)
}

func (p *pages) createEventForm(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok {
		return
	}
	base.Tab = "events"
	page := eventFormPage{consoleBase: base, Form: readEventForm(c)}
	p.submitEventForm(c, page, func(spec lottery.EventSpec) error {
		_, err := p.Svc.CreateEvent(c.Request.Context(), base.Staff, spec)
		return err
	})
}

// editPage is the edit form of the :slug event, with what is fixed.
func (p *pages) editPage(c *gin.Context, base consoleBase) eventFormPage {
	now := p.Svc.Now()
	ev := base.Event
	page := eventFormPage{consoleBase: base, Edit: true, Form: formOf(ev)}
	if ev.Status != lottery.EventDraft { // a draft changes in full (saveDraftForm)
		page.Fix = fixed{Structure: true, Terms: !ev.TermsOpen(now), Questions: ev.CheckFormChange(now) != nil}
	}
	return page
}

func (p *pages) editEventForm(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "edit") {
		return
	}
	page := p.editPage(c, base)
	page.Saved = c.Query("saved") != ""
	page.Form = page.Form.padded("", false)
	p.renderEventForm(c, http.StatusOK, page, nil)
}

// saveEventForm edits the details (EditEvent), the terms while they are
// open and the questions (SetForm) while registration has not opened. Both
// are checked by their rules before either is stored.
func (p *pages) saveEventForm(c *gin.Context) {
	base, ok := p.organizerForm(c)
	if !ok || !p.consoleEvent(c, &base, "edit") {
		return
	}
	if base.Event.Status == lottery.EventDraft {
		p.saveDraftForm(c, base)
		return
	}
	page := p.editPage(c, base)
	ev, now, in := base.Event, p.Svc.Now(), readEventForm(c)
	// The posted parts over the stored ones: disabled inputs are not posted.
	f := page.Form
	f.RaceDate, f.RaceStart, f.Place, f.Description, f.DrawDate = in.RaceDate, in.RaceStart, in.Place, in.Description, in.DrawDate
	if !page.Fix.Terms {
		f.Currency, f.Tiers = in.Currency, in.Tiers
		for i := range f.Courses {
			for j := range f.Courses[i].Paces {
				if i < len(in.Courses) && j < len(in.Courses[i].Paces) {
					f.Courses[i].Paces[j].Price = in.Courses[i].Paces[j].Price
				}
			}
		}
	}
	if !page.Fix.Questions {
		f.Questions, f.PrivacyVersion, f.Purpose, f.PurposeKO = in.Questions, in.PrivacyVersion, in.Purpose, in.PurposeKO
		f.Retention, f.RetentionKO, f.WaiverVersion, f.WaiverText, f.WaiverTextKO = in.Retention, in.RetentionKO,
			in.WaiverVersion, in.WaiverText, in.WaiverTextKO
	}
	page.Form = f
	if add := c.PostForm("add"); add != "" {
		page.Form = f.padded(add, false)
		p.renderEventForm(c, http.StatusOK, page, nil)
		return
	}
	page.Form = f.compact()
	if err := priceField(p.saveEdit(c, ev, now, page), ev); err != nil {
		page.Form = page.Form.padded("", false)
		p.renderEventForm(c, httpkit.StatusOf(err), page, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/events/"+ev.Slug+"/edit?saved=1")
}

func (p *pages) saveEdit(c *gin.Context, ev lottery.Event, now time.Time, page eventFormPage) error {
	f, d := page.Form, decoder{}
	details := f.details(&d)
	patch := lottery.EventPatch{RaceDate: &details.RaceDate, RaceStart: &details.RaceStart, Place: &details.Place,
		Description: &details.Description, DrawDate: &details.DrawDate}
	if !page.Fix.Terms {
		patch.Currency, patch.RefundPolicy, patch.Prices = &details.Currency, details.RefundPolicy, map[string]int64{}
		for i, c := range ev.Courses {
			for j, pg := range c.PaceGroups {
				patch.Prices[lottery.SubQueueKey(c.Code, pg.Code)] = d.int64(fmt.Sprintf("courses[%d].pace_groups[%d].price", i, j),
					f.Courses[i].Paces[j].Price)
			}
		}
	}
	if d.err != nil {
		return d.err
	}
	// Both rules first, so a refused form stores nothing.
	if _, _, err := patch.Apply(ev, now); err != nil {
		return err
	}
	var form *lottery.FormSpec
	if !page.Fix.Questions {
		spec := f.formSpec()
		built, err := spec.Build()
		if err != nil {
			return err
		}
		if !sameForm(built, ev.Form.WithDefaults()) {
			form = &spec
		}
	}
	ctx := c.Request.Context()
	if _, err := p.Svc.EditEvent(ctx, page.Staff, ev.Slug, patch); err != nil {
		return err
	}
	if form != nil {
		if _, err := p.Svc.SetForm(ctx, page.Staff, ev.Slug, *form); err != nil {
			return err
		}
	}
	return nil
}

// sameForm reports two forms that ask the same (no questions either way
// being the same).
func sameForm(a, b lottery.Form) bool {
	if len(a.Questions) == 0 && len(b.Questions) == 0 {
		a.Questions, b.Questions = nil, nil
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// priceField names a price error ("prices.10k:open") by the input it came
// from ("courses[0].pace_groups[1].price").
func priceField(err error, ev lottery.Event) error {
	var e *lottery.Error
	if !errors.As(err, &e) {
		return err
	}
	key, ok := strings.CutPrefix(e.Field, "prices.")
	if !ok {
		return err
	}
	for i, c := range ev.Courses {
		for j, pg := range c.PaceGroups {
			if lottery.SubQueueKey(c.Code, pg.Code) == key {
				out := *e
				out.Field = fmt.Sprintf("courses[%d].pace_groups[%d].price", i, j)
				return &out
			}
		}
	}
	return err
}

func (p *pages) renderEventForm(c *gin.Context, status int, page eventFormPage, err error) {
	var e *lottery.Error
	if err != nil && !errors.As(err, &e) {
		p.fail(c, err) // not the form's fault: an outage or a bug
		return
	}
	t := translator(p.lang(c))
	title := t("console.form.new")
	if page.Edit {
		title = t("console.form.edit", page.Event.Name)
	}
	p.render(c, status, "console_event_form", title, page, inputErr(err))
}

var optionPathRe = regexp.MustCompile(`^(questions\[\d+\]\.options)\[\d+\].*$`)

// inputErr names an error by the input that shows it: an option's error by
// its question's options box.
func inputErr(err error) error {
	var e *lottery.Error
	if !errors.As(err, &e) {
		return err
	}
	if m := optionPathRe.FindStringSubmatch(e.Field); m != nil {
		out := *e
		out.Field = m[1]
		return &out
	}
	return err
}

// previewEvent is the public event page as it would look, for the
// organizer: a banner says it is not public and nothing on it applies.
func (p *pages) previewEvent(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "overview") {
		return
	}
	ev, now := base.Event, p.Svc.Now()
	page := eventPage{Event: ev, Phase: ev.Phase(now), SubQueues: ev.SubQueues(), Preview: true}
	for _, sq := range page.SubQueues {
		page.Lottery = page.Lottery || sq.Mode != lottery.ModeOrdered
	}
	p.render(c, http.StatusOK, "event", ev.Name, page, nil)
}

// consoleField is one labelled control of the event form with its help
// and, when the error names it, the error beside it.
type consoleField struct {
	Name, ID, Type, Value, Label, Help, Message string
	Options                                     []fieldOption
	Invalid, Locked                             bool
}

type fieldOption struct {
	Value, Label string
	Selected     bool
}

// selectOptions are the choices of the form's selects, by label key.
var selectOptions = map[string][]string{
	"ticket_rule":       {lottery.TicketRuleNone, lottery.TicketRuleDoubling},
	"unreviewed_policy": {lottery.PolicyBlock, lottery.PolicyExclude, lottery.PolicyInclude},
	"pace.mode":         {string(lottery.ModeLottery), string(lottery.ModeOrdered)},
	"question.kind": {string(lottery.KindText), string(lottery.KindCheckbox), string(lottery.KindEmergencyContact),
		string(lottery.KindTShirt), string(lottery.KindClub), string(lottery.KindCategory)},
}

var fieldIDRe = regexp.MustCompile(`[^a-z0-9]+`)

// fieldID is an input's id for its field path ("courses-1-pace-groups-0-code").
func fieldID(name string) string { return strings.Trim(fieldIDRe.ReplaceAllString(name, "-"), "-") }

// cfield builds a control: name is the input's (the rules' field path),
// key its label's ("cf.<key>", help "cf.<key>.help"), typ an input type,
// "select" or "textarea"; locked shows it read-only (disabled: not posted).
func cfield(v view, name, key, value, typ string, locked bool) consoleField {
	f := consoleField{Name: name, ID: "f-" + fieldID(name), Type: typ, Value: value,
		Label: v.T("cf." + key), Locked: locked}
	if h := v.T("cf." + key + ".help"); h != "cf."+key+".help" {
		f.Help = h
	}
	for _, o := range selectOptions[key] {
		f.Options = append(f.Options, fieldOption{Value: o, Label: v.T("cf." + key + "." + o), Selected: o == value})
	}
	f.Message = errAt(v, name)
	f.Invalid = f.Message != ""
	return f
}

// errAt is the error shown beside the field name, "" when it names
// another. The rules' messages are English: other languages say so first.
func errAt(v view, name string) string {
	if v.Err == nil || v.Err.Field != name {
		return ""
	}
	if v.Lang != "en" && v.ErrText == v.Err.Message {
		return v.T("console.form.fixthis") + " (" + v.ErrText + ")"
	}
	return v.ErrText
}

var (
	paceFieldRe   = regexp.MustCompile(`^courses\[(\d+)\]\.pace_groups\[(\d+)\]\.([a-z_]+)$`)
	courseFieldRe = regexp.MustCompile(`^courses\[(\d+)\]\.([a-z_]+)$`)
	rowFieldRe    = regexp.MustCompile(`^(questions|refund_policy\.tiers)\[(\d+)\]\.([a-z_]+)$`)
)

// fieldLabel is the refused field's label as the form shows it ("Course 2 ·
// pace group 1 · Slowest pace"), "" when no input shows it.
func fieldLabel(v view) string {
	if v.Err == nil || v.Err.Field == "" {
		return ""
	}
	n := func(s string) int { i, _ := strconv.Atoi(s); return i + 1 }
	label := func(key string) string {
		if s := v.T("cf." + key); s != "cf."+key {
			return s
		}
		return ""
	}
	field := strings.TrimPrefix(v.Err.Field, "risk_rules.")
	if m := paceFieldRe.FindStringSubmatch(field); m != nil {
		return v.T("cf.pace.n", n(m[1]), n(m[2])) + " · " + label("pace."+m[3])
	}
	if m := courseFieldRe.FindStringSubmatch(field); m != nil && m[2] != "pace_groups" {
		return v.T("cf.course.n", n(m[1])) + " · " + label("course."+m[2])
	}
	if m := rowFieldRe.FindStringSubmatch(field); m != nil {
		if m[1] == "questions" {
			return v.T("cf.question.n", n(m[2])) + " · " + label("question."+m[3])
		}
		return label("tier." + m[3])
	}
	return label(field)
}

func init() {
	funcs["fieldLabel"] = fieldLabel
	funcs["cfield"] = cfield
	// rowName is the field path of a row's input: rowName "courses" 1 "code"
	// is "courses[1].code".
	funcs["rowName"] = func(list string, i int, field string) string { return fmt.Sprintf("%s[%d].%s", list, i, field) }
	funcs["fieldID"] = fieldID
	funcs["hasPrefix"] = strings.HasPrefix
	funcs["inc"] = func(i int) int { return i + 1 }
	funcs["errAt"] = errAt
}
