// Package ipintel tells where an IP address is registered and what kind of
// network it belongs to: an access network (homes, phones, offices), a
// hosting network (clouds, VPN exits, proxy farms) or a privacy relay
// (iCloud Private Relay, Cloudflare WARP). Bot farms rotate through proxies
// abroad and in data centres while their forged browser signals still claim
// a runner's phone at home; this is the request side those signals are
// checked against.
//
// The data is DB-IP's IP to Country Lite table and the ip-location-db
// project's IP-to-ASN table (RouteViews and DB-IP; both CC BY 4.0, see
// data/README.md), the latter reduced to hosting and relay networks. It is
// embedded at build time and replaceable at start from a directory of
// fresher files, without a release. Registry (whois) countries were tried
// first and put a Korean carrier's whole IPv6 block in Australia; DB-IP
// geolocates.
package ipintel

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Kind is the kind of network an address belongs to.
type Kind string

// Network kinds. Access is everything not known to be hosting or a relay.
const (
	Access  Kind = ""
	Hosting Kind = "hosting"
	Relay   Kind = "relay"
)

// Network is what the tables say about one address. The zero value means
// nothing is known.
type Network struct {
	Country string // ISO 3166-1 alpha-2 where the address is, "" when unknown
	Kind    Kind
	ASN     uint32 // set for hosting and relay networks only
	Org     string // the AS's name, for hosting and relay networks only
}

// String is a short description for reviewers, e.g. "KR" or
// "RO, hosting: AS9009 M247 Europe SRL". It holds no part of the address.
func (n Network) String() string {
	c := cmp.Or(n.Country, "unknown country")
	if n.Kind == Access {
		return c
	}
	return fmt.Sprintf("%s, %s: AS%d %s", c, n.Kind, n.ASN, n.Org)
}

// addr128 is an address as a 128-bit number (IPv4 mapped into IPv6), so one
// sorted table answers both families.
type addr128 struct{ hi, lo uint64 }

func toAddr128(a netip.Addr) addr128 {
	b := a.As16()
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return addr128{hi, lo}
}

func (a addr128) cmp(b addr128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

type countryRange struct {
	lo, hi  addr128
	country uint16 // index into DB.codes, so a lookup allocates nothing
}

type netRange struct {
	lo, hi addr128
	org    int32 // index into DB.orgs
}

type org struct {
	asn  uint32
	name string
	kind Kind
}

// DB answers lookups. It is read-only once loaded and safe for concurrent use.
type DB struct {
	codes     []string
	countries []countryRange
	nets      []netRange
	orgs      []org
}

// Lookup returns what is known about addr. An invalid address, or one the
// tables do not cover (private, reserved), gives the zero Network.
func (db *DB) Lookup(addr netip.Addr) Network {
	if db == nil || !addr.IsValid() {
		return Network{}
	}
	a := toAddr128(addr.Unmap())
	var n Network
	if i, ok := find(db.countries, a, func(r countryRange) (addr128, addr128) { return r.lo, r.hi }); ok {
		n.Country = db.codes[db.countries[i].country]
	}
	if i, ok := find(db.nets, a, func(r netRange) (addr128, addr128) { return r.lo, r.hi }); ok {
		o := db.orgs[db.nets[i].org]
		n.Kind, n.ASN, n.Org = o.kind, o.asn, o.name
	}
	return n
}

// LookupString is Lookup for an address in text form ("" or garbage gives
// the zero Network).
func (db *DB) LookupString(s string) Network {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Network{}
	}
	return db.Lookup(a)
}

// Len reports how many country and network ranges are loaded, for logging.
func (db *DB) Len() (countries, networks int) {
	if db == nil {
		return 0, 0
	}
	return len(db.countries), len(db.nets)
}

// find is a binary search over sorted, non-overlapping ranges.
func find[R any](rs []R, a addr128, bounds func(R) (addr128, addr128)) (int, bool) {
	i, _ := slices.BinarySearchFunc(rs, a, func(r R, a addr128) int {
		lo, hi := bounds(r)
		switch {
		case hi.cmp(a) < 0:
			return -1
		case lo.cmp(a) > 0:
			return 1
		}
		return 0
	})
	if i < len(rs) {
		lo, hi := bounds(rs[i])
		return i, lo.cmp(a) <= 0 && a.cmp(hi) <= 0
	}
	return i, false
}

