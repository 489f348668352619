package node

import (
	"strings"
	"testing"
	"time"
)

func TestValidateBlobs(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*StorageConfig)
		want []string // keys with problems
	}{
		{"local default", func(*StorageConfig) {}, nil},
		{"s3 complete", func(s *StorageConfig) {
			s.BlobDriver, s.S3Endpoint, s.S3Bucket, s.S3AccessKey, s.S3SecretKey = "s3", "minio:9000", "b", "k", "s"
		}, nil},
		{"s3 missing", func(s *StorageConfig) { s.BlobDriver, s.S3Endpoint = "s3", "https://minio:9000" },
			[]string{"storage.s3_endpoint", "storage.s3_bucket", "storage.s3_access_key", "storage.s3_secret_key"}},
		{"s3 keys on local", func(s *StorageConfig) { s.S3Bucket = "b" }, []string{"storage.s3_bucket"}},
		{"unknown driver", func(s *StorageConfig) { s.BlobDriver = "ftp" }, []string{"storage.blob_driver"}},
		{"no periodic sweep", func(s *StorageConfig) { s.BlobSweepInterval = 0 }, nil},
		{"sweeps too close", func(s *StorageConfig) { s.BlobSweepInterval = 30 * time.Second }, []string{"storage.blob_sweep_interval"}},
		{"grace too short", func(s *StorageConfig) { s.BlobSweepGrace = time.Minute }, []string{"storage.blob_sweep_grace"}},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg.Storage)
		var got []string
		if err := cfg.Validate(); err != nil {
			for _, p := range err.(Problems) {
				got = append(got, p.Key)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: problems %v, want %v", c.name, got, c.want)
		}
	}
}
