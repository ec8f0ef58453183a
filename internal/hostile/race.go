//go:build race

package hostile

// RaceEnabled reports whether the race detector is on. It slows message
// handling about tenfold, so that the largest floods may be scaled down
// to keep a package's tests within their time bound.
const RaceEnabled = true
