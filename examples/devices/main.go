// Command devices shows server-to-client calls: a server that asks every
// connected device for its status and gathers the answers, and devices
// that sit behind NAT, only dial out, and serve the server's calls over
// the link they opened, re-dialing with backoff when it drops.
//
//	go run ./examples/devices                           # the server
//	go run ./examples/devices -device -name kitchen     # a device (more in other terminals)
//	curl http://127.0.0.1:8081/gather                   # ask every device now, as JSON
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // so that -tz works on systems without a time zone database
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "server: address to listen on")
	every := flag.Duration("every", 5*time.Second, "server: how often to ask every device for its status (0: never)")
	device := flag.Bool("device", false, "run as a device instead of the server")
	name := flag.String("name", "device-1", "device: its name")
	server := flag.String("server", "ws://127.0.0.1:8081/devices", "device: the server's WebSocket URL")
	tz := flag.String("tz", "Local", `device: its time zone, such as "Asia/Tokyo"`)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if *device {
		var loc *time.Location
		if loc, err = time.LoadLocation(*tz); err == nil {
			err = runDevice(ctx, *server, *name, loc, os.Stdout)
		}
	} else {
		err = run(ctx, *addr, *every, os.Stdout)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// Status is what a device answers when the server asks "status".
type Status struct {
	Name        string  `json:"name"`
	Time        string  `json:"time"` // the device's local time, RFC 3339
	Uptime      string  `json:"uptime"`
	Temperature float64 `json:"temperature"` // degrees Celsius, computed on the device
}

// console prints lines until it is silenced: hooks and handlers may still
// be finishing when run returns, and must not print after that.
type console struct {
	mu  sync.Mutex
	out io.Writer
	off bool
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.off {
		fmt.Fprintf(c.out, format+"\n", args...)
	}
}

func (c *console) silence() {
	c.mu.Lock()
	c.off = true
	c.mu.Unlock()
}
