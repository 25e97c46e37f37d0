package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// deviceCookie gets a browser's signed device cookie from the challenge route.
func (e *env) deviceCookie(slug string) string {
	e.t.Helper()
	ch := e.do("POST", "/api/v1/events/"+slug+"/challenge", nil)
	for _, c := range (&http.Response{Header: ch.Header}).Cookies() {
		if c.Name == "sl_device" {
			return "sl_device=" + c.Value
		}
	}
	e.t.Fatal("no device cookie")
	return ""
}

func TestClustersFlagSharedDevices(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	device := func() string { return e.deviceCookie("spring") }
	apply := func(email, cookie string) string {
		b := e.applyBody(email, e.otp("spring", email))
		// Every phone of one model reports the same fingerprint: it must not flag.
		b["signals"] = map[string]any{"webdriver": false, "fill_ms": 40000, "fingerprint": "a1b2c3d4"}
		r := e.do("POST", "/api/v1/events/spring/entries", b, "Cookie", cookie)
		if r.Status != 201 || r.str("status") != "received" {
			t.Fatalf("%s: %d %s", email, r.Status, r.Raw)
		}
		return r.str("entry_id")
	}
	var farm []string
	machine := device()
	for i := 0; i < 5; i++ { // one machine entering five people
		farm = append(farm, apply(fmt.Sprintf("farm%d@example.com", i), machine))
	}
	laptop := device()
	couple := []string{apply("ana@example.com", laptop), apply("ben@example.com", laptop)}
	solo := apply("solo@example.com", device())

	ev, err := e.store.EventBySlug(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.review.RecomputeClusters(context.Background(), ev)
	if err != nil || n != 5 {
		t.Fatalf("flagged %d, %v; want 5", n, err)
	}
	status := func(id string) (st, cluster string) {
		e.store.DB().Raw("SELECT status, coalesce(cluster_id::text, '') FROM entries WHERE id = ?", id).Row().Scan(&st, &cluster)
		return
	}
	_, farmCluster := status(farm[0])
	for _, id := range farm {
		if st, c := status(id); st != "in_review" || c != farmCluster || c == "" {
			t.Errorf("farm entry %s: %s %s", id, st, c)
		}
	}
	// Every test client shares one IP and user agent, so all entries are in
	// one displayed cluster; only the five-on-one-device group is flagged.
	for _, id := range append(couple, solo) {
		if st, c := status(id); st != "received" || c != farmCluster {
			t.Errorf("entry %s: %s %q (a pair on one device, or a shared router, is normal)", id, st, c)
		}
	}
	// Again: nothing new to flag, clusters unchanged.
	if n, err := e.review.RecomputeClusters(context.Background(), ev); err != nil || n != 0 {
		t.Errorf("second pass flagged %d, %v", n, err)
	}
	q := e.do("GET", "/api/v1/review/queue?event=spring&cluster="+farmCluster, nil, "Authorization", "Bearer "+e.reviewer)
	if items := q.Body["entries"].([]any); len(items) != 5 || items[0].(map[string]any)["cluster_id"] != farmCluster {
		t.Fatalf("queue by cluster: %s", q.Raw)
	}
	r := e.do("POST", "/api/v1/review/entries/"+farm[2]+"/decision", map[string]any{"decision": "reject_cluster",
		"note": "one device, five people"}, "Authorization", "Bearer "+e.reviewer)
	if r.Status != 200 || len(r.Body["changed"].([]any)) != 8 {
		t.Fatalf("reject cluster: %d %s", r.Status, r.Raw)
	}
	for _, id := range farm {
		if st, _ := status(id); st != "rejected" {
			t.Errorf("after reject_cluster %s is %s", id, st)
		}
	}
}

// Entries that arrive after the last sweep are still clustered before the
// eligible set is fixed: freeze runs a final pass.
func TestFreezeRunsAFinalClusterPass(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	e.applyN("spring", 3)
	machine := e.deviceCookie("spring")
	var farm []string
	for i := range 4 {
		email := fmt.Sprintf("late-farm%d@example.com", i)
		r := e.do("POST", "/api/v1/events/spring/entries", e.applyBody(email, e.otp("spring", email)), "Cookie", machine)
		if r.Status != 201 || r.str("status") != "received" {
			t.Fatalf("farm apply: %d %s", r.Status, r.Raw)
		}
		farm = append(farm, r.str("entry_id"))
	}
	e.clock.Set(testStart.Add(8 * 24 * time.Hour)) // the window ends before any sweep ran
	if r := e.action("spring", "freeze", nil); r.Status != http.StatusConflict || !strings.Contains(r.errField("message"), "await review") {
		t.Fatalf("freeze with a farm nobody swept: %d %s; want the final pass to flag it and the policy to block", r.Status, r.Raw)
	}
	for _, id := range farm {
		var st string
		e.store.DB().Raw("SELECT status FROM entries WHERE id = ?", id).Row().Scan(&st)
		if st != "in_review" {
			t.Errorf("farm entry %s: %s", id, st)
		}
	}
	e.store.DB().Exec("UPDATE events SET unreviewed_policy = 'exclude' WHERE slug = 'spring'")
	if r := e.action("spring", "freeze", nil); r.Status != 200 {
		t.Fatalf("freeze excluding the unreviewed: %d %s", r.Status, r.Raw)
	}
	d := e.do("GET", "/api/v1/events/spring/draws", nil)
	total := 0.0
	for _, x := range d.Body["draws"].([]any) {
		total += x.(map[string]any)["entries"].(float64)
	}
	if total != 3 {
		t.Errorf("%v entries frozen into the draws, want the 3 runners: %s", total, d.Raw)
	}
}

// One person entering twice with a typo in the name, a new mailbox, phone
// and network is linked for the reviewer by name + birth date similarity,
// and flagged by nothing on that alone.
func TestClustersLinkSimilarNames(t *testing.T) {
	trustedProxiesOverride[t] = []string{"127.0.0.1/32", "::1/128"}
	t.Cleanup(func() { delete(trustedProxiesOverride, t) })
	e := newEnv(t, true)
	e.openEvent("spring")
	apply := func(email, name, birth, ip string) string {
		t.Helper()
		b := e.applyBody(email, e.otp("spring", email))
		b["name"], b["birth_date"] = name, birth
		r := e.do("POST", "/api/v1/events/spring/entries", b, "X-Forwarded-For", ip)
		if r.Status != 201 || r.str("status") != "received" {
			t.Fatalf("%s: %d %s", email, r.Status, r.Raw)
		}
		return r.str("entry_id")
	}
	first := apply("minjun@example.com", "김민준", "1991-02-03", "118.32.10.20")
	typo := apply("mj.kim@example.net", "김민중", "1991-02-03", "1.224.5.6")
	other := apply("minji@example.com", "김민지", "1991-02-03", "14.32.1.2")
	twin := apply("minjun2@example.com", "김민준", "1991-02-04", "59.0.1.2")

	ev, err := e.store.EventBySlug(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.review.RecomputeClusters(context.Background(), ev); err != nil || n != 0 {
		t.Fatalf("flagged %d, %v; similar names alone flag nothing", n, err)
	}
	cluster := func(id string) (c string) {
		e.store.DB().Raw("SELECT coalesce(cluster_id::text, '') FROM entries WHERE id = ?", id).Row().Scan(&c)
		return
	}
	if c := cluster(first); c == "" || cluster(typo) != c {
		t.Errorf("typo not linked: %q %q", c, cluster(typo))
	}
	for name, id := range map[string]string{"a different name": other, "another birthday": twin} {
		if c := cluster(id); c != "" {
			t.Errorf("%s linked into cluster %s", name, c)
		}
	}
}
