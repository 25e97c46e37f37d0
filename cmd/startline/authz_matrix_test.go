package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"gorm.io/gorm"

	"github.com/startline/startline/internal/httpkit"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/staff"
)

// The authorization matrix (issue 14): every admin, review and console
// route, called as each of five callers, answers what the table says, and a
// refused call changes nothing. The table must name every route the app
// registers under /api/v1/admin, /api/v1/review, /admin, /review, /staff,
// /api/v1/checkin and /checkin (issue 15): a route added without a row fails TestAuthorizationMatrix, so a
// new page or API route is added here with one line.

// caller is who calls.
type caller int

const (
	anonymous caller = iota // no credentials
	asRunner                // a runner: an entry's receipt token, no staff account
	otherOrg                // an organizer of another organization than the event's
	reviewer                // a reviewer of the event's organization
	organizer               // an organizer of the event's organization
)

var callerNames = [...]string{"anonymous", "runner", "organizer of another organization", "reviewer", "organizer"}

// want is the status each caller gets, in caller order. Callers are tried
// in that order too: the refused first, so what they did not change is
// checked against the untouched fixture, then the allowed, whose changes
// are real. public rows are not checked for "changed nothing" (a failed
// login is audited, a public form may store what it is given).
type want struct {
	status [5]int
	public bool
}

// The usual shapes of the matrix.
var (
	// adminAPI: an organizer of the event's (or series') organization
	// only; another organization's is 404 as if it did not exist.
	adminAPI = func(ok int) want { return want{status: [5]int{401, 401, 404, 403, ok}} }
	// ownAPI: an organizer, acting on their own organization (create).
	ownAPI = func(ok int) want { return want{status: [5]int{401, 401, ok, 403, ok}} }
	// reviewAPI: staff of the event's organization (reviewer and organizer).
	reviewAPI = func(rev, org int) want { return want{status: [5]int{401, 401, 404, rev, org}} }
	// console: an organizer's page of one event or series (anonymous 302 to the login).
	console = func(ok int) want { return want{status: [5]int{302, 302, 404, 403, ok}} }
	// ownConsole: an organizer's page of their own organization.
	ownConsole = func(ok int) want { return want{status: [5]int{302, 302, ok, 403, ok}} }
	// reviewPage: the reviewers' console (anonymous 303 to the login).
	reviewPage = func(rev, org int) want { return want{status: [5]int{303, 303, 404, rev, org}} }
	// staffPage: an organizer's /staff page of one series.
	staffPage = func(ok int) want { return want{status: [5]int{303, 303, 404, 403, ok}} }
	// public: anyone, e.g. the login and an invitation's token-gated page.
	public = func(s int) want { return want{status: [5]int{s, s, s, s, s}, public: true} }
	// operators: the operating organization's staff (the task-queue
	// monitor, which lists every organization's tasks); another
	// organization's organizer is refused.
	operators = func(anon, ok int) want { return want{status: [5]int{anon, anon, 403, ok, ok}} }
)

// matrixRow is one route: its method and pattern as gin lists them ("ANY"
// for a route registered for every method, tried with GET), the path
// called ({event}, {entry}, … filled from the fixture), the body (JSON for
// /api, a form for pages: the session's csrf token is added), and who gets
// what.
type matrixRow struct {
	method, route, path, body string
	want                      want
}

