package main

import (
	"context"
	"io"
	"math"
	"net/url"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// runDevice is a device: it dials the server (and only dials: behind NAT,
// nothing can reach it), serves the server's calls on that link, and
// re-dials with backoff whenever the link drops, until ctx ends.
func runDevice(ctx context.Context, serverURL, name string, loc *time.Location, out io.Writer) error {
	con := &console{out: out}
	defer con.silence() // handlers of the last link may still be finishing
	started := time.Now()

	routes := rpc.NewRouter()
	err := routes.Register("status", rpc.Func(func(context.Context, struct{}) (Status, error) {
		st := Status{
			Name:        name,
			Time:        time.Now().In(loc).Format(time.RFC3339),
			Uptime:      time.Since(started).Round(time.Second).String(),
			Temperature: temperature(name, time.Now()),
		}
		con.printf("%s: the server asked for my status: %.1f °C at %s", name, st.Temperature, st.Time)
		return st, nil
	}))
	if err != nil {
		return err
	}

	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("name", name)
	u.RawQuery = q.Encode()

	client, err := websocket.NewReconnecting(u.String(), &websocket.ReconnectOptions{
		DialOptions: websocket.DialOptions{Handler: routes},
		MaxBackoff:  5 * time.Second,
		OnConnect:   func(*rpc.Peer) { con.printf("%s: connected to %s", name, serverURL) },
		OnDisconnect: func(err error) {
			if ctx.Err() == nil {
				con.printf("%s: link lost (%v); dialing again", name, err)
			}
		},
	})
	if err != nil {
		return err
	}
	con.printf("device %s dialing %s (Ctrl-C to stop)", name, serverURL)
	<-ctx.Done()
	client.Close()
	<-client.Done()
	con.printf("%s: stopped", name)
	return nil
}

// temperature is the device's "sensor": a reading that drifts with time,
// different for each device.
func temperature(name string, t time.Time) float64 {
	phase := 0.0
	for _, c := range name {
		phase += float64(c)
	}
	v := 21 + 3*math.Sin(float64(t.UnixMilli())/60000+phase)
	return math.Round(v*10) / 10
}
