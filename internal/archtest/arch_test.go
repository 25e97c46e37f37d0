// Package archtest holds the test that keeps the import rules of
// docs/ARCHITECTURE.md true: arrows point inward. It has no code of its own.
package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/startline/startline"

// adapters are the packages that speak to the outside world through a
// framework or driver: PostgreSQL (GORM), Redis (go-redis), Asynq, Gin.
var adapters = []string{
	module + "/lottery/postgres",
	module + "/antibot/redis",
	module + "/worker",
	module + "/api",
	module + "/web",
}

// frameworks are what the domain packages must not import, even indirectly.
var frameworks = []string{
	"github.com/gin-gonic/gin",
	"gorm.io/gorm",
	"github.com/redis/go-redis/v9",
	"github.com/hibiken/asynq",
	"github.com/prometheus/client_golang/prometheus",
}

// pkg is one package of the module as go list describes it: Deps is every
// package it imports, directly or not (tests' imports excluded).
type pkg struct {
	ImportPath string
	Deps       []string
}

// modulePackages lists every package of the module with its dependencies.
// The go command runs the test, so it is on PATH.
func modulePackages(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps", module+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages; the pattern is wrong", len(pkgs))
	}
	return pkgs
}

// domain reports whether a package is domain code: lottery and its
// concept packages, and the pure anti-bot packages. The stores and the
// Redis adapter (and the helpers that compose them) are not.
func domain(path string) bool {
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return false
	}
	switch {
	case rel == "lottery/postgres" || strings.HasPrefix(rel, "lottery/postgres/"):
		return false
	case rel == "lottery" || strings.HasPrefix(rel, "lottery/"):
		return true
	case rel == "antibot/redis" || rel == "antibot/guard" || strings.HasPrefix(rel, "antibot/guard/"):
		return false
	case rel == "antibot" || strings.HasPrefix(rel, "antibot/"):
		return true
	}
	return false
}

// TestImportRules: no package but cmd/startline (the wiring) depends on
// more than one adapter; the domain packages import no framework and no
// adapter; web does not import api.
func TestImportRules(t *testing.T) {
	pkgs := modulePackages(t)
	for _, want := range append([]string{module + "/lottery", module + "/lottery/registration", module + "/cmd/startline"}, adapters...) {
		if _, ok := pkgs[want]; !ok {
			t.Fatalf("go list did not list %s", want)
		}
	}
	domains := 0
	for path, p := range pkgs {
		var uses []string
		for _, a := range adapters {
			if a != path && slices.Contains(p.Deps, a) {
				uses = append(uses, a)
			}
		}
		if len(uses) > 1 && path != module+"/cmd/startline" {
			t.Errorf("%s depends on %d adapter packages (%s); only cmd/startline wires several", path, len(uses),
				strings.Join(uses, ", "))
		}
		if !domain(path) {
			continue
		}
		domains++
		for _, d := range p.Deps {
			if slices.Contains(frameworks, d) || slices.Contains(adapters, d) {
				t.Errorf("domain package %s depends on %s", path, d)
			}
		}
	}
	if domains < 10 {
		t.Errorf("only %d domain packages checked; want lottery, its concept packages and antibot's pure ones", domains)
	}
	// The metrics are wiring: the domain reports through observers and hooks.
	for path, p := range pkgs {
		if path != module+"/cmd/startline" && slices.Contains(p.Deps, module+"/internal/metrics") {
			t.Errorf("%s imports internal/metrics; only cmd/startline does", path)
		}
	}
	if slices.Contains(pkgs[module+"/web"].Deps, module+"/api") {
		t.Errorf("web imports api; shared HTTP pieces belong in internal/httpkit")
	}
}
