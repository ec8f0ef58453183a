//go:build !goexperiment.jsonv2

package json

// jsonV2 says whether encoding/json is built on encoding/json/v2
// (GOEXPERIMENT=jsonv2); see jsonv2_test.go for what changes then.
const jsonV2 = false
