package web

// The organizer's dashboard (issue 14): one event's numbers as charts
// drawn on the server (web/chart), each with its totals as text above it
// and its numbers in a table. The numbers come from lottery/dashboard,
// cached per event for a short time.

import (
	"html/template"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/dashboard"
	"github.com/startline/startline/web/chart"
)

func (p *pages) registerDashboard(r gin.IRoutes) {
	r.GET("/admin/events/:slug/dashboard", p.dashboard)
}

// dashboardPage is the dashboard tab.
type dashboardPage struct {
	consoleBase
	D       dashboard.Dashboard
	Updated string
	Odds    []oddsView
	Charts  map[string]template.HTML
}

func (p *pages) dashboard(c *gin.Context) {
	base, ok := p.organizer(c)
	if !ok || !p.consoleEvent(c, &base, "dashboard") {
		return
	}
	if p.Dashboard == nil {
		p.fail(c, lottery.ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	d, err := p.Dashboard.Dashboard(ctx, base.Event)
	if err != nil {
		p.fail(c, err)
		return
	}
	lang := p.lang(c)
	page := dashboardPage{consoleBase: base, D: d, Odds: p.eventOdds(ctx, base.Event),
		Updated: d.ComputedAt.In(location(base.Event.TimeZone)).Format("2006-01-02 15:04:05 MST")}
	page.Charts = dashboardCharts(translator(lang), d, page.Odds)
	p.render(c, http.StatusOK, "console_dashboard", base.Event.Name, page, nil)
}

// dashboardCharts draws the dashboard's charts with the page's words.
func dashboardCharts(T func(string, ...any) string, d dashboard.Dashboard, odds []oddsView) map[string]template.HTML {
	text := func(key string, label string, desc string) chart.Text {
		return chart.Text{Title: T("dash." + key + ".title"), Desc: desc, NoData: T("dash.nodata"), Numbers: T("dash.numbers"), Label: label}
	}
	out := map[string]template.HTML{}

	// Applications over time.
	tl := chart.Area{Text: text("timeline", T("dash.col.hour"), T("dash.timeline.desc", formatCount(d.Entries)))}
	layout := "01-02 15:04"
	if d.Daily {
		tl.Label, layout = T("dash.col.day"), "01-02"
	}
	for _, pt := range d.Timeline {
		tl.Points = append(tl.Points, chart.Column{Label: pt.Start.Format(layout), Value: pt.N})
	}
	out["timeline"] = tl.HTML()

	// Demand vs capacity per sub-queue.
	dc := chart.Bars{Series: []string{T("dash.series.demand"), T("dash.series.capacity")}}
	for _, r := range d.SubQueues {
		dc.Rows = append(dc.Rows, chart.Row{Label: r.CourseName + " · " + r.Label, Values: []int64{r.Demand, int64(r.Capacity)}})
	}
	dc.Text = text("demand", T("dash.col.subqueue"), T("dash.demand.desc", formatCount(d.Demand()), formatCount(d.Capacity())))
	out["demand"] = dc.HTML()

	// Odds of a one-ticket entry per drawn sub-queue (basis points).
	oc := chart.Bars{Series: []string{T("dash.series.chance")}}
	for _, o := range odds {
		if ch, ok := o.Odds.Chance(1); ok {
			oc.Rows = append(oc.Rows, chart.Row{Label: o.Course + " · " + o.Label, Values: []int64{int64(ch*10000 + 0.5)}})
		}
	}
	oc.Text = text("odds", T("dash.col.subqueue"), T("dash.odds.desc"))
	oc.Format = func(v int64) string { return formatPct(float64(v) / 10000) }
	out["odds"] = oc.HTML()

	// Risk-score distribution.
	rh := chart.Histogram{Text: text("risk", T("dash.col.score"), T("dash.risk.desc", formatCount(d.Entries)))}
	for i, n := range d.Risk {
		lo, hi := i*dashboard.RiskBuckets, (i+1)*dashboard.RiskBuckets-1
		if i == len(d.Risk)-1 {
			hi = 1000
		}
		rh.Columns = append(rh.Columns, chart.Column{Label: formatCount(lo) + "–" + formatCount(hi), Value: n})
	}
	out["risk"] = rh.HTML()

	// Review backlog: flagged entries awaiting a decision vs decided.
	rv := chart.Bars{Stacked: true, Series: []string{T("dash.series.awaiting"), T("dash.series.approved"), T("dash.series.rejected")},
		Rows: []chart.Row{{Label: T("dash.review.flagged"), Values: []int64{d.Review.Awaiting, d.Review.Approved, d.Review.Rejected}}}}
	rv.Text = text("review", "", T("dash.review.desc", formatCount(d.Review.Flagged()), formatCount(d.Review.Awaiting)))
	out["review"] = rv.HTML()

	// Offer funnel.
	f := d.Funnel
	fn := chart.Bars{Series: []string{T("dash.series.offers")}}
	for _, s := range []struct {
		key string
		n   int64
	}{{"issued", f.Issued}, {"accepted", f.Accepted}, {"paid", f.Paid}, {"declined", f.Declined}, {"expired", f.Expired},
		{"reoffered", f.Reoffered}, {"void", f.Void}} {
		fn.Rows = append(fn.Rows, chart.Row{Label: T("dash.funnel." + s.key), Values: []int64{s.n}})
	}
	fn.Text = text("funnel", T("dash.col.stage"), T("dash.funnel.desc", formatCount(f.Issued), formatCount(f.Paid)))
	out["funnel"] = fn.HTML()

	// Money taken and refunded.
	cur := d.Taken.Currency
	mc := chart.Bars{Series: []string{T("dash.series.amount")}, Rows: []chart.Row{
		{Label: T("dash.money.taken"), Values: []int64{d.Taken.Amount}},
		{Label: T("dash.money.refunded"), Values: []int64{d.Refunded.Amount}},
		{Label: T("dash.money.owed"), Values: []int64{d.Owed.Amount}},
	}}
	mc.Text = text("money", "", T("dash.money.desc", d.Taken.String(), d.Refunded.String()))
	mc.Format = func(v int64) string { return lottery.Money{Amount: v, Currency: cur}.String() }
	out["money"] = mc.HTML()

	// Waiting rooms of ordered sub-queues.
	wc := chart.Bars{Series: []string{T("dash.series.waiting"), T("dash.series.admitted")}}
	for _, l := range d.Lines {
		wc.Rows = append(wc.Rows, chart.Row{Label: l.CourseName + " · " + l.Label, Values: []int64{l.Waiting, l.Admitted}})
	}
	wc.Text = text("lines", T("dash.col.subqueue"), T("dash.lines.desc", formatCount(d.Waiting())))
	out["lines"] = wc.HTML()
	return out
}
