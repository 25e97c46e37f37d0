// Package exports gets an event's data out (issue 14): the CSV files an
// organizer downloads (entries with answers, draw results, the start list
// with bibs, payments), the bib ranges and their assignment, and the
// console's searchable entries list. Personal data leaves the service only
// here and in that list; every export is audited (who, which, how many
// rows) and nothing of its content is logged. Exports stream: rows are
// written as the store reads them.
package exports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/startline/startline/lottery"
)

// The exports, by file name (the last segment of their routes).
const (
	FileEntries   = "entries.csv"
	FileResults   = "results.csv"
	FileStartList = "start-list.csv"
	FilePayments  = "payments.csv"
)

// Files lists the exports in the order the console offers them.
var Files = []string{FileEntries, FileResults, FileStartList, FilePayments}

// EntryRow is one entry as the entries export reads it.
type EntryRow struct {
	ID           string
	CreatedAt    time.Time
	Status       lottery.EntryStatus
	SubQueueID   int64
	Email        string
	Name         string
	Phone        string
	BirthDate    time.Time
	GroupCode    string
	RiskScore    int
	RiskDecision string // accept, review, reject (the score's verdict at apply)
	Tickets      int
	Lang         string
	Answers      lottery.Answers
	Consents     []lottery.Consent
}

// ResultRow is one entry's draw outcome (or, in an ordered sub-queue, its
// offer) and its offer's state.
type ResultRow struct {
	EntryID          string
	Name             string
	Email            string
	SubQueueID       int64
	Status           lottery.EntryStatus
	Drawn            bool // has a place in its sub-queue's draw
	Selected         bool
	Position         int // in the draw's order
	WaitlistPosition int // 0 unless waitlisted
	OfferStatus      string
	OfferRound       int
	OfferIssuedAt    *time.Time
	OfferExpiresAt   *time.Time
}

// StartRow is a confirmed entry on the start list.
type StartRow struct {
	Bib        int // 0: none assigned yet
	EntryID    string
	Name       string
	SubQueueID int64
	Answers    lottery.Answers
}

