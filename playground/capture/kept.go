package capture

import (
	"strings"
	"time"
	"unsafe"

	"github.com/corslab/corslab/playground/cors"
)

// Kept is an exchange as a session keeps it: all its text in one string,
// each piece once, and its numbers. The frame it was sent in carries every
// header twice (the raw head and the parsed list) and each body twice (the
// body and the raw text); Kept holds the heads and the bodies, and makes
// the rest again when asked: the exchange (for a page that reconnects, a
// HAR, a lesson's goals) and the engine's view of it (for every run). One
// string and no slices of strings also keeps the garbage collector's work
// small however many exchanges the sessions hold.
type Kept struct {
	text  string           // the pieces, back to back
	ends  [numPieces]int32 // where each piece ends in text
	start time.Time
	seq   uint64
	ms    float64 // DurationMs
	sizes [2]int64
	// status is the response's; flags the bodies' and how Raw is made.
	status int32
	flags  uint8
	// lists holds header lists that no head gave (an exchange made by
	// hand, or a response that never came): nil for a captured exchange.
	lists *[2][][2]string
}

// The pieces of Kept.text, in order.
const (
	pOrigin = iota
	pKind
	pClient
	pReqMethod
	pReqTarget
	pReqProto
	pReqHead
	pReqBody
	pReqEncoding
	pRespProto
	pRespReason
	pRespHead
	pRespBody
	pRespEncoding
	pReqRaw  // empty when Raw.Request is the head and the raw body
	pRespRaw // likewise
	numPieces
)

const (
	fReqTruncated = 1 << iota
	fRespTruncated
	fReqDropped
	fRespDropped
	fReqRawKept // pReqRaw holds Raw.Request
	fRespRawKept
)

