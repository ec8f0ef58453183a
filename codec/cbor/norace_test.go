//go:build !race

package cbor_test

const raceEnabled = false
