// Package faulttransport is a test helper: an [rpc.Transport] that wraps
// another one (typically one end of [rpc.Pipe]) and injects scripted
// faults, so that tests can prove what a [rpc.Peer] does when the link
// misbehaves.
//
// A [Plan] lists [Fault]s, each aimed at the Nth message in one
// [Direction] (counting from 1): drop the link there, delay the message,
// stall every message from there on, deliver it truncated or corrupted,
// deliver it twice, or swap it with the next one. A plan may also delay
// every message. The transport counts what went through and records each
// fault it injected with the message it hit ([Transport.Stats]), so that a
// test can tell which calls a fault was bound to cost and check that
// nothing else was lost.
//
//	a, b := rpc.Pipe()
//	ft, err := faulttransport.New(a, faulttransport.Plan{Faults: []faulttransport.Fault{
//		{Dir: faulttransport.Outbound, At: 3, Kind: faulttransport.Truncate},
//	}})
//	client, _ := rpc.NewPeer(ft)
//	server, _ := rpc.NewPeer(b, rpc.WithHandler(router))
//
// Faults can also be injected by hand while a test runs: [Transport.Drop]
// drops the link, [Transport.Stall] and [Transport.Unstall] stop and
// resume one direction.
//
// A dropped link reports [ErrDropped] (wrapped) to its peer as the cause,
// so a test can tell an injected drop from any other end. The package
// imports only rpc and the standard library.
package faulttransport
