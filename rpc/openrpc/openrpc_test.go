package openrpc_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/openrpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

type point struct {
	X float64 `json:"x" jsonschema:"the horizontal coordinate"`
	Y float64 `json:"y"`
}

type moveParams struct {
	Who   string    `json:"who"`
	To    point     `json:"to"`
	Speed int       `json:"speed,omitempty"`
	At    time.Time `json:"at,omitzero"`
}

type tree struct {
	Name     string  `json:"name"`
	Children []*tree `json:"children"`
}

// service registers methods of every shape the document describes.
func service(t *testing.T) *rpc.Router {
	r := rpc.NewRouter()
	reg := func(name string, h rpc.Handler) {
		if err := r.Register(name, h); err != nil {
			t.Fatal(err)
		}
	}
	reg("move", rpc.Described(rpc.Func(func(_ context.Context, p moveParams) (point, error) { return p.To, nil }),
		"Moves someone to a point."))
	reg("pair", rpc.Func(func(_ context.Context, p [2]int) (int, error) { return p[0] + p[1], nil }))
	reg("sum", rpc.Func(func(_ context.Context, p []int) (int, error) { return len(p), nil }))
	reg("raw", rpc.Func(func(_ context.Context, p rpc.Raw) (rpc.Raw, error) { return p, nil }))
	reg("tree", rpc.Func(func(_ context.Context, p tree) (*tree, error) { return &p, nil }))
	reg("untyped", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return nil, nil }))
	if err := r.RegisterFunc("ping", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := openrpc.Register(r, openrpc.Info{Title: "test service", Version: "0.1.0"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// discover calls rpc.discover on r over a pipe, as a client would, and
// returns the document as JSON.
func discover(t *testing.T, r *rpc.Router) json.RawMessage {
	a, b := rpc.Pipe()
	server, err := rpc.NewPeer(a, rpc.WithHandler(r))
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client, err := rpc.NewPeer(b)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := rpc.Call[json.RawMessage](ctx, client, rpc.DiscoverMethod, nil)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestDiscover: the document lists every method (not rpc.discover
// itself), with named params for a struct, positional ones for an array,
// whole params otherwise, descriptions, and required fields.
func TestDiscover(t *testing.T) {
	var doc openrpcDoc
	if err := json.Unmarshal(discover(t, service(t)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenRPC != openrpc.Version || doc.Info.Title != "test service" {
		t.Fatalf("header: %+v", doc)
	}
	var names []string
	byName := map[string]methodDoc{}
	for _, m := range doc.Methods {
		names = append(names, m.Name)
		byName[m.Name] = m
	}
	if want := []string{"move", "pair", "ping", "raw", "sum", "tree", "untyped"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("methods %v, want %v", names, want)
	}
	move := byName["move"]
	if move.Description != "Moves someone to a point." || move.ParamStructure != "by-name" {
		t.Fatalf("move: %+v", move)
	}
	var params []string
	for _, p := range move.Params {
		params = append(params, p.Name+map[bool]string{true: "!", false: "?"}[p.Required])
	}
	if want := []string{"who!", "to!", "speed?", "at?"}; !reflect.DeepEqual(params, want) {
		t.Fatalf("move params %v, want %v", params, want)
	}
	if d := move.Params[1].Schema["properties"].(map[string]any)["x"].(map[string]any)["description"]; d != "the horizontal coordinate" {
		t.Fatalf("point.x description %v", d)
	}
	if pair := byName["pair"]; pair.ParamStructure != "by-position" || len(pair.Params) != 2 {
		t.Fatalf("pair: %+v", pair)
	}
	if sum := byName["sum"]; len(sum.Params) != 1 || !sum.Params[0].Whole || sum.Params[0].Schema["type"] == nil {
		t.Fatalf("sum: %+v", sum)
	}
	if ping := byName["ping"]; len(ping.Params) != 0 || ping.Result.Schema["type"] != "null" {
		t.Fatalf("ping: %+v", ping)
	}
	if tr := byName["tree"]; tr.Params[0].Schema["description"] == nil {
		t.Fatalf("tree (recursive): %+v, want a note that it is not described", tr)
	}
}

// schemaDoc is a schema object; a schema that matches anything is the
// JSON true, read as an empty schemaDoc.
type schemaDoc map[string]any

func (s *schemaDoc) UnmarshalJSON(b []byte) error {
	if string(b) == "true" {
		*s = schemaDoc{}
		return nil
	}
	return json.Unmarshal(b, (*map[string]any)(s))
}

type openrpcDoc struct {
	OpenRPC string       `json:"openrpc"`
	Info    openrpc.Info `json:"info"`
	Methods []methodDoc  `json:"methods"`
}

type methodDoc struct {
	Name           string    `json:"name"`
	Description    string    `json:"description"`
	ParamStructure string    `json:"paramStructure"`
	Params         []descDoc `json:"params"`
	Result         descDoc   `json:"result"`
}

type descDoc struct {
	Name     string    `json:"name"`
	Required bool      `json:"required"`
	Schema   schemaDoc `json:"schema"`
	Whole    bool      `json:"x-parley-whole-params"`
}

// TestValidatedByOthers: the document passes @open-rpc/schema-utils-js's
// validation against the OpenRPC meta-schema, ajv compiles every schema in
// it, and ajv accepts good params for move and refuses bad ones.
func TestValidatedByOthers(t *testing.T) {
	dir := nodetest.Setup(t, "testdata")
	tmp := t.TempDir()
	docFile, samplesFile := filepath.Join(tmp, "doc.json"), filepath.Join(tmp, "samples.json")
	if err := os.WriteFile(docFile, discover(t, service(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	samples := `{"move": {
		"good": [{"who": "ann", "to": {"x": 1, "y": 2}}, {"who": "bo", "to": {"x": 0, "y": 0}, "speed": 3, "at": "2026-01-02T03:04:05Z"}],
		"bad": [{"to": {"x": 1, "y": 2}}, {"who": "ann", "to": {"x": "one", "y": 2}}, {"who": "ann", "to": {"x": 1, "y": 2, "z": 3}}, {"who": 7, "to": {"x": 1, "y": 2}}]
	}}`
	if err := os.WriteFile(samplesFile, []byte(samples), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out struct {
		Valid   bool     `json:"valid"`
		Errors  []string `json:"errors"`
		Samples map[string]struct {
			Good []bool `json:"good"`
			Bad  []bool `json:"bad"`
		} `json:"samples"`
	}
	raw := nodetest.Run(ctx, t, dir, "validate.js", docFile, samplesFile)
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("validate.js printed %q: %v", raw, err)
	}
	if !out.Valid {
		t.Fatalf("the document is not valid: %v", out.Errors)
	}
	s := out.Samples["move"]
	if !reflect.DeepEqual(s.Good, []bool{true, true}) || !reflect.DeepEqual(s.Bad, []bool{false, false, false, false}) {
		t.Fatalf("move's params schema: good samples %v (want all true), bad %v (want all false)", s.Good, s.Bad)
	}
}
