// Package prequeue implements prequeue-v1 (docs/PREQUEUE-SPEC.md), the
// publicly verifiable order in which a waiting room's pre-queue is placed
// when its line opens. The order is a pure function of a seed secret
// committed before the first join and of the pseudonymous ticket ids that
// were in the pre-queue, so anyone can recompute it from the published
// artifact; Verify does exactly that.
//
// Like lottery/fairdraw, whose Merkle tree it reuses, the package is pure:
// no I/O, no clock, no randomness of its own.
package prequeue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/startline/startline/lottery/fairdraw"
)

// Algorithm is the value of an artifact's "algorithm" field.
const Algorithm = "prequeue-v1"

// Artifact statuses: the commitment is published while the pre-queue takes
// joins; the secret, the tickets and the order once it is placed.
const (
	StatusCommitted = "committed"
	StatusPlaced    = "placed"
)

// Sentinel errors, for errors.Is; errors of this package wrap one of them.
var (
	// ErrInvalidInput reports a field that is not canonical prequeue-v1.
	ErrInvalidInput = errors.New("prequeue: invalid input")
	// ErrUnknownAlgorithm reports an artifact of another algorithm.
	ErrUnknownAlgorithm = errors.New("prequeue: unknown algorithm")
	// ErrNotPlaced reports an artifact that publishes only the commitment:
	// there is no order to recompute yet.
	ErrNotPlaced = errors.New("prequeue: not placed yet")
	// ErrMismatch reports a published value that differs from its
	// recomputation; the error is a *MismatchError.
	ErrMismatch = errors.New("prequeue: mismatch")
)

