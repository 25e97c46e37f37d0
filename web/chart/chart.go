// Package chart draws small accessible charts as inline SVG from numbers:
// horizontal bars (single, grouped or stacked), a histogram and an area
// chart over time. Every function is pure (numbers in, markup out); the
// console's dashboard renders them on the server, so there is no script and
// nothing is loaded from elsewhere.
//
// Each chart is a <figure> holding an <svg role="img"> with a <title>, a
// <desc> and an aria-label, and the same numbers in a data table inside
// <details>, so a screen reader or keyboard user gets every value. The SVG
// has a viewBox and no fixed width: it scales to the width of its column
// (a 390 px phone included). Empty data draws a "no data yet" chart.
package chart

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
)

// Palette is the series colours, in order: each has a contrast of at least
// 4.5:1 against white (WCAG 1.4.11 asks 3:1 of graphics), and neighbours
// differ in lightness as well as hue.
var Palette = []string{"#1f5fa8", "#b34700", "#2e7d32", "#6a3d9a", "#b3261e", "#00695c"}

// Text is the words a chart shows around its numbers, already translated.
type Text struct {
	Title   string // the chart's name: <title>, aria-label and the table caption
	Desc    string // one sentence saying what it shows, with its totals
	NoData  string // shown instead of the chart when every value is zero or there is none
	Numbers string // the <details> summary ("Show the numbers")
	Label   string // the table's first column header ("Sub-queue", "Hour")
	// Format writes a value (thousands grouped, or money); nil: a count.
	Format func(int64) string
}

func (t Text) format(v int64) string {
	if t.Format != nil {
		return t.Format(v)
	}
	return Count(v)
}

// Count writes n with thousands separators ("40,000").
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Row is one labelled row of a bar chart: one value per series.
type Row struct {
	Label  string
	Values []int64
}

// Bars is a horizontal bar chart: each row's label above its bar(s).
// With one series it is a plain bar chart; with several, the values of a
// row are drawn as grouped thin bars, or as one bar of segments when
// Stacked.
type Bars struct {
	Text
	Series  []string // names of the values in each row (the legend); one name for a plain chart
	Rows    []Row
	Stacked bool
}

// Column is one bucket of a histogram or one point in time.
type Column struct {
	Label string // "0–99", "03-01 14:00"
	Value int64
}

// Histogram is vertical columns over adjacent buckets.
type Histogram struct {
	Text
	Columns []Column
}

// Area is one series over time as a filled line.
type Area struct {
	Text
	Points []Column
}

const (
	width   = 360.0 // viewBox width: the chart scales to its column from here
	padX    = 8.0
	rowGap  = 10.0
	labelH  = 16.0
	barH    = 14.0
	valueW  = 92.0 // room right of the longest bar for its value
	plotH   = 150.0
	axisH   = 34.0
	fontPx  = 12
	inkText = "#1d2330"
	gridCol = "#8a93a6"
)

// esc escapes text for an XML text node or attribute.
func esc(s string) string { return html.EscapeString(s) }

func f(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// scale maps v in [0, max] onto [0, length]; max 0 maps to 0 (no division
// by zero for empty data).
func scale(v, max int64, length float64) float64 {
	if max <= 0 || v <= 0 {
		return 0
	}
	return float64(v) / float64(max) * length
}

// open writes the <svg> element with its accessible name and description.
func open(b *strings.Builder, t Text, h float64) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 %s %s" role="img" aria-label="%s" preserveAspectRatio="xMinYMin meet" font-size="%d" font-family="system-ui, sans-serif">`,
		f(width), f(h), esc(t.Title), fontPx)
	fmt.Fprintf(b, `<title>%s</title><desc>%s</desc>`, esc(t.Title), esc(t.Desc))
}

// noData is the chart drawn when there is nothing to draw.
func noData(t Text) string {
	var b strings.Builder
	open(&b, t, 60)
	fmt.Fprintf(&b, `<rect x="0.5" y="0.5" width="%s" height="59" fill="none" stroke="%s" stroke-dasharray="4 3"/>`, f(width-1), gridCol)
	fmt.Fprintf(&b, `<text x="%s" y="34" text-anchor="middle" fill="%s">%s</text></svg>`, f(width/2), inkText, esc(t.NoData))
	return b.String()
}

