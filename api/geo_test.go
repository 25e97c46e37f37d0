package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/startline/startline/antibot/ipintel"
)

// The request side of the device signals: a phone's time zone seen through
// a network in another country, a hosting network, and one fingerprint
// replayed through many such networks.
func TestGeographyScoresProxiesAndFlagsFarms(t *testing.T) {
	trustedProxiesOverride[t] = []string{"127.0.0.1/32", "::1/128"}
	t.Cleanup(func() { delete(trustedProxiesOverride, t) })
	e := newEnv(t, true)
	e.openEvent("spring")
	for ip, want := range map[string]string{"118.32.10.20": "KR", "2001:2d8::5": "KR", "146.70.9.1": "HK, hosting: AS9009 M247 Europe SRL",
		"5.184.0.10": "PL", "23.24.0.10": "US", "62.147.0.10": "FR"} {
		if got := e.svc.Network(ip).String(); got != want {
			t.Fatalf("precondition: %s is %q in the embedded tables, want %q", ip, got, want)
		}
	}
	type result struct{ id, status string }
	apply := func(email, ip, fingerprint string, profile ...string) result {
		t.Helper()
		b := e.applyBody(email, e.otp("spring", email))
		b["signals"].(map[string]any)["fingerprint"] = fingerprint
		if len(profile) == 2 {
			b["signals"].(map[string]any)["screen"], b["signals"].(map[string]any)["platform"] = profile[0], profile[1]
		}
		r := e.do("POST", "/api/v1/events/spring/entries", b, "X-Forwarded-For", ip)
		if r.Status != 201 {
			t.Fatalf("%s: %d %s", email, r.Status, r.Raw)
		}
		return result{r.str("entry_id"), r.str("status")}
	}
	reasons := func(id string) []string {
		var doc []byte
		if err := e.store.DB().Raw("SELECT risk_reasons FROM entries WHERE id = ?", id).Row().Scan(&doc); err != nil {
			t.Fatal(err)
		}
		var d struct {
			Reasons []struct{ Code, Detail string }
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, r := range d.Reasons {
			codes = append(codes, r.Code)
		}
		return codes
	}

	home := apply("home@example.com", "118.32.10.20", "common-iphone")
	mobile := apply("mobile@example.com", "2001:2d8::5", "common-iphone")
	vpn := apply("vpn@example.com", "146.70.9.1", "a-galaxy")
	traveller := apply("traveller@example.com", "5.184.0.10", "a-pixel")
	for _, tt := range []struct {
		name    string
		r       result
		status  string
		reasons []string
	}{
		{"at home", home, "received", nil},
		{"on mobile IPv6", mobile, "received", nil},
		{"a Seoul time zone through a VPN exit", vpn, "in_review", []string{"geo_mismatch", "hosting_network"}},
		{"a traveller", traveller, "received", []string{"geo_mismatch"}},
	} {
		if tt.r.status != tt.status || !slices.Equal(reasons(tt.r.id), tt.reasons) {
			t.Errorf("%s: %s %v, want %s %v", tt.name, tt.r.status, reasons(tt.r.id), tt.status, tt.reasons)
		}
	}

	d := e.do("GET", "/api/v1/review/entries/"+vpn.id, nil, "Authorization", "Bearer "+e.reviewer)
	if n, _ := d.Body["network"].(map[string]any); n["country"] != "HK" || n["kind"] != "hosting" || n["asn"] != 9009.0 {
		t.Errorf("review detail network: %s", d.Raw)
	}

	// A farm replays one phone's signals through residential proxies abroad:
	// each entry alone looks like a traveller.
	abroad := []string{"5.184.1.10", "23.24.0.10", "23.24.1.10", "62.147.0.10", "62.147.1.10", "2.58.100.10"}
	var farm []string
	for i, ip := range abroad {
		r := apply(fmt.Sprintf("farm%d@example.com", i), ip, "common-iphone")
		if r.status != "received" {
			t.Fatalf("farm entry %d: %s before clustering", i, r.status)
		}
		farm = append(farm, r.id)
	}
	// Runners at home on the same popular phone.
	var neighbours []string
	for i := range 6 {
		neighbours = append(neighbours, apply(fmt.Sprintf("runner%d@example.com", i), fmt.Sprintf("118.32.11.%d", 10+i), "common-iphone").id)
	}

	ev, err := e.store.EventBySlug(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.review.RecomputeClusters(context.Background(), ev)
	if err != nil || n != len(farm) {
		t.Fatalf("flagged %d, %v; want the %d farm entries", n, err, len(farm))
	}
	status := func(id string) (st string) {
		e.store.DB().Raw("SELECT status FROM entries WHERE id = ?", id).Row().Scan(&st)
		return
	}
	for _, id := range farm {
		if st := status(id); st != "in_review" || !slices.Contains(reasons(id), "linked_cluster") {
			t.Errorf("farm entry %s: %s %v", id, st, reasons(id))
		}
	}
	for _, id := range append(append(neighbours, home.id, mobile.id), traveller.id) {
		if st := status(id); st != "received" {
			t.Errorf("entry %s: %s; a runner on a popular phone, or one traveller, is not a farm", id, st)
		}
	}

	// A smarter farm sends a fresh random fingerprint each time; the browser
	// profile it copies (user agent, screen, platform) still groups it.
	iphone := []string{"1179x2556", "iPhone"}
	for i := range 6 {
		neighbours = append(neighbours, apply(fmt.Sprintf("iphone%d@example.com", i), fmt.Sprintf("118.32.12.%d", 10+i),
			fmt.Sprintf("own-%d", i), iphone...).id)
	}
	var farm2 []string
	for i := range 6 {
		ip := fmt.Sprintf("62.147.%d.10", 2+i)
		if n := e.svc.Network(ip); n.Country == "" || n.Country == "KR" || n.Kind != ipintel.Access {
			t.Fatalf("precondition: %s is %v, want a home network abroad", ip, n)
		}
		farm2 = append(farm2, apply(fmt.Sprintf("farm2-%d@example.com", i), ip, fmt.Sprintf("random-%d", i), iphone...).id)
	}
	if n, err := e.review.RecomputeClusters(context.Background(), ev); err != nil || n != len(farm2) {
		t.Fatalf("second sweep flagged %d, %v; want the %d entries of the random-fingerprint farm", n, err, len(farm2))
	}
	for _, id := range farm2 {
		if st := status(id); st != "in_review" {
			t.Errorf("random-fingerprint farm entry %s: %s", id, st)
		}
	}
	for _, id := range neighbours {
		if st := status(id); st != "received" {
			t.Errorf("runner %s on the same iPhone at home: %s", id, st)
		}
	}
}
