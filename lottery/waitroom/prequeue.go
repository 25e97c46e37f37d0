package waitroom

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
	"github.com/startline/startline/lottery/prequeue"
)

// The pre-queue's published order (prequeue-v1, docs/PREQUEUE-SPEC.md): a
// line's seed secret is committed before its first join, sealed with the
// service key; the opening places the pre-queue by the rule over that
// secret and the tickets' public ids, then publishes everything needed to
// recompute it.

// publicID names a ticket in the published order: the first 16 bytes of an
// HMAC of its id under a key of the service, in hex. Nobody can link it to
// the ticket's holder, or poll the ticket with it (polls need the MACed
// ticket), while the holder's pages compute it without a database read.
func (s *Service) publicID(ticketID string) string {
	u, err := uuid.Parse(ticketID)
	if err != nil {
		return ""
	}
	m := hmac.New(sha256.New, s.publicKey)
	m.Write(u[:])
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// sealLabel binds a sealed secret to its line: it cannot be moved to
// another row.
func sealLabel(subqueueID int64) string { return "prequeue:" + strconv.FormatInt(subqueueID, 10) }

// commit makes sure a line's pre-queue secret is committed, drawing one if
// none is, and returns the stored commitment (another process may have
// stored its own first). ErrNotFound for a line opened without one.
func (s *Service) commit(ctx context.Context, subqueueID int64) (lottery.SeedCommit, error) {
	secret := make([]byte, fairdraw.SecretSize)
	if _, err := io.ReadFull(s.cfg.Random, secret); err != nil {
		return lottery.SeedCommit{}, fmt.Errorf("pre-queue seed: %w", err)
	}
	sealed, err := s.keys.Seal(secret, sealLabel(subqueueID))
	if err != nil {
		return lottery.SeedCommit{}, fmt.Errorf("seal pre-queue seed: %w", err)
	}
	c, err := s.store.CommitPrequeue(ctx, subqueueID, lottery.SeedCommit{Sealed: sealed, Commitment: fairdraw.Commitment(secret)},
		s.clock.Now())
	if err != nil {
		return lottery.SeedCommit{}, fmt.Errorf("commit pre-queue %d: %w", subqueueID, err)
	}
	return c, nil
}

// openSecret opens a line's sealed secret and checks it against the
// published commitment: a pre-queue is never placed under another secret.
func (s *Service) openSecret(subqueueID int64, c lottery.SeedCommit) ([]byte, error) {
	secret, err := s.keys.Open(c.Sealed, sealLabel(subqueueID))
	if err != nil {
		return nil, fmt.Errorf("open pre-queue seed %d: %w", subqueueID, err)
	}
	if fairdraw.Commitment(secret) != c.Commitment {
		return nil, fmt.Errorf("pre-queue seed %d does not match its commitment", subqueueID)
	}
	return secret, nil
}

// openLine opens a line whose window has opened, placing its pre-queue,
// for a join that found it unopened.
func (s *Service) openLine(ctx context.Context, subqueueID int64, now time.Time) error {
	c, err := s.store.PrequeueCommit(ctx, subqueueID)
	if errors.Is(err, lottery.ErrNotFound) {
		c, err = s.commit(ctx, subqueueID)
	}
	var secret []byte
	switch {
	case errors.Is(err, lottery.ErrNotFound): // opened before pre-queues were committed: nothing to place
	case err != nil:
		return err
	default:
		if secret, err = s.openSecret(subqueueID, c); err != nil {
			return err
		}
	}
	open, err := s.store.OpenLine(ctx, lottery.OpenLineTx{SubQueueID: subqueueID, Now: now, Secret: secret})
	if err != nil {
		return fmt.Errorf("open line %d: %w", subqueueID, err)
	}
	s.forgetLine(subqueueID)
	if !open {
		return lottery.ErrNotOpen
	}
	return nil
}

// PrequeueArtifact returns the published pre-queue of an ordered
// sub-queue ("course:pace") of a public event: the commitment until the
// line opens, then the seed secret, the tickets and the order
// (prequeue.Verify recomputes it). A line not committed yet is committed
// now, so the commitment is there as soon as anyone looks. ErrNotFound for
// a lottery sub-queue, and for a line opened before pre-queues were
// published.
func (s *Service) PrequeueArtifact(ctx context.Context, slug, key string) (prequeue.Artifact, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return prequeue.Artifact{}, err
	}
	course, pace, _ := strings.Cut(key, ":")
	sq, ok := ev.SubQueue(course, pace)
	if !ok || sq.Mode != lottery.ModeOrdered {
		return prequeue.Artifact{}, lottery.ErrNotFound
	}
	p, err := s.store.Prequeue(ctx, sq.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		var c lottery.SeedCommit
		if c, err = s.commit(ctx, sq.ID); err == nil {
			p = lottery.Prequeue{SubQueueID: sq.ID, Commitment: c.Commitment}
		}
	}
	if err != nil {
		return prequeue.Artifact{}, fmt.Errorf("pre-queue of %s %s: %w", slug, key, err)
	}
	return artifactOf(ev.Slug, sq.Key, p), nil
}