// SVG draws the bar chart.
func (c Bars) SVG() string {
	var max, total int64
	for _, r := range c.Rows {
		var sum int64
		for _, v := range r.Values {
			total += v
			sum += v
			if !c.Stacked && v > max {
				max = v
			}
		}
		if c.Stacked && sum > max {
			max = sum
		}
	}
	if len(c.Rows) == 0 || total == 0 {
		return noData(c.Text)
	}
	n := len(c.Series)
	if n == 0 {
		n = 1
	}
	thick := barH
	if !c.Stacked && n > 1 {
		thick = barH * 0.8
	}
	rowH := labelH + thick
	if !c.Stacked {
		rowH = labelH + thick*float64(n)
	}
	legendH := 0.0
	if len(c.Series) > 1 {
		legendH = 20 * float64((len(c.Series)+1)/2)
	}
	h := legendH + float64(len(c.Rows))*(rowH+rowGap) + 4
	var b strings.Builder
	open(&b, c.Text, h)
	legend(&b, c.Series)
	plotW := width - 2*padX - valueW
	y := legendH
	for _, r := range c.Rows {
		fmt.Fprintf(&b, `<text x="%s" y="%s" fill="%s">%s</text>`, f(padX), f(y+12), inkText, esc(r.Label))
		y += labelH
		x := padX
		var sum int64
		for i, v := range r.Values {
			w := scale(v, max, plotW)
			col := Palette[i%len(Palette)]
			if c.Stacked {
				if w > 0 {
					fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#fff" stroke-width="0.5"/>`, f(x), f(y), f(w), f(thick), col)
				}
				x += w
				sum += v
				continue
			}
			fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, f(padX), f(y), f(w), f(thick-1), col)
			fmt.Fprintf(&b, `<text x="%s" y="%s" fill="%s">%s</text>`, f(padX+w+4), f(y+thick-3), inkText, esc(c.format(v)))
			y += thick
		}
		if c.Stacked {
			fmt.Fprintf(&b, `<text x="%s" y="%s" fill="%s">%s</text>`, f(x+4), f(y+thick-3), inkText, esc(c.format(sum)))
			y += thick
		}
		y += rowGap
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// legend draws the series names with their colour swatches, two a line.
func legend(b *strings.Builder, series []string) {
	if len(series) < 2 {
		return
	}
	for i, s := range series {
		x := padX + float64(i%2)*width/2
		y := 20 * float64(i/2)
		fmt.Fprintf(b, `<rect x="%s" y="%s" width="11" height="11" fill="%s"/>`, f(x), f(y+3), Palette[i%len(Palette)])
		fmt.Fprintf(b, `<text x="%s" y="%s" fill="%s">%s</text>`, f(x+16), f(y+13), inkText, esc(s))
	}
}

// columns draws vertical columns (a histogram) or a filled line (area)
// over labelled positions, with the largest value marked on the axis.
func columns(t Text, cols []Column, area bool) string {
	var max, total int64
	for _, c := range cols {
		total += c.Value
		max = maxInt(max, c.Value)
	}
	if len(cols) == 0 || total == 0 {
		return noData(t)
	}
	top := 18.0
	h := top + plotH + axisH
	var b strings.Builder
	open(&b, t, h)
	left, right := padX, width-padX
	base := top + plotH
	// The grid: the axis and a line at the largest value, labelled.
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, f(left), f(base), f(right), f(base), gridCol)
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-dasharray="3 3"/>`, f(left), f(top), f(right), f(top), gridCol)
	fmt.Fprintf(&b, `<text x="%s" y="%s" fill="%s">%s</text>`, f(left), f(top-5), inkText, esc(t.format(max)))
	step := (right - left) / float64(len(cols))
	if area {
		step = (right - left) / float64(maxInt(int64(len(cols)-1), 1))
		var pts strings.Builder
		fmt.Fprintf(&pts, "%s,%s", f(left), f(base))
		for i, c := range cols {
			fmt.Fprintf(&pts, " %s,%s", f(left+float64(i)*step), f(base-scale(c.Value, max, plotH)))
		}
		if len(cols) == 1 { // one point: a flat band across the plot
			fmt.Fprintf(&pts, " %s,%s", f(right), f(base-scale(cols[0].Value, max, plotH)))
		}
		lastX := left + float64(len(cols)-1)*step
		if len(cols) == 1 {
			lastX = right
		}
		fmt.Fprintf(&pts, " %s,%s", f(lastX), f(base))
		fmt.Fprintf(&b, `<polygon class="area" points="%s" fill="%s" fill-opacity="0.25" stroke="%s" stroke-width="2"/>`, pts.String(), Palette[0], Palette[0])
	} else {
		for i, c := range cols {
			hh := scale(c.Value, max, plotH)
			fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, f(left+float64(i)*step+1), f(base-hh), f(step-2), f(hh), Palette[0])
		}
	}
	// Axis labels: the first, the middle and the last position, so they
	// never overlap at any width.
	for _, i := range labelled(len(cols)) {
		x, anchor := left+float64(i)*step, "middle"
		if !area {
			x += step / 2
		}
		switch {
		case i == 0:
			x, anchor = left, "start"
		case i == len(cols)-1 && len(cols) > 1:
			x, anchor = right, "end"
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>`, f(x), f(base+16), anchor, inkText, esc(cols[i].Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// labelled picks the positions whose labels are written under the axis.
func labelled(n int) []int {
	switch {
	case n <= 1:
		return []int{0}
	case n == 2:
		return []int{0, 1}
	default:
		return []int{0, n / 2, n - 1}
	}
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// SVG draws the histogram.
func (c Histogram) SVG() string { return columns(c.Text, c.Columns, false) }

// SVG draws the area chart.
func (c Area) SVG() string { return columns(c.Text, c.Points, true) }

// HTML is the chart as a figure: the SVG and its numbers in a table.
func (c Bars) HTML() template.HTML {
	head := append([]string{c.Label}, c.Series...)
	if len(c.Series) == 0 {
		head = append(head, "")
	}
	rows := make([][]string, 0, len(c.Rows))
	for _, r := range c.Rows {
		cells := []string{r.Label}
		for _, v := range r.Values {
			cells = append(cells, c.format(v))
		}
		rows = append(rows, cells)
	}
	return figure(c.Text, c.SVG(), head, rows)
}

// HTML is the histogram as a figure with its table.
func (c Histogram) HTML() template.HTML {
	return figure(c.Text, c.SVG(), []string{c.Label, ""}, columnRows(c.Text, c.Columns))
}

// HTML is the area chart as a figure with its table.
func (c Area) HTML() template.HTML {
	return figure(c.Text, c.SVG(), []string{c.Label, ""}, columnRows(c.Text, c.Points))
}

func columnRows(t Text, cols []Column) [][]string {
	rows := make([][]string, 0, len(cols))
	for _, c := range cols {
		rows = append(rows, []string{c.Label, t.format(c.Value)})
	}
	return rows
}

// figure wraps the svg and a table of its numbers, folded in <details>.
func figure(t Text, svg string, head []string, rows [][]string) template.HTML {
	var b strings.Builder
	b.WriteString(`<figure class="chart">`)
	b.WriteString(svg)
	if len(rows) > 0 {
		fmt.Fprintf(&b, `<details class="chart-data"><summary>%s</summary><div class="chart-table"><table><caption>%s</caption><thead><tr>`, esc(t.Numbers), esc(t.Title))
		for i, h := range head {
			if h == "" && i > 0 {
				h = t.Title
			}
			fmt.Fprintf(&b, `<th scope="col">%s</th>`, esc(h))
		}
		b.WriteString(`</tr></thead><tbody>`)
		for _, r := range rows {
			b.WriteString(`<tr>`)
			for i, cell := range r {
				if i == 0 {
					fmt.Fprintf(&b, `<th scope="row">%s</th>`, esc(cell))
					continue
				}
				fmt.Fprintf(&b, `<td>%s</td>`, esc(cell))
			}
			b.WriteString(`</tr>`)
		}
		b.WriteString(`</tbody></table></div></details>`)
	}
	b.WriteString(`</figure>`)
	return template.HTML(b.String()) // every text was escaped above
}
