package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KV adapts a JetStream KeyValue bucket to engine.Store.
type KV struct {
	kv      jetstream.KeyValue
	timeout time.Duration
}

// NewKV wraps kv; each operation gets its own timeout.
func NewKV(kv jetstream.KeyValue) *KV { return &KV{kv: kv, timeout: 10 * time.Second} }

func (s *KV) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// Put stores value under key.
func (s *KV) Put(key string, value []byte) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.kv.Put(ctx, key, value); err != nil {
		return fmt.Errorf("state put %s: %w", key, err)
	}
	return nil
}

// Get returns the value of key; ok is false when it does not exist.
func (s *KV) Get(key string) ([]byte, bool, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("state get %s: %w", key, err)
	}
	return e.Value(), true, nil
}

// Delete removes key (purging its history).
func (s *KV) Delete(key string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.kv.Purge(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("state delete %s: %w", key, err)
	}
	return nil
}

// Keys lists the stored keys.
func (s *KV) Keys() ([]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("state list keys: %w", err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	if err := lister.Stop(); err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return keys, nil
	}
	return keys, nil
}
