// Package browsertest drives Debian's headless Chromium (never a downloaded
// browser) through chromedp for the pages' journey tests: a phone-sized
// window (390 px), the keyboard, screenshots kept as test output, and the
// checks every page must pass (no sideways scrolling, every control labelled,
// the page's language set).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Width and Height are the phone screen every journey runs on.
const (
	Width  = 390
	Height = 844
)

// PersonUA is the User-Agent the browser sends. Chromium's headless build
// says "HeadlessChrome", which the bot scorer (rightly) rejects; a journey
// test walks as a person on a phone, so it sends a phone browser's agent.
const PersonUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36"

// ExecPath finds Debian's Chromium: $STARTLINE_CHROMIUM, or the package's binary.
func ExecPath() string {
	if p := os.Getenv("STARTLINE_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium with one tab, closed when the test ends.
type Browser struct {
	t    testing.TB
	ctx  context.Context
	name string
	shot int
	// Timeout bounds each Do or read; a journey step that hangs fails the
	// test with a screenshot instead of stalling the suite.
	Timeout time.Duration
	console *console
}

// Options change how the browser presents itself.
type Options struct {
	// Lang is the browser's language (Accept-Language and
	// navigator.languages); "en-US" when empty.
	Lang string
	// Robot keeps Chromium's own headless User-Agent and navigator.webdriver,
	// for tests that the bot scorer sees an automated browser for what it is.
	Robot bool
}

// New starts Chromium for the test. It fails, not skips, when Chromium is
// missing: a journey that is never walked is a journey nobody checked.
func New(t testing.TB, o Options) *Browser {
	t.Helper()
	path := ExecPath()
	if path == "" {
		t.Fatal("browsertest: Chromium not found; install Debian's package (apt-get install chromium; .ci/run does) or set STARTLINE_CHROMIUM")
	}
	if o.Lang == "" {
		o.Lang = "en-US"
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(Width, Height),
		// The machine's network is closed: keep Chromium from calling home.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", o.Lang),
		// Chromium takes its UI locale (the order of a date field's parts,
		// for one) from the environment, not from --lang.
		chromedp.Env("LANGUAGE="+strings.ReplaceAll(o.Lang, "-", "_"), "LANG="+strings.ReplaceAll(o.Lang, "-", "_")+".UTF-8"),
		chromedp.Flag("accept-lang", o.Lang),
	)
	if !o.Robot {
		opts = append(opts,
			chromedp.Flag("user-agent", PersonUA),
			chromedp.Flag("disable-blink-features", "AutomationControlled"))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{t: t, ctx: ctx, name: safeName(t.Name()), Timeout: 30 * time.Second}
	// The first run starts the browser; it must not carry a timeout (that
	// would stop the whole browser when it fires).
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Width, Height, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return b
}

// Do runs steps in order; on failure it keeps a screenshot and fails the test.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failShot()
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// Run runs one action that returns a value.
func Run[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.failShot()
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
	return v
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	return Run(b, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// Open navigates to url and waits for the page's body.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// Text is the visible text of the first element matching the CSS selector.
func (b *Browser) Text(css string) string {
	b.t.Helper()
	return Run(b, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
}

// WaitFor waits until the CSS selector matches a visible element.
func (b *Browser) WaitFor(css string) {
	b.t.Helper()
	b.Do(chromedp.WaitVisible(chromedp.CSS(css)))
}

// URL is the page's address.
func (b *Browser) URL() string {
	b.t.Helper()
	return Run(b, chromedp.Location())
}

// Keys types keys as the keyboard does into whatever has focus ("\t" is
// Tab, "\r" is Enter).
func (b *Browser) Keys(keys string) {
	b.t.Helper()
	b.Do(chromedp.KeyEvent(keys))
}

// KeysToPage types keys that load a new page (Enter in a form) and waits
// until that page has loaded, so that the next step reads the new page and
// never the one being left.
func (b *Browser) KeysToPage(keys string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.KeyEvent(keys)); err != nil {
		b.failShot()
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// Focused describes the element that has focus: its name, id or text.
func (b *Browser) Focused() string {
	b.t.Helper()
	return Eval[string](b, `(() => { const e = document.activeElement; if (!e || e === document.body) return "";
		return e.getAttribute("name") || e.id || (e.innerText || e.value || "").trim(); })()`)
}

// TabTo presses Tab until the focused element is described by want (see
// Focused), as a keyboard user would; it fails after max presses.
func (b *Browser) TabTo(want string, max int) {
	b.t.Helper()
	for i := 0; i < max; i++ {
		b.Keys("\t")
		if b.Focused() == want {
			return
		}
	}
	b.failShot()
	b.t.Fatalf("browser: %q not reached with %d Tab presses at %s (focus on %q)", want, max, b.location(), b.Focused())
}

// Shot keeps a full-page screenshot as test output (see Dir) and returns its path.
func (b *Browser) Shot(label string) string {
	b.t.Helper()
	png := Run(b, chromedp.FullScreenshot(100))
	b.shot++
	dir := Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatalf("screenshots: %v", err)
	}
	p := filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", b.name, b.shot, safeName(label)))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatalf("screenshots: %v", err)
	}
	return p
}

// Check asserts what every page must do on a phone, and keeps a screenshot:
// the page's language is declared, nothing scrolls sideways at 390 px, every
// visible form control has a label a screen reader reads, and every
// interactive element can take keyboard focus.
func (b *Browser) Check(label, lang string) {
	b.t.Helper()
	b.Shot(label)
	if got := Eval[string](b, `document.documentElement.lang`); got != lang {
		b.t.Errorf("%s: <html lang=%q>, want %q", label, got, lang)
	}
	if w := Eval[int](b, `document.documentElement.scrollWidth`); w > Width {
		wide := Eval[string](b, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > `+fmt.Sprint(Width)+` + 1).slice(0, 5).map(e => e.tagName + "." + e.className).join(", ")`)
		b.t.Errorf("%s: the page is %d px wide on a %d px screen (too wide: %s)", label, w, Width, wide)
	}
	unlabelled := Eval[[]string](b, `Array.from(document.querySelectorAll("input, select, textarea")).filter(e => {
		if (e.type === "hidden" || e.closest("[aria-hidden=true]") || e.offsetParent === null) return false;
		if (e.getAttribute("aria-label") || e.getAttribute("aria-labelledby")) return false;
		return !(e.labels && e.labels.length);
	}).map(e => e.name || e.id || e.type)`)
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: form controls without a label: %v", label, unlabelled)
	}
	unfocusable := Eval[[]string](b, `Array.from(document.querySelectorAll("[onclick], [role=button]")).filter(e =>
		!["A", "BUTTON", "INPUT", "SELECT", "TEXTAREA", "SUMMARY"].includes(e.tagName) && e.tabIndex < 0).map(e => e.outerHTML.slice(0, 60))`)
	if len(unfocusable) > 0 {
		b.t.Errorf("%s: clickable elements the keyboard cannot reach: %v", label, unfocusable)
	}
}

// OffScreen lists (up to five) visible elements that reach past the
// screen's edge, by tag and class: stricter than Check's page width, which
// a clipped child does not widen. Elements hidden from people
// (aria-hidden, such as an off-screen honeypot) are left out.
func (b *Browser) OffScreen() []string {
	b.t.Helper()
	return Eval[[]string](b, `Array.from(document.querySelectorAll("body *")).filter(e => {
		const r = e.getBoundingClientRect();
		return !e.closest("[aria-hidden=true]") && r.width > 0 && r.height > 0 && (r.right > `+fmt.Sprint(Width)+` + 1 || r.left < -1);
	}).slice(0, 5).map(e => e.tagName + "." + e.className)`)
}

// Dir is where screenshots go: $STARTLINE_SCREENSHOTS, or test-output/screenshots
// at the module root (ignored by git).
func Dir() string {
	if d := os.Getenv("STARTLINE_SCREENSHOTS"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "test-output", "screenshots")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "test-output", "screenshots")
		}
	}
}

func (b *Browser) failShot() {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	dir := Dir()
	if os.MkdirAll(dir, 0o755) == nil {
		p := filepath.Join(dir, b.name+"-failed.png")
		if os.WriteFile(p, png, 0o644) == nil {
			b.t.Logf("screenshot of the failure: %s", p)
		}
	}
}

func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func safeName(s string) string { return strings.Trim(unsafe.ReplaceAllString(s, "_"), "_") }

// console collects the page's errors once WatchConsole is called.
type console struct {
	mu   sync.Mutex
	errs []string
}

// WatchConsole starts collecting what the pages write to the console as
// errors (console.error, uncaught exceptions, the browser's error log such
// as a failed load) for ConsoleErrors, from now until the test ends.
func (b *Browser) WatchConsole() {
	b.console = &console{}
	msgs := chromedp.Console(b.ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			b.console.mu.Lock()
			b.console.errs = append(b.console.errs, fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
			b.console.mu.Unlock()
		}
	}()
}

// ConsoleErrors returns the errors collected since WatchConsole.
func (b *Browser) ConsoleErrors() []string {
	if b.console == nil {
		return nil
	}
	b.console.mu.Lock()
	defer b.console.mu.Unlock()
	return append([]string(nil), b.console.errs...)
}