// matrix is the table. A new route is one line, e.g. for console pages of
// one event and the organizer's own list:
//
//	{"GET", "/admin", "/admin", ``, ownConsole(200)},
//	{"GET", "/admin/events/:slug", "/admin/events/{event}", ``, console(200)},
//	{"POST", "/admin/events/:slug/edit", "/admin/events/{draft}/edit", `name=Renamed`, console(303)},
//	{"GET", "/api/v1/admin/events/:slug/exports/entries.csv", "/api/v1/admin/events/{event}/exports/entries.csv", ``, adminAPI(200)},
//
// ({event} is an open event of the organizer's organization with entries,
// {draft} a draft of it, {frozen} a frozen one; see the fixture below.)
var matrix = []matrixRow{
	// Admin API.
	{"POST", "/api/v1/admin/events", "/api/v1/admin/events", `{}`, ownAPI(422)},
	{"PUT", "/api/v1/admin/events/:slug", "/api/v1/admin/events/{draft}", `{"slug":"{draft}","name":"Matrix Draft","time_zone":"Asia/Seoul","opens_at":"2030-03-01T09:00:00+09:00","closes_at":"2030-03-08T09:00:00+09:00","courses":[{"code":"10k","name":"10K","distance_km":10,"pace_groups":[{"code":"open","label":"Open","capacity":10}]},{"code":"5k","name":"5K","distance_km":5,"pace_groups":[{"code":"open","capacity":20}]}]}`, adminAPI(200)},
	{"POST", "/api/v1/admin/events/:slug/:action", "/api/v1/admin/events/{draft}/publish", ``, adminAPI(200)},
	{"PATCH", "/api/v1/admin/events/:slug", "/api/v1/admin/events/{draft}", `{"name":"Renamed by the matrix"}`, adminAPI(200)},
	{"POST", "/api/v1/admin/events/:slug/subqueues/:key/capacity", "/api/v1/admin/events/{event}/subqueues/{subqueue}/capacity", `{"capacity":{capacity}}`, adminAPI(200)},
	{"PUT", "/api/v1/admin/events/:slug/questions", "/api/v1/admin/events/{event}/questions", `{"questions":[]}`, adminAPI(409)},
	{"GET", "/api/v1/admin/events/:slug/offers", "/api/v1/admin/events/{event}/offers", ``, adminAPI(200)},
	{"GET", "/api/v1/admin/events/:slug/deferral", "/api/v1/admin/events/{event}/deferral", ``, adminAPI(200)},
	{"PUT", "/api/v1/admin/events/:slug/deferral", "/api/v1/admin/events/{event}/deferral", `{"deadline":"2030-01-01T00:00:00Z","fee_minor":5000,"cap":3}`, adminAPI(200)},
	{"GET", "/api/v1/admin/events/:slug/card-policy", "/api/v1/admin/events/{event}/card-policy", ``, adminAPI(200)},
	{"PUT", "/api/v1/admin/events/:slug/card-policy", "/api/v1/admin/events/{draft}/card-policy", `{"enabled":true,"entries_per_card":2}`, adminAPI(200)},
	{"PUT", "/api/v1/admin/events/:slug/transfer-policy", "/api/v1/admin/events/{event}/transfer-policy", `{"deadline":"2030-01-01T00:00:00Z","max":100,"fee":5000}`, adminAPI(200)},
	{"GET", "/api/v1/admin/events/:slug/exports/:file", "/api/v1/admin/events/{event}/exports/entries.csv", ``, adminAPI(200)},
	{"POST", "/api/v1/admin/events/:slug/subqueues/:key/pause", "/api/v1/admin/events/{event}/subqueues/{ordered}/pause", ``, adminAPI(200)},
	{"POST", "/api/v1/admin/events/:slug/subqueues/:key/resume", "/api/v1/admin/events/{event}/subqueues/{ordered}/resume", ``, adminAPI(200)},
	{"POST", "/api/v1/admin/events/:slug/subqueues/:key/rate", "/api/v1/admin/events/{event}/subqueues/{ordered}/rate", `{"admit_per_minute":90}`, adminAPI(200)},
	{"GET", "/api/v1/admin/events/:slug/bibs", "/api/v1/admin/events/{event}/bibs", ``, adminAPI(200)},
	{"PUT", "/api/v1/admin/events/:slug/bibs", "/api/v1/admin/events/{event}/bibs", `{"ranges":[{"subqueue":"{subqueue}","first":1,"last":90000}]}`, adminAPI(200)},
	{"POST", "/api/v1/admin/events/:slug/bibs/assign", "/api/v1/admin/events/{event}/bibs/assign", ``, adminAPI(200)},
	{"GET", "/api/v1/admin/events/:slug/entries", "/api/v1/admin/events/{event}/entries", ``, adminAPI(200)},
	{"POST", "/api/v1/admin/series", "/api/v1/admin/series", `{}`, ownAPI(422)},
	{"POST", "/api/v1/admin/series/:slug/events", "/api/v1/admin/series/{series}/events", `{"event":"{draft}","edition_year":2027}`, adminAPI(200)},
	{"POST", "/api/v1/admin/series/:slug/history", "/api/v1/admin/series/{series}/history", "name,birth_date,email,phone,previous_applications,years\nPark Jiho,1991-01-02,jiho@example.com,,1,2024\n", adminAPI(201)},
	// Review API.
	{"GET", "/api/v1/review/queue", "/api/v1/review/queue?event={event}", ``, reviewAPI(200, 200)},
	{"GET", "/api/v1/review/entries/:id", "/api/v1/review/entries/{entry}", ``, reviewAPI(200, 200)},
	{"POST", "/api/v1/review/entries/:id/decision", "/api/v1/review/entries/{entry}/decision", `{"decision":"approve"}`, reviewAPI(200, 409)},
	{"POST", "/api/v1/review/entries/:id/claim", "/api/v1/review/entries/{entry}/claim", `{"decision":"accept"}`, reviewAPI(409, 409)},
	{"GET", "/api/v1/review/disputes", "/api/v1/review/disputes?event={frozen}", ``, reviewAPI(200, 200)},
	{"POST", "/api/v1/review/disputes/:id/answer", "/api/v1/review/disputes/{dispute}/answer", `{"outcome":"denied","answer":"Your line is as frozen."}`, reviewAPI(200, 409)},
	{"GET", "/api/v1/review/appeals", "/api/v1/review/appeals?event={event}", ``, reviewAPI(200, 200)},
	{"POST", "/api/v1/review/appeals/:id/decision", "/api/v1/review/appeals/{appeal}/decision", `{"decision":"reinstate"}`, reviewAPI(200, 409)},
	// Console pages.
	{"GET", "/admin", "/admin", ``, ownConsole(200)},
	{"GET", "/admin/events/new", "/admin/events/new", ``, ownConsole(200)},
	{"POST", "/admin/events/new", "/admin/events/new", `slug=&name=`, ownConsole(422)},
	{"GET", "/admin/events/:slug/edit", "/admin/events/{draft}/edit", ``, console(200)},
	{"POST", "/admin/events/:slug/edit", "/admin/events/{draft}/edit", `description=Renamed`, console(303)},
	{"GET", "/admin/events/:slug/preview", "/admin/events/{draft}/preview", ``, console(200)},
	{"GET", "/admin/events/:slug/entries", "/admin/events/{event}/entries", ``, console(200)},
	{"GET", "/admin/events/:slug/exports", "/admin/events/{event}/exports", ``, console(200)},
	{"GET", "/admin/events/:slug/exports/:file", "/admin/events/{event}/exports/entries.csv", ``, console(200)},
	{"POST", "/admin/events/:slug/exports/bibs", "/admin/events/{event}/exports/bibs", `bibs.{subqueue}.first=1&bibs.{subqueue}.last=90000`, console(303)},
	{"POST", "/admin/events/:slug/exports/bibs/assign", "/admin/events/{event}/exports/bibs/assign", ``, console(303)},
	{"GET", "/admin/events/:slug", "/admin/events/{event}", ``, console(200)},
	{"GET", "/admin/events/:slug/confirm/:action", "/admin/events/{draft}/confirm/unpublish", ``, console(200)},
	{"POST", "/admin/events/:slug/actions/:action", "/admin/events/{draft}/actions/unpublish", ``, console(303)},
	{"POST", "/admin/events/:slug/subqueues/:key/:control", "/admin/events/{event}/subqueues/{subqueue}/capacity", `capacity={capacity}`, console(303)},
	{"GET", "/admin/events/:slug/audit", "/admin/events/{event}/audit", ``, console(200)},
	{"GET", "/admin/events/:slug/cards", "/admin/events/{event}/cards", ``, console(200)},
	{"POST", "/admin/events/:slug/cards", "/admin/events/{draft}/cards", `enabled=on&entries_per_card=3`, console(303)},
	{"GET", "/admin/events/:slug/dashboard", "/admin/events/{event}/dashboard", ``, console(200)},
	{"GET", "/admin/events/:slug/after", "/admin/events/{event}/after", ``, console(200)},
	{"POST", "/admin/events/:slug/after/transfers", "/admin/events/{event}/after/transfers", `transfer_deadline=&transfer_max=10&transfer_fee=0`, console(303)},
	{"POST", "/admin/events/:slug/after/deferral", "/admin/events/{event}/after/deferral", `deferral_deadline=2030-01-01T09:00&deferral_fee=0&deferral_cap=0`, console(303)},
	{"GET", "/admin/team", "/admin/team", ``, ownConsole(200)},
	{"POST", "/admin/team/invites", "/admin/team/invites", `email=matrix-invitee@example.com&role=reviewer`, ownConsole(303)},
	{"POST", "/admin/team/invites/:id/revoke", "/admin/team/invites/{invite}/revoke", ``, console(303)},
	// The queue monitor: the operating organization's staff only (it shows every organization's tasks).
	{"ANY", "/admin/queues", "/admin/queues", ``, operators(302, 200)},
	{"ANY", "/admin/queues/*rest", "/admin/queues/api/queues", ``, operators(401, 200)},
	// The reviewers' console.
	{"GET", "/review", "/review?event={event}", ``, reviewPage(200, 200)},
	{"GET", "/review/entries/:id", "/review/entries/{entry2}", ``, reviewPage(200, 200)},
	{"POST", "/review/entries/:id/decision", "/review/entries/{entry2}/decision", `decision=approve&event={event}`, reviewPage(303, 303)},
	{"POST", "/review/entries/:id/claim", "/review/entries/{entry2}/claim", `decision=accept`, reviewPage(303, 303)},
	{"GET", "/review/disputes", "/review/disputes?event={frozen}", ``, reviewPage(200, 200)},
	{"POST", "/review/disputes/:id/answer", "/review/disputes/{dispute2}/answer", `outcome=denied&answer=Your+line+is+as+frozen.&event={frozen}`, reviewPage(303, 303)},
	{"GET", "/review/appeals", "/review/appeals?event={event}", ``, reviewPage(200, 200)},
	{"POST", "/review/appeals/:id/decision", "/review/appeals/{appeal2}/decision", `decision=reinstate&event={event}`, reviewPage(303, 303)},
	// Race-day check-in (issue 15): staff of the event's organization; the
	// reviewer picks up first, the organizer then finds it picked up.
	{"POST", "/api/v1/checkin", "/api/v1/checkin", `{"code":"{checkin}"}`, reviewAPI(200, 409)},
	{"GET", "/checkin", "/checkin", ``, want{status: [5]int{303, 303, 200, 200, 200}}},
	{"POST", "/checkin", "/checkin", `code={checkin2}`, reviewPage(200, 409)},
	// /staff pages.
	{"GET", "/staff/login", "/staff/login", ``, public(200)},
	{"POST", "/staff/login", "/staff/login", `email=nobody@example.com&password=wrong-password&otp=000000`, public(401)},
	{"POST", "/staff/logout", "/staff/logout", ``, public(303)},
	{"GET", "/staff/series/:slug/history", "/staff/series/{series}/history", ``, staffPage(200)},
	{"POST", "/staff/series/:slug/history", "/staff/series/{series}/history", ``, staffPage(422)},
	{"GET", "/staff/invite/:token", "/staff/invite/{token}", ``, public(200)},
	{"POST", "/staff/invite/:token", "/staff/invite/{token}", `password=twelve+chars+ok&password2=not+the+same+one`, public(422)},
}

