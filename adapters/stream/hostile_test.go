package stream_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
)

// hostileServer serves hostile.Service over a Unix socket with the given
// framing and returns how to dial it.
func hostileServer(t *testing.T, f stream.Framing, svc *hostile.Service) func(ctx context.Context) (net.Conn, error) {
	_, addr := serve(t, "unix", &stream.ServerOptions{Framing: f, PeerOptions: svc.PeerOptions()})
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, addr.Network(), addr.String())
	}
}

// TestHostileFraming runs internal/hostile's framing cases for each
// framing: bad, duplicate, huge and missing Content-Length, a header
// without a body, garbage between frames, 10 MB lines and frames, streams
// cut mid-frame. Each gets its answer (-32700 for broken framing, -32600
// for a message over the limit, refused before it is read whole), then the
// link goes on where the framing lets it resync, and ends where it cannot.
func TestHostileFraming(t *testing.T) {
	for _, f := range []stream.Framing{stream.Header, stream.Lines} {
		t.Run(f.String(), func(t *testing.T) {
			svc := hostile.NewService()
			hostile.RunStream(t, hostile.StreamTarget{Lines: f == stream.Lines, Dial: hostileServer(t, f, svc), Service: svc})
		})
	}
}

// TestHostileMessages runs the message corpus, the call flood, the cancel
// flood and the flood of a client that never reads of internal/hostile
// over each framing (JSON). Under line
// framing, the corpus's empty message and message of only whitespace are
// blank lines, which are skipped: no answer.
func TestHostileMessages(t *testing.T) {
	for _, f := range []stream.Framing{stream.Header, stream.Lines} {
		t.Run(f.String(), func(t *testing.T) {
			svc := hostile.NewService()
			dial := hostileServer(t, f, svc)
			tg := hostile.Target{
				Codec:   json.Codec{},
				Service: svc,
				Dial: func(ctx context.Context) (hostile.Conn, error) {
					conn, err := dial(ctx)
					if err != nil {
						return nil, err
					}
					return frameConn(conn, f == stream.Lines), nil
				},
				// Refused while reading, answered -32600, and skipped: the
				// link stays up.
				OversizeCloses: false,
			}
			cases := hostile.Corpus(tg.Codec)
			if f == stream.Lines {
				for i := range cases {
					if n := cases[i].Name; n == "only whitespace" || n == "empty message" {
						cases[i].Want = hostile.Want{Kind: hostile.NoAnswer}
					}
				}
			}
			t.Run("corpus", func(t *testing.T) { hostile.RunCases(t, tg, cases) })
			t.Run("call flood", func(t *testing.T) { hostile.Flood(t, tg) })
			t.Run("cancel flood", func(t *testing.T) { hostile.CancelFlood(t, tg) })
			t.Run("unread flood", func(t *testing.T) { hostile.UnreadFlood(t, tg) })
			if n := svc.Panics(); n > 0 {
				t.Errorf("the peers logged %d errors", n)
			}
		})
	}
}

// frameConn is a hostile.Conn that frames each message for the framing.
func frameConn(conn net.Conn, lines bool) hostile.Conn {
	read := hostile.FrameReader(conn, lines)
	write := func(msg []byte) error {
		var frame []byte
		if lines {
			// The corpus's whitespace-only message would be a blank line,
			// skipped: send it as the message's own bytes on one line.
			frame = append([]byte(strings.NewReplacer("\n", " ", "\r", " ").Replace(string(msg))), '\n')
		} else {
			frame = append([]byte("Content-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"), msg...)
		}
		_, err := conn.Write(frame)
		return err
	}
	return hostile.NewConn(read, write, conn.Close)
}
