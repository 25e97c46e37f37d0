package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/startline/startline/lottery"
)

// questionsSpec is a form with one question of every kind and the
// organizer's own documents.
func questionsSpec() map[string]any {
	return map[string]any{
		"questions": []any{
			map[string]any{"id": "emergency", "kind": "emergency_contact", "required": true},
			map[string]any{"id": "tshirt", "kind": "tshirt_size", "required": true, "options": []any{"S", "M", "L"}},
			map[string]any{"id": "club", "kind": "club", "label_ko": "러닝 크루"},
			map[string]any{"id": "category", "kind": "category", "required": true, "options": []any{
				map[string]any{"value": "f", "label": "Women", "label_ko": "여성"}, map[string]any{"value": "m", "label": "Men", "label_ko": "남성"}}},
			map[string]any{"id": "medical", "kind": "text", "label": "Medical notes", "label_ko": "의료 참고 사항"},
			map[string]any{"id": "rules", "kind": "checkbox", "required": true, "label": "I read the race rules", "label_ko": "대회 규정을 읽었습니다"},
		},
		"privacy": map[string]any{"version": "2027-01", "purpose": "To run the race.", "purpose_ko": "대회 운영",
			"retention": "One year after the race.", "retention_ko": "대회 후 1년"},
		"waiver": map[string]any{"version": "w-2", "text": "I run at my own risk.", "text_ko": "본인 책임 아래 참가합니다."},
	}
}

