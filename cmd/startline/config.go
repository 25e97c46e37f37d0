package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// config is read once from the environment (names in ../shared/API.md).
type config struct {
	DatabaseURL       string
	RedisURL          string
	RedisClusterAddrs []string
	HTTPAddr          string
	Env               string
	SecretKey         []byte
	TrustedProxies    []string
	SMTPURL           string
	SMTPFrom          string
	Queue             string
	PhoneRegion       string
	RateLimitFailOpen bool
	DisposableFile    string
	IPIntelDir        string
	StripeSecretKey   string
	StripeWebhookKey  string
	StripePublicKey   string
	PublicURL         string
	// Retention is how long after an event its entries' personal data is
	// kept (STARTLINE_RETENTION, a Go duration; default 2160h, 90 days).
	Retention time.Duration
	// MetricsAllow are the networks besides loopback that may read
	// GET /metrics (STARTLINE_METRICS_ALLOW, comma-separated CIDRs or IPs).
	MetricsAllow []*net.IPNet
	// MetricsAddr, when set, is a listener of its own serving GET /metrics
	// alone (STARTLINE_METRICS_ADDR, e.g. 127.0.0.1:9090): how the worker
	// process (`startline worker`), which has no web server, is scraped.
	MetricsAddr string
	// WorkerConcurrency is how many tasks a worker process runs at once
	// (STARTLINE_WORKER_CONCURRENCY; default 10): mail delivery waits on
	// the relay, so a results day wants more.
	WorkerConcurrency int
}

func (c config) dev() bool { return c.Env == "dev" }

// mailURL is where mails' links point: STARTLINE_PUBLIC_URL, or in dev the
// local server, http://127.0.0.1:8080 (the port of HTTP_ADDR), since a mail
// has no request whose host it could use.
func (c config) mailURL() string {
	if c.PublicURL != "" || !c.dev() {
		return c.PublicURL
	}
	port := "8080"
	if _, p, err := net.SplitHostPort(c.HTTPAddr); err == nil && p != "" {
		port = p
	}
	return "http://127.0.0.1:" + port
}

