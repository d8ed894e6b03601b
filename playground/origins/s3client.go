package origins

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/corslab/corslab/playground/s3cors"
	"github.com/corslab/corslab/playground/sigv4"
)

// NewS3Client returns an aws-sdk-go-v2 S3 client for corslab's fake S3,
// path style, signing with creds. It talks to the s3 origin's handler in
// process, through the real S3 API: requests are signed and encoded, and
// answers parsed, exactly as they would be over the network. What it does
// is not captured: the learner sees the traffic of their browser only.
//
// Requests must carry the session in their context (session.NewContext),
// as the s3 origin serves only a session's own bucket.
func NewS3Client(h http.Handler, creds sigv4.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:       creds.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		BaseEndpoint: aws.String("http://s3.corslab.internal"),
		UsePathStyle: true,
		HTTPClient:   inProcess{h},
		// The handler is in this process: a failure will not go away.
		RetryMaxAttempts:   1,
		ExpressCredentials: noExpress{},
	})
}

// noExpress is the S3 Express credentials provider of corslab's client,
// which never uses S3 Express (directory buckets). Without one the SDK
// sets its default provider, which every client made from the client's
// options writes to while other requests read it: a data race the race
// detector caught when corslab made a presign client per /files request.
type noExpress struct{}

func (noExpress) Retrieve(context.Context, string) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("corslab's S3 client does not use S3 Express")
}

// inProcess serves an SDK request with a handler, without a connection.
type inProcess struct{ h http.Handler }

func (c inProcess) Do(r *http.Request) (*http.Response, error) {
	// Hand the handler the request as a server receives it, in a copy it
	// may change: net/http's client would write Content-Length on the wire
	// (gofakes3 reads the header), and a server's Body is never nil.
	in := r.Clone(r.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	if in.ContentLength > 0 || in.ContentLength == 0 && in.Method != http.MethodGet && in.Method != http.MethodHead {
		in.Header.Set("Content-Length", strconv.FormatInt(in.ContentLength, 10))
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, in)
	return rec.Result(), nil
}

// PutBucketCORS applies rules to bucket with PutBucketCors, or removes its
// configuration with DeleteBucketCors when rules is nil. An S3 refusal comes
// back as a *BucketError.
func PutBucketCORS(ctx context.Context, client *s3.Client, bucket string, rules []s3cors.Rule) error {
	var err error
	if rules == nil {
		_, err = client.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: &bucket})
	} else {
		cfg := &types.CORSConfiguration{}
		for _, r := range rules {
			rule := types.CORSRule{
				AllowedOrigins: r.AllowedOrigins,
				AllowedMethods: r.AllowedMethods,
				AllowedHeaders: r.AllowedHeaders,
				ExposeHeaders:  r.ExposeHeaders,
			}
			if r.ID != "" {
				rule.ID = aws.String(r.ID)
			}
			if r.MaxAgeSeconds != nil {
				rule.MaxAgeSeconds = aws.Int32(int32(*r.MaxAgeSeconds))
			}
			cfg.CORSRules = append(cfg.CORSRules, rule)
		}
		_, err = client.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &bucket, CORSConfiguration: cfg})
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return &BucketError{Code: api.ErrorCode(), Message: api.ErrorMessage()}
	}
	return err
}

// BucketError is S3's refusal of a bucket operation.
type BucketError struct{ Code, Message string }

func (e *BucketError) Error() string { return "S3 answered " + e.Code + ": " + e.Message }

// presignURL signs a GET or PUT of key in bucket for endpoint (the s3
// origin as the browser sees it, scheme and host: http://127.0.0.1:8083),
// valid for expires, with client's credentials and region.
//
// It writes the URL the SDK's presign client would (PresignGetObject,
// PresignPutObject: path style, x-id naming the operation, byte for byte;
// TestPresignMatchesTheSDK holds it to that) with corslab's own signer: a
// presign client per request built a middleware stack each time, 30 KB
// and nearly 400 allocations for one URL.
func presignURL(ctx context.Context, client *s3.Client, method, endpoint, bucket, key string, expires time.Duration) (string, error) {
	return presignURLAt(ctx, client, method, endpoint, bucket, key, expires, time.Now())
}

// signingOptions is what presignURLAt needs of client's options, read
// once per client: Options() copies the whole set, its middleware lists
// included, and grew the stack of every /files request.
func signingOptions(client *s3.Client) presignOptions {
	if o, ok := clientOptions.Load(client); ok {
		return o.(presignOptions)
	}
	opts := client.Options()
	o, _ := clientOptions.LoadOrStore(client, presignOptions{Credentials: opts.Credentials, Region: opts.Region})
	return o.(presignOptions)
}

type presignOptions struct {
	Credentials aws.CredentialsProvider
	Region      string
}

// clientOptions holds each client's presignOptions: corslab makes one
// client per server.
var clientOptions sync.Map // *s3.Client → presignOptions

// presignURLAt is presignURL signing at now.
func presignURLAt(ctx context.Context, client *s3.Client, method, endpoint, bucket, key string, expires time.Duration, now time.Time) (string, error) {
	// As the SDK: no duration means its default of 15 minutes, a negative one is an error.
	switch {
	case expires == 0:
		expires = 15 * time.Minute
	case expires < 0:
		return "", fmt.Errorf("presign URL duration must be 0 or greater, %v", expires)
	}
	if bucket == "" || key == "" {
		return "", errors.New("presigning needs a bucket and a key")
	}
	operation := "GetObject"
	if method == http.MethodPut {
		operation = "PutObject"
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("the s3 endpoint %q: %w", endpoint, err)
	}
	opts := signingOptions(client)
	creds, err := opts.Credentials.Retrieve(ctx)
	if err != nil {
		return "", err
	}
	if creds.SessionToken != "" {
		return "", errors.New("corslab's presigner does not sign with session tokens")
	}
	u.Path = "/" + bucket + "/" + key
	u.RawPath = ""
	u.RawQuery = "x-id=" + operation
	return sigv4.Presign(sigv4.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, Region: opts.Region},
		method, u, now, expires)
}
