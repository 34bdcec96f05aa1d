package testsvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// DefaultS3URL is used when PREAU_TEST_S3_URL is unset: the MinIO that
// .ci/run starts.
const DefaultS3URL = "s3://minioadmin:minioadmin@127.0.0.1:9000/preau-test?secure=false"

// S3URL returns the storage URL of a fresh, empty bucket in the test MinIO
// (or S3), removed with its contents when the test ends. The server comes
// from PREAU_TEST_S3_URL (default DefaultS3URL); the new bucket's name is
// that URL's bucket followed by a random suffix. A server that does not
// answer within 2 s is missing.
func S3URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("PREAU_TEST_S3_URL")
	if base == "" {
		base = DefaultS3URL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "s3" && u.Scheme != "s3s") || u.User == nil {
		t.Fatalf("testsvc: PREAU_TEST_S3_URL must look like %s", DefaultS3URL)
	}
	secure := u.Scheme == "s3s" || u.Query().Get("secure") != "false"
	password, _ := u.User.Password()
	region := u.Query().Get("region")
	if region == "" {
		region = "us-east-1"
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:      credentials.NewStaticV4(u.User.Username(), password, ""),
		Secure:     secure,
		Region:     region,
		MaxRetries: 1,
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: time.Second}).DialContext,
			ResponseHeaderTimeout: 10 * time.Second,
		},
	})
	if err != nil {
		t.Fatalf("testsvc: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := client.ListBuckets(ctx); err != nil {
		Missing(t, "MinIO", fmt.Sprintf("%s: %v (start one as .ci/run does, or set PREAU_TEST_S3_URL)", u.Redacted(), err))
		return ""
	}
	prefix, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if prefix == "" {
		prefix = "preau-test"
	}
	b := make([]byte, 6)
	rand.Read(b)
	bucket := prefix[:min(len(prefix), 63-13)] + "-" + hex.EncodeToString(b)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: region}); err != nil {
		t.Fatalf("testsvc: create bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := removeBucket(ctx, client, bucket); err != nil {
			t.Errorf("testsvc: remove bucket %s: %v", bucket, err)
		}
	})
	u.Path = "/" + bucket
	return u.String()
}

// removeBucket empties and removes a test bucket: MinIO does it in one
// request, other S3 services object by object.
func removeBucket(ctx context.Context, c *minio.Client, bucket string) error {
	err := c.RemoveBucketWithOptions(ctx, bucket, minio.RemoveBucketOptions{ForceDelete: true})
	if err == nil || minio.ToErrorResponse(err).Code == "NoSuchBucket" {
		return nil
	}
	for u := range c.ListIncompleteUploads(ctx, bucket, "", true) {
		if u.Err != nil {
			return u.Err
		}
		c.RemoveIncompleteUpload(ctx, bucket, u.Key)
	}
	objects := c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
	for r := range c.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		if r.Err != nil {
			return r.Err
		}
	}
	if err := c.RemoveBucket(ctx, bucket); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
