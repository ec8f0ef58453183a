package codec_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
)

// The decoding limits are the same for every codec: the same value, sent
// as JSON or as CBOR, is taken or refused alike, with the same error.
func Example_limits() {
	for _, n := range []int{70_000, codec.MaxItems, codec.MaxItems + 1} {
		ones := make([]int, n)
		for i := range ones {
			ones[i] = 1
		}
		for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
			data, err := c.Marshal(ones)
			if err != nil {
				panic(err)
			}
			var got []int
			err = c.Unmarshal(data, &got)
			fmt.Printf("%s, %d elements: %d decoded, over a limit: %v\n", c.Name(), n, len(got), errors.Is(err, codec.ErrLimit))
		}
	}
	deep := strings.Repeat("[", codec.MaxDepth+1) + strings.Repeat("]", codec.MaxDepth+1)
	fmt.Println(json.Codec{}.Unmarshal([]byte(deep), new(any)))
	// Output:
	// json, 70000 elements: 70000 decoded, over a limit: false
	// cbor, 70000 elements: 70000 decoded, over a limit: false
	// json, 100000 elements: 100000 decoded, over a limit: false
	// cbor, 100000 elements: 100000 decoded, over a limit: false
	// json, 100001 elements: 0 decoded, over a limit: true
	// cbor, 100001 elements: 0 decoded, over a limit: true
	// codec: over a decoding limit: nesting deeper than 128 levels
}
