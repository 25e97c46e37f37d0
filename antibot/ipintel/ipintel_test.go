package ipintel

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultLookup(t *testing.T) {
	db := Default()
	tests := []struct {
		addr    string
		country string
		kind    Kind
		asn     uint32
	}{
		{"1.224.0.1", "KR", Access, 0},           // SK Broadband, homes
		{"118.32.10.20", "KR", Access, 0},        // Korea Telecom
		{"::ffff:118.32.10.20", "KR", Access, 0}, // the same, IPv4-mapped
		{"2001:2d8::1", "KR", Access, 0},         // a Korean mobile carrier's IPv6
		{"52.78.10.10", "KR", Hosting, 16509},    // AWS Seoul
		{"146.70.9.1", "", Hosting, 9009},        // M247, VPN exits (country varies by block)
		{"1.0.0.1", "AU", Relay, 13335},          // Cloudflare
		{"10.1.2.3", "", Access, 0},              // private: nothing known
		{"127.0.0.1", "", Access, 0},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			n := db.Lookup(netip.MustParseAddr(tt.addr))
			if tt.country != "" && n.Country != tt.country {
				t.Errorf("country = %q, want %q (%v)", n.Country, tt.country, n)
			}
			if n.Kind != tt.kind || n.ASN != tt.asn {
				t.Errorf("network = %v (AS%d), want %q AS%d", n, n.ASN, tt.kind, tt.asn)
			}
		})
	}
	if c, nets := db.Len(); c < 100_000 || nets < 10_000 {
		t.Errorf("Len = %d, %d: the embedded tables look truncated", c, nets)
	}
	if n := db.LookupString("not an address"); n != (Network{}) {
		t.Errorf("LookupString(garbage) = %v", n)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		asn  uint32
		name string
		want Kind
	}{
		{9318, "SK Broadband Co Ltd", Access},
		{4766, "Korea Telecom", Access},
		{17858, "LG POWERCOMM", Access},
		{5617, "Orange Polska Spolka Akcyjna", Access},
		{10620, "Telmex Colombia S.A.", Access}, // "colo" is not colocation
		{16591, "Google Fiber Inc.", Access},
		{15169, "Google LLC", Hosting},
		{16509, "Amazon.com, Inc.", Hosting},
		{9009, "M247 Europe SRL", Hosting},
		{60068, "Datacamp Limited", Hosting},
		{152232, "kt cloud Co., Ltd", Hosting},
		{24940, "Hetzner Online GmbH", Hosting},
		{203020, "HostRoyale Technologies Pvt Ltd", Hosting},
		{4134, "CHINANET SiChuan Telecom Internet Data Center", Hosting},
		{13335, "Cloudflare, Inc.", Relay},
		{36183, "Akamai Technologies, Inc.", Relay},
		{1, "", Access},
	}
	for _, tt := range tests {
		if got := Classify(tt.asn, tt.name); got != tt.want {
			t.Errorf("Classify(%d, %q) = %q, want %q", tt.asn, tt.name, got, tt.want)
		}
	}
}

func TestZoneCountry(t *testing.T) {
	for tz, want := range map[string]string{"Asia/Seoul": "KR", "ROK": "KR", "Asia/Calcutta": "IN", "Asia/Tokyo": "JP",
		"America/New_York": "US", "Europe/Amsterdam": "NL", "UTC": "", "Etc/GMT+9": "", "Mars/Olympus": "", "": ""} {
		if got := ZoneCountry(tz); got != want {
			t.Errorf("ZoneCountry(%q) = %q, want %q", tz, got, want)
		}
	}
}

// Open reads the upstream layout, plain or gzipped, so operators can drop
// fresher npm files into a directory.
func TestOpenUpstreamFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		Country4File: "1.0.0.0,1.0.0.255,AU\n2.0.0.0,2.0.0.255,FR\n",
		Country6File: "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,KR\n",
		ASN4File:     "2.0.0.0,2.0.0.127,16276,OVH SAS\n2.0.0.128,2.0.0.255,3215,\"Orange, S.A.\"\n",
		ASN6File:     "2001:db8::,2001:db8::ffff,9009,\"M247 Europe SRL\"\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want Network
	}{
		{"2.0.0.5", Network{Country: "FR", Kind: Hosting, ASN: 16276, Org: "OVH SAS"}},
		{"2.0.0.200", Network{Country: "FR"}}, // Orange: an access network, not kept
		{"2001:db8::1", Network{Country: "KR", Kind: Hosting, ASN: 9009, Org: "M247 Europe SRL"}},
		{"2001:db8:1::1", Network{Country: "KR"}},
		{"1.0.0.255", Network{Country: "AU"}},
		{"1.0.1.0", Network{}},
		{"3.3.3.3", Network{}},
	}
	for _, tt := range tests {
		if got := db.LookupString(tt.addr); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.addr, got, tt.want)
		}
	}
	if s := db.LookupString("2.0.0.5").String(); s != "FR, hosting: AS16276 OVH SAS" {
		t.Errorf("String = %q", s)
	}
}

func TestLoadRejectsBadRows(t *testing.T) {
	tests := []struct {
		name  string
		files Files
		want  string
	}{
		{"country", Files{Country4: strings.NewReader("1.0.0.0,1.0.0.255,AUS\n")}, "country ipv4: line 1"},
		{"range", Files{Country4: strings.NewReader("1.0.0.9,1.0.0.1,AU\n")}, "bad range"},
		{"family", Files{Country6: strings.NewReader("1.0.0.0,::1,AU\n")}, "bad range"},
		{"columns", Files{ASN4: strings.NewReader("1.0.0.0,1.0.0.255\n")}, "want 4 columns"},
		{"asn without name", Files{ASN4: strings.NewReader("1.0.0.0,1.0.0.255,13335\n")}, "want 4 columns"},
		{"asn", Files{ASN6: strings.NewReader("::1,::2,AS12,x\n")}, "asn ipv6: line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	db := Default()
	addrs := []netip.Addr{netip.MustParseAddr("118.32.10.20"), netip.MustParseAddr("146.70.9.1"),
		netip.MustParseAddr("2001:2d8::1")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = db.Lookup(addrs[i%len(addrs)])
	}
}

func BenchmarkLoadEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := openFS(embedded, embeddedNames); err != nil {
			b.Fatal(err)
		}
	}
}
