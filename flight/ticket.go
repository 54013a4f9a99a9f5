package flight

import (
	"encoding/json"
	"fmt"
)

// Ticket kinds. A server answers DoGet for KindBlock itself; other kinds
// go to the handler registered for them in Server.Get.
const (
	KindBlock = "block" // a block's data, once
	KindRing  = "ring"  // a ring's frames, as a stream (ServeRings)
)

// A Ticket names what a DoGet returns: a kind and an ndshm name.
// It travels as JSON, {"kind":"block","name":"x"}, so any Flight client
// can write one by hand.
type Ticket struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Bytes encodes the ticket as a Flight ticket carries it.
func (t Ticket) Bytes() []byte {
	b, _ := json.Marshal(t) // two strings: cannot fail
	return b
}

// ParseTicket decodes what Bytes encodes.
func ParseTicket(b []byte) (Ticket, error) {
	var t Ticket
	if err := json.Unmarshal(b, &t); err != nil || t.Kind == "" || t.Name == "" {
		return Ticket{}, fmt.Errorf("ticket %.64q: want {\"kind\":K,\"name\":N}", b)
	}
	return t, nil
}

// A batchMeta is the app_metadata of one record batch: its place in the
// stream, so the receiver can check order and completeness.
type batchMeta struct {
	Seq    int64 `json:"seq"`    // 0, 1, 2, ... in stream order
	Offset int64 `json:"offset"` // the batch's first byte in the array's data
}

func (m batchMeta) bytes() []byte {
	b, _ := json.Marshal(m)
	return b
}

func parseBatchMeta(b []byte) (batchMeta, error) {
	var m batchMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return batchMeta{}, fmt.Errorf("batch app_metadata %.64q: want {\"seq\":N,\"offset\":N}", b)
	}
	return m, nil
}
