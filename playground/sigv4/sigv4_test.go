package sigv4

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/corslab/corslab/playground/s3err"
)

// endpoint is where corslab's fake S3 listens; the signature covers its host:port.
const endpoint = "http://127.0.0.1:8083"

// presign makes a URL with the real aws-sdk-go-v2 presign client, as a corslab lesson would.
func presign(t *testing.T, creds Credentials, method string, expires time.Duration) *v4.PresignedHTTPRequest {
	t.Helper()
	client := s3.NewPresignClient(s3.New(s3.Options{
		Region:       creds.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	}))
	ctx := context.Background()
	bucket, key := aws.String("lab"), aws.String("notes/hello world.txt")
	var p *v4.PresignedHTTPRequest
	var err error
	switch method {
	case http.MethodGet:
		p, err = client.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key},
			s3.WithPresignExpires(expires))
	case http.MethodPut:
		p, err = client.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, ContentType: aws.String("text/plain")},
			s3.WithPresignExpires(expires))
	}
	if err != nil {
		t.Fatalf("presign %s: %v", method, err)
	}
	return p
}

// requestFrom builds the request a client sends for p: its method and URL, and the headers it
// signed, with Host where net/http puts it on the server side.
func requestFrom(p *v4.PresignedHTTPRequest, rawURL string) *http.Request {
	r := httptest.NewRequest(p.Method, rawURL, strings.NewReader("hello"))
	for name, values := range p.SignedHeader {
		if http.CanonicalHeaderKey(name) == "Host" {
			r.Host = values[0]
			continue
		}
		r.Header[http.CanonicalHeaderKey(name)] = values
	}
	return r
}

// setParam replaces (or, with value "", removes) one parameter of the raw query, leaving the
// rest byte for byte as the signer wrote it.
func setParam(name, value string) func(*url.URL) {
	return func(u *url.URL) {
		var kept []string
		for _, kv := range strings.Split(u.RawQuery, "&") {
			if strings.HasPrefix(kv, name+"=") {
				if value == "" {
					continue
				}
				kv = name + "=" + value
			}
			kept = append(kept, kv)
		}
		u.RawQuery = strings.Join(kept, "&")
	}
}

type outcome struct {
	status        int
	code, message string
}

func outcomeOf(e *Error) outcome {
	if e == nil {
		return outcome{}
	}
	return outcome{e.Status, e.Code, e.Message}
}

