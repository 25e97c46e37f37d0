package postgres

import "time"

// SetRetryBackoff sets the step of Transact's retry backoff (tests).
func SetRetryBackoff(s *Store, d time.Duration) { s.retryBackoff = d }
