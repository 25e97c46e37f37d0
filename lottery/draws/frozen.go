package draws

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/fairdraw"
)

// FrozenList is one sub-queue's frozen list as freeze published it: every
// eligible entry's id, tickets and group pseudonym (the leaves of
// entries_root, no personal data), for runners to check before the reveal.
type FrozenList struct {
	Event           string
	SubQueue        string
	EntriesRoot     string
	FrozenAt        time.Time
	RevealNotBefore time.Time
	Entries         []fairdraw.Entry // sorted by entry id
}

// FrozenList returns a frozen sub-queue's published list; lottery.ErrNotFound
// before freeze or for an unknown sub-queue.
func (s *Service) FrozenList(ctx context.Context, slug, subqueue string) (FrozenList, error) {
	ev, ds, err := s.Draws(ctx, slug)
	if err != nil {
		return FrozenList{}, err
	}
	end, ok := lottery.RevealNotBefore(ev)
	if !ok {
		return FrozenList{}, lottery.ErrNotFound
	}
	for _, d := range ds {
		if d.SubQueue != subqueue {
			continue
		}
		entries, err := s.store.DrawEntries(ctx, d.SubQueueID)
		if err != nil {
			return FrozenList{}, fmt.Errorf("frozen list %s %s: %w", slug, subqueue, err)
		}
		if entries == nil {
			entries = []fairdraw.Entry{}
		}
		return FrozenList{Event: ev.Slug, SubQueue: d.SubQueue, EntriesRoot: d.EntriesRoot, FrozenAt: ev.FrozenAt.UTC(),
			RevealNotBefore: end, Entries: entries}, nil
	}
	return FrozenList{}, lottery.ErrNotFound
}

// Line is a runner's own line in a frozen list, and whether the published
// entries_root includes it (checked by an inclusion proof, as a runner's
// own verifier would).
type Line struct {
	fairdraw.Entry
	SubQueue    string
	EntriesRoot string
	InRoot      bool
}

// EntryLine returns the frozen line of an entry whose receipt the caller
// checked (the status page); ok is false when the entry is in no frozen
// list (not frozen yet, or left out as ineligible).
func (s *Service) EntryLine(ctx context.Context, v lottery.EntryView) (line Line, ok bool, err error) {
	if v.Event.FrozenAt == nil {
		return Line{}, false, nil
	}
	sqID, e, err := s.store.DrawEntry(ctx, v.Entry.ID)
	if errors.Is(err, lottery.ErrNotFound) {
		return Line{}, false, nil
	}
	if err != nil {
		return Line{}, false, fmt.Errorf("frozen line: %w", err)
	}
	ds, err := s.store.Draws(ctx, v.Event.ID)
	if err != nil {
		return Line{}, false, fmt.Errorf("frozen line: %w", err)
	}
	line = Line{Entry: e, SubQueue: v.Entry.SubQueue}
	for _, d := range ds {
		if d.SubQueueID == sqID {
			line.EntriesRoot = d.EntriesRoot
		}
	}
	tree, err := s.trees.get(ctx, sqID, s.store)
	if err != nil {
		return Line{}, false, fmt.Errorf("frozen line: %w", err)
	}
	idx, leaf, path, err := tree.Proof(e.EntryID)
	if err == nil {
		line.InRoot = leaf == fairdraw.LeafData(e) &&
			fairdraw.VerifyInclusion(leaf, idx, tree.Size(), path, line.EntriesRoot) == nil
	} else if !errors.Is(err, fairdraw.ErrEntryNotFound) {
		return Line{}, false, fmt.Errorf("frozen line: %w", err)
	}
	return line, true, nil
}
