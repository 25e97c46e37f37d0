package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// questionsEvent creates and publishes "autumn", open now, whose form asks
// one question of every kind with the organizer's own documents.
func (s *site) questionsEvent() {
	s.t.Helper()
	ctx := context.Background()
	_, err := s.svc.CreateEvent(ctx, s.org, lottery.EventSpec{Slug: "autumn", Name: "Autumn 10K", DisputeWindow: "0s", TimeZone: "Asia/Seoul",
		OpensAt: time.Now().Add(-time.Hour), ClosesAt: time.Now().Add(time.Hour),
		Courses: []lottery.CourseSpec{{Code: "half", Name: "Half Marathon", DistanceKM: 21.1, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "open", Label: "Open", Capacity: 200}}}},
		Form: lottery.FormSpec{Questions: []lottery.QuestionSpec{
			{ID: "emergency", Kind: "emergency_contact", Required: true},
			{ID: "tshirt", Kind: "tshirt_size", Required: true, Options: []lottery.OptionSpec{{Value: "S"}, {Value: "M"}, {Value: "L"}}},
			{ID: "club", Kind: "club"},
			{ID: "category", Kind: "category", Required: true, Options: []lottery.OptionSpec{
				{Value: "f", Label: "Women", LabelKO: "여성"}, {Value: "m", Label: "Men", LabelKO: "남성"}}},
			{ID: "medical", Kind: "text", Label: "Medical notes", LabelKO: "의료 참고 사항"},
			{ID: "rules", Kind: "checkbox", Required: true, Label: "I read the race rules", LabelKO: "대회 규정을 읽었습니다"},
		},
			Privacy: &lottery.PrivacySpec{Version: "p-7", Purpose: "To run the Autumn 10K.", PurposeKO: "가을 10K 운영",
				Retention: "Deleted six months after the race.", RetentionKO: "대회 6개월 후 삭제"},
			Waiver: &lottery.WaiverSpec{Version: "w-2", Text: "I run at my own risk.", TextKO: "본인 책임 아래 달립니다."}}})
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.svc.Transition(ctx, s.org, "autumn", lottery.ActionPublish, lottery.TransitionParams{}); err != nil {
		s.t.Fatal(err)
	}
}

func questionsForm(email string) url.Values {
	return url.Values{"subqueue": {"half:open"}, "name": {"Kim Minjun"}, "email": {email}, "phone": {"010-1234-5678"},
		"birth_date": {"1990-04-01"}, "started": {strconv.FormatInt(time.Now().Add(-time.Minute).UnixMilli(), 10)},
		"answers.emergency.name": {"Park Jiwoo"}, "answers.emergency.phone": {"010-9876-5432"}, "answers.tshirt": {"M"},
		"answers.club": {"Han River Runners"}, "answers.category": {"f"}, "answers.medical": {"Inhaler in my belt"},
		"answers.rules": {"on"}, "consents.privacy": {"p-7"}, "consents.waiver": {"w-2"}}
}

