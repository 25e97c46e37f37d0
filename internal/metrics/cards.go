package metrics

import "github.com/prometheus/client_golang/prometheus"

// CardOutcomes are the card_charges outcome label's values
// (offers.Recorded*); others count as "other".
var CardOutcomes = []string{"charged", "retry", "busy", "fallback", "refund", "stale"}

func newCardCharges() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "startline_card_charges_total",
		Help: "Off-session card charges (card on file) by recorded outcome."}, []string{"outcome"})
	for _, o := range CardOutcomes {
		c.WithLabelValues(o)
	}
	return c
}

// CardCharged counts one recorded off-session charge (offers.Charger.OnOutcome).
func (m *Metrics) CardCharged(outcome string) {
	for _, o := range CardOutcomes {
		if o == outcome {
			m.cardCharges.WithLabelValues(o).Inc()
			return
		}
	}
	m.cardCharges.WithLabelValues("other").Inc()
}
