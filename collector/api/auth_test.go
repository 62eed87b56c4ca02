package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestNewAuthReadsTokenFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "alice.token")
	empty := filepath.Join(dir, "empty.token")
	if err := os.WriteFile(good, []byte("  s3cret-from-file \nsecond line ignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := NewAuth(Config{Tokens: []Token{{Name: "alice", TokenFile: good, Role: RoleAdmin}, {Name: "wall", Token: "inline"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		header string
		want   Caller
		ok     bool
	}{
		{"Bearer s3cret-from-file", Caller{"alice", RoleAdmin}, true},
		{"bearer inline", Caller{"wall", RoleRead}, true},
		{"Bearer second line ignored", Caller{}, false},
		{"Basic s3cret-from-file", Caller{}, false},
		{"Bearer ", Caller{}, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", c.header)
		if got, _, ok := a.identify(r); got != c.want || ok != c.ok {
			t.Errorf("%q: %+v %v, want %+v %v", c.header, got, ok, c.want, c.ok)
		}
	}

	_, err = NewAuth(Config{Tokens: []Token{{Name: "a", TokenFile: filepath.Join(dir, "missing")}, {Name: "b", TokenFile: empty}}})
	want := "collector.api.tokens[0].token_file: open " + filepath.Join(dir, "missing") + ": no such file or directory\n" +
		"collector.api.tokens[1].token_file: " + empty + ": first line is empty"
	if err == nil || err.Error() != want {
		t.Errorf("bad files: %v\nwant %s", err, want)
	}
}

func TestRoles(t *testing.T) {
	a, err := NewAuth(Config{Tokens: []Token{{Name: "alice", Token: "adm", Role: RoleAdmin}, {Name: "wall", Token: "rd"}}})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter, r *http.Request, c Caller) { _, _ = w.Write([]byte(c.Name)) }
	none := &Auth{}
	for _, c := range []struct {
		name  string
		h     http.HandlerFunc
		token string
		code  int
		body  string
	}{
		{"read, no token", a.read(ok), "", 401, `{"error":"missing token: send Authorization: Bearer <token>"}` + "\n"},
		{"read, read token", a.read(ok), "rd", 200, "wall"},
		{"read, admin token", a.read(ok), "adm", 200, "alice"},
		{"admin, no token", a.admin(ok), "", 401, `{"error":"missing token: send Authorization: Bearer <token>"}` + "\n"},
		{"admin, bad token", a.admin(ok), "nope", 401, `{"error":"unknown token"}` + "\n"},
		{"admin, read token", a.admin(ok), "rd", 403, `{"error":"token \"wall\" is read-only: triage actions need an admin token"}` + "\n"},
		{"admin, admin token", a.admin(ok), "adm", 200, "alice"},
		{"no tokens, read", none.read(ok), "", 200, "anonymous"},
		{"no tokens, admin", none.admin(ok), "adm", 403, `{"error":"triage actions need an admin token and none is configured (collector.api.tokens)"}` + "\n"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		w := httptest.NewRecorder()
		c.h(w, r)
		if w.Code != c.code || w.Body.String() != c.body {
			t.Errorf("%s: %d %q, want %d %q", c.name, w.Code, w.Body.String(), c.code, c.body)
		}
	}
}
