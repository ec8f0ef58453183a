package stream

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// Options configure one link: [NewPeer], [Start], [NewTransport]. A nil
// *Options means all defaults: header framing, JSON, no handler.
type Options struct {
	// Framing is how messages are cut out of the stream; the zero value
	// is [Header].
	Framing Framing

	// Codec is the codec of the link; nil means JSON. [Lines] carries text
	// only: a binary codec (CBOR) needs [Header].
	Codec codec.Codec

	// Handler serves the calls and notifications of the other end;
	// usually an [*rpc.Router].
	Handler rpc.Handler

	// PeerOptions apply to the peer after Handler. The codec is Codec,
	// applied last: an rpc.WithCodec here has no effect.
	PeerOptions []rpc.Option

	// WriteTimeout bounds each write: a link whose other end stops
	// reading ends with [ErrWriteTimeout] once a write has made no
	// progress for this long. Zero means [DefaultWriteTimeout]; negative,
	// no limit.
	WriteTimeout time.Duration
}

// link are the settings of a link, checked.
type link struct {
	framing Framing
	codec   codec.Codec
	timeout time.Duration
	opts    []rpc.Option // the peer's, codec last
	max     int          // the peer's maximum message size
}

// checkLink checks the settings common to every constructor.
func checkLink(f Framing, c codec.Codec, h rpc.Handler, peerOpts []rpc.Option, timeout time.Duration) (link, error) {
	if c == nil {
		c = json.Codec{}
	}
	switch f {
	case Header:
	case Lines:
		if c.Binary() {
			return link{}, fmt.Errorf("stream: the %s codec is binary: line framing carries text only (use header framing)", c.Name())
		}
	default:
		return link{}, fmt.Errorf("stream: unknown framing %v", f)
	}
	switch {
	case timeout == 0:
		timeout = DefaultWriteTimeout
	case timeout < 0:
		timeout = 0
	}
	var opts []rpc.Option
	if h != nil {
		opts = append(opts, rpc.WithHandler(h))
	}
	opts = append(opts, peerOpts...)
	opts = append(opts, rpc.WithCodec(c))
	set, err := rpc.CheckOptions(opts...)
	if err != nil {
		return link{}, fmt.Errorf("stream: PeerOptions: %w", err)
	}
	return link{framing: f, codec: c, timeout: timeout, opts: slices.Clip(opts), max: set.MaxMessageSize}, nil
}

func (o *Options) check() (link, error) {
	if o == nil {
		o = new(Options)
	}
	return checkLink(o.Framing, o.Codec, o.Handler, o.PeerOptions, o.WriteTimeout)
}

// NewPeer starts a peer over rwc: a net.Conn, [Stdio], a child's pipes,
// anything that reads and writes bytes. The peer owns rwc: when the peer
// ends, rwc is closed. On error rwc is left as it was.
func NewPeer(rwc io.ReadWriteCloser, opts *Options) (*rpc.Peer, error) {
	if rwc == nil {
		return nil, errors.New("stream: NewPeer: nil stream")
	}
	l, err := opts.check()
	if err != nil {
		return nil, err
	}
	return rpc.NewPeer(newTransport(rwc, l.framing, l.codec, l.timeout), l.opts...)
}
