package capture

import (
	"unsafe"

	"github.com/corslab/corslab/playground/cors"
)

// An EngineView is an exchange as the CORS engine reads it, kept small: a
// session keeps one beside each exchange's frame, so that explaining a run
// parses no JSON again. It holds the raw heads capture parsed rather than
// the header lists cut from them: a head costs its bytes, a list as much
// again in string headers, and Exchange cuts it again in a microsecond.
type EngineView struct {
	ex                cors.Exchange // header lists left out when their head is kept
	reqHead, respHead string
}

// Engine is the exchange's EngineView.
func (ex *Exchange) Engine() EngineView {
	host, _ := ex.Request.Header("Host")
	v := EngineView{ex: cors.Exchange{
		Seq: ex.Seq,
		// The wall clock only, as the exchange's JSON carries it: the
		// engine compares it with times from other clocks' readings.
		At:              ex.Start.Round(0),
		Method:          ex.Request.Method,
		URL:             "http://" + host + ex.Request.Target,
		RequestHeaders:  ex.Request.Headers,
		Status:          ex.Response.Status,
		ResponseHeaders: ex.Response.Headers,
	}}
	// An exchange made by hand (tests) or read back from JSON has lists
	// but no heads: the view keeps the lists.
	if ex.Request.head != "" {
		v.reqHead, v.ex.RequestHeaders = ex.Request.head, nil
	}
	if ex.Response.head != "" {
		v.respHead, v.ex.ResponseHeaders = ex.Response.head, nil
	}
	return v
}

// Seq is the exchange's sequence number.
func (v *EngineView) Seq() uint64 { return v.ex.Seq }

// Exchange is the exchange for the engine, its header lists cut from the
// heads again: the same lists the exchange's JSON carries.
func (v *EngineView) Exchange() cors.Exchange {
	ex := v.ex
	if v.reqHead != "" {
		ex.RequestHeaders = parseHeadText(v.reqHead).Headers
	}
	if v.respHead != "" {
		ex.ResponseHeaders = parseHeadText(v.respHead).Headers
	}
	return ex
}

// Bytes is about what the view keeps in memory: itself, its URL, its heads
// and any header lists it holds (two string headers a header, and the
// names and values).
func (v *EngineView) Bytes() int64 {
	n := int64(unsafe.Sizeof(*v)) + int64(len(v.ex.URL)+len(v.reqHead)+len(v.respHead))
	for _, list := range [][][2]string{v.ex.RequestHeaders, v.ex.ResponseHeaders} {
		n += int64(cap(list)) * int64(unsafe.Sizeof([2]string{}))
		for _, h := range list {
			n += int64(len(h[0]) + len(h[1]))
		}
	}
	return n
}
