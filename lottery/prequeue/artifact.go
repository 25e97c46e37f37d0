package prequeue

import (
	"encoding/json"
	"fmt"
)

// ErrMalformedArtifact reports a document that is not an artifact's JSON:
// a missing, null or wrongly typed field.
var ErrMalformedArtifact = fmt.Errorf("%w: malformed artifact", ErrInvalidInput)

// ParseArtifact decodes a published artifact. Field names match exactly,
// as they do for a JavaScript verifier (encoding/json alone would also take
// "Seed_Secret"), so the two can never read different values from one
// document; unknown fields are ignored. It checks the format, not the
// values: Verify recomputes them.
func ParseArtifact(data []byte) (Artifact, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Artifact{}, fmt.Errorf("%w: %v", ErrMalformedArtifact, err)
	}
	var a Artifact
	strs := []struct {
		name     string
		dst      *string
		required bool
	}{
		{"algorithm", &a.Algorithm, true}, {"event_id", &a.EventID, true}, {"subqueue", &a.SubQueue, true},
		{"status", &a.Status, true}, {"commitment", &a.Commitment, true}, {"seed_secret", &a.SeedSecret, false},
		{"tickets_root", &a.TicketsRoot, false}, {"seed", &a.Seed, false},
	}
	for _, f := range strs {
		if err := field(top, f.name, f.required, f.dst); err != nil {
			return Artifact{}, err
		}
	}
	if err := field(top, "tickets", false, &a.Tickets); err != nil {
		return Artifact{}, err
	}
	var order []map[string]json.RawMessage
	if err := field(top, "order", false, &order); err != nil {
		return Artifact{}, err
	}
	if order != nil {
		a.Order = make([]Place, len(order))
		for i, o := range order {
			if o == nil {
				return Artifact{}, fmt.Errorf("%w: order[%d] is null", ErrMalformedArtifact, i)
			}
			if err := field(o, "position", true, &a.Order[i].Position); err != nil {
				return Artifact{}, fmt.Errorf("order[%d]: %w", i, err)
			}
			if err := field(o, "ticket_id", true, &a.Order[i].TicketID); err != nil {
				return Artifact{}, fmt.Errorf("order[%d]: %w", i, err)
			}
		}
	}
	if a.Status == StatusPlaced && (a.Tickets == nil || a.Order == nil) {
		return Artifact{}, fmt.Errorf("%w: a placed pre-queue lists its tickets and order", ErrMalformedArtifact)
	}
	if err := checkArtifact(&a); err != nil {
		return Artifact{}, err
	}
	if err := checkTickets(sortedIDs(a.Tickets)); err != nil {
		return Artifact{}, err
	}
	return a, nil
}

// field decodes obj[name] into dst: absent is an error when required,
// null always.
func field(obj map[string]json.RawMessage, name string, required bool, dst any) error {
	raw, ok := obj[name]
	if !ok {
		if required {
			return fmt.Errorf("%w: %s is missing", ErrMalformedArtifact, name)
		}
		return nil
	}
	if string(raw) == "null" {
		return fmt.Errorf("%w: %s is null", ErrMalformedArtifact, name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformedArtifact, name, err)
	}
	return nil
}