// Files are the four tables, in the ip-location-db projects' CSV layouts:
// country rows "first,last,CC" and ASN rows "first,last,asn,name" (the name
// may be quoted). ASN rows that are neither hosting nor relay networks are
// dropped while loading.
type Files struct {
	Country4, Country6, ASN4, ASN6 io.Reader
}

// Load reads the tables. A malformed row is an error naming the table and
// line, so a bad update fails at start rather than silently answering
// nothing.
func Load(f Files) (*DB, error) {
	// Capacity for today's tables (about 700,000 country ranges): growing
	// the slice by copying was most of the start-up time.
	db := &DB{countries: make([]countryRange, 0, 1<<20), nets: make([]netRange, 0, 1<<16)}
	codeIndex := map[string]uint16{}
	for _, t := range []struct {
		name string
		r    io.Reader
	}{{"country ipv4", f.Country4}, {"country ipv6", f.Country6}} {
		if err := eachRow(t.r, 3, func(lo, hi addr128, rest []string) error {
			if len(rest[0]) != 2 {
				return fmt.Errorf("country %q is not two letters", rest[0])
			}
			c, ok := codeIndex[rest[0]]
			if !ok {
				c = uint16(len(db.codes))
				codeIndex[rest[0]] = c
				db.codes = append(db.codes, rest[0])
			}
			db.countries = append(db.countries, countryRange{lo, hi, c})
			return nil
		}); err != nil {
			return nil, fmt.Errorf("load %s: %w", t.name, err)
		}
	}
	orgIndex := map[uint32]int32{}
	for _, t := range []struct {
		name string
		r    io.Reader
	}{{"asn ipv4", f.ASN4}, {"asn ipv6", f.ASN6}} {
		if err := eachRow(t.r, 4, func(lo, hi addr128, rest []string) error {
			asn, err := strconv.ParseUint(rest[0], 10, 32)
			if err != nil {
				return fmt.Errorf("asn %q: %w", rest[0], err)
			}
			i, seen := orgIndex[uint32(asn)] // classify each AS once, not each of its ranges
			if !seen {
				name := unquote(rest[1])
				i = -1
				if kind := Classify(uint32(asn), name); kind != Access {
					i = int32(len(db.orgs))
					db.orgs = append(db.orgs, org{asn: uint32(asn), name: name, kind: kind})
				}
				orgIndex[uint32(asn)] = i
			}
			if i >= 0 {
				db.nets = append(db.nets, netRange{lo, hi, i})
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("load %s: %w", t.name, err)
		}
	}
	// The upstream files are sorted, IPv4 (mapped, so lower) before IPv6.
	if !slices.IsSortedFunc(db.countries, func(a, b countryRange) int { return a.lo.cmp(b.lo) }) {
		slices.SortFunc(db.countries, func(a, b countryRange) int { return a.lo.cmp(b.lo) })
	}
	if !slices.IsSortedFunc(db.nets, func(a, b netRange) int { return a.lo.cmp(b.lo) }) {
		slices.SortFunc(db.nets, func(a, b netRange) int { return a.lo.cmp(b.lo) })
	}
	db.countries, db.nets = slices.Clip(db.countries), slices.Clip(db.nets)
	return db, nil
}

// eachRow parses "first,last,..." CSV rows (fields = columns in all; the last
// column keeps any further commas, as quoted AS names have them). It runs
// over a million rows at start, so it splits by hand and parses IPv4 without
// allocating.
func eachRow(r io.Reader, fields int, row func(lo, hi addr128, rest []string) error) error {
	if r == nil {
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	rest := make([]string, fields-2)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var cols [2][]byte
		for i := range cols {
			c := bytes.IndexByte(line, ',')
			if c < 0 {
				return fmt.Errorf("line %d: want %d columns", n, fields)
			}
			cols[i], line = line[:c], line[c+1:]
		}
		for i := range rest {
			c := len(line) // the last column takes the rest of the line
			if i < len(rest)-1 {
				if c = bytes.IndexByte(line, ','); c < 0 {
					return fmt.Errorf("line %d: want %d columns", n, fields)
				}
			}
			rest[i] = string(line[:c])
			line = line[min(c+1, len(line)):]
		}
		lo, ok1 := parseAddr(cols[0])
		hi, ok2 := parseAddr(cols[1])
		if !ok1 || !ok2 || lo.hi != hi.hi && (lo.hi == v4hi || hi.hi == v4hi) || hi.cmp(lo) < 0 {
			return fmt.Errorf("line %d: bad range %q-%q", n, cols[0], cols[1])
		}
		if err := row(lo, hi, rest); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return sc.Err()
}

// v4hi is the high half of every IPv4-mapped address (::ffff:0:0/96).
const v4hi = 0

// parseAddr parses an address, dotted quads by hand.
func parseAddr(b []byte) (addr128, bool) {
	if bytes.IndexByte(b, ':') >= 0 {
		a, err := netip.ParseAddr(string(b))
		if err != nil || !a.Is6() || a.Is4In6() {
			return addr128{}, false
		}
		return toAddr128(a), true
	}
	var v uint64
	for part := 0; part < 4; part++ {
		var x, digits int
		for len(b) > 0 && b[0] >= '0' && b[0] <= '9' && digits < 3 {
			x, b, digits = x*10+int(b[0]-'0'), b[1:], digits+1
		}
		if digits == 0 || x > 255 || (part < 3 && (len(b) == 0 || b[0] != '.')) {
			return addr128{}, false
		}
		if part < 3 {
			b = b[1:]
		}
		v = v<<8 | uint64(x)
	}
	if len(b) != 0 {
		return addr128{}, false
	}
	return addr128{v4hi, 0xffff<<32 | v}, true
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// Upstream file names, as the ip-location-db npm packages ship them.
const (
	Country4File = "dbip-country-ipv4.csv"
	Country6File = "dbip-country-ipv6.csv"
	ASN4File     = "asn-ipv4.csv"
	ASN6File     = "asn-ipv6.csv"
)

// Open loads the four upstream files (each may also be gzipped, with ".gz")
// from dir: `npm pack @ip-location-db/dbip-country @ip-location-db/asn` and
// unpack both into one directory.
func Open(dir string) (*DB, error) {
	return openFS(os.DirFS(dir), [4]string{Country4File, Country6File, ASN4File, ASN6File})
}

//go:embed data/*.csv.gz
var embedded embed.FS

var embeddedNames = [4]string{"data/country-ipv4.csv", "data/country-ipv6.csv", "data/hosting-ipv4.csv", "data/hosting-ipv6.csv"}

var defaultDB = sync.OnceValues(func() (*DB, error) { return openFS(embedded, embeddedNames) })

// Default returns the tables embedded at build time, parsed once on first
// use and shared.
func Default() *DB {
	db, err := defaultDB()
	if err != nil {
		panic("ipintel: embedded tables: " + err.Error()) // covered by tests
	}
	return db
}

func openFS(fsys fs.FS, names [4]string) (*DB, error) {
	var rs [4]io.Reader
	for i, name := range names {
		f, err := openMaybeGz(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("ipintel: %w", err)
		}
		defer f.Close()
		rs[i] = f
	}
	db, err := Load(Files{Country4: rs[0], Country6: rs[1], ASN4: rs[2], ASN6: rs[3]})
	if err != nil {
		return nil, fmt.Errorf("ipintel: %w", err)
	}
	return db, nil
}

type gzFile struct {
	*gzip.Reader
	f fs.File
}

func (g gzFile) Close() error { return errors.Join(g.Reader.Close(), g.f.Close()) }

// openMaybeGz opens name, or name.gz decompressed.
func openMaybeGz(fsys fs.FS, name string) (io.ReadCloser, error) {
	f, err := fsys.Open(filepath.ToSlash(name))
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	f, err = fsys.Open(filepath.ToSlash(name) + ".gz")
	if err != nil {
		return nil, err
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s.gz: %w", name, err)
	}
	return gzFile{z, f}, nil
}

// ZoneCountry is the country of an IANA time zone name ("Asia/Seoul" is
// "KR"); zones of no country (UTC, Etc/GMT+9) and unknown names give "".
func ZoneCountry(tz string) string { return zoneCountry[strings.TrimSpace(tz)] }
