package chart

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// node is an element of a parsed chart, with its attributes and children.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// walk calls fn on n and every element under it.
func (n node) walk(fn func(node)) {
	fn(n)
	for _, c := range n.Nodes {
		c.walk(fn)
	}
}

// parse checks that s is well-formed XML and returns its root.
func parse(t *testing.T, s string) node {
	t.Helper()
	var root node
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	if err := d.Decode(&root); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, s)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("trailing content after the root element: %v", err)
	}
	return root
}

// bars are the widths (bar charts) or heights (histograms) of the class="bar" rects.
func bars(t *testing.T, root node, dim string) []float64 {
	var out []float64
	root.walk(func(n node) {
		if n.XMLName.Local == "rect" && n.attr("class") == "bar" {
			v, err := strconv.ParseFloat(n.attr(dim), 64)
			if err != nil {
				t.Fatalf("rect %s %q: %v", dim, n.attr(dim), err)
			}
			out = append(out, v)
		}
	})
	return out
}

func texts(root node) string {
	var b strings.Builder
	root.walk(func(n node) { b.WriteString(n.Text + "|") })
	return b.String()
}

var words = Text{Title: "Entries & demand", Desc: "What <people> asked for", NoData: "No data yet", Numbers: "Show the numbers", Label: "Group"}

// TestChartsWellFormedAndAccessible: every kind of chart, with data and
// without, parses as XML, names itself (role, aria-label, title, desc) and
// escapes its text.
func TestChartsWellFormedAndAccessible(t *testing.T) {
	for _, tc := range []struct {
		name   string
		svg    string
		noData bool
	}{
		{"bars", Bars{Text: words, Series: []string{"Entries"}, Rows: []Row{{"Full <A>", []int64{3}}, {"Half", []int64{7}}}}.SVG(), false},
		{"grouped", Bars{Text: words, Series: []string{"Entries", "Slots"}, Rows: []Row{{"Full", []int64{3, 9}}}}.SVG(), false},
		{"stacked", Bars{Text: words, Series: []string{"Awaiting", "Decided"}, Rows: []Row{{"Flagged", []int64{2, 5}}}, Stacked: true}.SVG(), false},
		{"histogram", Histogram{Text: words, Columns: []Column{{"0–99", 4}, {"100–199", 1}, {"200–299", 0}}}.SVG(), false},
		{"area", Area{Text: words, Points: []Column{{"10:00", 1}, {"11:00", 5}, {"12:00", 2}}}.SVG(), false},
		{"area one point", Area{Text: words, Points: []Column{{"10:00", 1}}}.SVG(), false},
		{"bars empty", Bars{Text: words}.SVG(), true},
		{"bars all zero", Bars{Text: words, Series: []string{"x"}, Rows: []Row{{"Full", []int64{0}}}}.SVG(), true},
		{"histogram empty", Histogram{Text: words}.SVG(), true},
		{"area zero", Area{Text: words, Points: []Column{{"10:00", 0}}}.SVG(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := parse(t, tc.svg)
			if root.XMLName.Local != "svg" || root.attr("role") != "img" || root.attr("aria-label") != words.Title || root.attr("viewBox") == "" {
				t.Errorf("svg element: %+v", root.Attrs)
			}
			if root.attr("width") != "" {
				t.Errorf("fixed width %q: the chart must scale", root.attr("width"))
			}
			var title, desc string
			for _, n := range root.Nodes {
				switch n.XMLName.Local {
				case "title":
					title = n.Text
				case "desc":
					desc = n.Text
				}
			}
			if title != words.Title || desc != words.Desc {
				t.Errorf("title %q desc %q", title, desc)
			}
			got := texts(root)
			if tc.noData != strings.Contains(got, "No data yet") {
				t.Errorf("no-data text shown=%v, want %v: %s", !tc.noData, tc.noData, got)
			}
			if strings.Contains(got, "NaN") || strings.Contains(tc.svg, "NaN") || strings.Contains(tc.svg, "Inf") {
				t.Errorf("division by zero drawn: %s", tc.svg)
			}
		})
	}
}

// TestBarsProportional: bar lengths are proportional to the values, the
// longest bar is the largest value, and a stacked bar's segments add up.
func TestBarsProportional(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Bars
		want []float64 // each bar's length over the first's
	}{
		{"plain", Bars{Text: words, Series: []string{"n"}, Rows: []Row{{"a", []int64{10}}, {"b", []int64{5}}, {"c", []int64{0}}}}, []float64{1, 0.5, 0}},
		{"grouped", Bars{Text: words, Series: []string{"n", "m"}, Rows: []Row{{"a", []int64{40, 10}}, {"b", []int64{20, 30}}}}, []float64{1, 0.25, 0.5, 0.75}},
		{"stacked", Bars{Text: words, Series: []string{"n", "m"}, Stacked: true, Rows: []Row{{"a", []int64{6, 2}}, {"b", []int64{1, 1}}}}, []float64{1, 2.0 / 6, 1.0 / 6, 1.0 / 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := bars(t, parse(t, tc.c.SVG()), "width")
			if len(ws) != len(tc.want) {
				t.Fatalf("%d bars, want %d", len(ws), len(tc.want))
			}
			got := make([]float64, len(ws))
			for i, w := range ws {
				got[i] = round2(w / ws[0])
			}
			want := make([]float64, len(tc.want))
			for i, w := range tc.want {
				want[i] = round2(w)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("relative lengths (-want +got):\n%s", d)
			}
		})
	}
}

// TestHistogramProportional: column heights follow the values.
func TestHistogramProportional(t *testing.T) {
	hs := bars(t, parse(t, Histogram{Text: words, Columns: []Column{{"a", 8}, {"b", 2}, {"c", 4}}}.SVG()), "height")
	got := []float64{round2(hs[0] / hs[0]), round2(hs[1] / hs[0]), round2(hs[2] / hs[0])}
	if d := cmp.Diff([]float64{1, 0.25, 0.5}, got); d != "" {
		t.Errorf("heights (-want +got):\n%s", d)
	}
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

// TestFigureTable: the figure carries the same numbers in a table, formatted
// by the chart's formatter, and is well-formed as a whole.
func TestFigureTable(t *testing.T) {
	money := words
	money.Format = func(v int64) string { return "₩" + Count(v) }
	for _, tc := range []struct {
		name string
		html string
		want []string
	}{
		{"bars", string(Bars{Text: money, Series: []string{"Taken", "Refunded"}, Rows: []Row{{"Money", []int64{1500000, 30000}}}}.HTML()),
			[]string{"Group", "Taken", "Refunded", "Money", "₩1,500,000", "₩30,000"}},
		{"histogram", string(Histogram{Text: words, Columns: []Column{{"0–99", 1234}}}.HTML()), []string{"0–99", "1,234"}},
		{"area", string(Area{Text: words, Points: []Column{{"03-01", 2}, {"03-02", 0}}}.HTML()), []string{"03-01", "03-02", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := parse(t, tc.html)
			if root.XMLName.Local != "figure" {
				t.Fatalf("root %s", root.XMLName.Local)
			}
			var cells []string
			root.walk(func(n node) {
				if n.XMLName.Local == "td" || n.XMLName.Local == "th" {
					cells = append(cells, n.Text)
				}
			})
			all := strings.Join(cells, "|")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("table lacks %q: %s", w, all)
				}
			}
		})
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-4500, "-4,500"}} {
		if got := Count(tc.n); got != tc.want {
			t.Errorf("Count(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
