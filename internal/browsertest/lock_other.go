//go:build !unix

package browsertest

import "testing"

// lock does nothing here: the browser tests are not serialised.
func lock(*testing.T) {}
