package bench

import (
	"os"
	"os/exec"
	"testing"
)

// TestChild is how this test binary runs as the clients' child process
// of the idle and fan-out measurements; run directly, it does nothing.
func TestChild(t *testing.T) {
	ran, err := RunChild()
	if !ran {
		t.Skip("not started as a child")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testSpawner starts this test binary again, running TestChild only.
func testSpawner() *exec.Cmd {
	return exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
}

// TestSmoke runs every call scenario once at each in-flight level, so
// that a broken scenario shows up in CI without a benchmark run.
func TestSmoke(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name(), func(t *testing.T) {
			r, err := s.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
			}()
			for _, inflight := range InFlight {
				if err := r.Run(inflight, inflight); err != nil {
					t.Fatalf("inflight=%d: %v", inflight, err)
				}
			}
		})
	}
}

// TestIdleSmoke measures a few idle connections of each library, through
// the same child process as the full measurement.
func TestIdleSmoke(t *testing.T) {
	for _, lib := range IdleLibs {
		t.Run(lib, func(t *testing.T) {
			res, err := MeasureIdle(lib, 20, testSpawner)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", res)
		})
	}
}

// TestFanoutSmoke calls a few clients at once, through the same child
// process as the full measurement, and checks every answer came back.
func TestFanoutSmoke(t *testing.T) {
	res, err := MeasureFanout(50, 2, testSpawner)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || len(res.Rounds) != 2 {
		t.Fatalf("%d failed replies, %d rounds: %+v", res.Failed, len(res.Rounds), res)
	}
	t.Logf("%+v", res)
}
