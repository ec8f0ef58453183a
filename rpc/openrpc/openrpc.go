package openrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/parleyrpc/parley/rpc"
)

// Version is the OpenRPC specification version of the documents.
const Version = "1.3.2"

// Info is the service's info object: its title and version are required
// by OpenRPC.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Document is an OpenRPC document.
type Document struct {
	OpenRPC string   `json:"openrpc"`
	Info    Info     `json:"info"`
	Methods []Method `json:"methods"`
}

// Method describes one method.
type Method struct {
	Name           string              `json:"name"`
	Description    string              `json:"description,omitempty"`
	ParamStructure string              `json:"paramStructure,omitempty"`
	Params         []ContentDescriptor `json:"params"`
	Result         *ContentDescriptor  `json:"result,omitempty"`
}

// ContentDescriptor describes params or a result.
type ContentDescriptor struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Required    bool               `json:"required,omitempty"`
	Schema      *jsonschema.Schema `json:"schema"`
	// WholeParams marks the one descriptor of params described as a whole
	// (see the package documentation).
	WholeParams bool `json:"x-parley-whole-params,omitempty"`
}

// anything is the schema that any value matches.
func anything() *jsonschema.Schema { return &jsonschema.Schema{} }

// typeSchemas are the types described otherwise than by their Go shape.
var typeSchemas = map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[rpc.Raw]():         anything(),
	reflect.TypeFor[json.RawMessage](): anything(),
}

// NewDocument describes the methods of r. It fails only for an Info
// without a title or version.
func NewDocument(r *rpc.Router, info Info) (*Document, error) {
	if info.Title == "" || info.Version == "" {
		return nil, fmt.Errorf("openrpc: Info needs a Title and a Version")
	}
	doc := &Document{OpenRPC: Version, Info: info, Methods: []Method{}}
	for _, m := range r.Describe() {
		doc.Methods = append(doc.Methods, describe(m))
	}
	return doc, nil
}

// Register serves rpc.discover on r: it answers with the document of r's
// methods as they are at the time of the call.
func Register(r *rpc.Router, info Info) error {
	if _, err := NewDocument(r, info); err != nil {
		return err
	}
	return r.RegisterDiscover(rpc.Described(rpc.Func(func(context.Context, any) (*Document, error) {
		return NewDocument(r, info)
	}), "Returns the OpenRPC description of this service."))
}

// describe makes one method's entry.
func describe(m rpc.MethodInfo) Method {
	out := Method{Name: m.Name, Description: m.Description, Params: []ContentDescriptor{}}
	if !m.Typed {
		out.Params = append(out.Params, ContentDescriptor{Name: "params", Schema: anything(), WholeParams: true})
		out.Result = &ContentDescriptor{Name: "result", Schema: anything()}
		return out
	}
	if m.Result != nil {
		out.Result = &ContentDescriptor{Name: "result", Schema: schemaFor(m.Result)}
	} else {
		out.Result = &ContentDescriptor{Name: "result", Schema: &jsonschema.Schema{Type: "null"}}
	}
	if m.Params == nil {
		return out
	}
	t := m.Params
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s := schemaFor(m.Params)
	switch {
	case t.Kind() == reflect.Struct && s.Properties != nil:
		out.ParamStructure = "by-name"
		required := make(map[string]bool, len(s.Required))
		for _, name := range s.Required {
			required[name] = true
		}
		for _, name := range s.PropertyOrder {
			p := s.Properties[name]
			out.Params = append(out.Params, ContentDescriptor{Name: name, Description: p.Description, Required: required[name], Schema: p})
		}
	case t.Kind() == reflect.Array && s.Items != nil:
		out.ParamStructure = "by-position"
		for i := 0; i < t.Len(); i++ {
			out.Params = append(out.Params, ContentDescriptor{Name: fmt.Sprintf("p%d", i), Required: true, Schema: s.Items})
		}
	default:
		out.Params = append(out.Params, ContentDescriptor{Name: "params", Schema: s, WholeParams: true})
	}
	return out
}

// schemaFor infers t's schema, or says it cannot.
func schemaFor(t reflect.Type) *jsonschema.Schema {
	s, err := jsonschema.ForType(t, &jsonschema.ForOptions{TypeSchemas: typeSchemas})
	if err != nil {
		return &jsonschema.Schema{Description: fmt.Sprintf("%v: not described (%v)", t, err)}
	}
	return s
}