func getenv(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// loadConfig reads and validates the environment. In dev a missing secret
// key is generated once and kept in .startline/dev-secret-key so receipt
// tokens and sealed seeds survive restarts.
func loadConfig(out io.Writer) (config, error) {
	c := config{
		DatabaseURL: getenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/startline?sslmode=disable"),
		RedisURL:    getenv("REDIS_URL", "redis://127.0.0.1:6379/0"),
		HTTPAddr:    getenv("HTTP_ADDR", ":8080"),
		Env:         getenv("STARTLINE_ENV", "production"),
		SMTPURL:     getenv("SMTP_URL", ""),
		SMTPFrom:    getenv("SMTP_FROM", "Startline <no-reply@startline.invalid>"),
		Queue:       getenv("STARTLINE_QUEUE", "startline"),
		PhoneRegion: getenv("STARTLINE_PHONE_REGION", "KR"),
		// A newer copy of the disposable-email-domains list, without a release.
		DisposableFile: getenv("STARTLINE_DISPOSABLE_DOMAINS", ""),
		IPIntelDir:     getenv("STARTLINE_IPINTEL_DIR", ""),
		// Payments: Stripe when a secret key is set, else the sandbox in dev.
		StripeSecretKey:  getenv("STRIPE_SECRET_KEY", ""),
		StripeWebhookKey: getenv("STRIPE_WEBHOOK_SECRET", ""),
		StripePublicKey:  getenv("STRIPE_PUBLISHABLE_KEY", ""),
		PublicURL:        getenv("STARTLINE_PUBLIC_URL", ""),
		MetricsAddr:      getenv("STARTLINE_METRICS_ADDR", ""),
	}
	ret, err := time.ParseDuration(getenv("STARTLINE_RETENTION", "2160h"))
	if err != nil || ret <= 0 {
		return c, fmt.Errorf("STARTLINE_RETENTION: want a positive Go duration such as 2160h, got %q", getenv("STARTLINE_RETENTION", ""))
	}
	c.Retention = ret
	if c.WorkerConcurrency, err = strconv.Atoi(getenv("STARTLINE_WORKER_CONCURRENCY", "10")); err != nil ||
		c.WorkerConcurrency < 1 || c.WorkerConcurrency > 1000 {
		return c, fmt.Errorf("STARTLINE_WORKER_CONCURRENCY: want a number from 1 to 1000, got %q", getenv("STARTLINE_WORKER_CONCURRENCY", ""))
	}
	switch v := getenv("STARTLINE_RATELIMIT_ON_REDIS_ERROR", "open"); v {
	case "open", "closed":
		c.RateLimitFailOpen = v == "open"
	default:
		return c, fmt.Errorf("STARTLINE_RATELIMIT_ON_REDIS_ERROR: want open or closed, got %q", v)
	}
	if c.Env != "dev" && c.Env != "production" {
		return c, fmt.Errorf("STARTLINE_ENV: want dev or production, got %q", c.Env)
	}
	if v := getenv("REDIS_CLUSTER_ADDRS", ""); v != "" {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				c.RedisClusterAddrs = append(c.RedisClusterAddrs, a)
			}
		}
	}
	if v := getenv("STARTLINE_TRUSTED_PROXIES", ""); v != "" {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				return c, fmt.Errorf("STARTLINE_TRUSTED_PROXIES: %q is not a CIDR or IP", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return c, fmt.Errorf("STARTLINE_METRICS_ADDR: want host:port such as 127.0.0.1:9090, got %q", c.MetricsAddr)
		}
	}
	if c.MetricsAllow, err = parseNets(getenv("STARTLINE_METRICS_ALLOW", "")); err != nil {
		return c, fmt.Errorf("STARTLINE_METRICS_ALLOW: %w", err)
	}
	key := os.Getenv("STARTLINE_SECRET_KEY")
	switch {
	case key != "":
		c.SecretKey = []byte(key)
	case c.dev():
		k, err := devSecret(out)
		if err != nil {
			return c, err
		}
		c.SecretKey = k
	default:
		return c, errors.New("STARTLINE_SECRET_KEY is required in production (32 or more characters)")
	}
	if c.StripeSecretKey != "" && (c.StripeWebhookKey == "" || c.StripePublicKey == "" || c.PublicURL == "") {
		return c, errors.New("STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRET, STRIPE_PUBLISHABLE_KEY and STARTLINE_PUBLIC_URL")
	}
	if len(c.SecretKey) < 32 {
		return c, errors.New("STARTLINE_SECRET_KEY: use 32 or more characters")
	}
	return c, nil
}

// parseNets reads a comma-separated list of CIDRs; a bare IP is its own
// network (/32 or /128).
func parseNets(v string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if ip := net.ParseIP(p); ip != nil {
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or IP", p)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

func devSecret(out io.Writer) ([]byte, error) {
	path := filepath.Join(".startline", "dev-secret-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	k := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("dev secret: %w", err)
	}
	fmt.Fprintf(out, "dev mode: generated STARTLINE_SECRET_KEY=%s (kept in %s; every node of one deployment needs the same key)\n", k, path)
	return []byte(k), nil
}

// masked renders the config for the start-up log without secrets.
func (c config) masked() []any {
	return []any{"env", c.Env, "http_addr", c.HTTPAddr, "database_url", maskURL(c.DatabaseURL),
		"redis_url", maskURL(c.RedisURL), "smtp", c.SMTPURL != "", "stripe", c.StripeSecretKey != "", "trusted_proxies", c.TrustedProxies, "public_url", c.PublicURL, "queue", c.Queue, "retention", c.Retention.String(),
		"metrics_allow", len(c.MetricsAllow), "metrics_addr", c.MetricsAddr}
}

func maskURL(s string) string {
	at := strings.LastIndex(s, "@")
	scheme := strings.Index(s, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return s
	}
	userinfo := s[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return s[:scheme+3] + user + ":****" + s[at:]
	}
	return s
}
