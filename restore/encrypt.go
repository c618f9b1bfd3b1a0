package restore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// KeySize is the size of an encryption key: AES-256.
const KeySize = 32

// sealAlg names the algorithm in [Sealed.Alg].
const sealAlg = "A256GCM"

// Encrypt wraps a store so snapshots are encrypted at rest with AES-256-GCM. The whole
// snapshot is sealed (session data with its JWT or secureKey, userData, transcript, outbox);
// only the session id, revision and saved-at time stay readable so the inner store can do its
// compare-and-set and listing. The ciphertext is bound to the session id, so a snapshot file
// copied to another id does not decrypt.
//
// key must be 32 bytes. oldKeys (also 32 bytes each) are only used to decrypt, which allows
// key rotation: snapshots written with an old key are re-encrypted with key on their next
// Save. The returned store never logs, prints or returns the keys; errors name a key only by
// its fingerprint ([KeyID]).
func Encrypt(store Store, key []byte, oldKeys ...[]byte) (Store, error) {
	if store == nil {
		return nil, fmt.Errorf("restore: Encrypt needs a store")
	}
	e := &encryptedStore{inner: store, open: map[string]cipher.AEAD{}}
	for i, k := range append([][]byte{key}, oldKeys...) {
		if len(k) != KeySize {
			what := "key"
			if i > 0 {
				what = fmt.Sprintf("old key %d", i)
			}
			return nil, fmt.Errorf("restore: encryption %s must be %d bytes, got %d", what, KeySize, len(k))
		}
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		id := KeyID(k)
		if i == 0 {
			e.seal, e.keyID = aead, id
		}
		if _, dup := e.open[id]; !dup {
			e.open[id] = aead
			e.ids = append(e.ids, id)
		}
	}
	return e, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("restore: encryption key: %w", err)
	}
	return cipher.NewGCM(block)
}

// KeyID returns the fingerprint of a key that sealed snapshots record: the first 4 bytes of
// SHA-256("webchat/restore key id\x00" + key), in hex. It identifies a key without revealing it.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("webchat/restore key id\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:4])
}

type encryptedStore struct {
	inner Store
	seal  cipher.AEAD
	keyID string
	open  map[string]cipher.AEAD // by key id
	ids   []string
}

// String names the store without any key material.
func (e *encryptedStore) String() string {
	return fmt.Sprintf("restore.Encrypt(%T, key id %s)", e.inner, e.keyID)
}

func aad(id string) []byte { return []byte("webchat/restore snapshot v1\x00" + id) }

func (e *encryptedStore) Save(ctx context.Context, s *Snapshot, expected uint64) (uint64, error) {
	if err := checkSave(ctx, s); err != nil {
		return 0, err
	}
	plain := *s
	plain.Revision, plain.Sealed = 0, nil
	if plain.SavedAt.IsZero() {
		plain.SavedAt = time.Now()
	}
	data, err := json.Marshal(&plain)
	if err != nil {
		return 0, fmt.Errorf("restore: encoding snapshot of session %s: %w", s.SessionID, err)
	}
	nonce := make([]byte, e.seal.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return 0, fmt.Errorf("restore: nonce: %w", err)
	}
	outer := &Snapshot{
		SessionID: s.SessionID,
		SavedAt:   plain.SavedAt,
		Sealed: &Sealed{
			Alg:   sealAlg,
			KeyID: e.keyID,
			Nonce: nonce,
			Data:  e.seal.Seal(nil, nonce, data, aad(s.SessionID)),
		},
	}
	rev, err := e.inner.Save(ctx, outer, expected)
	if err != nil {
		return 0, err
	}
	s.Revision, s.SavedAt = rev, plain.SavedAt
	return rev, nil
}

func (e *encryptedStore) Load(ctx context.Context, id string) (*Snapshot, error) {
	outer, err := e.inner.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	sl := outer.Sealed
	if sl == nil {
		return nil, fmt.Errorf("%w: session %s (written without encryption)", ErrNotEncrypted, id)
	}
	if sl.Alg != sealAlg {
		return nil, fmt.Errorf("%w: session %s: unsupported algorithm %q", ErrDecrypt, id, sl.Alg)
	}
	aead, ok := e.open[sl.KeyID]
	if !ok {
		return nil, fmt.Errorf("%w: session %s: it was encrypted with another key (key id %s; configured key ids %s)",
			ErrDecrypt, id, sl.KeyID, strings.Join(e.ids, ", "))
	}
	if len(sl.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%w: session %s: bad nonce size %d", ErrDecrypt, id, len(sl.Nonce))
	}
	data, err := aead.Open(nil, sl.Nonce, sl.Data, aad(id))
	if err != nil {
		return nil, fmt.Errorf("%w: session %s: authentication failed (wrong key, or the data was altered or copied from another session)", ErrDecrypt, id)
	}
	s := new(Snapshot)
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%w: session %s: decrypted data: %w", ErrCorrupt, id, err)
	}
	if s.SessionID != id {
		return nil, fmt.Errorf("%w: session %s: decrypted data is for session %q", ErrCorrupt, id, s.SessionID)
	}
	s.Revision = outer.Revision
	return s, nil
}

func (e *encryptedStore) Delete(ctx context.Context, id string, expected uint64) error {
	return e.inner.Delete(ctx, id, expected)
}

func (e *encryptedStore) List(ctx context.Context) ([]string, error) {
	return e.inner.List(ctx)
}
