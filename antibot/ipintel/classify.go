package ipintel

import (
	"regexp"
	"strings"
)

// relayASNs carry Apple's iCloud Private Relay and Cloudflare's WARP: the
// person behind them is real and usually near, but the registry country says
// nothing about where, so no geography is inferred from them.
var relayASNs = map[uint32]bool{
	13335:  true, // Cloudflare
	209242: true, // Cloudflare London
	36183:  true, // Akamai, iCloud Private Relay egress
	54113:  true, // Fastly, iCloud Private Relay egress
}

// hostingWords match AS names of clouds, hosting companies, VPN and proxy
// exits. Word-ish boundaries keep "Colombia" out of "colocation" and
// "Google Fiber" out of "Google LLC".
var hostingWords = regexp.MustCompile(`(?i)hosting|\bhost|host\b|hostroyale|hostkey|\bcloud|cloud\b|clouds?\b|` +
	`servers?\b|\bservers?|data ?cent(er|re)s?|datacamp|\bvps|vps\b|dedicated|colocation|\bcolo\b|\bidc\b|` +
	`amazon|\baws\b|google llc|google cloud|microsoft|digitalocean|\bovh|hetzner|linode|vultr|choopa|constant company|` +
	`contabo|leaseweb|alibaba|tencent|oracle|ionos|scaleway|online s\.?a\.?s|\bm247\b|mission critical|xtom|psychz|` +
	`quadranet|colocrossing|frantech|buyvm|g-core|gcore|stark industries|\baeza\b|zenlayer|cdn77|packethub|tzulo|` +
	`sharktech|nforce|worldstream|\bi3d\b|limestone networks|serverius|heficed|netcup|racknerd|hostwinds|akamai connected|` +
	`fdcservers|servers\.com|interserver|rackspace`)

// Classify tells what kind of network an autonomous system is, from its
// number and name. It errs toward Access: a hosting score only adds risk, and
// a home network wrongly called hosting would cost a runner points.
func Classify(asn uint32, name string) Kind {
	if relayASNs[asn] {
		return Relay
	}
	n := strings.TrimSpace(name)
	if n == "" {
		return Access
	}
	if hostingWords.MatchString(n) {
		return Hosting
	}
	return Access
}
