package postgres

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/startline/startline/antibot/cluster"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/review"
)

// FarmInputs reads what the farm checks compare besides the entry's own
// keys, one query per kind: card fingerprints (entry_cards_fingerprint_idx),
// the address question's answers, and the event's entries per card.
func (s *Store) FarmInputs(ctx context.Context, eventID int64, addressQuestion string) (review.FarmInputs, error) {
	in := review.FarmInputs{Cards: map[string]string{}, Addresses: map[string]string{}, EntriesPerCard: 1}
	db := s.db.WithContext(ctx)
	rows, err := db.Raw(`SELECT entry_id::text, fingerprint FROM entry_cards WHERE event_id = ? AND fingerprint <> ''`,
		eventID).Rows()
	if err != nil {
		return in, fmt.Errorf("farm inputs: cards: %w", err)
	}
	if err := scanPairs(rows, in.Cards); err != nil {
		return in, fmt.Errorf("farm inputs: cards: %w", err)
	}
	if addressQuestion != "" {
		rows, err := db.Raw(`SELECT id::text, answers->>? FROM entries
			WHERE event_id = ? AND jsonb_typeof(answers->?) = 'string'`, addressQuestion, eventID, addressQuestion).Rows()
		if err != nil {
			return in, fmt.Errorf("farm inputs: addresses: %w", err)
		}
		if err := scanPairs(rows, in.Addresses); err != nil {
			return in, fmt.Errorf("farm inputs: addresses: %w", err)
		}
	}
	var per []int
	if err := db.Raw(`SELECT entries_per_card FROM event_card_settings WHERE event_id = ?`, eventID).
		Scan(&per).Error; err != nil {
		return in, fmt.Errorf("farm inputs: card settings: %w", err)
	}
	if len(per) > 0 {
		in.EntriesPerCard = per[0]
	}
	return in, nil
}

// scanPairs reads (key, value) rows into m and closes rows.
func scanPairs(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, m map[string]string) error {
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		m[k] = v
	}
	return rows.Err()
}

// ClusterLinks lists what links a cluster's entries, in cluster.FarmKinds
// order.
func (s *Store) ClusterLinks(ctx context.Context, eventID int64, clusterID string) ([]review.ClusterLink, error) {
	var rows []struct {
		Kind    string
		Groups  int
		Entries int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT kind, groups, entries FROM cluster_links
		WHERE event_id = ? AND cluster_id = ?`, eventID, clusterID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("cluster links: %w", err)
	}
	out := make([]review.ClusterLink, len(rows))
	for i, r := range rows {
		out[i] = review.ClusterLink{Kind: cluster.LinkKind(r.Kind), Groups: r.Groups, Entries: r.Entries}
	}
	slices.SortFunc(out, func(a, b review.ClusterLink) int {
		return slices.Index(cluster.FarmKinds, a.Kind) - slices.Index(cluster.FarmKinds, b.Kind)
	})
	return out, nil
}

// saveFarm replaces the event's cluster links and flags the entries whose
// cluster's shape is a farm's (review.FarmVerdicts), inside SaveClusters'
// transaction, with the same mail intent and log record as the other
// cluster flags. It returns how many entries it flagged.
func saveFarm(ctx context.Context, tx *gorm.DB, u review.ClusterUpdate) (int, error) {
	if err := tx.Exec(`DELETE FROM cluster_links WHERE event_id = ?`, u.EventID).Error; err != nil {
		return 0, fmt.Errorf("clear cluster links: %w", err)
	}
	var cids, kinds []string
	var groups, entries []int64
	for cid, ls := range u.Links {
		for _, l := range ls {
			cids, kinds = append(cids, cid), append(kinds, string(l.Kind))
			groups, entries = append(groups, int64(l.Groups)), append(entries, int64(l.Entries))
		}
	}
	if len(cids) > 0 {
		if _, err := tx.Statement.ConnPool.ExecContext(ctx, `INSERT INTO cluster_links (event_id, cluster_id, kind, groups, entries)
			SELECT $1, x.c, x.k, x.g, x.n FROM unnest($2::uuid[], $3::text[], $4::int[], $5::int[]) AS x(c, k, g, n)`,
			u.EventID, cids, kinds, groups, entries); err != nil {
			return 0, fmt.Errorf("store cluster links: %w", err)
		}
	}
	flagged := 0
	for id, why := range u.Farm {
		if _, dup := u.Flag[id]; dup {
			continue
		}
		from, err := flagEntry(tx, id, why)
		if err != nil {
			return flagged, err
		}
		if from == "" {
			continue
		}
		flagged++
		if err := queueEntryIntents(ctx, tx, mails.EntryInReview, []string{id}, ""); err != nil {
			return flagged, err
		}
		if err := appendLog(tx, u.EventID, lottery.LogRecord{Kind: "entry.flagged", EntryID: id, FromStatus: from,
			ToStatus: "in_review", Actor: "system:cluster", Details: map[string]any{"reason": why.Detail,
				"code": why.Code, "points": why.Points}}); err != nil {
			return flagged, err
		}
	}
	return flagged, nil
}

var _ review.FarmStore = (*Store)(nil)