func TestVerify(t *testing.T) {
	corslab := Corslab()
	wrongSecret := corslab
	wrongSecret.SecretAccessKey = "not-the-secret"
	stranger := corslab
	stranger.AccessKeyID = "stranger"

	mismatch := outcome{403, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	missing := outcome{400, "AuthorizationQueryParametersError",
		"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}
	expired := outcome{403, "AccessDenied", "Request has expired"}

	tests := []struct {
		desc    string
		signer  Credentials
		method  string
		tamper  func(*url.URL)
		header  [2]string     // a header added after signing
		elapsed time.Duration // time between signing and use; a second if zero
		want    outcome
	}{
		{desc: "a GET URL from the SDK, used at once, is accepted",
			signer: corslab, method: http.MethodGet},
		{desc: "a PUT URL from the SDK, sent with the content type it signed, is accepted",
			signer: corslab, method: http.MethodPut},
		{desc: "a URL used on its last valid second is accepted",
			signer: corslab, method: http.MethodGet, elapsed: 15 * time.Minute},
		{desc: "a PUT URL sent with a different content type is refused",
			signer: corslab, method: http.MethodPut, header: [2]string{"Content-Type", "text/html"}, want: mismatch},
		{desc: "a GET URL used for a DELETE is refused",
			signer: corslab, method: http.MethodGet, header: [2]string{":method", http.MethodDelete}, want: mismatch},
		{desc: "a changed signature is refused",
			signer: corslab, method: http.MethodGet,
			tamper: setParam("X-Amz-Signature", strings.Repeat("0", 64)), want: mismatch},
		{desc: "a URL pointed at another key is refused",
			signer: corslab, method: http.MethodGet,
			tamper: func(u *url.URL) { u.Path = "/lab/notes/secret.txt"; u.RawPath = "" }, want: mismatch},
		{desc: "a URL whose signed X-Amz-Expires was raised is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Expires", "901"), want: mismatch},
		{desc: "a URL given an extra query parameter is refused",
			signer: corslab, method: http.MethodGet,
			tamper: func(u *url.URL) { u.RawQuery += "&response-content-type=text%2Fhtml" }, want: mismatch},
		{desc: "a URL signed with the wrong secret is refused",
			signer: wrongSecret, method: http.MethodGet, want: mismatch},
		{desc: "a URL signed with an unknown access key is refused",
			signer: stranger, method: http.MethodGet,
			want: outcome{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."}},
		{desc: "a URL used a second after X-Amz-Date + X-Amz-Expires has expired",
			signer: corslab, method: http.MethodGet, elapsed: 15*time.Minute + time.Second, want: expired},
		{desc: "a URL without X-Amz-Algorithm is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Algorithm", ""), want: missing},
		{desc: "a URL without X-Amz-Credential is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Credential", ""), want: missing},
		{desc: "a URL without X-Amz-Date is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Date", ""), want: missing},
		{desc: "a URL without X-Amz-Expires is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Expires", ""), want: missing},
		{desc: "a URL without X-Amz-SignedHeaders is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-SignedHeaders", ""), want: missing},
		{desc: "a URL without X-Amz-Signature is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Signature", ""), want: missing},
		{desc: "a URL signed with another algorithm is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
			want: outcome{400, "AuthorizationQueryParametersError",
				`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`}},
		{desc: "an X-Amz-Date not in ISO 8601 basic format is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Date", "2024-01-02T03%3A04%3A05Z"),
			want: outcome{400, "AuthorizationQueryParametersError",
				`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`}},
		{desc: "an X-Amz-Date on another day than the credential scope is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Date", "19990101T000000Z"),
			want: outcome{400, "AuthorizationQueryParametersError", "Invalid credential date"}},
		{desc: "an X-Amz-Expires over seven days is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Expires", "604801"),
			want: outcome{400, "AuthorizationQueryParametersError",
				"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"}},
		{desc: "a negative X-Amz-Expires is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Expires", "-1"),
			want: outcome{400, "AuthorizationQueryParametersError", "X-Amz-Expires must be non-negative"}},
		{desc: "an X-Amz-Expires that is not a number is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Expires", "soon"),
			want: outcome{400, "AuthorizationQueryParametersError", "X-Amz-Expires should be a number"}},
		{desc: "a credential scope for another region is refused",
			signer: corslab, method: http.MethodGet,
			tamper: func(u *url.URL) { u.RawQuery = strings.Replace(u.RawQuery, "us-east-1", "eu-west-3", 1) },
			want: outcome{400, "AuthorizationQueryParametersError",
				`Error parsing the X-Amz-Credential parameter; the region "eu-west-3" is wrong; expecting "us-east-1"`}},
		{desc: "a credential with a missing part is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-Credential", "corslab%2Fus-east-1%2Fs3%2Faws4_request"),
			want: outcome{400, "AuthorizationQueryParametersError",
				`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`}},
		{desc: "a URL whose signed headers leave out host is refused",
			signer: corslab, method: http.MethodGet, tamper: setParam("X-Amz-SignedHeaders", "x-amz-date"),
			want: outcome{403, "AccessDenied", "There were headers present in the request which were not signed"}},
		{desc: "an x-amz- header added after signing is refused",
			signer: corslab, method: http.MethodPut, header: [2]string{"X-Amz-Acl", "public-read"},
			want: outcome{403, "AccessDenied", "There were headers present in the request which were not signed"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			p := presign(t, tt.signer, tt.method, 15*time.Minute)
			u, err := url.Parse(p.URL)
			if err != nil {
				t.Fatal(err)
			}
			signedAt, err := time.Parse(amzDateLayout, u.Query().Get("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(u)
			}
			r := requestFrom(p, u.String())
			switch name := tt.header[0]; name {
			case "":
			case ":method":
				r.Method = tt.header[1]
			default:
				r.Header.Set(name, tt.header[1])
			}
			elapsed := tt.elapsed
			if elapsed == 0 {
				elapsed = time.Second
			}

			gotErr := Verify(r, Corslab(), signedAt.Add(elapsed))

			got := outcomeOf(gotErr)
			if got.status != tt.want.status || got.code != tt.want.code || !strings.HasPrefix(got.message, tt.want.message) {
				t.Errorf("Verify(%s %s) = %+v, want %+v", r.Method, u, got, tt.want)
			}
		})
	}
}

