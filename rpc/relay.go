package rpc

// RemoteError returns an *Error that reads as received from the other end
// ([Error.Remote] and [IsRemote] report true). It is for code that relays
// another end's answer, such as a cluster node handing on a client's
// error: the caller then sees the error as the client's, not the node's.
func RemoteError(code Code, message string, data any) *Error {
	return &Error{Code: code, Message: message, Data: data, remote: true}
}
