//go:build unix

package browsertest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// lock holds a lock shared by every test binary on the machine until t
// ends, so that the browser tests, which go test runs in several packages
// at once, start one Chromium at a time: on a machine with few cores
// several at once are slow enough to time out. (The file keeps the name it
// had when only the examples had browser tests.)
func lock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "parley-examples-browser.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Logf("browser lock: %v (running unserialised)", err)
		return
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Logf("browser lock: %v (running unserialised)", err)
		return
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