// PaymentRow is one payment of an event's offers, with its refunds.
type PaymentRow struct {
	EntryID     string
	Provider    string
	ID          string
	AmountMinor int64
	Currency    string
	Status      string
	RefundDue   int64
	Refunded    int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Storer reads and writes what exports need. The Each methods call fn once
// per row as rows arrive from the database (never the whole set in memory)
// and stop at fn's first error, which they return.
type Storer interface {
	// EachEntry visits the event's entries in created order.
	EachEntry(ctx context.Context, eventID int64, fn func(EntryRow) error) error
	// EachResult visits entries with a draw place or an offer, by sub-queue
	// and place.
	EachResult(ctx context.Context, eventID int64, fn func(ResultRow) error) error
	// EachStart visits confirmed entries by bib (unnumbered last), name, id.
	EachStart(ctx context.Context, eventID int64, fn func(StartRow) error) error
	// EachPayment visits the payments of the event's offers in created order.
	EachPayment(ctx context.Context, eventID int64, fn func(PaymentRow) error) error
	// Audit appends a staff action to the audit log.
	Audit(ctx context.Context, staffID int64, action, target string, details map[string]any) error
	// BibRanges returns the ranges of the event's sub-queues (unset ones
	// with zero ends), keyed by sub-queue id.
	BibRanges(ctx context.Context, eventID int64) (map[int64]BibRange, error)
	// ConfirmedBySubQueue counts the event's confirmed entries (due a bib)
	// by sub-queue id.
	ConfirmedBySubQueue(ctx context.Context, eventID int64) (map[int64]int, error)
	// SaveBibRanges stores the sub-queues' ranges (audited);
	// lottery.ErrNotFound when a sub-queue is not the event's.
	SaveBibRanges(ctx context.Context, eventID int64, ranges []BibRange, actor lottery.StaffAccount) error
	// AssignBibs, in one transaction, reads the ranges and the confirmed
	// entries (BibHolder without positions), asks plan for
	// their bibs, writes them, clears the bibs of entries no longer
	// confirmed, and audits; it returns plan's result or error.
	AssignBibs(ctx context.Context, eventID int64, actor lottery.StaffAccount,
		plan func([]BibRange, []BibHolder) (BibPlan, error)) (BibPlan, error)
	// ListEntries returns one page of the event's entries, newest first.
	ListEntries(ctx context.Context, eventID int64, f ListFilter) ([]ListRow, error)
}

// Service runs the exports, bibs and the entries list of the events an
// organizer manages (lottery.Service.ManagedEvent: another organization's
// event is lottery.ErrNotFound).
type Service struct {
	store       Storer
	events      *lottery.Service
	log         *slog.Logger
	phoneRegion string
}

// NewService wires a Service; phoneRegion reads phone numbers searched for
// without a country code (as the apply form does).
func NewService(store Storer, events *lottery.Service, log *slog.Logger, phoneRegion string) *Service {
	if phoneRegion == "" {
		phoneRegion = "KR"
	}
	return &Service{store: store, events: events, log: log, phoneRegion: phoneRegion}
}

// Event returns an event the account manages (ErrNotFound otherwise).
func (s *Service) Event(ctx context.Context, actor lottery.StaffAccount, slug string) (lottery.Event, error) {
	if actor.Role != lottery.RoleOrganizer {
		return lottery.Event{}, lottery.ErrForbidden
	}
	return s.events.ManagedEvent(ctx, actor, slug)
}

// Export is one download about to be written: the event, the file and who
// asked for it.
type Export struct {
	Event lottery.Event
	File  string
	actor lottery.StaffAccount
}

// FileName is the name the download is saved under ("spring-entries.csv").
func (x Export) FileName() string { return x.Event.Slug + "-" + x.File }

// Open checks that the account may export the event's file: a reviewer is
// lottery.ErrForbidden, another organization's event or an unknown file
// lottery.ErrNotFound. Nothing is read or audited yet.
func (s *Service) Open(ctx context.Context, actor lottery.StaffAccount, slug, file string) (Export, error) {
	ev, err := s.Event(ctx, actor, slug)
	if err != nil {
		return Export{}, err
	}
	known := false
	for _, f := range Files {
		known = known || f == file
	}
	if !known {
		return Export{}, lottery.ErrNotFound
	}
	return Export{Event: ev, File: file, actor: actor}, nil
}

// Write streams the export to w (a UTF-8 byte order mark first when bom)
// and audits it with the number of rows written, also when the stream
// breaks off. It returns that number.
func (s *Service) Write(ctx context.Context, x Export, w io.Writer, bom bool) (int, error) {
	if x.Event.ID == 0 {
		return 0, errors.New("export: not opened")
	}
	names := namesOf(x.Event)
	loc := x.Event.Location()
	var sh *sheet
	var err error
	switch x.File {
	case FileEntries:
		sh, err = s.writeEntries(ctx, x.Event, names, loc, w, bom)
	case FileResults:
		sh, err = s.writeResults(ctx, x.Event, names, loc, w, bom)
	case FileStartList:
		sh, err = s.writeStartList(ctx, x.Event, names, w, bom)
	case FilePayments:
		sh, err = s.writePayments(ctx, x.Event, loc, w, bom)
	}
	if sh != nil {
		if cerr := sh.close(); err == nil {
			err = cerr
		}
	}
	rows := 0
	if sh != nil {
		rows = sh.rows
	}
	// The audit outlives a client that went away mid-download.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	details := map[string]any{"export": x.File, "rows": rows, "complete": err == nil}
	if aerr := s.store.Audit(actx, x.actor.ID, "export."+strings.TrimSuffix(x.File, ".csv"), x.Event.Slug, details); aerr != nil && err == nil {
		err = aerr
	}
	if err != nil {
		return rows, fmt.Errorf("export %s of %s: %w", x.File, x.Event.Slug, err)
	}
	return rows, nil
}

// subQueueName is what the files say of a sub-queue: its course's name and
// pace group's label, and their display positions.
type subQueueName struct {
	Key       string
	Course    string
	Pace      string
	CoursePos int
	PacePos   int
}

func namesOf(ev lottery.Event) map[int64]subQueueName {
	out := map[int64]subQueueName{}
	for ci, c := range ev.Courses {
		for pi, p := range c.PaceGroups {
			out[p.ID] = subQueueName{Key: lottery.SubQueueKey(c.Code, p.Code), Course: c.Name, Pace: p.Label, CoursePos: ci, PacePos: pi}
		}
	}
	return out
}

// ReviewState is what the entries export and list say of an entry's
// review: "not flagged" (the score accepted it), "in review", "rejected",
// or "approved" (flagged, then let through).
func ReviewState(riskDecision string, status lottery.EntryStatus) string {
	switch {
	case status == lottery.EntryInReview:
		return "in review"
	case status == lottery.EntryRejected:
		return "rejected"
	case riskDecision == "review" || riskDecision == "reject":
		return "approved"
	}
	return "not flagged"
}

// AnswerCell is an answer as a cell: a checkbox yes/no, a choice its
// option's (English) label, an emergency contact "name phone", text as
// given.
func AnswerCell(q lottery.Question, a lottery.Answers) string {
	switch q.Kind {
	case lottery.KindCheckbox:
		return yesNo(a.Checked(q.ID))
	case lottery.KindEmergencyContact:
		c := a.Contact(q.ID)
		return strings.TrimSpace(c.Name + " " + c.Phone)
	}
	v := a.Text(q.ID)
	if q.HasOptions() {
		for _, o := range q.Options {
			if o.Value == v {
				return o.Label.EN
			}
		}
	}
	return v
}

// EntriesHeader is the entries export's header row: the fixed columns
// (times in the event's zone), one column per question (its English
// label), then the consents.
func EntriesHeader(ev lottery.Event) []string {
	h := []string{"Entry ID", "Created at (" + ev.Location().String() + ")", "Status", "Course", "Pace group", "E-mail", "Name",
		"Phone", "Birth date", "Group", "Risk score", "Review state", "Tickets", "Language"}
	for _, q := range ev.Form.Questions {
		h = append(h, q.Label.EN)
	}
	return append(h, "Privacy notice version", "Privacy accepted at", "Waiver version", "Waiver accepted at")
}

func (s *Service) writeEntries(ctx context.Context, ev lottery.Event, names map[int64]subQueueName, loc *time.Location, w io.Writer, bom bool) (*sheet, error) {
	sh, err := newSheet(w, bom, EntriesHeader(ev))
	if err != nil {
		return nil, err
	}
	qs := ev.Form.Questions
	cells := make([]string, 0, 18+len(qs))
	return sh, s.store.EachEntry(ctx, ev.ID, func(r EntryRow) error {
		n := names[r.SubQueueID]
		cells = append(cells[:0], r.ID, timeCell(r.CreatedAt, loc), string(r.Status), n.Course, n.Pace, r.Email, r.Name,
			r.Phone, r.BirthDate.Format(time.DateOnly), r.GroupCode, itoa(r.RiskScore), ReviewState(r.RiskDecision, r.Status),
			itoa(r.Tickets), r.Lang)
		for _, q := range qs {
			cells = append(cells, AnswerCell(q, r.Answers))
		}
		for _, doc := range []string{lottery.ConsentPrivacy, lottery.ConsentWaiver} {
			var c lottery.Consent
			for _, k := range r.Consents { // the latest accepted version
				if k.Document == doc && !k.AcceptedAt.Before(c.AcceptedAt) {
					c = k
				}
			}
			cells = append(cells, c.Version, timeCell(c.AcceptedAt, loc))
		}
		return sh.put(cells)
	})
}

// ResultsHeader is the results export's header row.
var ResultsHeader = []string{"Entry ID", "Course", "Pace group", "Name", "E-mail", "Status", "Outcome", "Draw position",
	"Waitlist position", "Offer state", "Offer round", "Offered at", "Offer expires at"}

func (s *Service) writeResults(ctx context.Context, ev lottery.Event, names map[int64]subQueueName, loc *time.Location, w io.Writer, bom bool) (*sheet, error) {
	sh, err := newSheet(w, bom, ResultsHeader)
	if err != nil {
		return nil, err
	}
	return sh, s.store.EachResult(ctx, ev.ID, func(r ResultRow) error {
		n := names[r.SubQueueID]
		outcome, pos, wl, round := "offered in order", "", "", ""
		if r.Drawn {
			outcome, pos = "selected", itoa(r.Position)
			if !r.Selected {
				outcome, wl = "waitlisted", itoa(r.WaitlistPosition)
			}
		}
		if r.OfferStatus != "" {
			round = itoa(r.OfferRound)
		}
		return sh.put([]string{r.EntryID, n.Course, n.Pace, r.Name, r.Email, string(r.Status), outcome, pos, wl,
			r.OfferStatus, round, timePtrCell(r.OfferIssuedAt, loc), timePtrCell(r.OfferExpiresAt, loc)})
	})
}

// StartListHeader is the start list's header row.
var StartListHeader = []string{"Bib", "Name", "Course", "Pace group", "Club", "Emergency contact"}

func (s *Service) writeStartList(ctx context.Context, ev lottery.Event, names map[int64]subQueueName, w io.Writer, bom bool) (*sheet, error) {
	sh, err := newSheet(w, bom, StartListHeader)
	if err != nil {
		return nil, err
	}
	var club, contact *lottery.Question
	for i, q := range ev.Form.Questions {
		switch {
		case q.Kind == lottery.KindClub && club == nil:
			club = &ev.Form.Questions[i]
		case q.Kind == lottery.KindEmergencyContact && contact == nil:
			contact = &ev.Form.Questions[i]
		}
	}
	return sh, s.store.EachStart(ctx, ev.ID, func(r StartRow) error {
		n := names[r.SubQueueID]
		bib, cl, em := "", "", ""
		if r.Bib > 0 {
			bib = itoa(r.Bib)
		}
		if club != nil {
			cl = AnswerCell(*club, r.Answers)
		}
		if contact != nil {
			em = AnswerCell(*contact, r.Answers)
		}
		return sh.put([]string{bib, r.Name, n.Course, n.Pace, cl, em})
	})
}

// PaymentsHeader is the payments export's header row.
var PaymentsHeader = []string{"Entry ID", "Provider", "Payment ID", "Amount", "Currency", "Status", "Refund due", "Refunded",
	"Created at", "Updated at"}

func (s *Service) writePayments(ctx context.Context, ev lottery.Event, loc *time.Location, w io.Writer, bom bool) (*sheet, error) {
	sh, err := newSheet(w, bom, PaymentsHeader)
	if err != nil {
		return nil, err
	}
	return sh, s.store.EachPayment(ctx, ev.ID, func(r PaymentRow) error {
		return sh.put([]string{r.EntryID, r.Provider, r.ID, amountCell(r.AmountMinor, r.Currency), strings.ToUpper(r.Currency),
			r.Status, amountCell(r.RefundDue, r.Currency), amountCell(r.Refunded, r.Currency), timeCell(r.CreatedAt, loc),
			timeCell(r.UpdatedAt, loc)})
	})
}

// BibRanges returns the event's ranges in display order, one per
// sub-queue (unset ones with zero ends).
func (s *Service) BibRanges(ctx context.Context, ev lottery.Event) ([]BibRange, error) {
	got, err := s.store.BibRanges(ctx, ev.ID)
	if err != nil {
		return nil, fmt.Errorf("bib ranges of %s: %w", ev.Slug, err)
	}
	return rangesOf(ev, got), nil
}

func rangesOf(ev lottery.Event, got map[int64]BibRange) []BibRange {
	var out []BibRange
	for _, sq := range ev.SubQueues() {
		r := got[sq.ID]
		r.SubQueueID, r.Key = sq.ID, sq.Key
		out = append(out, r)
	}
	return out
}

// SetBibRanges checks (CheckBibRanges) and stores the ranges of an event's
// sub-queues, given by key ("half:open"); a sub-queue not given keeps its
// range. A bad range is a field error and nothing is stored.
func (s *Service) SetBibRanges(ctx context.Context, actor lottery.StaffAccount, ev lottery.Event, given []BibRange) error {
	current, err := s.BibRanges(ctx, ev)
	if err != nil {
		return err
	}
	byKey := map[string]BibRange{}
	for _, r := range given {
		byKey[r.Key] = r
	}
	for _, r := range given {
		if _, ok := ev.SubQueue(splitKey(r.Key)); !ok {
			return lottery.Fieldf("bibs", "%s is not a sub-queue of this event", r.Key)
		}
	}
	var merged, changed []BibRange
	for _, r := range current {
		if g, ok := byKey[r.Key]; ok {
			r.First, r.Last = g.First, g.Last
			changed = append(changed, r)
		}
		merged = append(merged, r)
	}
	if err := CheckBibRanges(merged); err != nil {
		return err
	}
	if err := s.store.SaveBibRanges(ctx, ev.ID, changed, actor); err != nil {
		return fmt.Errorf("save bib ranges of %s: %w", ev.Slug, err)
	}
	return nil
}

// AssignBibs gives every confirmed entry of the event a bib by PlanBibs
// (idempotent: a second run changes nothing) and returns the plan; a
// range that is missing, too small or overlapping is a field error and
// nothing changes.
func (s *Service) AssignBibs(ctx context.Context, actor lottery.StaffAccount, ev lottery.Event) (BibPlan, error) {
	plan, err := s.store.AssignBibs(ctx, ev.ID, actor, func(got []BibRange, holders []BibHolder) (BibPlan, error) {
		byID := map[int64]BibRange{}
		for _, r := range got {
			byID[r.SubQueueID] = r
		}
		names := namesOf(ev)
		for i, h := range holders {
			holders[i].CoursePos, holders[i].PacePos = names[h.SubQueueID].CoursePos, names[h.SubQueueID].PacePos
		}
		return PlanBibs(rangesOf(ev, byID), holders)
	})
	if err != nil {
		return BibPlan{}, fmt.Errorf("assign bibs of %s: %w", ev.Slug, err)
	}
	return plan, nil
}

// ContentType is every export's media type.
const ContentType = "text/csv; charset=utf-8"

// ContentDisposition is the header value that saves the download under
// FileName.
func (x Export) ContentDisposition() string { return `attachment; filename="` + x.FileName() + `"` }
