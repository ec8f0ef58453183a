//go:build goexperiment.jsonv2

package json

// jsonV2: encoding/json is built on encoding/json/v2 (GOEXPERIMENT=jsonv2).
// Two differences with its classic build matter to the tests that compare
// this package with it:
//   - it writes a string's invalid UTF-8 as the character U+FFFD, where
//     the classic build and AppendValue's fast path write the escape
//     \ufffd (the same string to a JSON reader);
//   - it does not detect an interface that holds a pointer to itself
//     (var v any; v = &v), and overflows the stack: such a value is left
//     out of the comparison.
const jsonV2 = true