// Published is a pre-queue artifact ready to serve: canonical JSON (compact,
// one newline) and its gzip. A placed one never changes, so it is built once
// per process: the opening is when every waiting runner may look at once.
type Published struct {
	Placed bool
	JSON   []byte
	Gzip   []byte
}

// PublishedPrequeue is PrequeueArtifact encoded for serving.
func (s *Service) PublishedPrequeue(ctx context.Context, slug, key string) (Published, error) {
	ev, err := s.events.PublicEvent(ctx, slug)
	if err != nil {
		return Published{}, err
	}
	course, pace, _ := strings.Cut(key, ":")
	if sq, ok := ev.SubQueue(course, pace); ok {
		if p, ok := s.published.Load(sq.ID); ok {
			return p.(Published), nil
		}
	}
	a, err := s.PrequeueArtifact(ctx, slug, key)
	if err != nil {
		return Published{}, err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return Published{}, fmt.Errorf("encode pre-queue artifact: %w", err)
	}
	out := Published{Placed: a.Status == prequeue.StatusPlaced, JSON: append(raw, '\n')}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(out.JSON); err != nil {
		return Published{}, fmt.Errorf("compress pre-queue artifact: %w", err)
	}
	if err := zw.Close(); err != nil {
		return Published{}, fmt.Errorf("compress pre-queue artifact: %w", err)
	}
	out.Gzip = gz.Bytes()
	if out.Placed {
		sq, _ := ev.SubQueue(course, pace) // found: PrequeueArtifact succeeded
		s.published.Store(sq.ID, out)
	}
	return out, nil
}

// artifactOf publishes a stored pre-queue as it was placed: the order is
// the stored one, never recomputed here, so a verifier checks what was
// stored (the informative seed is derived from the stored values).
func artifactOf(slug, key string, p lottery.Prequeue) prequeue.Artifact {
	a := prequeue.Artifact{Algorithm: prequeue.Algorithm, EventID: slug, SubQueue: key, Status: prequeue.StatusCommitted,
		Commitment: p.Commitment}
	if p.PlacedAt == nil {
		return a
	}
	a.Status, a.SeedSecret, a.TicketsRoot = prequeue.StatusPlaced, p.SeedSecret, p.TicketsRoot
	a.Seed = prequeue.Seed(p.SeedSecret, p.TicketsRoot, slug, key)
	a.Order = make([]prequeue.Place, len(p.Order))
	a.Tickets = make([]string, len(p.Order))
	for i, id := range p.Order {
		a.Order[i] = prequeue.Place{Position: i + 1, TicketID: id}
		a.Tickets[i] = id
	}
	slices.Sort(a.Tickets)
	return a
}
