package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/startline/startline/lottery/postgres/pgtest"
)

// readmeCommands returns the README's command lines that run the binary
// in a shell block ("NAME=value ... bin/startline args..."), in order.
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	inShell := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "```sh"):
			inShell = true
		case strings.HasPrefix(line, "```"):
			inShell = false
		case inShell && strings.Contains(line, "bin/startline staff "):
			out = append(out, strings.Fields(line))
		}
	}
	return out
}

// TestReadmeStaffCommands runs the README's `startline staff` lines as
// written (their environment assignments included) against a fresh
// database after seed-demo, from a fresh directory as a newcomer's
// checkout would be: each succeeds and prints what the README says.
func TestReadmeStaffCommands(t *testing.T) {
	lines := readmeCommands(t)
	if len(lines) < 2 {
		t.Fatalf("the README shows %d staff command lines, want the token and add examples", len(lines))
	}
	seedDemo(t) // seeds in production mode with its own key
	// The README's lines run in dev mode against `make run`: the key is the
	// dev key in .startline/ of the working directory.
	t.Chdir(t.TempDir())
	t.Setenv("STARTLINE_SECRET_KEY", "")
	os.Unsetenv("STARTLINE_SECRET_KEY")
	t.Setenv("STARTLINE_ENV", "production") // what a shell without the assignment would have
	for _, fields := range lines {
		var args []string
		for i, f := range fields {
			if k, v, ok := strings.Cut(f, "="); ok && !strings.HasPrefix(f, "-") && args == nil && strings.ToUpper(k) == k {
				t.Setenv(k, v)
				continue
			}
			if strings.HasSuffix(f, "bin/startline") {
				args = append([]string{}, fields[i+1:]...)
				break
			}
		}
		if args == nil {
			t.Fatalf("README line %q does not run bin/startline", strings.Join(fields, " "))
		}
		var buf bytes.Buffer
		if err := run(context.Background(), args, &buf); err != nil {
			t.Errorf("README line %q: %v\n%s", strings.Join(fields, " "), err, buf.String())
			continue
		}
		switch args[1] {
		case "token":
			if tok := strings.TrimSpace(buf.String()); len(tok) < 20 || strings.ContainsAny(tok, " \n") {
				t.Errorf("%q printed no token: %q", strings.Join(fields, " "), buf.String())
			}
		case "add":
			if !strings.Contains(buf.String(), "otpauth://totp/") {
				t.Errorf("%q printed no enrolment: %q", strings.Join(fields, " "), buf.String())
			}
		}
	}
}

// TestUnknownAPIRouteIsJSON: an unknown /api route answers the API's JSON
// error; any other unknown path the HTML page.
func TestUnknownAPIRouteIsJSON(t *testing.T) {
	_, dsn := pgtest.NewStore(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("STARTLINE_ENV", "production")
	t.Setenv("STARTLINE_SECRET_KEY", "unknown-route-test-secret-key-unknown-route")
	t.Setenv("STARTLINE_PUBLIC_URL", "https://run.example")
	if err := migrateCmd(context.Background(), mustConfig(t), io.Discard); err != nil {
		t.Fatal(err)
	}
	_, srv := serveApp(t)
	for _, path := range []string{"/api/v1/nope", "/api/v2/events", "/api"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || err != nil || body.Error.Code != "not_found" ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s %v %+v", path, res.StatusCode, res.Header.Get("Content-Type"), err, body)
		}
	}
	res, err := http.Get(srv.URL + "/no-such-page")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /no-such-page: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
