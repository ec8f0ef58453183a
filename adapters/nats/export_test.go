package nats

// WireSeeds returns one well-formed message of each kind.
func WireSeeds() [][]byte {
	q := request{op: opCall, origin: "n1", key: 7, method: "m", timeout: 1500000000, params: []encoded{{"json", []byte(`[1]`)}, {"cbor", []byte{0x81, 0x01}}}}
	b := appendAnswersHeader(nil, "n2", true, 3)
	for _, a := range []answer{
		{id: "a", status: statusOK, value: encoded{"json", []byte(`"x"`)}},
		{id: "b", status: statusError, code: -32601, message: "no", value: encoded{"json", []byte(`{}`)}},
		{id: "c", status: statusLost, message: "gone"},
	} {
		b = a.append(b)
	}
	return [][]byte{
		q.append(nil),
		cancel{origin: "n1", key: 9}.append(nil),
		(&hubEvent{origin: "n1", epoch: 77, seq: 3, data: encoded{"json", []byte(`{"a":1}`)}}).append(nil),
		b,
		[]byte(`{"op":"delta","node":"n1","seq":3,"join":[{"id":"x","at":1,"codec":"json"}],"leave":["y"]}`),
		[]byte(`{"op":"hb","node":"n1","seq":3,"n":1,"digest":12,"every":1000}`),
	}
}

// DecodeAll runs every decoder over b and checks that what decodes
// encodes back to the same bytes.
func DecodeAll(b []byte) {
	if q, err := decodeRequest(b); err == nil {
		q2, err := decodeRequest(q.append(nil))
		if err != nil || q2.op != q.op || q2.origin != q.origin || q2.key != q.key || q2.method != q.method ||
			q2.timeout != q.timeout || len(q2.params) != len(q.params) {
			panic("request does not round-trip")
		}
	}
	if c, err := decodeCancel(b); err == nil {
		if c2, err := decodeCancel(c.append(nil)); err != nil || c2 != c {
			panic("cancel does not round-trip")
		}
	}
	if a, err := decodeAnswers(b); err == nil {
		out := appendAnswersHeader(nil, a.node, a.final, a.total)
		for i := range a.list {
			out = a.list[i].append(out)
		}
		a2, err := decodeAnswers(out)
		if err != nil || len(a2.list) != len(a.list) || a2.node != a.node {
			panic("answers do not round-trip")
		}
	}
	if e, err := decodeEvent(b); err == nil {
		if e2, err := decodeEvent(e.append(nil)); err != nil || e2.origin != e.origin || e2.seq != e.seq || string(e2.data.data) != string(e.data.data) {
			panic("hubEvent does not round-trip")
		}
	}
	decodePresence(b)
}
