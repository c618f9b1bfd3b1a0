package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestEncryptRoundTripAndAtRest(t *testing.T) {
	ctx := ctxT(t)
	var logs bytes.Buffer
	fs, err := NewFileStore(t.TempDir(), FileOptions{Logger: zerolog.New(&logs).Level(zerolog.TraceLevel)})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Encrypt(fs, testKey)
	if err != nil {
		t.Fatal(err)
	}
	s := sampleSnapshot("enc", 4)
	if _, err := st.Save(ctx, s, 0); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(ctx, "enc")
	if err != nil {
		t.Fatal(err)
	}
	want := sampleSnapshot("enc", 4)
	want.Revision = 1
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, want)
	}
	raw, _ := os.ReadFile(filepath.Join(fs.Dir(), "enc.json"))
	for _, secret := range []string{"eyJhbGciOi", "c2VjcmV0", "conversationId", "gold", "are you there", "message number", "token"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("file holds %q in clear text", secret)
		}
	}
	if !bytes.Contains(raw, []byte(`"alg":"A256GCM"`)) || !bytes.Contains(raw, []byte(`"kid":"`+KeyID(testKey)+`"`)) {
		t.Errorf("file does not look sealed: %.200s", raw)
	}
	// The inner store sees a sealed snapshot.
	outer, err := fs.Load(ctx, "enc")
	if err != nil || outer.Sealed == nil || outer.SessionData != nil || outer.Revision != 1 {
		t.Errorf("inner Load = %+v, %v", outer, err)
	}
	if bytes.Contains(logs.Bytes(), []byte("eyJ")) || bytes.Contains(logs.Bytes(), testKey) {
		t.Errorf("logs hold secrets: %s", logs.String())
	}
	if str := fmt.Sprint(st); strings.Contains(str, string(testKey)) || !strings.Contains(str, KeyID(testKey)) {
		t.Errorf("String() = %q", str)
	}
}

func TestEncryptWrongKeyAndTampering(t *testing.T) {
	ctx := ctxT(t)
	inner := NewMemoryStore()
	st, _ := Encrypt(inner, testKey)
	if _, err := st.Save(ctx, sampleSnapshot("s1", 1), 0); err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte{7}, KeySize)
	wrong, _ := Encrypt(inner, other)
	_, err := wrong.Load(ctx, "s1")
	wantMsg := fmt.Sprintf("restore: cannot decrypt snapshot: session s1: it was encrypted with another key (key id %s; configured key ids %s)",
		KeyID(testKey), KeyID(other))
	if !errors.Is(err, ErrDecrypt) || err.Error() != wantMsg {
		t.Errorf("wrong key:\n got %v\nwant %s", err, wantMsg)
	}
	if bytes.Contains([]byte(err.Error()), testKey) || bytes.Contains([]byte(err.Error()), other) {
		t.Error("error text holds key material")
	}
	// Key rotation: the old key still decrypts; the next save uses the new key.
	rotated, err := Encrypt(inner, other, testKey)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rotated.Load(ctx, "s1")
	if err != nil {
		t.Fatalf("Load with the old key as oldKeys: %v", err)
	}
	if _, err := rotated.Save(ctx, s, s.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Load(ctx, "s1"); err != nil {
		t.Errorf("after rotation the new key alone must decrypt: %v", err)
	}
	if _, err := st.Load(ctx, "s1"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("after rotation the old key alone must not decrypt: %v", err)
	}
	// Tampered ciphertext, same key id.
	outer, _ := inner.Load(ctx, "s1")
	outer.Sealed.Data[len(outer.Sealed.Data)/2] ^= 1
	if _, err := inner.Save(ctx, outer, outer.Revision); err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Load(ctx, "s1"); !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "authentication failed") {
		t.Errorf("tampered data: %v", err)
	}
	// A sealed snapshot copied under another session id does not decrypt.
	if _, err := st.Save(ctx, sampleSnapshot("a", 0), 0); err != nil {
		t.Fatal(err)
	}
	a, _ := inner.Load(ctx, "a")
	a.SessionID = "b"
	if _, err := inner.Save(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, "b"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("snapshot moved to another id: %v", err)
	}
	// Plaintext snapshot under an encrypting store.
	if _, err := inner.Save(ctx, sampleSnapshot("plain", 0), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, "plain"); !errors.Is(err, ErrNotEncrypted) {
		t.Errorf("plaintext snapshot: %v", err)
	}
}

func TestEncryptKeyValidation(t *testing.T) {
	for _, tt := range []struct {
		key  []byte
		old  [][]byte
		want string
	}{
		{make([]byte, 16), nil, "restore: encryption key must be 32 bytes, got 16"},
		{nil, nil, "restore: encryption key must be 32 bytes, got 0"},
		{make([]byte, 32), [][]byte{make([]byte, 31)}, "restore: encryption old key 1 must be 32 bytes, got 31"},
	} {
		if _, err := Encrypt(NewMemoryStore(), tt.key, tt.old...); err == nil || err.Error() != tt.want {
			t.Errorf("Encrypt(%d-byte key) = %v, want %s", len(tt.key), err, tt.want)
		}
	}
	if _, err := Encrypt(nil, testKey); err == nil {
		t.Error("Encrypt(nil store) succeeded")
	}
	// Nonces differ per save: the same snapshot never produces the same ciphertext.
	inner := NewMemoryStore()
	st, _ := Encrypt(inner, testKey)
	ctx := context.Background()
	st.Save(ctx, sampleSnapshot("n", 0), 0)
	first, _ := inner.Load(ctx, "n")
	st.Save(ctx, sampleSnapshot("n", 0), 1)
	second, _ := inner.Load(ctx, "n")
	if bytes.Equal(first.Sealed.Nonce, second.Sealed.Nonce) || bytes.Equal(first.Sealed.Data, second.Sealed.Data) {
		t.Error("nonce reused")
	}
}
