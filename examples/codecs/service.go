package main

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/parleyrpc/parley/rpc"
)

// The service is the same for both codecs: its handlers take and return Go
// values, and the codec of each connection decides the bytes.

// Day is one day of a forecast.
type Day struct {
	Date    string `json:"date"`
	Low     int    `json:"low"`
	High    int    `json:"high"`
	Summary string `json:"summary"`
}

// Stats summarises a series of readings.
type Stats struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Image is a small grey-scale picture: raw bytes, which JSON carries as
// base64 text and CBOR as a byte string.
type Image struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Pixels []byte `json:"pixels"`
}

// Size is the params of "thumbnail".
type Size struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// newService returns the router of the service.
func newService() (*rpc.Router, error) {
	r := rpc.NewRouter()
	return r, errors.Join(
		r.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
			sum := 0
			for _, n := range p {
				sum += n
			}
			return sum, nil
		})),
		r.Register("greet", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
			return "Hello, " + p.Name + "!", nil
		})),
		r.Register("forecast", rpc.Func(forecast)),
		r.Register("stats", rpc.Func(stats)),
		r.Register("thumbnail", rpc.Func(thumbnail)),
		r.Register("divide", rpc.Func(func(_ context.Context, p [2]float64) (float64, error) {
			if p[1] == 0 {
				return 0, &rpc.Error{Code: -32020, Message: "division by zero", Data: map[string]any{"dividend": p[0]}}
			}
			return p[0] / p[1], nil
		})),
	)
}

// forecast makes up a deterministic forecast, so that both codecs carry
// the same values.
func forecast(_ context.Context, p struct {
	City string `json:"city"`
	Days int    `json:"days"`
}) ([]Day, error) {
	if p.Days < 1 || p.Days > 14 {
		return nil, &rpc.Error{Code: rpc.CodeInvalidParams, Message: "days must be 1 to 14"}
	}
	summaries := []string{"sunny", "partly cloudy", "showers", "windy"}
	days := make([]Day, p.Days)
	for i := range days {
		low := 12 + (len(p.City)+3*i)%6
		days[i] = Day{
			Date:    fmt.Sprintf("2025-06-%02d", i+1),
			Low:     low,
			High:    low + 7 + i%3,
			Summary: summaries[(len(p.City)+i)%len(summaries)],
		}
	}
	return days, nil
}

func stats(_ context.Context, xs []float64) (Stats, error) {
	if len(xs) == 0 {
		return Stats{}, &rpc.Error{Code: rpc.CodeInvalidParams, Message: "no readings"}
	}
	s := Stats{N: len(xs), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range xs {
		s.Mean += x
		s.Min = min(s.Min, x)
		s.Max = max(s.Max, x)
	}
	s.Mean /= float64(len(xs))
	return s, nil
}

// thumbnail draws a diagonal gradient of the size asked.
func thumbnail(_ context.Context, p Size) (Image, error) {
	if p.Width < 1 || p.Height < 1 || p.Width*p.Height > 64*64 {
		return Image{}, &rpc.Error{Code: rpc.CodeInvalidParams, Message: "1x1 to 64x64 pixels"}
	}
	img := Image{Width: p.Width, Height: p.Height, Pixels: make([]byte, p.Width*p.Height)}
	span := max(p.Width+p.Height-2, 1) // from black at the top left to white at the bottom right
	for y := range p.Height {
		for x := range p.Width {
			img.Pixels[y*p.Width+x] = byte((x + y) * 255 / span)
		}
	}
	return img, nil
}
