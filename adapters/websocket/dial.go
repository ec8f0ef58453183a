package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// DefaultHandshakeTimeout bounds the opening handshake of [Dial] when
// neither the options nor the Dialer set a timeout.
const DefaultHandshakeTimeout = 10 * time.Second

// DialOptions configures [Dial] and, embedded in [ReconnectOptions], a
// [ReconnectingClient]. The zero value dials with JSON and the default
// settings.
type DialOptions struct {
	// Codec is the codec to ask the server for; nil means JSON. JSON is
	// asked for by offering no subprotocol at all, so that any JSON-RPC
	// 2.0 WebSocket server will do; another codec by offering its
	// subprotocol ([Subprotocol]), which the server must accept.
	Codec codec.Codec

	// Handler serves the calls and notifications the server sends.
	Handler rpc.Handler

	// PeerOptions apply to the peer after Handler; later options override
	// earlier ones. The codec is always Codec.
	PeerOptions []rpc.Option

	// Header is sent with the handshake (authentication, cookies).
	Header http.Header

	// PingInterval and WriteTimeout work as in [ServerOptions]: zero means
	// the default, negative turns the feature off.
	PingInterval time.Duration
	WriteTimeout time.Duration

	// Dialer, if set, is used for the handshake (proxy, TLS, buffer
	// sizes); it is copied, not modified. Its Subprotocols are replaced.
	// A nil Dialer means one with http.ProxyFromEnvironment and a
	// handshake timeout of [DefaultHandshakeTimeout].
	Dialer *websocket.Dialer
}

// dialer is the checked form of DialOptions, ready to dial many times.
type dialer struct {
	url    string
	codec  codec.Codec
	proto  string // subprotocol offered; "" for JSON
	header http.Header
	link   link
	opts   []rpc.Option
	d      websocket.Dialer
}

func newDialer(rawURL string, o *DialOptions) (*dialer, error) {
	var opts DialOptions
	if o != nil {
		opts = *o
	}
	if !strings.HasPrefix(rawURL, "ws://") && !strings.HasPrefix(rawURL, "wss://") {
		return nil, fmt.Errorf("websocket: URL %q: the scheme must be ws or wss", rawURL)
	}
	c := opts.Codec
	if c == nil {
		c = json.Codec{}
	}
	d := &dialer{url: rawURL, codec: c, header: opts.Header.Clone(), link: linkSettings(opts.PingInterval, opts.WriteTimeout)}
	if c.Name() != "json" {
		if !validToken(c.Name()) {
			return nil, fmt.Errorf("websocket: codec name %q cannot be part of a subprotocol name", c.Name())
		}
		d.proto = Subprotocol(c)
	}
	if opts.Handler != nil {
		d.opts = append(d.opts, rpc.WithHandler(opts.Handler))
	}
	d.opts = append(d.opts, opts.PeerOptions...)
	d.opts = append(d.opts, rpc.WithCodec(c))
	d.opts = slices.Clip(d.opts)
	if _, err := rpc.CheckOptions(d.opts...); err != nil {
		return nil, fmt.Errorf("websocket: PeerOptions: %w", err)
	}
	if opts.Dialer != nil {
		d.d = *opts.Dialer
	} else {
		d.d = websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: DefaultHandshakeTimeout}
	}
	if d.d.WriteBufferPool == nil && d.d.WriteBufferSize == 0 {
		d.d.WriteBufferPool = writeBufs
	}
	d.d.Subprotocols = nil
	if d.proto != "" {
		d.d.Subprotocols = []string{d.proto}
	}
	return d, nil
}

// Dial opens a WebSocket connection to url (ws:// or wss://) and returns
// a peer over it. ctx bounds the handshake only; the peer lives until it is
// closed or the link drops. A refusal by the server is a *[HandshakeError]
// saying why.
func Dial(ctx context.Context, url string, opts *DialOptions) (*rpc.Peer, error) {
	d, err := newDialer(url, opts)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx)
}

func (d *dialer) dial(ctx context.Context) (*rpc.Peer, error) {
	// A copy of the Dialer per dial, whose dial functions hand over the
	// connection they make.
	var nc *netConn
	gd := d.d
	base := gd.NetDialContext
	if base == nil && gd.NetDial != nil {
		nd := gd.NetDial
		base = func(_ context.Context, network, addr string) (net.Conn, error) { return nd(network, addr) }
	}
	if base == nil {
		base = new(net.Dialer).DialContext
	}
	gd.NetDial = nil
	gd.NetDialContext = wrapDial(base, &nc)
	if gd.NetDialTLSContext != nil {
		gd.NetDialTLSContext = wrapDial(gd.NetDialTLSContext, &nc)
	}
	ws, resp, err := gd.DialContext(ctx, d.url, d.header)
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			err = handshakeError(resp)
		}
		return nil, fmt.Errorf("websocket: dial %s: %w", d.url, err)
	}
	// A JSON client offers nothing; a server that answers "jsonrpc2.json"
	// anyway means the same thing.
	if got := ws.Subprotocol(); got != d.proto && (d.proto != "" || got != ProtocolJSON) {
		_ = ws.Close()
		if got == "" {
			return nil, fmt.Errorf("websocket: dial %s: the server did not accept subprotocol %q", d.url, d.proto)
		}
		return nil, fmt.Errorf("websocket: dial %s: the server chose subprotocol %q, which was not offered", d.url, got)
	}
	t := newConn(ws, nc, d.codec, d.link)
	p, err := rpc.NewPeer(t, d.opts...)
	if err != nil {
		_ = t.Close()
		return nil, err
	}
	return p, nil
}

// handshakeError reads the start of a refused handshake's answer.
func handshakeError(resp *http.Response) error {
	e := &HandshakeError{StatusCode: resp.StatusCode}
	if resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		e.Message = strings.TrimSpace(string(b))
	}
	return e
}
