package worker

// NoPool makes the sender open a connection per message, as it did before
// the pool (the benchmark's reference).
func (s *SMTPSender) NoPool() { s.idle = nil }
