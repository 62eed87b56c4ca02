package engine

// Store persists the engine's state (baselines, destination history) so it
// survives a collector restart. Keys are short ASCII tokens ([A-Za-z0-9_.-]),
// values opaque bytes of at most 512 KiB. The collector backs it with a
// JetStream KV bucket; tests may use a map.
type Store interface {
	Put(key string, value []byte) error
	Get(key string) ([]byte, bool, error)
	Delete(key string) error
	Keys() ([]string, error)
}
