package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/prequeue"
)

// errMismatch makes `startline verify` exit 1 after printing the mismatch.
var errMismatch = errors.New("verification failed")

// verifyCmd recomputes a published draw from its artifact alone: the
// commitment, the entries root and the full order; or a waiting room's
// pre-queue order (prequeue-v1); or checks an inclusion proof. It needs no
// database and no configuration, so anyone can run it.
func verifyCmd(ctx context.Context, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: startline verify ARTIFACT.json|URL")
	}
	data, err := readArtifact(ctx, args[0])
	if err != nil {
		return err
	}
	if bytes.Contains(data, []byte(`"audit_path"`)) {
		return verifyProof(data, out)
	}
	var head struct {
		Algorithm string `json:"algorithm"`
	}
	if json.Unmarshal(data, &head) == nil && head.Algorithm == prequeue.Algorithm {
		return verifyPrequeue(data, out)
	}
	a, err := fairdraw.ParseArtifact(data)
	if err != nil {
		fmt.Fprintf(out, "FAIL: %v\n", err)
		return errMismatch
	}
	if err := fairdraw.Verify(a); err != nil {
		fmt.Fprintf(out, "FAIL: %s %s: %v\n", a.EventID, a.SubQueue, err)
		return errMismatch
	}
	selected := 0
	for _, o := range a.Order {
		if o.Selected {
			selected += len(o.EntryIDs)
		}
	}
	fmt.Fprintf(out, "OK: %s %s: commitment, entries_root (%d entries) and order (%d units, %d selected of capacity %d) recomputed\n",
		a.EventID, a.SubQueue, len(a.Entries), len(a.Order), selected, a.Capacity)
	return nil
}

func readArtifact(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("read artifact: %w", err)
		}
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch artifact: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch artifact: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch artifact: %s answered %s", src, res.Status)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("fetch artifact: %w", err)
	}
	return b, nil
}

// verifyPrequeue recomputes a published pre-queue order (prequeue-v1):
// the commitment from the seed secret, the tickets root, the seed and every
// place. An artifact that publishes only its commitment (the line has not
// opened) has nothing to recompute yet, which is not a pass.
func verifyPrequeue(data []byte, out io.Writer) error {
	a, err := prequeue.ParseArtifact(data)
	if err != nil {
		fmt.Fprintf(out, "FAIL: %v\n", err)
		return errMismatch
	}
	if err := prequeue.Verify(a); errors.Is(err, prequeue.ErrNotPlaced) {
		fmt.Fprintf(out, "NOT PLACED YET: %s %s: the pre-queue is committed to %s; fetch the artifact again after the opening\n",
			a.EventID, a.SubQueue, a.Commitment)
		return errMismatch
	} else if err != nil {
		fmt.Fprintf(out, "FAIL: %s %s pre-queue: %v\n", a.EventID, a.SubQueue, err)
		return errMismatch
	}
	fmt.Fprintf(out, "OK: %s %s pre-queue: commitment, tickets_root (%d tickets) and order recomputed\n",
		a.EventID, a.SubQueue, len(a.Tickets))
	return nil
}

// proofDoc is GET /api/v1/entries/{id}/proof.
type proofDoc struct {
	SubQueue    string   `json:"subqueue"`
	EntriesRoot string   `json:"entries_root"`
	LeafData    string   `json:"leaf_data"`
	LeafIndex   int      `json:"leaf_index"`
	TreeSize    int      `json:"tree_size"`
	AuditPath   []string `json:"audit_path"`
}

// verifyProof checks an entry's RFC 6962 inclusion proof against the root it
// names; compare that root with the published one (GET .../draws).
func verifyProof(data []byte, out io.Writer) error {
	var p proofDoc
	if err := json.Unmarshal(data, &p); err != nil {
		fmt.Fprintf(out, "FAIL: proof is not valid JSON: %v\n", err)
		return errMismatch
	}
	if err := fairdraw.VerifyInclusion(p.LeafData, p.LeafIndex, p.TreeSize, p.AuditPath, p.EntriesRoot); err != nil {
		fmt.Fprintf(out, "FAIL: leaf %q is not at index %d of %s: %v\n", p.LeafData, p.LeafIndex, p.EntriesRoot, err)
		return errMismatch
	}
	fmt.Fprintf(out, "OK: leaf %q is entry %d of %d under entries_root %s (%s); check that root against the published draw\n",
		p.LeafData, p.LeafIndex, p.TreeSize, p.EntriesRoot, p.SubQueue)
	return nil
}
