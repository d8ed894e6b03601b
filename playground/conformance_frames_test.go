package playground

import "github.com/corslab/corslab/internal/browsertest"

// frameCases run the learner's fetch() in the frames app's page holds,
// each a different answer to "what is this page's origin?"
// (html.spec.whatwg.org/#determining-the-origin):
//
//   - data: a frame whose document is a data: URL, made by app's page. It
//     gets a new opaque origin: Origin: null, as from the sandbox, and no
//     SameSite=Lax cookie.
//   - srcdoc: an <iframe srcdoc> in app's page. Its document has no URL of
//     its own and takes its parent's origin, app's: srcdoc alone is not
//     opaque, so ACAO null refuses it and ACAO naming app lets it in.
//   - sandbox-same-origin: an iframe served by app, sandboxed with
//     allow-scripts allow-same-origin. Still sandboxed, yet it keeps app's
//     origin, and app's cookies.
func frameCases() []confCase {
	data, srcdoc, sso := "request.from=data&", "request.from=srcdoc&", "request.from=sandbox-same-origin&"
	put := "request.method=PUT&request.headers.X-User-Id=11&request.body=" + newUser + "&api.allowMethods=PUT&api.allowHeaders=x-user-id&"
	include := "request.credentials=include&api.allowCredentials=true&"
	me := func(q string) string { return "request.path=/me&" + include + q }
	who := `"ada"`
	cs := []confCase{
		// A data: document: an opaque origin, whichever page made it.
		{name: "data: Origin null, and without ACAO JS gets nothing", q: data, stage: "response", wire: "GET", origins: "null"},
		{name: "data: ACAO null matches the opaque origin", q: data + "api.allowOrigin=null", ok: true, typ: "cors", status: 200, body: `"ada"`, wire: "GET", origins: "null"},
		{name: "data: ACAO * serves it", q: data + "api.allowOrigin=*", ok: true, typ: "cors", status: 200, wire: "GET", origins: "null"},
		{name: "data: ACAO echo reflects null", q: data + "api.allowOrigin=echo", ok: true, status: 200, wire: "GET", origins: "null"},
		{name: "data: ACAO naming app, whose page made the frame, does not match", q: data + "api.allowOrigin={app}", stage: "response", wire: "GET", origins: "null"},
		{name: "data: a preflighted PUT carries Origin null twice and passes with ACAO null", q: data + put + "api.allowOrigin=null",
			ok: true, status: 201, wire: "OPTIONS PUT", origins: "null null", acrm: "PUT", acrh: "x-user-id", sent: map[string]string{"X-User-Id": "11"}},
		{name: "data: a preflight answered with ACAO naming app fails", q: data + put + "api.allowOrigin={app}",
			stage: "preflight", wire: "OPTIONS", origins: "null", acrm: "PUT"},
		{name: "data, credentials include: ACAO null with ACAC passes", q: data + include + "api.allowOrigin=null", ok: true, status: 200, wire: "GET", origins: "null"},
		{name: "data, credentials include: ACAO * is refused", q: data + include + "api.allowOrigin=*", stage: "response", wire: "GET", origins: "null"},
		afterLogin("data: after login, /me with include carries no SameSite=Lax cookie",
			confCase{q: me(data + "api.allowOrigin=null"), ok: true, status: 401, wire: "GET", origins: "null", cookies: "n"}).
			departs("SameSiteFromTopLevel", cookieWent, browsertest.WebKit),
		confCase{name: "data: a login from a data: frame cannot set a SameSite=Lax cookie", q: "request.method=POST&request.path=/login&" + data + include + "api.allowOrigin=null", ok: true, status: 200, wire: "POST", origins: "null",
			then: []confCase{{q: me("api.allowOrigin=echo"), ok: true, status: 401, wire: "GET", origins: "{app}", cookies: "n"}}}.
			departs("SameSiteFromTopLevel", cookieWent, browsertest.WebKit),
	}
	// srcdoc and a sandbox with allow-same-origin both keep app's origin,
	// and so behave as app's own page would.
	for _, k := range []struct{ name, q string }{{"srcdoc", srcdoc}, {"sandbox-same-origin", sso}} {
		n := func(s string) string { return k.name + ": " + s }
		q := k.q
		cs = append(cs,
			confCase{name: n("Origin is app's, and without ACAO JS gets nothing"), q: q, stage: "response", wire: "GET", origins: "{app}"},
			confCase{name: n("ACAO null refuses it: its origin is not opaque"), q: q + "api.allowOrigin=null", stage: "response", wire: "GET", origins: "{app}"},
			confCase{name: n("ACAO * serves it"), q: q + "api.allowOrigin=*", ok: true, typ: "cors", status: 200, body: `"ada"`, wire: "GET", origins: "{app}",
				readable: usersSafelisted, hidden: usersUnexposed},
			confCase{name: n("ACAO echo reflects app's origin"), q: q + "api.allowOrigin=echo", ok: true, status: 200, wire: "GET", origins: "{app}"},
			confCase{name: n("ACAO naming app matches"), q: q + "api.allowOrigin={app}", ok: true, typ: "cors", status: 200, wire: "GET", origins: "{app}"},
			confCase{name: n("a preflighted PUT carries app's Origin twice and passes with ACAO naming app"), q: q + put + "api.allowOrigin={app}",
				ok: true, status: 201, wire: "OPTIONS PUT", origins: "{app} {app}", acrm: "PUT", acrh: "x-user-id", sent: map[string]string{"X-User-Id": "11"}},
			confCase{name: n("a preflight answered with ACAO null fails"), q: q + put + "api.allowOrigin=null",
				stage: "preflight", wire: "OPTIONS", origins: "{app}", acrm: "PUT"},
			confCase{name: n("credentials include: ACAO null with ACAC is refused"), q: q + include + "api.allowOrigin=null", stage: "response", wire: "GET", origins: "{app}"},
			confCase{name: n("credentials include: ACAO naming app with ACAC passes"), q: q + include + "api.allowOrigin={app}", ok: true, status: 200, wire: "GET", origins: "{app}"},
			afterLogin(n("after login, /me with include carries app's SameSite=Lax cookie"),
				confCase{q: me(q + "api.allowOrigin=echo"), ok: true, status: 200, body: who, wire: "GET", origins: "{app}", cookies: "y"}),
		)
	}
	return cs
}
