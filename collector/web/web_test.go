package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestRoutes(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		path, status, ctype, body string
	}{
		{"/ui/", "200 OK", "text/html; charset=utf-8", `<script src="/ui/static/app.js" defer>`},
		{"/ui/alerts/edbea2ac21c3dc28", "200 OK", "text/html; charset=utf-8", `<main id="main">`},
		{"/ui/hosts/10.20.1.17", "200 OK", "text/html; charset=utf-8", `<main id="main">`},
		{"/ui/static/app.js", "200 OK", "text/javascript; charset=utf-8", `"use strict";`},
		{"/ui/static/chart.js", "200 OK", "text/javascript; charset=utf-8", `function hostChart(`},
		{"/ui/static/style.css", "200 OK", "text/css; charset=utf-8", `system-ui`},
		{"/ui/static/nope.js", "404 Not Found", "text/plain; charset=utf-8", "404 page not found"},
		{"/", "302 Found", "text/html; charset=utf-8", `<a href="/ui/">Found</a>`},
	}
	for _, c := range cases {
		resp, err := client.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Status != c.status || resp.Header.Get("Content-Type") != c.ctype || !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s: %s %s %.80q; want %s %s containing %q", c.path, resp.Status, resp.Header.Get("Content-Type"), body, c.status, c.ctype, c.body)
		}
		if strings.HasPrefix(c.path, "/ui/") && !strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'self';") {
			t.Errorf("GET %s: CSP %q", c.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

// The UI works offline: no asset refers to another origin (the SVG
// namespace is a name, not a fetch).
func TestNoExternalReferences(t *testing.T) {
	url := regexp.MustCompile(`(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range url.FindAllString(string(data), -1) {
			if m != "http://www.w3.org" {
				t.Errorf("%s refers to %s", path, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
