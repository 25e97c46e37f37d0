package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

func TestClustersFlagSharedDevices(t *testing.T) {
	e := newEnv(t, true)
	e.openEvent("spring")
	device := func() string { // a browser's signed device cookie
		ch := e.do("POST", "/api/v1/events/spring/challenge", nil)
		for _, c := range (&http.Response{Header: ch.Header}).Cookies() {
			if c.Name == "sl_device" {
				return "sl_device=" + c.Value
			}
		}
		t.Fatal("no device cookie")
		return ""
	}
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
	n, err := e.svc.RecomputeClusters(context.Background(), ev)
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
	if n, err := e.svc.RecomputeClusters(context.Background(), ev); err != nil || n != 0 {
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
