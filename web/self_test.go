package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/startline/startline/lottery"
)

// TestSelfServicePages: the status page's withdraw and erase change nothing
// without their confirmation step and refuse a form from another site; a
// rejected entry's page gives the reason in words and takes one appeal,
// which a reviewer reinstates from the console (CSRF-checked).
func TestSelfServicePages(t *testing.T) {
	s := newSite(t, true)
	receipt := s.applyViaForm("6001@example.com", `{"webdriver":false,"fill_ms":42000,"timezone":"Asia/Seoul"}`)
	id := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")
	tok := s.keys.ReceiptToken(id)

	code, body, _ := s.get(receipt)
	if code != 200 || !strings.Contains(body, `data-withdraw`) || !strings.Contains(body, `data-erase`) {
		t.Fatalf("status page without the withdraw and erase sections: %d", code)
	}
	// Without the confirmation: to the confirmation page, nothing changed.
	if code, hdr := s.postWith("/entries/"+id+"/withdraw", url.Values{"token": {tok}}); code != http.StatusSeeOther ||
		!strings.HasPrefix(hdr.Get("Location"), "/entries/"+id+"/withdraw?token=") {
		t.Errorf("withdraw without confirming: %d %v", code, hdr)
	}
	if code, body, _ := s.get("/entries/" + id + "/withdraw?token=" + url.QueryEscape(tok)); code != 200 || !strings.Contains(body, `name="confirm" value="yes"`) {
		t.Errorf("confirmation page: %d", code)
	}
	if code, _, _ := s.get("/entries/" + id + "/erase?token=wrong"); code != 404 {
		t.Errorf("confirmation with a wrong token: %d", code)
	}
	if code, _ := s.postWith("/entries/"+id+"/withdraw", url.Values{"token": {tok}, "confirm": {"yes"}}, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Errorf("withdraw posted from another site: %d", code)
	}
	if st := s.entryStatus(id); st != "received" {
		t.Fatalf("entry changed before its confirmation: %s", st)
	}

	// Erase with the confirmation: the data goes, the page still answers.
	if code, hdr := s.postWith("/entries/"+id+"/erase", url.Values{"token": {tok}, "confirm": {"yes"}}); code != http.StatusSeeOther ||
		!strings.Contains(hdr.Get("Location"), "erased=1") {
		t.Fatalf("erase: %d %v", code, hdr)
	}
	code, body, _ = s.get("/entries/" + id + "?token=" + url.QueryEscape(tok) + "&erased=1")
	if code != 200 || !strings.Contains(body, "data-erased") || strings.Contains(body, "data-erase>") || strings.Contains(body, "6001@example.com") {
		t.Errorf("status page after erasing: %d", code)
	}
	if st := s.entryStatus(id); st != "withdrawn" {
		t.Errorf("an erased entry before the freeze leaves the draw, got %s", st)
	}

	// A rejected entry: the reasons in words, one appeal.
	receipt = s.applyViaForm("6002@example.com", `{"webdriver":true,"fill_ms":42000}`)
	rid := strings.TrimPrefix(strings.Split(receipt, "?")[0], "/entries/")
	rtok := s.keys.ReceiptToken(rid)
	s.store.DB().Exec("UPDATE entries SET status = 'rejected' WHERE id = ?", rid)
	code, body, _ = s.get(receipt+"&lang=ko", "Accept-Language", "ko-KR")
	if code != 200 || !strings.Contains(body, "자동화 브라우저") || !strings.Contains(body, `action="/entries/`+rid+`/appeal"`) {
		t.Fatalf("rejected status page (ko): %d", code)
	}
	if code, _ := s.postWith("/entries/"+rid+"/appeal", url.Values{"token": {rtok}, "message": {" "}}); code != http.StatusUnprocessableEntity {
		t.Errorf("empty appeal: %d", code)
	}
	if code, hdr := s.postWith("/entries/"+rid+"/appeal", url.Values{"token": {rtok}, "message": {"I am one person with a screen reader."}}); code != http.StatusSeeOther ||
		!strings.Contains(hdr.Get("Location"), "appealed=1") {
		t.Fatalf("appeal: %d %v", code, hdr)
	}
	if code, _ := s.postWith("/entries/"+rid+"/appeal", url.Values{"token": {rtok}, "message": {"again"}}); code != http.StatusConflict {
		t.Errorf("second appeal: %d", code)
	}
	_, body, _ = s.get(receipt + "&lang=en")
	if !strings.Contains(body, "screen reader") || !strings.Contains(body, "Waiting for a reviewer") || strings.Contains(body, `name="message" rows="4" maxlength="1000"`) {
		t.Errorf("status page after appealing shows no appeal, or still the form")
	}

	cookie := s.staffLogin("rev6@example.com", lottery.RoleReviewer)
	code, body, _ = s.get("/review/appeals?event=spring", "Cookie", cookie)
	if code != 200 || !strings.Contains(body, "screen reader") || !strings.Contains(body, "Automated browser") {
		t.Fatalf("appeals page: %d", code)
	}
	m := csrfRe.FindStringSubmatch(body)
	aid := regexpFind(body, `action="/review/appeals/([0-9]+)/decision"`)
	if m == nil || aid == "" {
		t.Fatal("no decision form")
	}
	if code, _ := s.postWith("/review/appeals/"+aid+"/decision", url.Values{"csrf": {"forged"}, "event": {"spring"}, "decision": {"reinstate"}},
		"Cookie", cookie); code != http.StatusForbidden {
		t.Errorf("forged CSRF token: %d", code)
	}
	if code, hdr := s.postWith("/review/appeals/"+aid+"/decision", url.Values{"csrf": {m[1]}, "event": {"spring"}, "decision": {"reinstate"}},
		"Cookie", cookie); code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=decided") {
		t.Fatalf("reinstate: %d %v", code, hdr)
	}
	if st := s.entryStatus(rid); st != "received" {
		t.Errorf("reinstated entry: %s", st)
	}
	_, body, _ = s.get(receipt + "&lang=en")
	if !strings.Contains(body, "Accepted: your entry is back in the draw.") {
		t.Error("the runner does not see the reinstatement")
	}
}

func regexpFind(s, expr string) string {
	m := regexp.MustCompile(expr).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
