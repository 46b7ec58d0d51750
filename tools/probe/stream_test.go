package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// gateProxy forwards the client's stream to the server over loopback; holding its gate
// stalls the stream (as a migration's pause does) without breaking it, and cut breaks it.
type gateProxy struct {
	ln    net.Listener
	gate  sync.Mutex
	mu    sync.Mutex
	conns []net.Conn
}

func newGateProxy(t *testing.T, to string) *gateProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &gateProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
			go func() {
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					p.gate.Lock()
					p.gate.Unlock()
					if n > 0 {
						if _, werr := s.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				s.Close()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

// cut closes every connection the proxy holds.
func (p *gateProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func startStream(t *testing.T, rate float64) (*streamRecorder, *gateProxy, chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := newStreamRecorder("")
	go rec.accept(ln)
	t.Cleanup(func() { ln.Close() })
	p := newGateProxy(t, ln.Addr().String())
	stop := make(chan struct{})
	go func() { _ = streamClient(p.ln.Addr().String(), rate, stop) }()
	t.Cleanup(func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
	})
	return rec, p, stop
}

func TestStreamStall(t *testing.T) {
	const rate = 8e6 // 1 MB/s
	rec, p, stop := startStream(t, rate)
	time.Sleep(800 * time.Millisecond)
	p.gate.Lock()
	stalled := time.Now().UnixNano()
	time.Sleep(600 * time.Millisecond)
	p.gate.Unlock()
	time.Sleep(800 * time.Millisecond)
	r := rec.stop() // before the client stops: its end is no break
	close(stop)

	if r.Connections != 1 || len(r.Breaks) != 0 {
		t.Fatalf("connections %d, breaks %v: want one connection, no break", r.Connections, r.Breaks)
	}
	if b, _ := json.Marshal(r); !bytes.Contains(b, []byte(`"breaks":[]`)) {
		t.Errorf("no break prints as null, not []: %.200s", b)
	}
	st := r.LongestStall
	if st == nil || st.DurationNs < 550e6 || st.DurationNs > 900e6 || st.ToStop {
		t.Fatalf("longest stall %+v: want the 600 ms the proxy held the stream", st)
	}
	if d := st.StartNs - stalled; d < -50e6 || d > 50e6 {
		t.Errorf("the stall started %d ms from the gate's closing", d/1e6)
	}
	// The bins wholly inside the stall are empty; those well before it carry the rate.
	for i, b := range r.Bytes {
		from := r.StartNs + int64(i)*100e6
		if from >= st.StartNs && from+100e6 <= st.StartNs+st.DurationNs && b != 0 {
			t.Errorf("bin %d (inside the stall) holds %d bytes", i, b)
		}
	}
	if r.StartNs%100e6 != 0 || r.FirstAt < r.StartNs || r.FirstAt >= r.StartNs+100e6 {
		t.Errorf("bins start at %d, first byte at %d: want a whole 100 ms at or before it", r.StartNs, r.FirstAt)
	}
	var before int64
	n := 0
	for i := 1; i < len(r.Bytes); i++ { // the first bin is partial
		if r.StartNs+int64(i+1)*100e6 <= stalled {
			before += r.Bytes[i]
			n++
		}
	}
	if n < 4 {
		t.Fatalf("only %d whole bins before the stall", n)
	}
	if got := float64(before) * 8 / (float64(n) * 0.1); got < 0.75*rate || got > 1.1*rate {
		t.Errorf("%.2f Mbit/s before the stall: want the capped %.0f Mbit/s", got/1e6, rate/1e6)
	}
	// At the rate, not more: the bucket is a few ms deep, so no catch-up burst after the stall.
	if max := rate/8*float64(r.StoppedAt-r.FirstAt)/1e9 + 64<<10; float64(r.TotalBytes) > max {
		t.Errorf("%d bytes in %d ms: more than the rate allows (%.0f)", r.TotalBytes, (r.StoppedAt-r.FirstAt)/1e6, max)
	}
	var sum int64
	for _, b := range r.Bytes {
		sum += b
	}
	if sum != r.TotalBytes {
		t.Errorf("bins sum to %d, total %d", sum, r.TotalBytes)
	}
	s := r.Sender
	if s.Reports < 15 || s.RateBps != uint64(rate) || s.Written == 0 || s.Written > uint64(r.TotalBytes) ||
		s.BytesAcked == 0 || s.BytesSent == 0 || s.RTTus == 0 || s.Cwnd == 0 {
		t.Errorf("sender %+v: want its TCP_INFO counters every 100 ms", s)
	}
	if r.Clock.MonotonicNs <= 0 || r.Clock.RealtimeNs != r.StoppedAt {
		t.Errorf("clock %+v", r.Clock)
	}
}

func TestStreamBreak(t *testing.T) {
	rec, p, _ := startStream(t, 4e6)
	time.Sleep(500 * time.Millisecond)
	p.cut() // both ends closed: the server reads 0, the client's next write fails
	time.Sleep(800 * time.Millisecond)
	r := rec.stop()
	if r.Connections != 2 || len(r.Breaks) != 1 {
		t.Fatalf("connections %d, breaks %v: want a break and a new connection", r.Connections, r.Breaks)
	}
	if r.Breaks[0].Reason != "recv() returned 0: the VM closed the connection" {
		t.Errorf("break reason %q", r.Breaks[0].Reason)
	}
	// The stall: from the cut to the client's new connection, less than a few 100 ms tries.
	if st := r.LongestStall; st == nil || st.DurationNs > 500e6 || st.ToStop {
		t.Errorf("longest stall %+v", st)
	}
	if r.Bytes[len(r.Bytes)-2] == 0 {
		t.Errorf("no bytes in the last whole bin: the client did not come back")
	}
}

func TestStreamStallToStop(t *testing.T) {
	rec, p, _ := startStream(t, 4e6)
	time.Sleep(500 * time.Millisecond)
	p.gate.Lock()
	defer p.gate.Unlock()
	time.Sleep(400 * time.Millisecond)
	r := rec.stop()
	if st := r.LongestStall; st == nil || !st.ToStop || st.DurationNs < 350e6 {
		t.Fatalf("longest stall %+v: want the silence that lasts to the stop", st)
	}
	if last := r.Bytes[len(r.Bytes)-1]; last != 0 || r.StartNs+int64(len(r.Bytes))*100e6 < r.StoppedAt {
		t.Errorf("the bins end before the stop, or the last holds %d bytes", last)
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"20Mbit": 20e6, "20mbit": 20e6, "500kbit": 5e5, "1G": 1e9, "8000": 8000, "2.5M": 2.5e6} {
		if got, err := parseRate(in); err != nil || got != want {
			t.Errorf("parseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fast", "-1Mbit", "0", "20Mbps"} {
		if _, err := parseRate(in); err == nil {
			t.Errorf("parseRate(%q): want an error", in)
		}
	}
}
