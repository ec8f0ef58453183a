package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/parleyrpc/parley/internal/bench"
)

// The chart is drawn by hand with the standard image packages and a
// bitmap font: a bar per library and direction (the routed calls, which
// have none, under one label), in two groups (1 and 64 in flight), the median ratio of time per call to the raw echo, with a
// whisker for the min-max over passes (cut at the top of the plot when
// longer), a line at 1 (the raw echo) and a dashed line at the 1.3x
// target.

var (
	white    = color.RGBA{255, 255, 255, 255}
	black    = color.RGBA{30, 30, 30, 255}
	grey     = color.RGBA{200, 200, 200, 255}
	red      = color.RGBA{200, 40, 40, 255}
	libColor = map[string]color.RGBA{
		"parley-json":        {40, 100, 200, 255},
		"parley-cbor":        {90, 170, 230, 255},
		"parley-json-inline": {20, 50, 120, 255},
		"sourcegraph":        {230, 140, 40, 255},
		"jrpc2":              {150, 90, 170, 255},
		"hub-json":           {30, 150, 130, 255},
		"hub-cbor":           {120, 200, 180, 255},
		"hub-json-inline":    {10, 90, 80, 255},
		"nexus":              {160, 120, 80, 255},
		"raw-relay":          {150, 150, 150, 255},
	}
	// The legend's rows: calls between two ends, then routed calls.
	legend = [][]string{
		{"parley-json", "parley-cbor", "parley-json-inline", "sourcegraph", "jrpc2"},
		{"hub-json", "hub-cbor", "hub-json-inline", "nexus", "raw-relay (routed calls: caller, router, callee)"},
	}
)

const (
	chartW, chartH = 1300, 580
	marginL        = 70
	marginR        = 110
	marginT        = 115
	marginB        = 70
	glyphW, glyphH = 7, 13
)

func writeChart(path string, r *report) error {
	img := image.NewRGBA(image.Rect(0, 0, chartW, chartH))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)

	type bar struct {
		k     key
		ratio stat
	}
	var groups [][]bar
	top := 1.4
	for _, inflight := range bench.InFlight {
		var g []bar
		for _, k := range r.results.keys {
			if k.InFlight != inflight || k.Lib == "raw" {
				continue
			}
			s := r.results.ratio(k, "ns/op")
			if !s.ok() {
				continue
			}
			g = append(g, bar{k, s})
			top = max(top, s.Med*1.5)
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	// The scale follows the medians; a whisker longer than the plot is
	// cut at its top and marked with an arrowhead.
	top = math.Ceil(top*2) / 2
	plotH := chartH - marginT - marginB
	y := func(v float64) int { return chartH - marginB - int(min(v, top)/top*float64(plotH)) }

	text(img, chartW/2, 28, "Time per call / raw gorilla echo", black, 2, true)
	text(img, chartW/2, 50, fmt.Sprintf("ratio to the raw echo of the same pass and in-flight level; median of %d passes, whiskers min-max; lower is better", r.passes), black, 1, true)

	// Grid and axis labels every half.
	for v := 0.0; v <= top+1e-9; v += 0.5 {
		hline(img, marginL, chartW-marginR, y(v), grey, false)
		text(img, marginL-8-glyphW*4, y(v)+4, fmt.Sprintf("%4.1f", v), black, 1, false)
	}
	hline(img, marginL, chartW-marginR, y(1), black, false)
	hline(img, marginL, chartW-marginR, y(targetTimeRatio), red, true)
	// The target's label above its line, raw's below, so they never meet.
	text(img, chartW-marginR+8, y(targetTimeRatio)-3, "1.3x target", red, 1, false)
	text(img, chartW-marginR+8, y(1)+12, "raw = 1.0", black, 1, false)

	// Bars: groups share the width, with a gap between them.
	plotW := chartW - marginL - marginR
	groupW := plotW / max(len(groups), 1)
	for gi, g := range groups {
		x0 := marginL + gi*groupW + groupW/12
		slot := (groupW - groupW/6) / len(g)
		barW := slot * 2 / 3
		for bi, b := range g {
			bx := x0 + bi*slot + (slot-barW)/2
			fill(img, image.Rect(bx, y(b.ratio.Med), bx+barW, y(0)), libColor[b.k.Lib])
			cx := bx + barW/2
			vline(img, cx, y(b.ratio.Max), y(b.ratio.Min), black)
			if b.ratio.Max > top {
				for i := range 6 { // an arrowhead: the range goes on above
					hline(img, cx-i, cx+i+1, y(top)+i, black, false)
				}
			} else {
				hline(img, cx-5, cx+6, y(b.ratio.Max), black, false)
			}
			hline(img, cx-5, cx+6, y(b.ratio.Min), black, false)
			// On white, so that a grid or reference line does not cross it.
			v := fmt.Sprintf("%.2f", b.ratio.Med)
			w := glyphW * len(v)
			fill(img, image.Rect(cx-w/2-2, y(b.ratio.Max)-18, cx+w/2+2, y(b.ratio.Max)-3), white)
			text(img, cx, y(b.ratio.Max)-6, v, black, 1, true)
			if b.k.Dir != bench.Routed {
				text(img, cx, y(0)+16, b.k.Dir, black, 1, true)
			}
		}
		// Routed calls have no direction: one label under all of them.
		first, last := -1, -1
		for bi, b := range g {
			if b.k.Dir == bench.Routed {
				last = bi
				if first < 0 {
					first = bi
				}
			}
		}
		if first >= 0 {
			l, r := x0+first*slot+slot/6, x0+(last+1)*slot-slot/6
			hline(img, l, r, y(0)+8, black, false)
			text(img, (l+r)/2, y(0)+20, "routed", black, 1, true)
		}
		label := fmt.Sprintf("%d in flight", g[0].k.InFlight)
		text(img, marginL+gi*groupW+groupW/2, y(0)+42, label, black, 2, true)
	}

	// Legend, one entry per library, above the plot.
	for row, libs := range legend {
		lx, ly := marginL, 62+row*20
		for _, lib := range libs {
			name, _, _ := strings.Cut(lib, " ")
			fill(img, image.Rect(lx, ly, lx+14, ly+12), libColor[name])
			text(img, lx+20, ly+11, lib, black, 1, false)
			lx += 20 + glyphW*len(lib) + 30
		}
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r.Canon(), image.NewUniform(c), image.Point{}, draw.Src)
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color, dashed bool) {
	for x := x0; x < x1; x++ {
		if !dashed || (x/6)%2 == 0 {
			img.Set(x, y, c)
			if dashed {
				img.Set(x, y+1, c)
			}
		}
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.Color) {
	for y := min(y0, y1); y <= max(y0, y1); y++ {
		img.Set(x, y, c)
	}
}

// text draws s with its baseline at y, starting at x or centred on it,
// in the 7x13 bitmap font magnified scale times.
func text(dst *image.RGBA, x, y int, s string, c color.Color, scale int, centre bool) {
	w := glyphW * len(s)
	small := image.NewRGBA(image.Rect(0, 0, w, glyphH))
	d := font.Drawer{Dst: small, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(0, glyphH-2)}
	d.DrawString(s)
	if centre {
		x -= w * scale / 2
	}
	top := y - (glyphH-2)*scale
	for sy := range glyphH {
		for sx := range w {
			px := small.RGBAAt(sx, sy)
			if px.A == 0 {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					dst.Set(x+sx*scale+dx, top+sy*scale+dy, px)
				}
			}
		}
	}
}
