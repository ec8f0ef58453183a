package bench

import (
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
)

// wireID is the request id the raw echo's bytes carry: four digits, as
// most of a benchmark run's ids have.
const wireID = 1000

// Request returns the bytes Parley's JSON codec sends for the call
// add([1,2]); the raw echo sends exactly these.
func Request() []byte { return request }

// Answer returns the bytes Parley's JSON codec sends to answer that call
// with 3; the raw echo answers exactly these.
func Answer() []byte { return answer }

var request, answer = wireBytes()

func wireBytes() (req, ans []byte) {
	c := json.Codec{}
	params, err := c.Marshal([]int{1, 2})
	if err != nil {
		panic(err)
	}
	req, err = c.AppendMessage(nil, &codec.Message{ID: codec.Int(wireID), Method: "add", Params: params})
	if err != nil {
		panic(err)
	}
	result, err := c.Marshal(3)
	if err != nil {
		panic(err)
	}
	ans, err = c.AppendMessage(nil, &codec.Message{ID: codec.Int(wireID), Result: result})
	if err != nil {
		panic(err)
	}
	return req, ans
}
