package main

// The echo probe in-process on loopback, through a relay that plays the network: it
// delays replies (so that many are in flight), breaks the forward path for a while, and
// moves the client to another source address (a NAT move); the target skips replies for
// a range of requests, as if they were lost on the way back.

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// relay forwards the client's requests to the target and the target's replies back,
// the replies delay late. Requests in drop never arrive; from moveAt on, the requests
// leave by another socket, so that the target sees another source.
type relay struct {
	down     *net.UDPConn
	up       [2]*net.UDPConn
	target   *net.UDPAddr
	delay    time.Duration
	drop     func(seq uint32) bool
	moveAt   uint32
	mu       sync.Mutex
	client   *net.UDPAddr
	shutdown chan struct{}
}

func newRelay(t *testing.T, target *net.UDPAddr) *relay {
	r := &relay{target: target, shutdown: make(chan struct{})}
	var err error
	loop := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	if r.down, err = net.ListenUDP("udp4", loop); err != nil {
		t.Fatal(err)
	}
	for i := range r.up {
		if r.up[i], err = net.ListenUDP("udp4", loop); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func (r *relay) run() {
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := r.down.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.client = from
			r.mu.Unlock()
			seq := binary.BigEndian.Uint32(buf[8:])
			if r.drop(seq) {
				continue
			}
			up := r.up[0]
			if seq >= r.moveAt {
				up = r.up[1]
			}
			_, _ = up.WriteToUDP(buf[:n], r.target)
		}
	}()
	for _, up := range r.up {
		go func() {
			for {
				buf := make([]byte, 64)
				n, _, err := up.ReadFromUDP(buf)
				if err != nil {
					return
				}
				r.mu.Lock()
				to := r.client
				r.mu.Unlock()
				time.AfterFunc(r.delay, func() {
					select {
					case <-r.shutdown:
					default:
						_, _ = r.down.WriteToUDP(buf[:n], to)
					}
				})
			}
		}()
	}
}

func (r *relay) close() {
	close(r.shutdown)
	r.down.Close()
	r.up[0].Close()
	r.up[1].Close()
}

func within(lo, hi uint32) func(uint32) bool {
	return func(s uint32) bool { return s >= lo && s <= hi }
}

