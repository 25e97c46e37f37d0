package identity

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Email is a validated address and its dedupe key.
type Email struct {
	// Address is where to send mail: the trimmed input with its local part
	// as given and its domain lowercased and in ASCII (punycode) form.
	Address string
	// Key identifies the mailbox for dedupe: lowercase, provider aliases
	// folded (googlemail.com → gmail.com), Gmail dots and known plus-tags
	// removed. Two inputs with the same Key reach the same inbox.
	Key string
	// Domain is the domain of Key (lowercase ASCII, aliases folded); use it
	// for disposable checks and per-domain counters.
	Domain string
}

const (
	maxEmailLen = 254 // RFC 5321 path limit less the angle brackets
	maxLocalLen = 64  // RFC 5321 local-part limit
)

// emailIDNA maps a domain as a browser would (UTS #46 non-transitional,
// lowercase, full-width dots) and enforces DNS label and length rules.
var emailIDNA = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckHyphens(true),
	idna.CheckJoiners(true),
	idna.VerifyDNSLength(true),
)

// domainAliases folds domains that deliver to the same mailboxes.
var domainAliases = map[string]string{
	"googlemail.com": "gmail.com",
}

// plusProviders are mail providers where user+anything@ delivers to user@,
// so the tag is dropped from the key. Other domains keep "+" because it may
// be a real, distinct mailbox there.
//
// Yahoo is deliberately absent: its disposable addresses use
// "base-keyword@", but "-" also appears in ordinary Yahoo IDs, and merging two
// real runners blocks a legitimate entry, which costs more than the few extra
// addresses a paid Yahoo account can mint.
var plusProviders = map[string]bool{
	"gmail.com":      true,
	"outlook.com":    true,
	"hotmail.com":    true,
	"live.com":       true,
	"msn.com":        true,
	"icloud.com":     true,
	"me.com":         true,
	"mac.com":        true,
	"fastmail.com":   true,
	"fastmail.fm":    true,
	"proton.me":      true,
	"protonmail.com": true,
	"protonmail.ch":  true,
	"pm.me":          true,
}

// NormalizeEmail validates raw as a plain address (no display name, comments
// or quoted local part; ASCII local part; IDN domains allowed) and returns it
// with its dedupe key. Errors wrap ErrInvalidEmail.
func NormalizeEmail(raw string) (Email, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return Email{}, emailErr("empty")
	case len(s) > 4*maxEmailLen: // cheap bound before any parsing
		return Email{}, emailErr("too long")
	case !utf8.ValidString(s):
		return Email{}, emailErr("not valid UTF-8")
	case strings.Count(s, "@") != 1:
		return Email{}, emailErr("must contain exactly one @")
	}
	local, domain, _ := strings.Cut(s, "@")
	switch {
	case local == "":
		return Email{}, emailErr("empty local part")
	case len(local) > maxLocalLen:
		return Email{}, emailErr("local part longer than 64 characters")
	case !isPrintableASCII(local):
		// Non-ASCII local parts are rare, unevenly delivered and a source of
		// look-alike variants; nobody needs one to enter a race.
		return Email{}, emailErr("local part must be ASCII without spaces")
	case domain == "":
		return Email{}, emailErr("empty domain")
	}

	domain, err := emailIDNA.ToASCII(domain)
	if err != nil {
		return Email{}, emailErr("invalid domain")
	}
	if err := checkMailDomain(domain); err != nil {
		return Email{}, err
	}
	addr := local + "@" + domain
	if len(addr) > maxEmailLen {
		return Email{}, emailErr("longer than 254 characters")
	}
	// net/mail checks the dot-atom syntax of the local part. Anything it
	// rewrites (quotes, comments, angle brackets, names) is not a plain address.
	parsed, err := mail.ParseAddress(addr)
	if err != nil || parsed.Name != "" || parsed.Address != addr {
		return Email{}, emailErr("malformed address")
	}

	keyDomain := domain
	if alias, ok := domainAliases[keyDomain]; ok {
		keyDomain = alias
	}
	keyLocal := strings.ToLower(local)
	if plusProviders[keyDomain] {
		keyLocal, _, _ = strings.Cut(keyLocal, "+")
	}
	if keyDomain == "gmail.com" {
		// Gmail ignores dots in the username.
		keyLocal = strings.ReplaceAll(keyLocal, ".", "")
	}
	if keyLocal == "" {
		return Email{}, emailErr("empty mailbox name")
	}
	return Email{Address: addr, Key: keyLocal + "@" + keyDomain, Domain: keyDomain}, nil
}

// checkMailDomain rejects domains that are valid DNS names but cannot be a
// public mail domain: single labels (localhost), trailing dots and IP-looking
// names.
func checkMailDomain(domain string) error {
	if strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, ".") {
		return emailErr("invalid domain")
	}
	i := strings.LastIndexByte(domain, '.')
	if i < 0 {
		return emailErr("domain needs a top-level domain")
	}
	tld := domain[i+1:]
	if len(tld) < 2 || strings.Trim(tld, "0123456789") == "" {
		return emailErr("invalid top-level domain")
	}
	return nil
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func emailErr(reason string) error {
	return fmt.Errorf("%w: %s", ErrInvalidEmail, reason)
}
