package draws

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
)

// MarshalArtifact is the canonical artifact encoding: compact JSON in the
// struct's fixed field order plus a newline, so the same draw is the same
// bytes (compact because a million-entry artifact is large enough already).
func MarshalArtifact(a fairdraw.Artifact) ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode artifact: %w", err)
	}
	return append(b, '\n'), nil
}

// NewStoredArtifact compresses canonical artifact JSON for storage.
func NewStoredArtifact(raw []byte) (lottery.StoredArtifact, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return lottery.StoredArtifact{}, err
	}
	if _, err := zw.Write(raw); err != nil {
		return lottery.StoredArtifact{}, fmt.Errorf("compress artifact: %w", err)
	}
	if err := zw.Close(); err != nil {
		return lottery.StoredArtifact{}, fmt.Errorf("compress artifact: %w", err)
	}
	sum := sha256.Sum256(raw)
	return lottery.StoredArtifact{Gzip: buf.Bytes(), SHA256: hex.EncodeToString(sum[:]), Size: int64(len(raw))}, nil
}

// Gunzip returns the artifact JSON of a stored artifact.
func Gunzip(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("decompress artifact: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress artifact: %w", err)
	}
	return b, nil
}