func TestEchoReportsSurviveABreakAndAMove(t *testing.T) {
	const (
		interval   = 5 * time.Millisecond
		skipLo     = 50 // replies "lost": 50..79
		skipHi     = 79
		breakLo    = 120 // forward path broken: 120..199 never arrive
		breakHi    = 199
		moveAt     = 200 // and from 200 on, another source address
		checkUpTo  = 300
		replyDelay = 100 * time.Millisecond
	)
	tg, err := newEchoTarget(0)
	if err != nil {
		t.Fatal(err)
	}
	tg.skip = within(skipLo, skipHi)
	go tg.serve()
	defer tg.conn.Close()
	port := tg.conn.LocalAddr().(*net.UDPAddr).Port
	r := newRelay(t, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	r.delay, r.drop, r.moveAt = replyDelay, within(breakLo, breakHi), moveAt
	r.run()
	defer r.close()

	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- echoClientRun(r.down.LocalAddr().String(), interval, stop) }()

	// Until every answered request up to checkUpTo is reported (or it is clear it won't be).
	expected := func(rec echoRecord) map[uint32]bool {
		want := map[uint32]bool{}
		for _, q := range rec.Requests {
			if s := uint32(q[0]); s <= checkUpTo && !within(skipLo, skipHi)(s) {
				want[s] = true
			}
		}
		return want
	}
	var rec echoRecord
	deadline := time.Now().Add(20 * time.Second)
	for {
		time.Sleep(20 * time.Millisecond)
		rec = tg.snapshot()
		reported := map[uint32]bool{}
		for _, rp := range rec.Reports {
			reported[rp[0]] = true
		}
		want := expected(rec)
		missing := 0
		for s := range want {
			if !reported[s] {
				missing++
			}
		}
		last := int64(0)
		if n := len(rec.Requests); n > 0 {
			last = rec.Requests[n-1][0]
		}
		if last > checkUpTo && missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: last request %d, %d of %d answered requests up to %d unreported", last, missing, len(want), checkUpTo)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Every request up to checkUpTo arrived but those of the break.
	got := map[uint32]int64{}
	for _, q := range rec.Requests {
		got[uint32(q[0])] = q[2]
	}
	for s := uint32(1); s <= checkUpTo; s++ {
		_, ok := got[s]
		if ok == within(breakLo, breakHi)(s) {
			t.Errorf("request %d: arrived %v", s, ok)
		}
	}
	// From two sources: the first before the move, the second after.
	if len(rec.Sources) != 2 {
		t.Errorf("sources %v, want 2", rec.Sources)
	}
	for s, src := range got {
		if want := int64(map[bool]int{false: 0, true: 1}[s >= moveAt]); src != want {
			t.Errorf("request %d from source %d, want %d", s, src, want)
		}
	}
	// The skipped ones are not answered and never reported; every other one reported once.
	if len(rec.NotAnswered) != skipHi-skipLo+1 || rec.NotAnswered[0] != skipLo || rec.NotAnswered[len(rec.NotAnswered)-1] != skipHi {
		t.Errorf("notAnswered %v, want %d..%d", rec.NotAnswered, skipLo, skipHi)
	}
	seen := map[uint32]bool{}
	for _, rp := range rec.Reports {
		s, rtt := rp[0], rp[1]
		if seen[s] {
			t.Errorf("seq %d reported twice", s)
		}
		seen[s] = true
		if within(skipLo, skipHi)(s) || within(breakLo, breakHi)(s) {
			t.Errorf("seq %d reported, but its reply was never sent", s)
		}
		if time.Duration(rtt)*time.Microsecond < replyDelay {
			t.Errorf("seq %d: RTT %d µs, below the relay's delay", s, rtt)
		}
	}
	// The reports of the replies that came during the break (to requests sent up to one
	// delay before it) crossed it: they were held and sent again until acknowledged.
	for s := uint32(breakLo - 10); s < breakLo; s++ {
		if !seen[s] {
			t.Errorf("seq %d (its reply came during the break) not reported", s)
		}
	}
	if rec.RepeatedReports == 0 {
		t.Error("no report was sent twice: the replies' delay should make the client repeat them")
	}
	if rec.Answered != len(rec.Requests)-len(rec.NotAnswered) {
		t.Errorf("answered %d of %d requests, %d not answered", rec.Answered, len(rec.Requests), len(rec.NotAnswered))
	}
	t.Logf("%d requests, %d reports, %d repeated", len(rec.Requests), len(rec.Reports), rec.RepeatedReports)
}

// A request stays below 1200 bytes however many reports are pending, and carries the
// oldest; an acknowledgement drops exactly those it covers.
func TestEchoRequestSizeAndAck(t *testing.T) {
	c := &echoClient{next: 1}
	for s := uint32(1); s <= 500; s++ {
		c.pending = append(c.pending, echoReport{s, s * 10})
		c.next++
	}
	buf := make([]byte, echoReqHead+echoMaxReports*echoReportSize)
	n := c.request(buf, 7)
	if n >= 1200 {
		t.Fatalf("request of %d bytes", n)
	}
	if first, count := binary.BigEndian.Uint32(buf[20:]), binary.BigEndian.Uint16(buf[24:]); first != 1 || count != echoMaxReports {
		t.Fatalf("first %d count %d", first, count)
	}
	if s := binary.BigEndian.Uint32(buf[echoReqHead:]); s != 1 {
		t.Fatalf("first report's seq %d", s)
	}

	// The target takes them, acknowledges 140; the client keeps 141..500.
	tg := &echoTarget{seen: map[uint32]bool{}, sourceIdx: map[string]int{}, first: make(chan struct{})}
	ack, _, ok := tg.record(buf[:n], &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, 1)
	if !ok || ack != echoMaxReports {
		t.Fatalf("ack %d ok %v", ack, ok)
	}
	c.acknowledge(ack)
	if len(c.pending) != 500-echoMaxReports || c.pending[0].seq != echoMaxReports+1 {
		t.Fatalf("%d pending, first %v", len(c.pending), c.pending[0])
	}
	// An older ack changes nothing; one past everything empties it.
	c.acknowledge(3)
	if len(c.pending) != 500-echoMaxReports {
		t.Fatalf("%d pending after an old ack", len(c.pending))
	}
	c.acknowledge(500)
	if len(c.pending) != 0 {
		t.Fatalf("%d pending after the last ack", len(c.pending))
	}
}
