package api

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// Auth checks bearer tokens. Secrets are kept only as SHA-256 sums and
// compared in constant time; they are never logged.
type Auth struct {
	creds []cred
}

type cred struct {
	name, role string
	sum        [32]byte
}

// Caller is who sent a request.
type Caller struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// NewAuth reads cfg's secrets (token files now, at start-up); errors name
// the key (collector.api.tokens[0].token_file). cfg must be valid.
func NewAuth(cfg Config) (*Auth, error) {
	a := &Auth{}
	var errs []error
	for i, t := range cfg.Tokens {
		secret := t.Token
		if t.TokenFile != "" {
			key := fmt.Sprintf("collector.api.tokens[%d].token_file", i)
			data, err := os.ReadFile(t.TokenFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				continue
			}
			line, _, _ := bytes.Cut(data, []byte("\n"))
			secret = strings.TrimSpace(string(line))
			if secret == "" {
				errs = append(errs, fmt.Errorf("%s: %s: first line is empty", key, t.TokenFile))
				continue
			}
		}
		role := t.Role
		if role == "" {
			role = RoleRead
		}
		a.creds = append(a.creds, cred{name: t.Name, role: role, sum: sha256.Sum256([]byte(secret))})
	}
	return a, errors.Join(errs...)
}

// Enabled reports whether any token is configured.
func (a *Auth) Enabled() bool { return len(a.creds) > 0 }

// identify returns the token's owner; present is false without an
// Authorization header.
func (a *Auth) identify(r *http.Request) (c Caller, present, ok bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return Caller{}, false, false
	}
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return Caller{}, true, false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := -1
	for i := range a.creds { // every credential is compared: no early exit
		if subtle.ConstantTimeCompare(sum[:], a.creds[i].sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return Caller{}, true, false
	}
	return Caller{Name: a.creds[match].name, Role: a.creds[match].role}, true, true
}

// anonymous is the caller when no tokens are configured.
var anonymous = Caller{Name: "anonymous", Role: RoleRead}

// handler is an endpoint that knows its caller.
type handler func(w http.ResponseWriter, r *http.Request, c Caller)

// read lets any valid token in (everyone when no tokens are configured).
func (a *Auth) read(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.Enabled() {
			h(w, r, anonymous)
			return
		}
		c, present, ok := a.identify(r)
		if !ok {
			unauthorized(w, present)
			return
		}
		h(w, r, c)
	}
}

// admin lets only admin tokens in.
func (a *Auth) admin(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.Enabled() {
			writeError(w, http.StatusForbidden, "triage actions need an admin token and none is configured (collector.api.tokens)")
			return
		}
		c, present, ok := a.identify(r)
		switch {
		case !ok:
			unauthorized(w, present)
		case c.Role != RoleAdmin:
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q is read-only: triage actions need an admin token", c.Name))
		default:
			h(w, r, c)
		}
	}
}

func unauthorized(w http.ResponseWriter, present bool) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="outflow"`)
	msg := "missing token: send Authorization: Bearer <token>"
	if present {
		msg = "unknown token"
	}
	writeError(w, http.StatusUnauthorized, msg)
}
