package websocket

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
)

// The Sec-WebSocket-Protocol names of the codecs. A codec's subprotocol is
// "jsonrpc2." followed by its [codec.Codec.Name]; see [Subprotocol].
const (
	// ProtocolJSON selects JSON-RPC 2.0 in JSON, in text frames. It is
	// also what a client that offers no subprotocol gets.
	ProtocolJSON = "jsonrpc2.json"
	// ProtocolCBOR selects the CBOR codec (codec/cbor), in binary frames.
	ProtocolCBOR = "jsonrpc2.cbor"
)

// subprotocolPrefix starts every codec's subprotocol name.
const subprotocolPrefix = "jsonrpc2."

// Subprotocol returns the Sec-WebSocket-Protocol name of codec c:
// "jsonrpc2." followed by c.Name().
func Subprotocol(c codec.Codec) string { return subprotocolPrefix + c.Name() }

// defaultCodecs are the codecs a server speaks unless told otherwise.
func defaultCodecs() []codec.Codec { return []codec.Codec{json.Codec{}, cbor.Codec{}} }

// codecSet is what a server negotiates from.
type codecSet struct {
	byProto map[string]codec.Codec
	plain   codec.Codec // for clients offering no subprotocol; nil if JSON is not served
	names   []string    // subprotocol names, in the order given
}

func newCodecSet(cs []codec.Codec) (*codecSet, error) {
	if len(cs) == 0 {
		cs = defaultCodecs()
	}
	s := &codecSet{byProto: make(map[string]codec.Codec, len(cs))}
	for _, c := range cs {
		if c == nil {
			return nil, errors.New("websocket: nil codec in Codecs")
		}
		name := c.Name()
		if !validToken(name) {
			return nil, fmt.Errorf("websocket: codec name %q cannot be part of a subprotocol name", name)
		}
		p := Subprotocol(c)
		if _, dup := s.byProto[p]; dup {
			return nil, fmt.Errorf("websocket: two codecs named %q in Codecs", name)
		}
		s.byProto[p] = c
		s.names = append(s.names, p)
		if p == ProtocolJSON {
			s.plain = c
		}
	}
	return s, nil
}

// pick chooses the codec for the subprotocols a client offered, in the
// client's order of preference. proto is the name to echo ("" when the
// client offered none). A refusal says which names are supported.
func (s *codecSet) pick(offered []string) (c codec.Codec, proto string, refusal string) {
	if len(offered) == 0 {
		if s.plain != nil {
			return s.plain, "", ""
		}
		return nil, "", "websocket: this server needs a subprotocol; it supports " + strings.Join(s.names, ", ")
	}
	for _, o := range offered {
		if c, ok := s.byProto[o]; ok {
			return c, o, ""
		}
	}
	supported := strings.Join(s.names, ", ")
	if s.plain != nil {
		supported += ", or none for JSON"
	}
	return nil, "", fmt.Sprintf("websocket: unsupported subprotocol %s; this server supports %s",
		quoteList(offered), supported)
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// validToken reports whether s may appear in a subprotocol name (an HTTP
// token, RFC 7230).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
