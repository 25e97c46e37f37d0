package mails

import (
	"html"
	"regexp"
	"strings"
)

// linkRe finds the links a mail's text carries (the templates write them
// whole, usually on a line of their own).
var linkRe = regexp.MustCompile(`https?://[^\s<>"]+`)

// HTML is the HTML part of a mail: its text, escaped, as paragraphs (blank
// lines apart; line breaks kept), with every link clickable and an
// indented line kept as code. It adds no wording of its own.
func HTML(lang, subject, text string) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="` + html.EscapeString(lang) + `"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>` + html.EscapeString(subject) +
		`</title></head><body style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;max-width:36em;margin:0 auto;padding:16px;overflow-wrap:anywhere">`)
	for _, para := range strings.Split(strings.Trim(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" {
			continue
		}
		if strings.HasPrefix(para, "    ") {
			b.WriteString(`<pre style="white-space:pre-wrap">` + html.EscapeString(para) + "</pre>")
			continue
		}
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br>")
			}
			b.WriteString(linkify(line))
		}
		b.WriteString("</p>")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// linkify escapes a line and makes its links clickable. A sentence's last
// full stop or a closing bracket after a link is not part of it.
func linkify(line string) string {
	var b strings.Builder
	last := 0
	for _, loc := range linkRe.FindAllStringIndex(line, -1) {
		start, end := loc[0], loc[1]
		for end > start && strings.ContainsRune(".,;:)]", rune(line[end-1])) {
			end--
		}
		b.WriteString(html.EscapeString(line[last:start]))
		u := html.EscapeString(line[start:end])
		b.WriteString(`<a href="` + u + `">` + u + `</a>`)
		last = end
	}
	b.WriteString(html.EscapeString(line[last:]))
	return b.String()
}
