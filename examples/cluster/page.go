package main

import (
	"bytes"
	_ "embed"
	"html"
	"net/http"
)

// page is the browser's view of the cluster, served by every node at /:
// plain JavaScript with no library and no build step. The page connects to
// the node that served it as a client named by ?name= (or a made-up
// name), answers "whoami" like the demo clients, lists every client of
// every node, and asks its node to call any of them. The node writes its
// name into the page, so that the page can answer whoami from its first
// message on.
//
//go:embed index.html
var page []byte

// servePage serves the page with the node's name in it.
func (n *node) servePage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(bytes.Replace(page, []byte(`content="NODE"`), []byte(`content="`+html.EscapeString(n.name)+`"`), 1))
}
