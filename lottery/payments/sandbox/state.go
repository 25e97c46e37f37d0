package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/startline/startline/lottery"
)

// State is where the sandbox keeps its payments, refunds, card setups,
// saved cards and charges. MemoryState (New) keeps them in the process;
// a deployment of several processes passes one they all see (NewShared;
// cmd/startline keeps it in Redis), so that a checkout made by one API
// node can be shown and paid on another, and the worker can refund a
// payment or charge a card an API node took.
type State interface {
	// Get returns the value stored under key; false when there is none.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key.
	Set(ctx context.Context, key string, value []byte) error
}

// MemoryState is a State in this process's memory.
type MemoryState struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemoryState returns an empty in-process State.
func NewMemoryState() *MemoryState { return &MemoryState{m: map[string][]byte{}} }

// Get implements State.
func (s *MemoryState) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// Set implements State.
func (s *MemoryState) Set(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// The State's keys, by what they hold.
const (
	keyPayment  = "pay:"      // payment id → lottery.Payment
	keyRefunded = "refunded:" // payment id → total refunded (int64)
	keyRefund   = "refund:"   // idempotency key → the refund's answer (lottery.Payment)
	keySetup    = "setup:"    // setup id → setupDoc
	keyMethod   = "method:"   // payment method → card number
	keyCharge   = "charge:"   // idempotency key → chargeDoc
)

// load reads the JSON value under key into v; false when there is none.
func (p *Provider) load(ctx context.Context, key string, v any) (bool, error) {
	b, ok, err := p.state.Get(ctx, key)
	if err != nil {
		return false, fmt.Errorf("sandbox state %s: %w", key, err)
	}
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("sandbox state %s: %w", key, err)
	}
	return true, nil
}

// save stores v as JSON under key.
func (p *Provider) save(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sandbox state %s: %w", key, err)
	}
	if err := p.state.Set(ctx, key, b); err != nil {
		return fmt.Errorf("sandbox state %s: %w", key, err)
	}
	return nil
}

// payment returns a stored payment; false when the sandbox never made it.
func (p *Provider) payment(ctx context.Context, id string) (lottery.Payment, bool, error) {
	var pay lottery.Payment
	ok, err := p.load(ctx, keyPayment+id, &pay)
	return pay, ok, err
}

// refundedOf is a payment's refunded total.
func (p *Provider) refundedOf(ctx context.Context, id string) (int64, error) {
	var n int64
	_, err := p.load(ctx, keyRefunded+id, &n)
	return n, err
}

// setupDoc is a card setup as the State keeps it.
type setupDoc struct {
	Slug      string `json:"slug"`
	ReturnURL string `json:"return_url"`
	Number    string `json:"number,omitempty"` // set once confirmed
}

// chargeDoc is a charge's answer as the State keeps it.
type chargeDoc struct {
	Pay     lottery.Payment     `json:"pay"`
	Decline lottery.CardDecline `json:"decline"`
}