// matrixRedisDB is the Redis database the matrix's app uses (the journey
// test has 13).
const matrixRedisDB = 12

// matrixPrefixes are the route families the matrix must cover.
var matrixPrefixes = []string{"/api/v1/admin", "/api/v1/review", "/admin", "/review", "/staff", "/api/v1/checkin", "/checkin"}

// creds is a caller's credentials: a bearer token for the API, a
// session cookie and its csrf token for pages.
type creds struct {
	bearer, cookie, csrf string
}

func TestAuthorizationMatrix(t *testing.T) {
	// Its own Redis database: the staff-login budgets of 127.0.0.1 start empty.
	redisURL := fmt.Sprintf("redis://127.0.0.1:6379/%d", matrixRedisDB)
	t.Setenv("REDIS_URL", redisURL)
	clearRedisPrefix(t, redisURL, "startline:*")
	t.Cleanup(func() { clearRedisPrefix(t, redisURL, "startline:*") })
	store, _ := seedDemo(t)
	t.Setenv("STARTLINE_PUBLIC_URL", "https://run.example")
	a, srv := serveApp(t)
	ctx := context.Background()
	db := store.DB()

	// The callers.
	ids := [5]creds{}
	mk := func(who caller, org, email string, role lottery.Role) {
		t.Helper()
		enr, err := a.staff.AddTo(ctx, org, email, role, "matrix password 12+")
		if err != nil {
			t.Fatal(err)
		}
		key, _ := otp.NewKeyFromURL(enr.TOTPURL)
		code, _ := totp.GenerateCode(key.Secret(), time.Now())
		sess, err := a.staff.Login(ctx, email, "matrix password 12+", code, lottery.ClientInfo{IP: "127.0.0.1", UserAgent: "matrix"})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.staff.IssueToken(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		ids[who] = creds{bearer: tok, cookie: httpkit.StaffCookie + "=" + sess.Token,
			csrf: httpkit.CSRFToken(a.guard.CookieKey, sess.Token)}
	}
	mk(organizer, lottery.DefaultOrg, "boss@a.example", lottery.RoleOrganizer)
	mk(reviewer, lottery.DefaultOrg, "rev@a.example", lottery.RoleReviewer)
	mk(otherOrg, "rival-club", "boss@b.example", lottery.RoleOrganizer)
	boss, err := store.StaffByEmail(ctx, "boss@a.example")
	if err != nil {
		t.Fatal(err)
	}

	// The fixture, all of the default organization (the demo's): an open
	// event with entries in review and rejected ones that appealed, a
	// frozen one with disputes, a draft, a series, an invitation.
	fill := map[string]string{"{event}": "demo-marathon", "{frozen}": "demo-half-frozen", "{series}": "demo-race", "{draft}": "matrix-draft"}
	pick := func(slug string, n int) []string {
		var out []string
		if err := db.Raw(`SELECT e.id::text FROM entries e JOIN events ev ON ev.id = e.event_id WHERE ev.slug = ? ORDER BY e.id LIMIT ?`,
			slug, n).Scan(&out).Error; err != nil || len(out) < n {
			t.Fatalf("entries of %s: %v %v", slug, out, err)
		}
		return out
	}
	open := pick("demo-marathon", 5)
	fill["{entry}"], fill["{entry2}"] = open[0], open[1]
	db.Exec(`UPDATE entries SET status = 'in_review' WHERE id IN (?, ?)`, open[0], open[1])
	db.Exec(`UPDATE entries SET status = 'rejected' WHERE id IN (?, ?)`, open[2], open[3])
	for i, key := range []string{"{appeal}", "{appeal2}"} {
		var id int64
		db.Raw(`INSERT INTO appeals (event_id, entry_id, message, created_at) SELECT event_id, id, 'I am a person.', now()
			FROM entries WHERE id = ? RETURNING id`, open[2+i]).Scan(&id)
		fill[key] = fmt.Sprint(id)
	}
	frozen := pick("demo-half-frozen", 2)
	for i, key := range []string{"{dispute}", "{dispute2}"} {
		var id int64
		db.Raw(`INSERT INTO disputes (event_id, entry_id, message, created_at) SELECT event_id, id, 'My line is wrong.', now()
			FROM entries WHERE id = ? RETURNING id`, frozen[i]).Scan(&id)
		fill[key] = fmt.Sprint(id)
	}
	var sub struct {
		Key      string
		Capacity int
	}
	db.Raw(`SELECT sq.key, sq.capacity FROM subqueues sq JOIN events ev ON ev.id = sq.event_id WHERE ev.slug = 'demo-marathon'
		ORDER BY sq.id LIMIT 1`).Scan(&sub)
	fill["{subqueue}"], fill["{capacity}"] = sub.Key, fmt.Sprint(sub.Capacity+1)
	// Two confirmed entries to check in, in the sub-queue the bibs rows give a range.
	var confirmed []string
	db.Raw(`SELECT e.id::text FROM entries e JOIN events ev ON ev.id = e.event_id JOIN subqueues q ON q.id = e.subqueue_id
		WHERE ev.slug = 'demo-marathon' AND q.key = ? AND e.id::text NOT IN ? ORDER BY e.id LIMIT 2`, sub.Key, open).Scan(&confirmed)
	if len(confirmed) < 2 {
		t.Fatalf("entries to check in: %v", confirmed)
	}
	for i, id := range confirmed {
		db.Exec(`UPDATE entries SET status = 'confirmed' WHERE id = ?`, id)
		code, err := a.checkin.Signer().Code(id)
		if err != nil {
			t.Fatal(err)
		}
		fill[[]string{"{checkin}", "{checkin2}"}[i]] = code
	}
	var orderedKey string
	db.Raw(`SELECT sq.key FROM subqueues sq JOIN events ev ON ev.id = sq.event_id WHERE ev.slug = 'demo-marathon' AND sq.mode = 'ordered'
		ORDER BY sq.id LIMIT 1`).Scan(&orderedKey)
	fill["{ordered}"] = orderedKey
	now := time.Now()
	if _, err := a.svc.CreateEvent(ctx, boss, lottery.EventSpec{Slug: "matrix-draft", Name: "Matrix Draft", TimeZone: "Asia/Seoul",
		OpensAt: now.Add(24 * time.Hour), ClosesAt: now.Add(48 * time.Hour), MaxGroupSize: 2,
		Courses: []lottery.CourseSpec{{Code: "10k", Name: "10K", DistanceKM: 10, PaceGroups: []lottery.PaceGroupSpec{
			{Code: "open", Label: "Open", Capacity: 10}}}}}); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"matrix-pending@example.com", "matrix-revoked@example.com"} {
		if _, err := a.staff.Invite(ctx, boss, staff.InviteRequest{Email: addr, Role: lottery.RoleReviewer,
			Origin: "https://run.example"}); err != nil {
			t.Fatal(err)
		}
	}
	var inviteID int64
	db.Raw(`SELECT id FROM staff_invites WHERE email = 'matrix-revoked@example.com'`).Scan(&inviteID)
	fill["{invite}"] = fmt.Sprint(inviteID)
	msgs, _ := store.OutboxFor(ctx, "matrix-pending@example.com", 1)
	_, tok, _ := strings.Cut(msgs[0].Body, staff.InvitePath)
	fill["{token}"] = strings.Fields(tok)[0]
	receipt, _ := url.Parse(a.mails.StatusLink(open[4], ""))
	ids[asRunner] = creds{bearer: receipt.Query().Get("token"), cookie: httpkit.StaffCookie + "=" + receipt.Query().Get("token")}

	expand := func(s string) string {
		for k, v := range fill {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}

	// Every route of the families has a row, and every row a route.
	r, err := a.router()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, row := range matrix {
		rows[row.method+" "+row.route] = true
	}
	registered := map[string]bool{}
	var missing []string
	for _, rt := range r.Routes() {
		if !underMatrix(rt.Path) {
			continue
		}
		key := rt.Method + " " + rt.Path
		if rows["ANY "+rt.Path] {
			key = "ANY " + rt.Path
		}
		registered[key] = true
		if !rows[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, m := range slicesCompact(missing) {
		t.Errorf("route %s has no row in the authorization matrix (cmd/startline/authz_matrix_test.go): add one", m)
	}
	for k := range rows {
		if !registered[k] {
			t.Errorf("matrix row %s names no registered route", k)
		}
	}

	// Signing out ends the callers' sessions: that row runs last.
	ordered := make([]matrixRow, 0, len(matrix))
	var last []matrixRow
	for _, row := range matrix {
		if row.route == "/staff/logout" {
			last = append(last, row)
			continue
		}
		ordered = append(ordered, row)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// call makes one row's request as who and checks the answer (and, when
	// it is a refusal, that nothing changed).
	call := func(row matrixRow, who caller) {
		t.Helper()
		name := fmt.Sprintf("%s %s as %s", row.method, row.path, callerNames[who])
		method := row.method
		if method == "ANY" {
			method = http.MethodGet
		}
		path, body := expand(row.path), expand(row.body)
		api := strings.HasPrefix(path, "/api/")
		id := ids[who]
		ctype := ""
		switch {
		case api && strings.HasSuffix(row.route, "/history"):
			ctype = "text/csv"
		case api && body != "":
			ctype = "application/json"
		case !api && method == http.MethodPost:
			ctype = "application/x-www-form-urlencoded"
			if id.csrf != "" {
				body = strings.TrimPrefix(body+"&csrf="+url.QueryEscape(id.csrf), "&")
			}
		}
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
		switch {
		case api && id.bearer != "":
			req.Header.Set("Authorization", "Bearer "+id.bearer)
		case !api && id.cookie != "":
			req.Header.Set("Cookie", id.cookie)
		}
		st := row.want.status[who]
		refused := who <= asRunner || st == 401 || st == 403 || st == 404 || st == 302
		before := fingerprint(t, db)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != st {
			t.Errorf("%s: %d, want %d: %.200s", name, res.StatusCode, st, strings.Join(strings.Fields(string(got)), " "))
		}
		if refused && !row.want.public {
			if after := fingerprint(t, db); after != before {
				t.Errorf("%s was refused but changed the data:\nbefore %s\nafter  %s", name, before, after)
			}
		}
	}
	for _, row := range append(ordered, last...) {
		for who := anonymous; who <= organizer; who++ {
			call(row, who)
		}
	}

	// Through its own organization's series, another organizer still
	// cannot reach this organization's event.
	call(matrixRow{"POST", "/api/v1/admin/series", "/api/v1/admin/series", `{"slug":"rival-race","name":"Rival Race"}`,
		ownAPI(201)}, otherOrg)
	call(matrixRow{"POST", "/api/v1/admin/series/:slug/events", "/api/v1/admin/series/rival-race/events",
		`{"event":"{event}","edition_year":2027}`, want{status: [5]int{2: 404}}}, otherOrg)

	if t.Failed() && os.Getenv("MATRIX_VERBOSE") != "" {
		t.Log("fixture:", fill)
	}
}

// underMatrix reports whether a route pattern belongs to the families the
// matrix covers.
func underMatrix(path string) bool {
	for _, p := range matrixPrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// fingerprint is what a refused call must not change: the audit and event
// logs' lengths and a digest of the rows staff act on.
func fingerprint(t *testing.T, db *gorm.DB) string {
	t.Helper()
	var out string
	if err := db.Raw(`SELECT concat_ws(' ',
		(SELECT count(*) FROM audit_log), (SELECT count(*) FROM event_log),
		(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM events x),
		(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM subqueues x),
		(SELECT md5(coalesce(string_agg(x.id::text || x.status || coalesce(x.claim_status, '') || x.tickets, ',' ORDER BY x.id), '')) FROM entries x),
		(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM disputes x),
		(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM appeals x),
		(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM series x),
		(SELECT count(*) FROM series_history),
		(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x.id), '')) FROM staff_invites x),
		(SELECT count(*) FROM staff), (SELECT count(*) FROM outbox))`).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}
