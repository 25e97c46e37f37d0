package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestOfflineFarms runs -offline small: the legitimate populations
// (households sharing a card and an address, a campus on one domain with a
// dormitory, children on a parent's phone) stay out of review, the farms
// that vary every per-entry signal pass the per-entry checks and are caught
// by what they share, and the cautious farm is what is left.
func TestOfflineFarms(t *testing.T) {
	rep, err := runOffline(options{legit: 400, seed: 1, run: "test", attempts: 30, fingerprints: "realistic"})
	if err != nil {
		t.Fatal(err)
	}
	pops := map[string]OfflineRow{}
	for _, r := range append(rep.Legit, rep.Farms...) {
		pops[r.Name] = r
	}
	for _, name := range []string{"crowd", "households", "shared_phone", "campus"} {
		r := pops[name]
		if r.Entries == 0 || r.Flagged != 0 {
			t.Errorf("%s: %d of %d flagged", name, r.Flagged, r.Entries)
		}
	}
	if r := pops["households"]; r.Links["card"] == 0 || r.Links["address"] == 0 {
		t.Errorf("households share no card or address: %v", r.Links)
	}
	if r := pops["campus"]; r.Links["rare_domain"] != r.Entries {
		t.Errorf("campus not on one rare domain: %v", r.Links)
	}
	for _, name := range []string{"farm_varied_signals", "farm_varied_rush", "farm_shared_card"} {
		r := pops[name]
		if r.Entries != 30 || r.PerEntry != 0 || r.Farm != r.Entries {
			t.Errorf("%s: %+v; want every entry past the per-entry checks and caught by the farm rule", name, r)
		}
	}
	if r := pops["farm_cautious"]; r.Entries != 30 || r.Flagged != 0 {
		t.Errorf("farm_cautious: %+v (the report says what is left: it must pass)", r)
	}
	var b bytes.Buffer
	rep.writeText(&b)
	if out := b.String(); !strings.Contains(out, "FARMS (reported apart") || !strings.Contains(out, "farm_shared_card") {
		t.Errorf("report:\n%s", out)
	}
}
