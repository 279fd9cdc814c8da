// Package faultnet gives tests network neighbours that fail the way real
// ones do: a server that accepts connections and never answers, a port where
// nothing listens, and a proxy in front of a real server that can be cut and
// restored.
package faultnet

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Hung is a server that accepts every connection, reads what is sent, and
// never answers: a neighbour that is up but stuck.
type Hung struct {
	ln       net.Listener
	conns    connSet
	accepted atomic.Int64
}

// NewHung starts a hung server; it closes when t ends.
func NewHung(t testing.TB) *Hung {
	t.Helper()
	h := &Hung{ln: listen(t)}
	go func() {
		for {
			c, err := h.ln.Accept()
			if err != nil {
				return
			}
			h.accepted.Add(1)
			h.conns.add(c)
			go io.Copy(io.Discard, c) // ends when the connection does
		}
	}()
	t.Cleanup(func() {
		h.ln.Close()
		h.conns.closeAll()
	})
	return h
}

// Addr is the address clients connect to.
func (h *Hung) Addr() string { return h.ln.Addr().String() }

// Accepted counts the connections accepted so far: how often a client
// tried again.
func (h *Hung) Accepted() int { return int(h.accepted.Load()) }

// ClosedPort returns a loopback address where nothing listens, so a
// connection is refused at once.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Proxy forwards TCP connections to a target server until it is cut.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns connSet
}

// NewProxy starts a proxy in front of target; it closes when t ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{ln: listen(t), target: target}
	go p.accept()
	t.Cleanup(func() {
		p.ln.Close()
		p.conns.closeAll()
	})
	return p
}

// Addr is the address clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut drops every open connection; until Restore, new connections are
// accepted and never answered, as by a hung server.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
	p.conns.closeAll()
}

// Restore forwards new connections to the target again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.add(c)
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			go io.Copy(io.Discard, c) // held open, never answered
			continue
		}
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.conns.add(up)
	go func() {
		io.Copy(up, c) // either side closing ends both
		up.Close()
	}()
	io.Copy(c, up)
	c.Close()
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// connSet tracks connections so they can all be dropped at once.
type connSet struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (s *connSet) add(c net.Conn) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
}

func (s *connSet) closeAll() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}
