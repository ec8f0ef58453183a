// Package browsertest runs web pages in headless Chromium for tests:
// Debian's chromium (/usr/bin/chromium, no browser download) driven by the
// npm package playwright-core under node.
//
// The node side is a folder of scripts with a package.json pinning
// playwright-core (examples/internal/browser): [Browser] installs it
// through internal/nodetest and [RunPage] runs its page.mjs, which loads a
// page, follows a [Plan] and prints what the page shows. A test skips when
// node or Chromium is absent, except under CI (CI set), where it fails:
// CI installs both. Browser tests of every package take one lock, so that
// one Chromium runs at a time on the machine.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/parleyrpc/parley/internal/nodetest"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Browser prepares a browser test: it finds Chromium ([Chromium]), makes
// sure node and the pinned playwright-core of the scripts folder are
// installed (skipping t without node, as nodetest does), points the
// scripts at that Chromium, waits for the browser tests of other packages
// to finish (one Chromium at a time), and returns the scripts folder as an
// absolute path, for [RunPage] or nodetest.Run. scripts is relative to the
// test's package folder.
func Browser(t *testing.T, scripts string) string {
	t.Helper()
	path := Chromium(t)
	dir := nodetest.Setup(t, scripts)
	t.Setenv("CHROMIUM", path)
	lock(t)
	return dir
}

// Chromium returns the path of the Chromium the browser tests drive: the
// CHROMIUM environment variable, or [DefaultChromium]. When it is not
// there, it skips t, except under CI (CI set), where it fails t: CI must
// install it (apt-get install chromium chromium-driver).
func Chromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = DefaultChromium
	}
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test needs Chromium at %s: %v (CI must install it: apt-get install chromium chromium-driver)", path, err)
		}
		t.Skipf("skipping browser test: no Chromium at %s (apt-get install chromium, or set CHROMIUM to its path)", path)
	}
	return path
}

// Screenshot returns where a browser test saves its screenshot: the path
// in the PARLEY_SCREENSHOT environment variable if set (a folder there
// gets name inside it), else name in a temporary directory of t.
func Screenshot(t testing.TB, name string) string {
	p := os.Getenv("PARLEY_SCREENSHOT")
	if p == "" {
		return filepath.Join(t.TempDir(), name)
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return filepath.Join(p, name)
	}
	return p
}

// Step is one step of a [Plan].
type Step struct {
	Wait  string `json:"wait,omitempty"`  // wait until this element's text...
	Match string `json:"match,omitempty"` // ...matches this regular expression
	Fill  string `json:"fill,omitempty"`  // type Value into this input
	Value string `json:"value,omitempty"`
	Click string `json:"click,omitempty"` // click this element
}

// Plan is what page.mjs does with a page: the steps, then the text of each
// element of Read.
type Plan struct {
	Steps []Step   `json:"steps"`
	Read  []string `json:"read"`
}

// PageView is what page.mjs saw.
type PageView struct {
	Texts  map[string]string `json:"texts"` // by selector; "" for no such element
	Agent  string            `json:"agent"`
	Errors []string          `json:"errors"` // script and console errors of the page
}

// RunPage loads url in headless Chromium, follows plan, saves a screenshot
// to shot, and returns what the page showed; dir is [Browser]'s folder.
func RunPage(ctx context.Context, t *testing.T, dir, url, shot string, plan Plan) *PageView {
	t.Helper()
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	out := nodetest.Run(ctx, t, dir, "page.mjs", url, shot, string(b))
	var v PageView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("page.mjs output: %v\n%s", err, out)
	}
	return &v
}