// MismatchError is Verify's report of the first published value that
// differs from its recomputation.
type MismatchError struct {
	Field      string // e.g. "tickets_root", "order[3].ticket_id"
	Artifact   string // what the artifact publishes
	Recomputed string // what its inputs give
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s mismatch: artifact says %s, recomputed %s", e.Field, e.Artifact, e.Recomputed)
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// Input is everything a pre-queue's order depends on.
type Input struct {
	EventID  string // the event's slug
	SubQueue string // "<course>:<pace>"
	// SeedSecret is the secret whose SHA-256 was published before the first
	// join; fairdraw.SecretSize bytes.
	SeedSecret []byte
	// Tickets are the pseudonymous ids of the tickets in the pre-queue, in
	// any order.
	Tickets []string
}

// Place is one ticket at its place in line (1-based).
type Place struct {
	Position int    `json:"position"`
	TicketID string `json:"ticket_id"`
}

// Artifact is the published record of one sub-queue's pre-queue. Before
// placement it carries the commitment only (Status "committed"); after,
// everything needed to recompute the order. It holds no personal data.
type Artifact struct {
	Algorithm   string `json:"algorithm"`
	EventID     string `json:"event_id"`
	SubQueue    string `json:"subqueue"`
	Status      string `json:"status"`
	Commitment  string `json:"commitment"`             // hex sha256(seed_secret)
	SeedSecret  string `json:"seed_secret,omitempty"`  // hex, once placed
	TicketsRoot string `json:"tickets_root,omitempty"` // hex, once placed
	Seed        string `json:"seed,omitempty"`         // informative: Verify checks it when present
	// Tickets (sorted) and Order are present, [] when empty, once placed.
	Tickets []string `json:"tickets,omitzero"`
	Order   []Place  `json:"order,omitzero"`
}

// Seed returns the order's seed: the hex SHA-256 of
// "prequeue-v1|" + secretHex + "|" + ticketsRoot + "|" + eventID + "|" + subqueue.
func Seed(secretHex, ticketsRoot, eventID, subqueue string) string {
	sum := sha256.Sum256([]byte(Algorithm + "|" + secretHex + "|" + ticketsRoot + "|" + eventID + "|" + subqueue))
	return hex.EncodeToString(sum[:])
}

// TicketKey returns a ticket's key, sha256(seed + "|" + ticketID) with the
// seed as its hex text; the lowest key is placed first.
func TicketKey(seed, ticketID string) [32]byte {
	return sha256.Sum256([]byte(seed + "|" + ticketID))
}

// TicketsRoot returns the hex RFC 6962 Merkle Tree Hash of the ticket ids
// sorted in ascending byte order (each id is a leaf's data).
func TicketsRoot(tickets []string) string {
	return fairdraw.TreeHash(sortedIDs(tickets))
}

// Order places a pre-queue: tickets by ascending TicketKey (ties, which
// SHA-256 makes theoretical, by ticket id), positions from 1. It returns
// the placed artifact. Invalid input wraps ErrInvalidInput.
func Order(in Input) (Artifact, error) {
	if err := checkHeader(in.EventID, in.SubQueue); err != nil {
		return Artifact{}, err
	}
	if len(in.SeedSecret) != fairdraw.SecretSize {
		return Artifact{}, fmt.Errorf("%w: seed_secret is %d bytes, want %d", ErrInvalidInput, len(in.SeedSecret), fairdraw.SecretSize)
	}
	tickets := sortedIDs(in.Tickets)
	if err := checkTickets(tickets); err != nil {
		return Artifact{}, err
	}
	secretHex := hex.EncodeToString(in.SeedSecret)
	root := fairdraw.TreeHash(tickets)
	seed := Seed(secretHex, root, in.EventID, in.SubQueue)
	type keyed struct {
		key [32]byte
		id  string
	}
	ks := make([]keyed, len(tickets))
	for i, id := range tickets {
		ks[i] = keyed{TicketKey(seed, id), id}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	order := make([]Place, len(ks))
	for i, k := range ks {
		order[i] = Place{Position: i + 1, TicketID: k.id}
	}
	return Artifact{Algorithm: Algorithm, EventID: in.EventID, SubQueue: in.SubQueue, Status: StatusPlaced,
		Commitment: fairdraw.Commitment(in.SeedSecret), SeedSecret: secretHex, TicketsRoot: root, Seed: seed,
		Tickets: tickets, Order: order}, nil
}

// Verify recomputes a placed artifact from its own fields: the commitment
// from seed_secret, tickets_root from tickets, the seed, and the order. It
// returns nil when all match, a *MismatchError for the first that differs
// (in that order), ErrNotPlaced for an artifact that publishes only its
// commitment, or an ErrInvalidInput / ErrUnknownAlgorithm error.
func Verify(a Artifact) error {
	if err := checkArtifact(&a); err != nil {
		return err
	}
	if a.Status != StatusPlaced {
		return fmt.Errorf("%w: %s %s publishes its commitment only", ErrNotPlaced, a.EventID, a.SubQueue)
	}
	secret, _ := hex.DecodeString(a.SeedSecret) // checked
	want, err := Order(Input{EventID: a.EventID, SubQueue: a.SubQueue, SeedSecret: secret, Tickets: a.Tickets})
	if err != nil {
		return err
	}
	switch {
	case a.Commitment != want.Commitment:
		return &MismatchError{"commitment", a.Commitment, want.Commitment}
	case a.TicketsRoot != want.TicketsRoot:
		return &MismatchError{"tickets_root", a.TicketsRoot, want.TicketsRoot}
	case a.Seed != "" && a.Seed != want.Seed:
		return &MismatchError{"seed", a.Seed, want.Seed}
	}
	for i := range min(len(a.Order), len(want.Order)) {
		got, exp := a.Order[i], want.Order[i]
		field := fmt.Sprintf("order[%d].", i)
		if got.Position != exp.Position {
			return &MismatchError{field + "position", fmt.Sprint(got.Position), fmt.Sprint(exp.Position)}
		}
		if got.TicketID != exp.TicketID {
			return &MismatchError{field + "ticket_id", got.TicketID, exp.TicketID}
		}
	}
	if len(a.Order) != len(want.Order) {
		return &MismatchError{"len(order)", fmt.Sprint(len(a.Order)), fmt.Sprint(len(want.Order))}
	}
	return nil
}

// sortedIDs returns a sorted copy of ids, never nil.
func sortedIDs(ids []string) []string {
	out := append(make([]string, 0, len(ids)), ids...)
	slices.Sort(out)
	return out
}

// checkHeader checks the canonical event id and sub-queue (as DRAW-SPEC's).
func checkHeader(eventID, subqueue string) error {
	if !ident(eventID, 64) {
		return fmt.Errorf("%w: event_id %q does not match [a-z0-9-]{1,64}", ErrInvalidInput, eventID)
	}
	course, pace, ok := strings.Cut(subqueue, ":")
	if !ok || !ident(course, 32) || !ident(pace, 32) {
		return fmt.Errorf("%w: subqueue %q is not <course>:<pace> with parts [a-z0-9-]{1,32}", ErrInvalidInput, subqueue)
	}
	return nil
}

// checkTickets checks sorted ticket ids: canonical and unique.
func checkTickets(sorted []string) error {
	for i, id := range sorted {
		if !ident(id, 64) {
			return fmt.Errorf("%w: ticket id %q does not match [a-z0-9-]{1,64}", ErrInvalidInput, id)
		}
		if i > 0 && sorted[i-1] == id {
			return fmt.Errorf("%w: ticket id %q appears more than once", ErrInvalidInput, id)
		}
	}
	return nil
}

// checkArtifact checks the format of what an artifact publishes.
func checkArtifact(a *Artifact) error {
	if a.Algorithm != Algorithm {
		return fmt.Errorf("%w: %q, want %q", ErrUnknownAlgorithm, a.Algorithm, Algorithm)
	}
	if err := checkHeader(a.EventID, a.SubQueue); err != nil {
		return err
	}
	if !hex32(a.Commitment) {
		return fmt.Errorf("%w: commitment %q is not 32 bytes of lowercase hex", ErrInvalidInput, a.Commitment)
	}
	switch a.Status {
	case StatusCommitted:
		if a.SeedSecret != "" || a.TicketsRoot != "" || a.Seed != "" || a.Tickets != nil || a.Order != nil {
			return fmt.Errorf("%w: a committed pre-queue publishes no secret, tickets or order", ErrInvalidInput)
		}
		return nil
	case StatusPlaced:
	default:
		return fmt.Errorf("%w: status %q, want %q or %q", ErrInvalidInput, a.Status, StatusCommitted, StatusPlaced)
	}
	for _, f := range []struct{ name, v string }{{"seed_secret", a.SeedSecret}, {"tickets_root", a.TicketsRoot}} {
		if !hex32(f.v) {
			return fmt.Errorf("%w: %s %q is not 32 bytes of lowercase hex", ErrInvalidInput, f.name, f.v)
		}
	}
	if a.Seed != "" && !hex32(a.Seed) {
		return fmt.Errorf("%w: seed %q is not 32 bytes of lowercase hex", ErrInvalidInput, a.Seed)
	}
	return nil
}

// ident reports whether s is 1..maxLen bytes of [a-z0-9-].
func ident(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// hex32 reports whether s is 32 bytes in lowercase hex.
func hex32(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}
