package nats_test

import (
	"testing"

	"github.com/parleyrpc/parley/adapters/nats"
)

// The decoders read what any NATS client on the subjects may send: they
// must refuse garbage with an error, never panic, and accept what the
// encoders write.
func FuzzDecodeWire(f *testing.F) {
	for _, seed := range nats.WireSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		nats.DecodeAll(b)
	})
}
