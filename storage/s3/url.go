package s3

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL reads a storage URL into a Config:
//
//	s3://ACCESS_KEY:SECRET_KEY@host:port/bucket[/prefix]?secure=false&region=eu-west-3
//	s3s://ACCESS_KEY:SECRET_KEY@host:port/bucket
//
// s3:// speaks HTTPS unless secure=false; s3s:// always does. Keys and
// secrets with reserved characters are percent-encoded. Errors never quote
// the secret.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL and its secret
		}
		return Config{}, fmt.Errorf("s3: storage URL does not parse: %v", err)
	}
	var cfg Config
	switch u.Scheme {
	case "s3":
		cfg.Secure = true
	case "s3s":
		cfg.Secure = true
	default:
		return Config{}, fmt.Errorf("s3: storage URL %s: scheme must be s3:// or s3s://", u.Redacted())
	}
	if u.Host == "" {
		return Config{}, fmt.Errorf("s3: storage URL %s: no host:port", u.Redacted())
	}
	cfg.Endpoint = u.Host
	if u.User != nil {
		cfg.AccessKey = u.User.Username()
		cfg.SecretKey, _ = u.User.Password()
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return Config{}, fmt.Errorf("s3: storage URL %s: give the keys as ACCESS_KEY:SECRET_KEY@", u.Redacted())
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if bucket == "" {
		return Config{}, fmt.Errorf("s3: storage URL %s: no bucket (…@host:port/bucket)", u.Redacted())
	}
	cfg.Bucket, cfg.Prefix = bucket, prefix
	for name, values := range u.Query() {
		v := values[len(values)-1]
		switch name {
		case "secure":
			secure, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("s3: storage URL %s: secure=%q: true or false", u.Redacted(), v)
			}
			if !secure && u.Scheme == "s3s" {
				return Config{}, fmt.Errorf("s3: storage URL %s: s3s:// is always secure", u.Redacted())
			}
			cfg.Secure = secure
		case "region":
			cfg.Region = v
		case "public":
			cfg.PublicURL = v
		default:
			return Config{}, fmt.Errorf("s3: storage URL %s: unknown parameter %q (secure, region, public)", u.Redacted(), name)
		}
	}
	return cfg, nil
}
