package wire

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// JWTIssuer is the iss claim of guest chat tokens.
const JWTIssuer = "urn:purecloud:webchat"

// JWTAlgorithm is the signing algorithm of guest chat tokens.
const JWTAlgorithm = "RS256"

// JWTHeader is the JOSE header of a guest chat token.
type JWTHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// JWTData is the data claim: the token is scoped to one conversation and one
// member.
type JWTData struct {
	Conv string `json:"conv"` // conversation id
	Did  string `json:"did"`  // deployment id
	Sub  string `json:"sub"`  // the guest's member id
}

// JWTClaims is the payload of a guest chat token (spec §5).
type JWTClaims struct {
	Data JWTData `json:"data"`
	Exp  int64   `json:"exp"`
	Iat  int64   `json:"iat"`
	Iss  string  `json:"iss"`
	Org  string  `json:"org"`
}

// ExpiresAt is exp as a time.
func (c *JWTClaims) ExpiresAt() time.Time { return time.Unix(c.Exp, 0) }

// IssuedAt is iat as a time.
func (c *JWTClaims) IssuedAt() time.Time { return time.Unix(c.Iat, 0) }

// ErrMalformedJWT is wrapped by every ParseJWT error. Error texts never
// contain the token.
var ErrMalformedJWT = errors.New("wire: malformed JWT")

// maxJWTLen bounds the token size accepted by ParseJWT.
const maxJWTLen = 8192

// ParseJWT decodes a compact JWS without verifying its signature. It returns
// the header, the claims, the signing input (header.payload) and the raw
// signature so a verifier can check them. Use it client side only to read
// exp; never trust unverified claims server side.
func ParseJWT(token string) (h *JWTHeader, c *JWTClaims, signingInput string, sig []byte, err error) {
	if len(token) == 0 || len(token) > maxJWTLen {
		return nil, nil, "", nil, fmt.Errorf("%w: length %d", ErrMalformedJWT, len(token))
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, "", nil, fmt.Errorf("%w: %d segments, want 3", ErrMalformedJWT, len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("%w: header is not base64url", ErrMalformedJWT)
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("%w: payload is not base64url", ErrMalformedJWT)
	}
	sig, err = base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("%w: signature is not base64url", ErrMalformedJWT)
	}
	h = new(JWTHeader)
	if err := json.Unmarshal(hb, h); err != nil {
		return nil, nil, "", nil, fmt.Errorf("%w: header is not a JSON object", ErrMalformedJWT)
	}
	c = new(JWTClaims)
	if err := json.Unmarshal(pb, c); err != nil {
		return nil, nil, "", nil, fmt.Errorf("%w: payload is not a JSON claims object", ErrMalformedJWT)
	}
	return h, c, parts[0] + "." + parts[1], sig, nil
}

// EncodeJWTSigningInput returns base64url(header) + "." + base64url(claims),
// the input to sign.
func EncodeJWTSigningInput(h *JWTHeader, c *JWTClaims) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("wire: encode JWT header: %w", err)
	}
	pb, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("wire: encode JWT claims: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(pb), nil
}