// TestVerifyAWSExample checks the canonical request against the worked example in the S3 docs:
// docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html ("An example").
func TestVerifyAWSExample(t *testing.T) {
	creds := Credentials{
		AccessKeyID:     "AKIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		Region:          "us-east-1",
	}
	const u = "https://examplebucket.s3.amazonaws.com/test.txt" +
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	signedAt := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

	tests := []struct {
		desc string
		now  time.Time
		want outcome
	}{
		{desc: "the docs' URL verifies within its day", now: signedAt.Add(time.Hour)},
		{desc: "the docs' URL has expired a day and a second later", now: signedAt.Add(24*time.Hour + time.Second),
			want: outcome{403, "AccessDenied", "Request has expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := outcomeOf(Verify(httptest.NewRequest(http.MethodGet, u, nil), creds, tt.now))
			if got != tt.want {
				t.Errorf("Verify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestErrorExtra checks the elements S3 adds after Message, by name and order.
func TestErrorExtra(t *testing.T) {
	creds := Corslab()
	p := presign(t, creds, http.MethodGet, time.Minute)
	u, _ := url.Parse(p.URL)
	signedAt, _ := time.Parse(amzDateLayout, u.Query().Get("X-Amz-Date"))
	wrongSecret := creds
	wrongSecret.SecretAccessKey = "x"

	tests := []struct {
		desc  string
		creds Credentials
		now   time.Time
		want  [][2]string // element values; "*" matches anything
	}{
		{desc: "an expired URL tells when it expired and what time the server has",
			creds: creds, now: signedAt.Add(90 * time.Second),
			want: [][2]string{
				{"X-Amz-Expires", "60"},
				{"Expires", signedAt.Add(time.Minute).Format("2006-01-02T15:04:05Z")},
				{"ServerTime", signedAt.Add(90 * time.Second).Format("2006-01-02T15:04:05Z")},
			}},
		{desc: "a signature mismatch echoes what the server signed, so a client can diff it",
			creds: wrongSecret, now: signedAt,
			want: [][2]string{
				{"AWSAccessKeyId", "corslab"},
				{"StringToSign", "*"},
				{"SignatureProvided", u.Query().Get("X-Amz-Signature")},
				{"StringToSignBytes", "*"},
				{"CanonicalRequest", "GET\n/lab/notes/hello%20world.txt\n*"},
				{"CanonicalRequestBytes", "*"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			e := Verify(requestFrom(p, p.URL), tt.creds, tt.now)
			if e == nil {
				t.Fatal("Verify = nil, want an error")
			}
			got := e.Extra
			if len(got) != len(tt.want) {
				t.Fatalf("Extra = %q, want %q", got, tt.want)
			}
			for i := range got {
				name, pattern := tt.want[i][0], tt.want[i][1]
				re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `(?s:.*)`) + "$"
				if got[i][0] != name || !regexp.MustCompile(re).MatchString(got[i][1]) {
					t.Errorf("Extra[%d] = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestXMLBody(t *testing.T) {
	tests := []struct {
		desc string
		err  *Error
		want string
	}{
		{desc: "an expired URL answers as S3 does, extra elements between Message and RequestId",
			err: errExpired("60", time.Date(2020, 4, 25, 3, 48, 4, 0, time.UTC), time.Date(2020, 4, 25, 3, 50, 33, 0, time.UTC)),
			want: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>AccessDenied</Code><Message>Request has expired</Message>` +
				`<X-Amz-Expires>60</X-Amz-Expires><Expires>2020-04-25T03:48:04Z</Expires>` +
				`<ServerTime>2020-04-25T03:50:33Z</ServerTime><RequestId>REQ1</RequestId><HostId>` + s3err.HostID("REQ1") + `</HostId></Error>`},
		{desc: "text is escaped",
			err: &Error{Status: 400, Code: "C", Message: `<a & "b">`},
			want: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Error><Code>C</Code><Message>&lt;a &amp; "b"&gt;</Message><RequestId>REQ1</RequestId><HostId>` + s3err.HostID("REQ1") + `</HostId></Error>`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := string(tt.err.XMLBody("REQ1"))
			if got != tt.want {
				t.Errorf("XMLBody =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestIsPresigned(t *testing.T) {
	tests := []struct {
		desc string
		url  string
		want bool
	}{
		{desc: "a plain GET is not presigned", url: "/lab/a.txt", want: false},
		{desc: "an X-Amz-Algorithm makes it presigned", url: "/lab/a.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256", want: true},
		{desc: "an X-Amz-Signature alone makes it presigned", url: "/lab/a.txt?X-Amz-Signature=00", want: true},
		{desc: "other query parameters do not", url: "/lab?list-type=2&prefix=x", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got := IsPresigned(httptest.NewRequest(http.MethodGet, tt.url, nil))
			if got != tt.want {
				t.Errorf("IsPresigned(%q) = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}

func TestUriEncode(t *testing.T) {
	tests := []struct {
		desc, in    string
		encodeSlash bool
		want        string
	}{
		{desc: "unreserved characters pass", in: "AZaz09-._~", want: "AZaz09-._~"},
		{desc: "a space is %20, never +", in: "a b", want: "a%20b"},
		{desc: "a path keeps its slashes", in: "/lab/a/b", want: "/lab/a/b"},
		{desc: "a query value encodes slashes", in: "a/b", encodeSlash: true, want: "a%2Fb"},
		{desc: "hex is upper-case and UTF-8 is encoded byte by byte", in: "é*", want: "%C3%A9%2A"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := uriEncode(tt.in, tt.encodeSlash); got != tt.want {
				t.Errorf("uriEncode(%q, %v) = %q, want %q", tt.in, tt.encodeSlash, got, tt.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	got := canonicalQuery(url.Values{"a-b": {"1"}, "a": {"2", "1"}, "X-Amz-Signature": {"s"}, "uploads": {""}})
	want := "a=1&a=2&a-b=1&uploads="
	if got != want {
		t.Errorf("canonicalQuery = %q, want %q (by name, then value; no signature)", got, want)
	}
}

// FuzzVerify feeds arbitrary query strings, paths and signed-header lists: Verify must answer
// with nil or an S3 error, never panic.
func FuzzVerify(f *testing.F) {
	f.Add("/lab/a.txt", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=corslab%2F20240102%2Fus-east-1%2Fs3%2Faws4_request"+
		"&X-Amz-Date=20240102T030405Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("/", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=////&X-Amz-Date=2&X-Amz-Expires=&X-Amz-SignedHeaders=;;&X-Amz-Signature=%zz")
	f.Add("/%E9", "X-Amz-Date=20240102T030405Z&X-Amz-Date=x;a=b&&=&X-Amz-Expires=99999999999999999999")
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		r := &http.Request{Method: http.MethodGet, Host: "127.0.0.1:8083", Header: http.Header{},
			URL: &url.URL{Path: path, RawQuery: rawQuery}}
		e := Verify(r, Corslab(), time.Date(2024, 1, 2, 3, 5, 0, 0, time.UTC))
		if e != nil {
			if !slices.Contains([]int{400, 403}, e.Status) || e.Code == "" || e.Message == "" {
				t.Errorf("Verify = %+v, want a 400 or 403 with a code and message", e)
			}
			_ = e.XMLBody("fuzz")
		}
	})
}