// TestQuestionsOnTheForm walks the form of an event with questions: the
// questions after the identity fields, a refused answer shown beside its
// field with every input kept (in English and Korean) and no code mailed,
// the answers carried through the code step and stored, the documents'
// pages, and "Edit my details" on the status page until registration closes.
func TestQuestionsOnTheForm(t *testing.T) {
	s := newSite(t, true)
	s.questionsEvent()
	code, body, _ := s.get("/events/autumn/apply?subqueue=half:open")
	for _, want := range []string{`name="answers.emergency.name"`, `name="answers.emergency.phone" type="tel"`, `<select name="answers.tshirt" required>`,
		`name="answers.club" type="text"`, `<option value="f">Women</option>`, `<textarea name="answers.medical"`, `name="answers.rules" value="on"`,
		`name="consents.privacy" value="p-7" required`, `name="consents.waiver" value="w-2" required`, `href="/events/autumn/privacy"`, `href="/events/autumn/waiver"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("form lacks %s (%d)", want, code)
		}
	}
	if strings.Index(body, `name="birth_date"`) > strings.Index(body, `name="answers.emergency.name"`) {
		t.Error("the questions come before the identity fields")
	}

	for _, tc := range []struct{ lang, message string }{
		{"en", "Please give a valid phone number"}, {"ko", "올바른 전화번호를 입력해 주세요"},
	} {
		form := questionsForm("runner-" + tc.lang + "@example.com")
		form.Set("answers.emergency.phone", "12")
		code, body, _ := s.post("/events/autumn/apply/code?lang="+tc.lang, form)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: bad phone: %d", tc.lang, code)
		}
		phone := body[strings.Index(body, `name="answers.emergency.phone"`):]
		if !strings.Contains(phone[:400], tc.message) || !strings.Contains(body, `<label class="field invalid">`) {
			t.Errorf("%s: the error is not beside the phone field: %s", tc.lang, phone[:400])
		}
		for _, kept := range []string{`value="Park Jiwoo"`, `value="12"`, `<option value="M" selected>`, `value="Han River Runners"`,
			`<option value="f" selected>`, `>Inhaler in my belt</textarea>`, `value="on" checked`, `value="p-7" required checked`, `value="Kim Minjun"`} {
			if !strings.Contains(body, kept) {
				t.Errorf("%s: input %s not kept", tc.lang, kept)
			}
		}
		if msgs, _ := s.store.OutboxFor(context.Background(), form.Get("email"), 5); len(msgs) != 0 {
			t.Errorf("%s: a code was mailed for a refused form", tc.lang)
		}
	}
	form := questionsForm("runner@example.com")
	form.Del("consents.waiver")
	if code, body, _ := s.post("/events/autumn/apply/code", form); code != 422 || !strings.Contains(body, "Please read and accept this document.") {
		t.Errorf("waiver not accepted: %d", code)
	}

	// Fixed: the code step carries the answers, and applying stores them.
	form = questionsForm("runner@example.com")
	code, body, _ = s.post("/events/autumn/apply/code", form)
	if code != 200 || !strings.Contains(body, `name="otp"`) {
		t.Fatalf("send code: %d", code)
	}
	step3 := url.Values{}
	for _, m := range hiddenRe.FindAllStringSubmatch(body, -1) {
		step3.Set(m[1], m[2])
	}
	if step3.Get("answers.emergency.phone") != "010-9876-5432" || step3.Get("consents.waiver") != "w-2" {
		t.Fatalf("step 3 does not carry the answers: %v", step3)
	}
	msgs, _ := s.store.OutboxFor(context.Background(), "runner@example.com", 1)
	step3.Set("otp", codeRe.FindStringSubmatch(msgs[0].Body)[1])
	// An answer changed on the way (the hidden fields) goes back to the
	// questions, input kept, the error beside its field; nothing is stored.
	tampered := url.Values{}
	for k, v := range step3 {
		tampered[k] = v
	}
	tampered.Set("answers.tshirt", "XXL")
	tampered.Set("altcha", solve(t, body))
	code, refused, _ := s.post("/events/autumn/apply", tampered)
	if code != 422 || !strings.Contains(refused, `action="/events/autumn/apply/code"`) || !strings.Contains(refused, "Please choose one of the options.") ||
		!strings.Contains(refused, `value="Park Jiwoo"`) {
		t.Errorf("tampered answer at the code step: %d", code)
	}
	var n int64
	s.store.DB().Raw("SELECT count(*) FROM entries WHERE event_id = (SELECT id FROM events WHERE slug = 'autumn')").Scan(&n)
	if n != 0 {
		t.Fatalf("a refused application stored %d entries", n)
	}
	step3.Set("altcha", solve(t, refused))
	code, _, hdr := s.post("/events/autumn/apply", step3)
	if code != http.StatusSeeOther {
		t.Fatalf("submit: %d", code)
	}
	status := hdr.Get("Location")
	id := strings.TrimPrefix(status[:strings.Index(status, "?")], "/entries/")
	var stored string
	s.store.DB().Raw("SELECT answers::text FROM entries WHERE id = ?", id).Scan(&stored)
	if !strings.Contains(stored, `"phone": "+821098765432"`) || !strings.Contains(stored, `"rules": true`) {
		t.Errorf("stored answers: %s", stored)
	}
	var versions []string
	s.store.DB().Raw("SELECT document || ':' || version FROM entry_consents WHERE entry_id = ? ORDER BY document", id).Scan(&versions)
	if strings.Join(versions, ",") != "privacy:p-7,waiver:w-2" {
		t.Errorf("consents: %v", versions)
	}

	// The documents' pages, in both languages.
	for _, tc := range []struct {
		path, lang string
		want       []string
	}{
		{"/events/autumn/privacy", "en", []string{"Privacy notice", "To run the Autumn 10K.", "Deleted six months after the race.", "p-7", "Autumn 10K"}},
		{"/events/autumn/privacy", "ko", []string{"개인정보 처리방침", "가을 10K 운영", "대회 6개월 후 삭제", "p-7", "보유·이용 기간"}},
		{"/events/autumn/waiver", "en", []string{"Waiver", "I run at my own risk.", "w-2"}},
		{"/events/autumn/waiver", "ko", []string{"면책 동의서", "본인 책임 아래 달립니다.", "w-2"}},
		{"/events/spring/privacy", "en", []string{"Privacy notice", "Kept until 90 days after race day", "default-2"}},
	} {
		code, body, _ := s.get(tc.path + "?lang=" + tc.lang)
		for _, w := range tc.want {
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("%s in %s lacks %q (%d)", tc.path, tc.lang, w, code)
			}
		}
	}
	if code, _, _ := s.get("/events/nope/privacy"); code != 404 {
		t.Errorf("privacy notice of no event: %d", code)
	}

	// Edit my details: prefilled with the stored answers.
	tok := s.keys.ReceiptToken(id)
	code, body, _ = s.get(status)
	for _, want := range []string{`id="details"`, "Edit my details", `value="Park Jiwoo"`, `value="&#43;821098765432"`, `<option value="M" selected>`,
		`action="/entries/` + id + `/answers#details"`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("status page lacks %s (%d)", want, code)
		}
	}
	edit := url.Values{"token": {tok}, "answers.emergency.name": {"Lee Seoyeon"}, "answers.emergency.phone": {"010-5555-1234"},
		"answers.tshirt": {"XXL"}, "answers.category": {"m"}, "answers.rules": {"on"}}
	code, body, _ = s.post("/entries/"+id+"/answers", edit)
	if code != 422 || !strings.Contains(body, "Please choose one of the options.") || !strings.Contains(body, `value="Lee Seoyeon"`) {
		t.Errorf("bad edit: %d, want 422 with the input kept", code)
	}
	edit.Set("answers.tshirt", "L")
	if code, _ := s.postWith("/entries/"+id+"/answers", edit, "Origin", "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("cross-site edit: %d, want 403", code)
	}
	if code, _, _ := s.post("/entries/"+id+"/answers", url.Values{"token": {"forged"}, "answers.tshirt": {"L"}}); code != 404 {
		t.Errorf("forged token: %d, want 404", code)
	}
	code, _, hdr = s.post("/entries/"+id+"/answers", edit)
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "saved=1") {
		t.Fatalf("edit: %d %v", code, hdr)
	}
	_, body, _ = s.get(hdr.Get("Location"))
	if !strings.Contains(body, "Your details were saved.") || !strings.Contains(body, `<option value="L" selected>`) || !strings.Contains(body, `value="Lee Seoyeon"`) {
		t.Error("saved details not shown")
	}
	var kinds []string
	s.store.DB().Raw("SELECT kind || ' ' || details::text FROM event_log WHERE entry_id = ? ORDER BY id", id).Scan(&kinds)
	if len(kinds) != 2 || kinds[1] != "entry.answers_changed {}" {
		t.Errorf("event log: %v", kinds)
	}

	// Registration closed: read-only, and an edit is refused.
	if _, err := s.svc.Transition(context.Background(), s.org, "autumn", lottery.ActionClose, lottery.TransitionParams{}); err != nil {
		t.Fatal(err)
	}
	code, body, _ = s.get(status + "&lang=ko")
	if code != 200 || strings.Contains(body, `action="/entries/`+id+`/answers`) || !strings.Contains(body, "더 이상 정보를 바꿀 수 없습니다") ||
		!strings.Contains(body, "Lee Seoyeon · &#43;821055551234") || !strings.Contains(body, "<dd>남성</dd>") {
		t.Errorf("closed status page: %d %s", code, body[strings.Index(body, `id="details"`):])
	}
	if code, body, _ := s.post("/entries/"+id+"/answers", edit); code != http.StatusConflict || !strings.Contains(body, "Registration is closed.") {
		t.Errorf("edit after close: %d, want 409", code)
	}
}
