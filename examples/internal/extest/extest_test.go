package extest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestOutputLines checks that writes split anywhere come out as whole
// lines, and that WaitAfter sees only lines after its mark.
func TestOutputLines(t *testing.T) {
	o := extest.NewOutput(nil)
	fmt.Fprint(o, "one\ntw")
	fmt.Fprint(o, "o\nthree")
	if got := o.Lines(); len(got) != 2 || got[0] != "one" || got[1] != "two" {
		t.Fatalf("lines: %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mark := o.Len()
	go fmt.Fprint(o, "\nfour: one\n")
	i, line, err := o.WaitAfter(ctx, mark, "one")
	if err != nil || i != 3 || line != "four: one" {
		t.Fatalf("WaitAfter: %d %q %v", i, line, err)
	}

	short, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := o.Wait(short, "never printed"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on an ended context: %v", err)
	}
}

// TestStart runs a small program: Start finds its URL, Stop ends it.
func TestStart(t *testing.T) {
	p := extest.Start(t, func(ctx context.Context, out io.Writer) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		fmt.Fprintf(out, "listening on http://%s\n", ln.Addr())
		<-ctx.Done()
		return ctx.Err()
	})
	if p.URL == "" {
		t.Fatal("no URL")
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
}
