package websocket

// CallerReads returns how many times, so far, a caller waiting for its
// answer has taken on the reading of its connection (see ReadFor).
func CallerReads() uint64 { return callerReads.Load() }