// openQuestionsEvent creates "spring" with the questions spec, publishes it
// and moves the clock inside its window.
func (e *env) openQuestionsEvent() {
	e.t.Helper()
	b := eventBody("spring")
	for k, v := range questionsSpec() {
		b[k] = v
	}
	if r := e.do("POST", "/api/v1/admin/events", b, "Authorization", "Bearer "+e.organizer); r.Status != 201 {
		e.t.Fatalf("create event: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		e.t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Hour))
}

func validAnswers() map[string]any {
	return map[string]any{"emergency": map[string]any{"name": "Park Jiwoo", "phone": "010-9876-5432"}, "tshirt": "M",
		"club": "Han River Runners", "category": "f", "medical": "Asthma inhaler in my belt", "rules": true}
}

func formConsents() map[string]any { return map[string]any{"privacy": "2027-01", "waiver": "w-2"} }

func TestQuestionsSpec(t *testing.T) {
	e := newEnv(t, true)
	auth := []string{"Authorization", "Bearer " + e.organizer}
	b := eventBody("spring")
	for k, v := range questionsSpec() {
		b[k] = v
	}
	r := e.do("POST", "/api/v1/admin/events", b, auth...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	qs, _ := r.Body["questions"].([]any)
	if len(qs) != 6 {
		t.Fatalf("questions in the event: %s", r.Raw)
	}
	first, _ := qs[0].(map[string]any)
	if first["label"] != "Emergency contact" || first["label_ko"] != "비상 연락처" || first["required"] != true {
		t.Errorf("built-in labels: %v", first)
	}
	club, _ := qs[2].(map[string]any)
	if club["label"] != "Club or team" || club["label_ko"] != "러닝 크루" {
		t.Errorf("a Korean label of the organizer's on a built-in kind: %v", club)
	}
	if p, _ := r.Body["privacy"].(map[string]any); p["version"] != "2027-01" || p["retention"] != "One year after the race." {
		t.Errorf("privacy: %v", r.Body["privacy"])
	}

	// An event without a form still shows both documents, with the defaults
	// (the web form always asks them; see TestApplyFixedContractBody).
	plain := eventBody("plain")
	if r := e.do("POST", "/api/v1/admin/events", plain, auth...); r.Status != 201 {
		t.Fatalf("create plain: %d %s", r.Status, r.Raw)
	} else if p, _ := r.Body["privacy"].(map[string]any); p["version"] != "default-2" || p["purpose"] == "" || p["retention"] == "" {
		t.Errorf("default privacy notice: %v", r.Body["privacy"])
	} else if w, _ := r.Body["waiver"].(map[string]any); w["version"] != "default-2" || w["text"] == "" {
		t.Errorf("default waiver: %v", r.Body["waiver"])
	}

	tests := []struct {
		name  string
		edit  func(s map[string]any)
		field string
	}{
		{"unknown kind", func(s map[string]any) { q(s, 2)["kind"] = "dropdown" }, "questions[2].kind"},
		{"bad id", func(s map[string]any) { q(s, 0)["id"] = "Emergency!" }, "questions[0].id"},
		{"duplicate id", func(s map[string]any) { q(s, 1)["id"] = "emergency" }, "questions[1].id"},
		{"sizes without options", func(s map[string]any) { delete(q(s, 1), "options") }, "questions[1].options"},
		{"bad option", func(s map[string]any) { q(s, 1)["options"] = []any{"S", "M L"} }, "questions[1].options[1].value"},
		{"text without label", func(s map[string]any) { delete(q(s, 4), "label") }, "questions[4].label"},
		{"privacy without version", func(s map[string]any) { delete(s["privacy"].(map[string]any), "version") }, "privacy.version"},
		{"privacy without retention", func(s map[string]any) { delete(s["privacy"].(map[string]any), "retention") }, "privacy.retention"},
		{"waiver without text", func(s map[string]any) { delete(s["waiver"].(map[string]any), "text") }, "waiver.text"},
		{"required not a bool", func(s map[string]any) { q(s, 0)["required"] = "yes" }, "questions.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := eventBody("bad")
			spec := questionsSpec()
			tt.edit(spec)
			for k, v := range spec {
				b[k] = v
			}
			r := e.do("POST", "/api/v1/admin/events", b, auth...)
			if r.Status != 422 || r.errCode() != "invalid_field" || r.errField("field") != tt.field {
				t.Errorf("got %d %s, want 422 invalid_field on %s", r.Status, r.Raw, tt.field)
			}
			// The replace route checks the same way.
			if r := e.do("PUT", "/api/v1/admin/events/spring/questions", spec, auth...); r.Status != 422 || r.errField("field") != tt.field {
				t.Errorf("replace: got %d %s, want 422 on %s", r.Status, r.Raw, tt.field)
			}
		})
	}

	// Replacing the form before the opening: audited with the versions.
	spec := questionsSpec()
	spec["questions"] = []any{map[string]any{"id": "tshirt", "kind": "tshirt_size", "options": []any{"M", "L"}}}
	spec["waiver"] = map[string]any{"version": "w-3", "text": "Still at my own risk."}
	if r := e.do("PUT", "/api/v1/admin/events/spring/questions", spec, "Authorization", "Bearer "+e.reviewer); r.Status != 403 {
		t.Errorf("a reviewer replaced the form: %d %s", r.Status, r.Raw)
	}
	r = e.do("PUT", "/api/v1/admin/events/spring/questions", spec, auth...)
	if w, _ := r.Body["waiver"].(map[string]any); r.Status != 200 || w["version"] != "w-3" || len(r.Body["questions"].([]any)) != 1 {
		t.Fatalf("replace: %d %s", r.Status, r.Raw)
	}
	var audits []string
	e.store.DB().Raw("SELECT details::text FROM audit_log WHERE action = 'event.form' AND target = 'spring'").Scan(&audits)
	if len(audits) != 1 || !strings.Contains(audits[0], `"waiver_version": "w-3"`) {
		t.Errorf("audit of the replacement: %v", audits)
	}
	if r := e.do("PUT", "/api/v1/admin/events/nope/questions", spec, auth...); r.Status != 404 {
		t.Errorf("unknown event: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/v1/admin/events/spring/publish", nil, auth...); r.Status != 200 {
		t.Fatalf("publish: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(-time.Minute)) // published, not yet open: still allowed
	if r := e.do("PUT", "/api/v1/admin/events/spring/questions", questionsSpec(), auth...); r.Status != 200 {
		t.Errorf("replace before the opening: %d %s", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(time.Minute))
	if r := e.do("PUT", "/api/v1/admin/events/spring/questions", spec, auth...); r.Status != 409 || r.errCode() != "invalid_transition" {
		t.Errorf("replace after the opening: got %d %s, want 409 invalid_transition", r.Status, r.Raw)
	}
	if g := e.do("GET", "/api/v1/events/spring", nil); len(g.Body["questions"].([]any)) != 6 {
		t.Errorf("the refused replacement changed the form: %s", g.Raw)
	}
}

// q is question i of a spec, to edit.
func q(spec map[string]any, i int) map[string]any {
	return spec["questions"].([]any)[i].(map[string]any)
}

func TestApplyAnswersAndConsents(t *testing.T) {
	e := newEnv(t, true)
	e.openQuestionsEvent()
	code := e.otp("spring", "runner@example.com")
	body := func() map[string]any {
		b := e.applyBody("runner@example.com", code)
		b["answers"], b["consents"] = validAnswers(), formConsents()
		return b
	}
	tests := []struct {
		name  string
		edit  func(b map[string]any)
		field string
	}{
		{"no answers", func(b map[string]any) { delete(b, "answers") }, "answers.emergency.name"},
		{"emergency contact without a name", func(b map[string]any) { ans(b)["emergency"] = map[string]any{"phone": "010-9876-5432"} }, "answers.emergency.name"},
		{"emergency phone invalid", func(b map[string]any) { ans(b)["emergency"] = map[string]any{"name": "Park", "phone": "12"} }, "answers.emergency.phone"},
		{"emergency contact as text", func(b map[string]any) { ans(b)["emergency"] = "Park 010" }, "answers.emergency"},
		{"no T-shirt size", func(b map[string]any) { delete(ans(b), "tshirt") }, "answers.tshirt"},
		{"T-shirt size not offered", func(b map[string]any) { ans(b)["tshirt"] = "XXL" }, "answers.tshirt"},
		{"club too long", func(b map[string]any) { ans(b)["club"] = strings.Repeat("a", 101) }, "answers.club"},
		{"category not offered", func(b map[string]any) { ans(b)["category"] = "x" }, "answers.category"},
		{"no category", func(b map[string]any) { ans(b)["category"] = "" }, "answers.category"},
		{"free text too long", func(b map[string]any) { ans(b)["medical"] = strings.Repeat("a", 1001) }, "answers.medical"},
		{"box not ticked", func(b map[string]any) { ans(b)["rules"] = false }, "answers.rules"},
		{"box as text", func(b map[string]any) { ans(b)["rules"] = "on" }, "answers.rules"},
		{"unknown question", func(b map[string]any) { ans(b)["shoe"] = "270" }, "answers.shoe"},
		{"no consents", func(b map[string]any) { delete(b, "consents") }, "consents.privacy"},
		{"privacy not accepted", func(b map[string]any) { delete(b["consents"].(map[string]any), "privacy") }, "consents.privacy"},
		{"old privacy version", func(b map[string]any) { b["consents"].(map[string]any)["privacy"] = "2026-01" }, "consents.privacy"},
		{"waiver not accepted", func(b map[string]any) { delete(b["consents"].(map[string]any), "waiver") }, "consents.waiver"},
		{"default waiver version", func(b map[string]any) { b["consents"].(map[string]any)["waiver"] = "default-2" }, "consents.waiver"},
		{"consent not text", func(b map[string]any) { b["consents"].(map[string]any)["waiver"] = true }, "consents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := body()
			tt.edit(b)
			r := e.do("POST", "/api/v1/events/spring/entries", b)
			if r.Status != http.StatusUnprocessableEntity || r.errCode() != "invalid_field" || r.errField("field") != tt.field {
				t.Errorf("got %d %s, want 422 invalid_field on %s", r.Status, r.Raw, tt.field)
			}
		})
	}
	var consents int64
	e.store.DB().Raw("SELECT count(*) FROM entry_consents").Scan(&consents)
	if n := e.countEntries(); n != 0 || consents != 0 {
		t.Fatalf("refused applications stored %d entries and %d consents", n, consents)
	}

	r := e.do("POST", "/api/v1/events/spring/entries", body())
	if r.Status != 201 {
		t.Fatalf("apply: %d %s", r.Status, r.Raw)
	}
	id, tok := r.str("entry_id"), r.str("receipt_token")
	var stored string
	e.store.DB().Raw("SELECT answers::text FROM entries WHERE id = ?", id).Scan(&stored)
	for _, want := range []string{`"tshirt": "M"`, `"phone": "+821098765432"`, `"name": "Park Jiwoo"`, `"rules": true`} {
		if !strings.Contains(stored, want) {
			t.Errorf("stored answers %s lack %s", stored, want)
		}
	}
	// Each consent is recorded with its version and the time of applying.
	var rows []struct {
		Document   string
		Version    string
		AcceptedAt time.Time
	}
	e.store.DB().Raw("SELECT document, version, accepted_at FROM entry_consents WHERE entry_id = ? ORDER BY document", id).Scan(&rows)
	now := e.clock.Now()
	if len(rows) != 2 || rows[0].Document != "privacy" || rows[0].Version != "2027-01" || rows[1].Document != "waiver" ||
		rows[1].Version != "w-2" || !rows[0].AcceptedAt.Equal(now) || !rows[1].AcceptedAt.Equal(now) {
		t.Errorf("consents: %+v, want privacy 2027-01 and waiver w-2 at %s", rows, now)
	}
	if err := e.store.DB().Exec("UPDATE entry_consents SET version = 'x'").Error; err == nil {
		t.Error("entry_consents accepted an UPDATE; it must be append-only")
	}
	if err := e.store.DB().Exec("DELETE FROM entry_consents").Error; err == nil {
		t.Error("entry_consents accepted a DELETE; it must be append-only")
	}
	// The receipt holder reads them back; nobody else.
	s := e.do("GET", "/api/v1/entries/"+id+"?token="+tok, nil)
	if a, _ := s.Body["answers"].(map[string]any); s.Status != 200 || a["tshirt"] != "M" || len(s.Body["consents"].([]any)) != 2 {
		t.Errorf("status with answers: %d %s", s.Status, s.Raw)
	}
	// Answers never reach the event log.
	var logs []string
	e.store.DB().Raw("SELECT kind || ' ' || details::text FROM event_log").Scan(&logs)
	for _, l := range logs {
		for _, secret := range []string{"Park Jiwoo", "9876", "Han River", "Asthma", "answers"} {
			if strings.Contains(l, secret) {
				t.Errorf("event log holds %q: %s", secret, l)
			}
		}
	}
}

func ans(b map[string]any) map[string]any { return b["answers"].(map[string]any) }

func TestEditAnswers(t *testing.T) {
	e := newEnv(t, true)
	e.openQuestionsEvent()
	b := e.applyBody("runner@example.com", e.otp("spring", "runner@example.com"))
	b["answers"], b["consents"] = validAnswers(), formConsents()
	r := e.do("POST", "/api/v1/events/spring/entries", b)
	if r.Status != 201 {
		t.Fatalf("apply: %d %s", r.Status, r.Raw)
	}
	id, tok := r.str("entry_id"), r.str("receipt_token")
	path := "/api/v1/entries/" + id + "/answers"

	changed := validAnswers()
	changed["tshirt"], changed["emergency"] = "L", map[string]any{"name": "Lee Seoyeon", "phone": "+82 10 5555 1234"}
	delete(changed, "club")
	r = e.do("POST", path, map[string]any{"token": tok, "answers": changed})
	if a, _ := r.Body["answers"].(map[string]any); r.Status != 200 || a["tshirt"] != "L" || a["club"] != nil || r.str("entry_id") != id {
		t.Fatalf("edit: %d %s", r.Status, r.Raw)
	}
	var stored string
	e.store.DB().Raw("SELECT answers::text FROM entries WHERE id = ?", id).Scan(&stored)
	if !strings.Contains(stored, "+821055551234") || strings.Contains(stored, "Han River") {
		t.Errorf("stored after edit: %s", stored)
	}
	var logs []struct {
		Kind    string
		Details string
	}
	e.store.DB().Raw("SELECT kind, details::text AS details FROM event_log WHERE entry_id = ? ORDER BY id", id).Scan(&logs)
	if len(logs) != 2 || logs[1].Kind != "entry.answers_changed" || logs[1].Details != "{}" {
		t.Errorf("event log: %+v, want entry.created then entry.answers_changed with no details", logs)
	}

	bad := validAnswers()
	bad["tshirt"] = "XXL"
	for name, tc := range map[string]struct {
		body   map[string]any
		path   string
		status int
		code   string
		field  string
	}{
		"bad answer":             {map[string]any{"token": tok, "answers": bad}, path, 422, "invalid_field", "answers.tshirt"},
		"identity key as answer": {map[string]any{"token": tok, "answers": map[string]any{"name": "Someone Else"}}, path, 422, "invalid_field", "answers.name"},
		"wrong token":            {map[string]any{"token": strings.Repeat("A", len(tok)), "answers": validAnswers()}, path, 404, "not_found", ""},
		"no token":               {map[string]any{"answers": validAnswers()}, path, 404, "not_found", ""},
		"unknown entry": {map[string]any{"token": tok, "answers": validAnswers()},
			"/api/v1/entries/00000000-0000-4000-8000-000000000000/answers", 404, "not_found", ""},
	} {
		r := e.do("POST", tc.path, tc.body)
		if r.Status != tc.status || r.errCode() != tc.code || r.errField("field") != tc.field {
			t.Errorf("%s: got %d %s, want %d %s %s", name, r.Status, r.Raw, tc.status, tc.code, tc.field)
		}
	}
	var after string
	e.store.DB().Raw("SELECT answers::text FROM entries WHERE id = ?", id).Scan(&after)
	if after != stored {
		t.Errorf("refused edits changed the answers: %s", after)
	}

	// After the window (or the organizer's close) the answers are fixed.
	e.clock.Set(testStart.Add(8 * 24 * time.Hour))
	r = e.do("POST", path, map[string]any{"token": tok, "answers": validAnswers()})
	if r.Status != 409 || r.errCode() != "registration_closed" {
		t.Errorf("edit after close: got %d %s, want 409 registration_closed", r.Status, r.Raw)
	}
	e.clock.Set(testStart.Add(2 * time.Hour))
	if r := e.do("POST", "/api/v1/admin/events/spring/close", nil, "Authorization", "Bearer "+e.organizer); r.Status != 200 {
		t.Fatalf("close: %d %s", r.Status, r.Raw)
	}
	r = e.do("POST", path, map[string]any{"token": tok, "answers": validAnswers()})
	if r.Status != 409 || r.errCode() != "registration_closed" {
		t.Errorf("edit after the organizer closed: got %d %s, want 409 registration_closed", r.Status, r.Raw)
	}
	e.store.DB().Raw("SELECT answers::text FROM entries WHERE id = ?", id).Scan(&after)
	if after != stored {
		t.Errorf("a refused edit after close changed the answers: %s", after)
	}

	// The published frozen list and draws hold no answer.
	if fr := e.action("spring", "freeze", map[string]any{"beacon_round": "drand:quicknet:9000000"}); fr.Status != 200 {
		t.Fatalf("freeze: %d %s", fr.Status, fr.Raw)
	}
	for _, p := range []string{"/api/v1/events/spring/draws/half:sub-130/frozen.json", "/api/v1/events/spring/draws", "/api/v1/events/spring"} {
		r := e.do("GET", p, nil)
		if r.Status != 200 || !strings.Contains(string(r.Raw), "half:sub-130") && !strings.Contains(string(r.Raw), id) {
			t.Errorf("%s: %d %s", p, r.Status, r.Raw)
		}
		for _, secret := range []string{"Lee Seoyeon", "5555", "Asthma", "Inhaler", `"tshirt":"L"`} {
			if strings.Contains(string(r.Raw), secret) {
				t.Errorf("%s publishes %q", p, secret)
			}
		}
	}
}

// TestApplyFixedContractBody applies with API.md's fixed body (no consents)
// to an event created with API.md's fixed spec (no form of its own): taken,
// with no consent rows; a consent given anyway is checked and recorded.
func TestApplyFixedContractBody(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	b := e.applyBody("fixed@example.com", e.otp("spring", "fixed@example.com"))
	delete(b, "consents")
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 201 {
		t.Fatalf("fixed body: %d %s", r.Status, r.Raw)
	}
	var rows int64
	e.store.DB().Raw("SELECT count(*) FROM entry_consents").Scan(&rows)
	if rows != 0 {
		t.Errorf("%d consent rows for an application that gave none", rows)
	}
	b = e.applyBody("given@example.com", e.otp("spring", "given@example.com"))
	b["consents"] = map[string]any{"privacy": "old", "waiver": lottery.DefaultWaiver.Version}
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 422 || r.errField("field") != "consents.privacy" {
		t.Errorf("a wrong version given anyway: %d %s", r.Status, r.Raw)
	}
	b["consents"], b["altcha"] = defaultConsents(), e.altcha("spring")
	if r := e.do("POST", "/api/v1/events/spring/entries", b); r.Status != 201 {
		t.Fatalf("with consents: %d %s", r.Status, r.Raw)
	}
	e.store.DB().Raw("SELECT count(*) FROM entry_consents").Scan(&rows)
	if rows != 2 {
		t.Errorf("%d consent rows, want 2", rows)
	}
}
