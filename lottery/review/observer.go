package review

// DecisionObserver hears each decision a reviewer made (the decision's
// name only, never the entry or the reviewer). It lets the metrics count
// decisions without this package importing a metrics library.
type DecisionObserver interface {
	Reviewed(decision string)
}

// UseObserver sets who hears the decisions. Call it before serving.
func (s *Service) UseObserver(o DecisionObserver) { s.observer = o }

// observed tells the observer, if any, of a decision that was stored.
func (s *Service) observed(decision string) {
	if s.observer != nil {
		s.observer.Reviewed(decision)
	}
}
