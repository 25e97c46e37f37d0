package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/startline/startline/antibot"
	"github.com/startline/startline/lottery"
	"github.com/startline/startline/lottery/mails"
	"github.com/startline/startline/lottery/review"
)

// ClusterInputs lists an event's entries' keys.
func (s *Store) ClusterInputs(ctx context.Context, eventID int64) ([]review.ClusterInput, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT id::text, email_key, phone, device_id, fingerprint,
			coalesce(host(client_ip), ''), user_agent, person_key, status,
			risk_reasons @> ?::jsonb, coalesce(signals->>'screen', ''), coalesce(signals->>'platform', ''),
			coalesce(signals->>'timezone', ''), coalesce(signals->>'languages', ''), created_at
		FROM entries WHERE event_id = ?`, geoMismatchDoc, eventID).Rows()
	if err != nil {
		return nil, fmt.Errorf("cluster inputs: %w", err)
	}
	defer rows.Close()
	var out []review.ClusterInput
	for rows.Next() {
		var r review.ClusterInput
		if err := rows.Scan(&r.ID, &r.EmailKey, &r.Phone, &r.DeviceID, &r.Fingerprint, &r.ClientIP, &r.UserAgent,
			&r.PersonKey, &r.Status, &r.GeoMismatch, &r.Screen,
			&r.Platform, &r.TimeZone, &r.Languages, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// geoMismatchDoc matches a risk document with a geo_mismatch reason.
var geoMismatchDoc = `{"reasons":[{"code":"` + antibot.ReasonGeoMismatch + `"}]}`

// SaveClusters stores cluster ids and flags entries, in one transaction.
func (s *Store) SaveClusters(ctx context.Context, u review.ClusterUpdate) (int, error) {
	ids, cids := make([]string, 0, len(u.ClusterOf)), make([]string, 0, len(u.ClusterOf))
	for id, c := range u.ClusterOf {
		ids, cids = append(ids, id), append(cids, c)
	}
	flagged := 0
	err := s.bulkTx(ctx, func(tx *gorm.DB, _ copyFunc) error {
		flagged = 0
		// Freeze locks the event row for update: wait for it, and change
		// nothing once the entry lists are fixed.
		var st string
		if err := tx.Raw("SELECT status FROM events WHERE id = ? FOR SHARE", u.EventID).Row().Scan(&st); err != nil {
			return fmt.Errorf("lock event: %w", err)
		}
		if st != string(lottery.EventPublished) && st != string(lottery.EventClosed) {
			return nil
		}
		if err := tx.Exec(`UPDATE entries SET cluster_id = NULL WHERE event_id = ? AND cluster_id IS NOT NULL`, u.EventID).Error; err != nil {
			return fmt.Errorf("clear clusters: %w", err)
		}
		if len(ids) > 0 {
			if _, err := tx.Statement.ConnPool.ExecContext(ctx, `UPDATE entries e SET cluster_id = x.c
				FROM unnest($1::uuid[], $2::uuid[]) AS x(id, c) WHERE e.id = x.id AND e.event_id = $3`, ids, cids, u.EventID); err != nil {
				return fmt.Errorf("store clusters: %w", err)
			}
		}
		for id, why := range u.Flag {
			from, err := flagEntry(tx, id, antibot.Reason{Code: "linked_cluster", Points: 50, Detail: why})
			if err != nil {
				return err
			}
			if from == "" {
				continue
			}
			flagged++
			// Sent to review after apply: the runner is told it is not a
			// decision yet (lottery/mails entry.in_review).
			if err := queueEntryIntents(ctx, tx, mails.EntryInReview, []string{id}, ""); err != nil {
				return err
			}
			if err := appendLog(tx, u.EventID, lottery.LogRecord{Kind: "entry.flagged", EntryID: id, FromStatus: from,
				ToStatus: "in_review", Actor: "system:cluster", Details: map[string]any{"reason": why}}); err != nil {
				return err
			}
		}
		n, err := saveFarm(ctx, tx, u)
		flagged += n
		return err
	})
	return flagged, err
}

// flagEntry sends one entry to review and returns the status it left, or
// "" when it may no longer be flagged. A drawn group's entry must still be
// received. An ordered group's entry may also be waitlisted or hold a
// pending offer, which keeps its slot through the review but cannot be
// accepted meanwhile; its row is locked first, as offer changes lock it
// before the entry, so an acceptance racing the sweep wins or waits.
func flagEntry(tx *gorm.DB, id string, why antibot.Reason) (string, error) {
	var offer []string
	if err := tx.Raw(`SELECT status FROM offers WHERE entry_id = ? FOR UPDATE`, id).Scan(&offer).Error; err != nil {
		return "", fmt.Errorf("lock offer of %s: %w", id, err)
	}
	if len(offer) > 0 && offer[0] != string(lottery.OfferPending) {
		return "", nil
	}
	reason, _ := json.Marshal(why)
	var from []string
	if err := tx.Raw(`WITH old AS (SELECT e.id, e.status FROM entries e JOIN subqueues q ON q.id = e.subqueue_id
			WHERE e.id = ? AND (e.status = 'received' OR (q.mode = 'ordered' AND e.status IN ('waitlisted', 'offered')))
			FOR UPDATE OF e)
		UPDATE entries e SET status = 'in_review', risk_decision = 'review', updated_at = now(),
			risk_score = least(risk_score + ?, 1000),
			risk_reasons = CASE jsonb_typeof(e.risk_reasons)
				WHEN 'object' THEN jsonb_set(e.risk_reasons, '{reasons}', coalesce(e.risk_reasons->'reasons', '[]') || ?::jsonb)
				-- never assessed (the column's default '[]': imported or synthetic entries)
				ELSE jsonb_build_object('reasons', ?::jsonb) END
		FROM old WHERE e.id = old.id RETURNING old.status`, id, why.Points, "["+string(reason)+"]", "["+string(reason)+"]").Scan(&from).Error; err != nil {
		return "", fmt.Errorf("flag %s: %w", id, err)
	}
	if len(from) == 0 {
		return "", nil
	}
	return from[0], nil
}

// OpenEvents lists published and closed events (entries may still change).
func (s *Store) OpenEvents(ctx context.Context) ([]lottery.Event, error) {
	var rows []eventRow
	if err := s.db.WithContext(ctx).Where("status IN ('published', 'closed')").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("open events: %w", err)
	}
	out := make([]lottery.Event, len(rows))
	for i, r := range rows {
		out[i] = fromEventRow(r, nil, nil)
	}
	return out, nil
}
