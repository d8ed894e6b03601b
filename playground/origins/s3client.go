package origins

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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
// options (a presign client per /files request) writes to while other
// requests read it: a data race the race detector caught.
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
// origin as the browser sees it, e.g. http://127.0.0.1:8083), valid for
// expires.
func presignURL(ctx context.Context, client *s3.Client, method, endpoint, bucket, key string, expires time.Duration) (string, error) {
	p := s3.NewPresignClient(client, s3.WithPresignExpires(expires),
		s3.WithPresignClientFromClientOptions(func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint) }))
	var (
		signed *v4.PresignedHTTPRequest
		err    error
	)
	if method == http.MethodPut {
		signed, err = p.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key})
	} else {
		signed, err = p.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	}
	if err != nil {
		return "", err
	}
	return signed.URL, nil
}
