package postgres

import (
	"context"
	"fmt"

	"github.com/startline/startline/lottery"
)

// InsertSyntheticEntries adds perSubqueue received entries with made-up
// identities (@demo.startline.test addresses) to every sub-queue of an
// event, with their log records: demo data and benchmarks, never runners.
// Every fifth entry is in a group of up to three; tickets cycle 1 to 4.
func (s *Store) InsertSyntheticEntries(ctx context.Context, slug string, perSubqueue int) (int64, error) {
	return s.insertSynthetic(ctx, slug, perSubqueue, []string{string(lottery.ModeLottery), string(lottery.ModeOrdered)})
}

// InsertSyntheticLotteryEntries is InsertSyntheticEntries for the drawn
// sub-queues only: an ordered sub-queue's line and slots stay as runners
// make them (the open demo event, whose live odds need a field).
func (s *Store) InsertSyntheticLotteryEntries(ctx context.Context, slug string, perSubqueue int) (int64, error) {
	return s.insertSynthetic(ctx, slug, perSubqueue, []string{string(lottery.ModeLottery)})
}

func (s *Store) insertSynthetic(ctx context.Context, slug string, perSubqueue int, modes []string) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`WITH ins AS (
			INSERT INTO entries (id, event_id, subqueue_id, name, email, email_key, phone, birth_date, tickets,
				previous_applications, group_code, status)
			SELECT gen_random_uuid(), e.id, q.id, 'Demo Runner ' || q.id || '-' || g,
				'runner' || q.id || '-' || g || '@demo.startline.test', 'runner' || q.id || '-' || g || '@demo.startline.test',
				'+8210' || lpad((q.id * 100000 + g)::text, 8, '0'), date '1980-01-01' + (g % 9000),
				1 + (g % 4), 0, CASE WHEN g % 5 = 0 THEN 'demo-' || q.id || '-' || (g / 15) ELSE '' END, 'received'
			FROM events e JOIN subqueues q ON q.event_id = e.id, generate_series(1, ?) g
			WHERE e.slug = ? AND q.mode IN ?
			RETURNING id, event_id)
		INSERT INTO event_log (event_id, entry_id, kind, to_status, actor, details)
		SELECT event_id, id, 'entry.created', 'received', 'system:synthetic', '{"synthetic": true}' FROM ins`,
		perSubqueue, slug, modes)
	if res.Error != nil {
		return 0, fmt.Errorf("synthetic entries for %s: %w", slug, res.Error)
	}
	return res.RowsAffected, nil
}