// Keep makes the kept form of ex.
func Keep(ex *Exchange) Kept {
	k := Kept{start: ex.Start, seq: ex.Seq, ms: ex.DurationMs,
		sizes: [2]int64{ex.Request.BodySize, ex.Response.BodySize}, status: int32(ex.Response.Status)}
	flag := func(set bool, f uint8) {
		if set {
			k.flags |= f
		}
	}
	flag(ex.Request.BodyTruncated, fReqTruncated)
	flag(ex.Response.BodyTruncated, fRespTruncated)
	flag(ex.Request.BodyDropped, fReqDropped)
	flag(ex.Response.BodyDropped, fRespDropped)
	reqRaw, respRaw := "", ""
	if !isHeadAndBody(ex.Raw.Request, &ex.Request) {
		reqRaw, k.flags = ex.Raw.Request, k.flags|fReqRawKept
	}
	if !isHeadAndBody(ex.Raw.Response, &ex.Response) {
		respRaw, k.flags = ex.Raw.Response, k.flags|fRespRawKept
	}
	// A message without a head (made by hand, or a response that never
	// came) keeps its lists as they are. A request's reason and status and
	// a response's method and target are not kept: neither has them.
	if !fromHead(&ex.Request) || !fromHead(&ex.Response) {
		k.lists = &[2][][2]string{ex.Request.Headers, ex.Response.Headers}
	}
	pieces := [numPieces]string{
		pOrigin: ex.Origin, pKind: ex.Kind, pClient: ex.Client,
		pReqMethod: ex.Request.Method, pReqTarget: ex.Request.Target, pReqProto: ex.Request.Proto,
		pReqHead: ex.Request.head, pReqBody: ex.Request.Body, pReqEncoding: ex.Request.BodyEncoding,
		pRespProto: ex.Response.Proto, pRespReason: ex.Response.Reason,
		pRespHead: ex.Response.head, pRespBody: ex.Response.Body, pRespEncoding: ex.Response.BodyEncoding,
		pReqRaw: reqRaw, pRespRaw: respRaw,
	}
	n := 0
	for _, p := range pieces {
		n += len(p)
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range pieces {
		b.WriteString(p)
		k.ends[i] = int32(b.Len())
	}
	k.text = b.String()
	return k
}

// isHeadAndBody reports whether raw is m's head then rawBody(m), as
// capture writes it, without building that string: most raw texts are.
func isHeadAndBody(raw string, m *Message) bool {
	rest, ok := strings.CutPrefix(raw, m.head)
	switch {
	case !ok:
		return false
	case m.BodySize == 0:
		return rest == ""
	case m.BodyEncoding == "base64" || m.BodyTruncated:
		return rest == rawBody(m)
	}
	return rest == m.Body
}

// fromHead reports whether m's header list is its head's: capture cuts
// the list from the head (parseHeadText, the only place that sets head)
// and never changes it. Then the head alone is kept.
func fromHead(m *Message) bool { return m.head != "" }

func (k *Kept) piece(i int) string {
	from := int32(0)
	if i > 0 {
		from = k.ends[i-1]
	}
	return k.text[from:k.ends[i]]
}

// Seq is the exchange's sequence number.
func (k *Kept) Seq() uint64 { return k.seq }

// Bytes is about what k keeps in memory: itself, its text and any lists.
func (k *Kept) Bytes() int64 {
	n := int64(unsafe.Sizeof(*k)) + int64(len(k.text))
	if k.lists != nil {
		for _, list := range k.lists {
			n += int64(cap(list)) * int64(unsafe.Sizeof([2]string{}))
			for _, h := range list {
				n += int64(len(h[0]) + len(h[1]))
			}
		}
	}
	return n
}

// Exchange makes the exchange k keeps, as it was recorded: its JSON is the
// recorded exchange's, byte for byte.
func (k *Kept) Exchange() Exchange {
	ex := Exchange{Seq: k.seq, Origin: k.piece(pOrigin), Kind: k.piece(pKind), Client: k.piece(pClient),
		Start: k.start, DurationMs: k.ms}
	ex.Request = k.message(pReqHead, 0)
	ex.Request.Method, ex.Request.Target, ex.Request.Proto = k.piece(pReqMethod), k.piece(pReqTarget), k.piece(pReqProto)
	ex.Request.Body, ex.Request.BodyEncoding = k.piece(pReqBody), k.piece(pReqEncoding)
	ex.Request.BodySize = k.sizes[0]
	ex.Request.BodyTruncated, ex.Request.BodyDropped = k.flags&fReqTruncated != 0, k.flags&fReqDropped != 0

	ex.Response = k.message(pRespHead, 1)
	ex.Response.Proto, ex.Response.Reason, ex.Response.Status = k.piece(pRespProto), k.piece(pRespReason), int(k.status)
	ex.Response.Body, ex.Response.BodyEncoding = k.piece(pRespBody), k.piece(pRespEncoding)
	ex.Response.BodySize = k.sizes[1]
	ex.Response.BodyTruncated, ex.Response.BodyDropped = k.flags&fRespTruncated != 0, k.flags&fRespDropped != 0

	ex.Raw.Request = k.raw(&ex.Request, pReqRaw, fReqRawKept)
	ex.Raw.Response = k.raw(&ex.Response, pRespRaw, fRespRawKept)
	return ex
}

// message is a message with the head in piece head and its header list:
// cut from the head, or the kept list number list.
func (k *Kept) message(head, list int) Message {
	if k.lists != nil {
		return Message{head: k.piece(head), Headers: k.lists[list]}
	}
	return Message{head: k.piece(head), Headers: parseHeadText(k.piece(head)).Headers}
}

func (k *Kept) raw(m *Message, piece int, kept uint8) string {
	if k.flags&kept != 0 {
		return k.piece(piece)
	}
	return m.head + rawBody(m)
}

// AppendJSON appends the exchange's JSON, as Exchange.AppendJSON.
func (k *Kept) AppendJSON(b []byte) []byte {
	ex := k.Exchange()
	return ex.AppendJSON(b)
}

// Engine is the exchange as the CORS engine reads it: the same header
// lists, URL and wall-clock start as the exchange's JSON gives.
func (k *Kept) Engine() cors.Exchange {
	req, resp := k.message(pReqHead, 0), k.message(pRespHead, 1)
	host, _ := req.Header("Host")
	return cors.Exchange{
		Seq: k.seq,
		// The wall clock only, as the exchange's JSON carries it: the
		// engine compares it with times from other clocks' readings.
		At:              k.start.Round(0),
		Method:          k.piece(pReqMethod),
		URL:             "http://" + host + k.piece(pReqTarget),
		RequestHeaders:  req.Headers,
		Status:          int(k.status),
		ResponseHeaders: resp.Headers,
	}
}
