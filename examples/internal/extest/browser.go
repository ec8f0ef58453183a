package extest

import (
	"context"
	"testing"

	"github.com/parleyrpc/parley/internal/browsertest"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = browsertest.DefaultChromium

// browserDir is the node package (playwright-core and the scripts that
// drive the pages), relative to an example's folder, where its tests run.
// Tests outside examples reach it through internal/browsertest.
const browserDir = "../internal/browser"

// Browser prepares an example's browser test with [browsertest.Browser]
// and the examples' scripts folder, and returns that folder.
func Browser(t *testing.T) string {
	t.Helper()
	return browsertest.Browser(t, browserDir)
}

// Chromium is [browsertest.Chromium].
func Chromium(t testing.TB) string { return browsertest.Chromium(t) }

// Screenshot is [browsertest.Screenshot].
func Screenshot(t testing.TB, name string) string { return browsertest.Screenshot(t, name) }

// Step, Plan and PageView are those of [browsertest].
type (
	Step     = browsertest.Step
	Plan     = browsertest.Plan
	PageView = browsertest.PageView
)

// RunPage is [browsertest.RunPage].
func RunPage(ctx context.Context, t *testing.T, dir, url, shot string, plan Plan) *PageView {
	t.Helper()
	return browsertest.RunPage(ctx, t, dir, url, shot, plan)
}
