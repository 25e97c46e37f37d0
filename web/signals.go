package web

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/startline/startline/internal/textin"
)

// signalsJSON merges what the page script collected with the fill time the
// server measured from the form's start stamp (when the script did not run),
// re-encoded by textin.CleanJSON so the database takes whatever the client
// put in its strings.
func signalsJSON(raw, started string) json.RawMessage {
	m := map[string]any{}
	if raw != "" && len(raw) <= 4096 {
		_ = json.Unmarshal([]byte(raw), &m) // best effort: bad signals are just absent signals
	}
	if _, ok := m["fill_ms"]; !ok {
		if ms, err := strconv.ParseInt(started, 10, 64); err == nil {
			if d := time.Now().UnixMilli() - ms; d > 0 && d < 24*3600*1000 {
				m["fill_ms"] = d
			}
		}
	}
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	if b, err = textin.CleanJSON(b); err != nil {
		return nil // best effort, as above
	}
	return b
}
