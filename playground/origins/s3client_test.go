package origins

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/corslab/corslab/playground/sigv4"
)

// signedAt is the SDK's S3 presigner, set up as the S3 client sets up its
// default one (S3 paths are URI-encoded once), signing at a fixed time
// whatever time the middleware hands it, so that its URLs can be compared
// with ours.
type signedAt time.Time

func (t signedAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	return signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, time.Time(t), optFns...)
}

// sdkPresign is what presignURL did before corslab signed on its own: a
// presign client, made from corslab's S3 client, per URL.
func sdkPresign(t *testing.T, client *s3.Client, method, endpoint, bucket, key string, expires time.Duration, at time.Time) string {
	t.Helper()
	p := s3.NewPresignClient(client, s3.WithPresignExpires(expires),
		func(o *s3.PresignOptions) { o.Presigner = signedAt(at) },
		s3.WithPresignClientFromClientOptions(func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint) }))
	var (
		signed *v4.PresignedHTTPRequest
		err    error
	)
	if method == http.MethodPut {
		signed, err = p.PresignPutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key})
	} else {
		signed, err = p.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	}
	if err != nil {
		t.Fatalf("the SDK's %s presign of %q: %v", method, key, err)
	}
	return signed.URL
}

// TestPresignMatchesTheSDK holds corslab's presigner to the SDK's output,
// byte for byte, and has corslab's verifier accept every URL, sent as a
// browser sends it.
func TestPresignMatchesTheSDK(t *testing.T) {
	corslab := sigv4.Corslab()
	docs := sigv4.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", Region: "eu-west-3"}
	const bucket = "q3x7c2hzq6yo4bmwl5u2xlbfwa" // a session id
	at := time.Date(2024, 2, 29, 23, 59, 58, 0, time.UTC)

	tests := []struct {
		desc     string
		creds    sigv4.Credentials
		endpoint string
		key      string
		expires  time.Duration
	}{
		{desc: "a plain key on a local port", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "hello.txt", expires: 15 * time.Minute},
		{desc: "a key in folders", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "notes/2024/hello.txt", expires: time.Minute},
		{desc: "spaces and plus signs", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "a b+c  d.txt", expires: time.Minute},
		{desc: "characters a URL gives meaning to", creds: corslab, endpoint: "http://127.0.0.1:8083",
			key: "q?x=1&y=2#frag;%25%zz", expires: time.Minute},
		{desc: "RFC 3986 sub-delimiters and the unreserved tilde", creds: corslab, endpoint: "http://127.0.0.1:8083",
			key: "~!$&'()*+,;=:@[]", expires: time.Minute},
		{desc: "UTF-8, encoded byte by byte", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "café/日本語/ü.txt", expires: time.Minute},
		{desc: "empty, dot and dot-dot segments, kept as they are", creds: corslab, endpoint: "http://127.0.0.1:8083",
			key: "/lead//double/./../end/", expires: time.Minute},
		{desc: "control bytes and DEL", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "x\x01\t\x7f", expires: time.Minute},
		{desc: "http's default port, left out of the signed host", creds: corslab, endpoint: "http://s3.lab.test:80", key: "a.txt", expires: time.Minute},
		{desc: "https without a port", creds: corslab, endpoint: "https://s3.lab.test", key: "a.txt", expires: time.Hour},
		{desc: "https's default port", creds: corslab, endpoint: "https://s3.lab.test:443", key: "a.txt", expires: time.Hour},
		{desc: "a port that is not the scheme's default stays signed", creds: corslab, endpoint: "https://s3.lab.test:80", key: "a.txt", expires: time.Hour},
		{desc: "another key pair and region", creds: docs, endpoint: "http://localhost:9000", key: "report (final).pdf", expires: 24 * time.Hour},
		{desc: "the longest expiry S3 accepts", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "a.txt", expires: 7 * 24 * time.Hour},
		{desc: "an expiry in whole seconds, the rest dropped", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "a.txt",
			expires: 90*time.Second + 999*time.Millisecond},
		{desc: "no expiry: the SDK's default of 15 minutes", creds: corslab, endpoint: "http://127.0.0.1:8083", key: "a.txt"},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPut} {
			t.Run(method+" "+tt.desc, func(t *testing.T) {
				client := NewS3Client(http.NotFoundHandler(), tt.creds)
				want := sdkPresign(t, client, method, tt.endpoint, bucket, tt.key, tt.expires, at)

				got, err := presignURLAt(context.Background(), client, method, tt.endpoint, bucket, tt.key, tt.expires, at)

				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("presignURL =\n%s\nthe SDK's presigner wrote\n%s", got, want)
				}
				r := httptest.NewRequest(method, got, strings.NewReader("body"))
				r.Host = browserHost(r.URL)
				if e := sigv4.Verify(r, tt.creds, at.Add(time.Second)); e != nil {
					t.Errorf("Verify(%s %s) = %s %s, want it accepted", method, got, e.Code, e.Message)
				}
			})
		}
	}
}

// browserHost is the Host header a browser sends for u: without the port
// when it is the scheme's default.
func browserHost(u *url.URL) string {
	if p := u.Port(); p == "80" && u.Scheme == "http" || p == "443" && u.Scheme == "https" {
		return strings.TrimSuffix(u.Host, ":"+p)
	}
	return u.Host
}

func TestPresignRefuses(t *testing.T) {
	client := NewS3Client(http.NotFoundHandler(), sigv4.Corslab())
	tests := []struct {
		desc, endpoint, bucket, key string
		expires                     time.Duration
		want                        string
	}{
		{desc: "a negative expiry", endpoint: "http://127.0.0.1:8083", bucket: "b", key: "k", expires: -time.Second,
			want: "presign URL duration must be 0 or greater"},
		{desc: "no key", endpoint: "http://127.0.0.1:8083", bucket: "b", expires: time.Minute,
			want: "presigning needs a bucket and a key"},
		{desc: "an endpoint that is no URL", endpoint: "http://[::1", bucket: "b", key: "k", expires: time.Minute,
			want: "the s3 endpoint"},
		{desc: "an endpoint without a host", endpoint: "/relative", bucket: "b", key: "k", expires: time.Minute,
			want: "presigning needs an absolute URL"},
	}
	for _, tt := range tests {
		_, err := presignURL(context.Background(), client, http.MethodGet, tt.endpoint, tt.bucket, tt.key, tt.expires)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: presignURL error %v, want one containing %q", tt.desc, err, tt.want)
		}
	}
}

// BenchmarkPresign signs a GET as GET /files/{key} does, once per request.
func BenchmarkPresign(b *testing.B) {
	client := NewS3Client(NewS3(s3mem.New(), sigv4.Corslab(), nil), sigv4.Corslab())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := presignURL(ctx, client, http.MethodGet, "http://127.0.0.1:8083", "s1a2b3c4", "notes/hello world.txt", 15*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}
