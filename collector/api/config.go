package api

import (
	"errors"
	"fmt"
)

// Config is the collector's `api` section: who may use the JSON API and
// the web UI.
type Config struct {
	// Tokens that authenticate API and UI users. With none configured the
	// API is read-only for everyone and every action is refused.
	Tokens []Token `yaml:"tokens"`
}

// Token is one credential. The Name is who acts, recorded with every
// triage action; the secret is Token or the first line of TokenFile.
type Token struct {
	Name      string `yaml:"name"`
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	Role      string `yaml:"role"` // "read" (default) or "admin"
}

// Validate reports every problem, each naming its key (api.tokens[1].role).
// Token files are read by Load, not here.
func (c Config) Validate() error {
	var errs []error
	names := map[string]bool{}
	for i, t := range c.Tokens {
		k := fmt.Sprintf("api.tokens[%d]", i)
		switch {
		case t.Name == "":
			errs = append(errs, fmt.Errorf("%s.name: missing (it is recorded as who acted)", k))
		case names[t.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", k, t.Name))
		}
		names[t.Name] = true
		if (t.Token == "") == (t.TokenFile == "") {
			errs = append(errs, fmt.Errorf("%s: set exactly one of token and token_file", k))
		}
		if t.Role != "" && t.Role != RoleRead && t.Role != RoleAdmin {
			errs = append(errs, fmt.Errorf("%s.role: %q is not %q or %q", k, t.Role, RoleRead, RoleAdmin))
		}
	}
	return errors.Join(errs...)
}

// Roles a token may have.
const (
	RoleRead  = "read"
	RoleAdmin = "admin"
)
