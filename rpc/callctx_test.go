package rpc

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

type ctxKey struct{}

func newCallCtx(parent context.Context) *callCtx { return &callCtx{Context: parent} }

// waitClosed fails unless ch is closed within a few seconds.
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not closed", what)
	}
}

// A call's context behaves as context.WithCancel's would: values and
// deadline from the peer's, ended by the call's cancel or the peer's end,
// Err and Done agreeing, Cause saying why.
func TestCallCtx(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		parent, stop := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
		defer stop()
		c := newCallCtx(parent)
		if c.Err() != nil || c.Value(ctxKey{}) != "v" {
			t.Fatalf("fresh: Err %v, value %v", c.Err(), c.Value(ctxKey{}))
		}
		if _, ok := c.Deadline(); ok {
			t.Fatal("a deadline out of nowhere")
		}
		done := c.Done()
		select {
		case <-done:
			t.Fatal("Done closed before the end")
		default:
		}
		c.cancel(context.Canceled)
		c.cancel(errors.New("second")) // no effect
		waitClosed(t, done, "Done")
		if !errors.Is(c.Err(), context.Canceled) || !errors.Is(context.Cause(c), context.Canceled) {
			t.Fatalf("Err %v, Cause %v", c.Err(), context.Cause(c))
		}
		if parent.Err() != nil {
			t.Fatal("the call's end ended the peer's context")
		}
	})
	t.Run("peer ends, Done asked before", func(t *testing.T) {
		parent, stop := context.WithCancel(context.Background())
		c := newCallCtx(parent)
		done := c.Done()
		stop()
		waitClosed(t, done, "Done")
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err %v", c.Err())
		}
	})
	t.Run("peer ends, Done asked after", func(t *testing.T) {
		parent, stop := context.WithCancel(context.Background())
		c := newCallCtx(parent)
		stop()
		if !errors.Is(c.Err(), context.Canceled) {
			t.Fatalf("Err %v", c.Err())
		}
		select {
		case <-c.Done(): // Err said it ended: Done is closed at once
		default:
			t.Fatal("Err reports the end, Done is not closed")
		}
	})
	t.Run("derived contexts", func(t *testing.T) {
		parent, stop := context.WithCancel(context.Background())
		defer stop()
		c := newCallCtx(parent)
		before := runtime.NumGoroutine()
		var children []context.Context
		for range 50 {
			child, cancel := context.WithTimeout(c, time.Hour)
			defer cancel()
			children = append(children, child)
		}
		if n := runtime.NumGoroutine() - before; n > 5 {
			t.Errorf("%d goroutines for 50 derived contexts, want none", n)
		}
		var ran atomic.Int32
		stopped := context.AfterFunc(c, func() { ran.Add(1) })
		if !stopped() {
			t.Error("stop before the end: false")
		}
		context.AfterFunc(c, func() { ran.Add(1) })
		c.cancel(context.Canceled)
		for _, child := range children {
			waitClosed(t, child.Done(), "a derived context's Done")
			if !errors.Is(child.Err(), context.Canceled) {
				t.Fatalf("derived: %v", child.Err())
			}
		}
		deadline := time.Now().Add(5 * time.Second)
		for ran.Load() != 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if ran.Load() != 1 {
			t.Fatalf("AfterFunc ran %d times, want the one not stopped", ran.Load())
		}
		late := make(chan struct{})
		if context.AfterFunc(c, func() { close(late) })() {
			t.Error("stop after the end: true")
		}
		waitClosed(t, late, "an AfterFunc registered after the end")
	})
}
