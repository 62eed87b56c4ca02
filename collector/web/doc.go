// Package web serves the collector's built-in web UI: plain HTML, CSS and
// JavaScript embedded in the binary (no build step, no CDN, no external
// fonts), which reads everything through the JSON API (collector/api) with
// the token the user enters. Every /ui/... path serves the same page and
// the script routes on the path, so links such as an alert's URL
// (<external_url>/ui/alerts/<id>) open directly. It holds no state and
// checks no tokens: static assets are public, data is behind the API.
package web
