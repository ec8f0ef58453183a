//go:build !unix

package extest

import "testing"

// lockBrowser does nothing here: the browser tests are not serialised.
func lockBrowser(*testing.T) {}
