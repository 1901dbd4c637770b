// Package faultproxy is a TCP proxy on 127.0.0.1 that breaks connections the way a phone's
// network does: it lets a request reach the server and then drops the connection before the
// answer gets back, or cuts a request (an upload's body) part-way. Faults are drawn from a
// seeded random source, so a failing run can be replayed with its seed.
package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
)

// Options say how often connections break. Probabilities are per accepted connection.
type Options struct {
	Seed uint64
	// DropResponse is the chance that a connection forwards the request untouched and is closed
	// as soon as the server starts answering (the server did the work; the phone never hears).
	DropResponse float64
	// CutRequest is the chance that a connection is closed after a random number of request
	// bytes in [0, CutMax) (an upload dies mid-body).
	CutRequest float64
	CutMax     int // default 256 KiB
}

// Stats count what the proxy did.
type Stats struct {
	Conns, DroppedResponses, CutRequests int64
}

// Proxy forwards 127.0.0.1 connections to a target address, breaking some.
type Proxy struct {
	ln     net.Listener
	target string
	opts   Options

	mu  sync.Mutex
	rnd *rand.Rand

	conns, dropped, cut atomic.Int64
	wg                  sync.WaitGroup
	closed              atomic.Bool
}

// New listens on 127.0.0.1 and forwards to target (host:port).
func New(target string, opts Options) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if opts.CutMax <= 0 {
		opts.CutMax = 256 << 10
	}
	p := &Proxy{ln: ln, target: target, opts: opts, rnd: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's http base URL.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Stats reports the counts so far.
func (p *Proxy) Stats() Stats {
	return Stats{Conns: p.conns.Load(), DroppedResponses: p.dropped.Load(), CutRequests: p.cut.Load()}
}

// SetRates changes the fault probabilities (0, 0 makes the proxy a plain forwarder).
func (p *Proxy) SetRates(dropResponse, cutRequest float64) {
	p.mu.Lock()
	p.opts.DropResponse, p.opts.CutRequest = dropResponse, cutRequest
	p.mu.Unlock()
}

// Close stops accepting and waits for the accept loop (open connections end on their own).
func (p *Proxy) Close() error {
	p.closed.Store(true)
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

type fault int

const (
	none fault = iota
	dropResponse
	cutRequest
)

func (p *Proxy) draw() (fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.rnd.Float64()
	switch {
	case r < p.opts.DropResponse:
		return dropResponse, 0
	case r < p.opts.DropResponse+p.opts.CutRequest:
		return cutRequest, p.rnd.IntN(p.opts.CutMax)
	}
	return none, 0
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.conns.Add(1)
		f, n := p.draw()
		go p.handle(c, f, n)
	}
}

func (p *Proxy) handle(client net.Conn, f fault, n int) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	var once sync.Once
	kill := func() {
		once.Do(func() {
			// A reset, not a polite FIN: the phone sees the connection die.
			if tc, ok := client.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			client.Close()
			server.Close()
		})
	}
	defer kill()
	done := make(chan struct{}, 2)
	go func() { // phone -> server
		defer func() { done <- struct{}{} }()
		if f == cutRequest {
			_, _ = io.CopyN(server, client, int64(n))
			p.cut.Add(1)
			kill()
			return
		}
		_, _ = io.Copy(server, client)
		kill()
	}()
	go func() { // server -> phone
		defer func() { done <- struct{}{} }()
		if f == dropResponse {
			buf := make([]byte, 1)
			if _, err := server.Read(buf); err == nil {
				p.dropped.Add(1)
			}
			kill()
			return
		}
		_, _ = io.Copy(client, server)
		kill()
	}()
	<-done
	<-done
}
