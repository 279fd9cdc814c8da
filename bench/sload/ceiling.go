package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ceilingFlag makes this program serve as the ceiling; it is not in -help.
const ceilingFlag = "-serve-ceiling"

// ceilingSizes are the body sizes ssod answers, so the ceiling sends as many
// bytes for each route.
type ceilingSizes struct {
	cert, list, integration int
}

// serveCeiling is the bare net/http server: no authentication, no storage,
// no logging, a fixed JSON body per route. It prints "listening ADDR" and
// serves until stdin closes.
func serveCeiling(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("sload "+ceilingFlag, flag.ContinueOnError)
	var sizes ceilingSizes
	fs.IntVar(&sizes.cert, "cert", 1500, "bytes of a certificate response")
	fs.IntVar(&sizes.list, "list", 7500, "bytes of a certificate list response")
	fs.IntVar(&sizes.integration, "integration", 500, "bytes of an integration response")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           ceilingHandler(sizes),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		close(closed)
	}()
	select {
	case err := <-served:
		return err
	case <-closed:
		return srv.Close()
	}
}

func ceilingHandler(sizes ceilingSizes) http.Handler {
	cert := fixedJSON(sizes.cert, false)
	list := fixedJSON(sizes.list, true)
	integration := fixedJSON(sizes.integration, false)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body := cert
		switch {
		case strings.HasSuffix(r.URL.Path, "/certificates") && r.Method == http.MethodGet:
			body = list
		case strings.HasPrefix(r.URL.Path, "/v3/sso/integrations/"):
			body = integration
		}
		// Content-Length as ssod sends it, so neither side chunks a list.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// fixedJSON is a JSON object (or an array of one) of exactly n bytes, or as
// small as one can be when n is smaller.
func fixedJSON(n int, array bool) []byte {
	open, end := `{"public_certificate":"`, `"}`
	if array {
		open, end = `[`+open, end+`]`
	}
	pad := max(0, n-len(open)-len(end))
	return []byte(open + strings.Repeat("x", pad) + end)
}
