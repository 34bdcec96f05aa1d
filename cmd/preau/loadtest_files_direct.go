package main

// The comparison of `preau loadtest files --s3-url`: the same files, sizes
// and concurrency, uploaded and downloaded straight to MinIO with minio-go,
// in parts of the same size as the page's resumable parts (one part after
// the other, like the page), under a prefix of their own that is removed at
// the end.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"preau/storage/files"
	"preau/storage/s3"
)

// directConfig reads --s3-url; its host must be this machine unless
// allowRemote.
func directConfig(raw string, allowRemote bool) (s3.Config, error) {
	c, err := s3.ParseURL(raw)
	if err != nil {
		return c, fmt.Errorf("loadtest files: --s3-url: %w", err)
	}
	if !allowRemote {
		host, _, err := net.SplitHostPort(c.Endpoint)
		if err != nil {
			host = c.Endpoint
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return c, fmt.Errorf("loadtest files: --s3-url: only 127.0.0.1, ::1 or localhost (or --allow-remote)")
		}
	}
	return c, nil
}

// directResult is the comparison's figures.
type directResult struct {
	files          int
	bytes          int64
	upMBs, downMBs float64
}

func runDirect(ctx context.Context, cfg filesLoadConfig, errs *atomic.Int64, logf func(string, ...any)) (directResult, error) {
	var res directResult
	sc, err := directConfig(cfg.S3URL, cfg.AllowRemote)
	if err != nil {
		return res, err
	}
	tr, err := minio.DefaultTransport(sc.Secure)
	if err != nil {
		return res, err
	}
	tr.MaxIdleConnsPerHost = cfg.Concurrency + 2
	client, err := minio.New(sc.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(sc.AccessKey, sc.SecretKey, ""),
		Secure:       sc.Secure,
		Region:       sc.Region,
		Transport:    tr,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return res, fmt.Errorf("minio: %w", err)
	}
	ok, err := client.BucketExists(ctx, sc.Bucket)
	if err != nil {
		return res, fmt.Errorf("minio: bucket %s: %w", sc.Bucket, err)
	}
	if !ok {
		if err := client.MakeBucket(ctx, sc.Bucket, minio.MakeBucketOptions{Region: sc.Region}); err != nil {
			return res, fmt.Errorf("minio: make bucket %s: %w", sc.Bucket, err)
		}
		defer client.RemoveBucket(context.WithoutCancel(ctx), sc.Bucket)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := sc.Prefix + "preau-loadtest-" + hex.EncodeToString(b) + "/"
	name := func(i int) string { return fmt.Sprintf("%sfile-%04d", prefix, i+1) }
	defer func() {
		if err := removePrefix(context.WithoutCancel(ctx), client, sc.Bucket, prefix); err != nil {
			logf("direct: clean-up of %s: %v", prefix, err)
			errs.Add(1)
		}
	}()

	logf("uploading the same directly to MinIO (%s/%s), %d clients…", sc.Endpoint, sc.Bucket, cfg.Concurrency)
	var mu sync.Mutex
	var names []string
	up := runPhase(ctx, cfg, cfg.Files, func(ctx context.Context, i int) error {
		_, err := client.PutObject(ctx, sc.Bucket, name(i), &genReader{end: cfg.Size}, cfg.Size, minio.PutObjectOptions{
			PartSize:    files.PartSize,
			ContentType: "application/octet-stream",
			// As Préau's store does: a CRC32C trailer rather than a SHA-256
			// of the payload, so the comparison is with the best direct path.
			DisableContentSha256: true,
		})
		if err != nil {
			return fmt.Errorf("direct upload %d: %w", i+1, err)
		}
		mu.Lock()
		names = append(names, name(i))
		mu.Unlock()
		return nil
	}, errs, logf)
	res.upMBs = up.mbs(cfg.Size)
	if len(names) == 0 {
		return res, nil
	}
	logf("downloading them directly…")
	down := runPhase(ctx, cfg, len(names), func(ctx context.Context, i int) error {
		obj, err := client.GetObject(ctx, sc.Bucket, names[i], minio.GetObjectOptions{})
		if err != nil {
			return fmt.Errorf("direct download %s: %w", names[i], err)
		}
		defer obj.Close()
		if err := checkContent(obj, cfg.Size); err != nil {
			return fmt.Errorf("direct download %s: %w", names[i], err)
		}
		return nil
	}, errs, logf)
	res.downMBs = down.mbs(cfg.Size)
	res.files = len(names)
	res.bytes = int64(up.done+down.done) * cfg.Size
	return res, nil
}

// removePrefix deletes every object under prefix.
func removePrefix(ctx context.Context, c *minio.Client, bucket, prefix string) error {
	objects := c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	for r := range c.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}
