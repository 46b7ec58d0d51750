package main

// The bulk stream (seed 004 §3: netperf's TCP_STREAM from the migrating VM): a client on
// the VM sends at a capped rate to a server on the client host, which bins what arrives
// by 100 ms on its own clock. The cap keeps the stream from competing with the migration
// for the guest's CPU under TCG, and makes a dip mean the migration, not the sender.
//
// The stream is a run of frames: length (u32, the body's), kind (u32), body. Filler frames
// carry zeros; every 100 ms an info frame carries the sender's own TCP_INFO counters, so
// the server learns the VM's retransmissions without anything being read on the VM.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

const (
	streamFiller   = 0x776c7366 // "wlsf"
	streamInfo     = 0x776c7369 // "wlsi"
	streamHdr      = 8
	streamInfoSize = 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 4
	streamMaxChunk = 64 << 10
	streamBin      = 100 * time.Millisecond
	// struct tcp_info offsets (linux/tcp.h; stable ABI, appended to only).
	tcpInfoRTT          = 68
	tcpInfoCwnd         = 80
	tcpInfoBytesAcked   = 120
	tcpInfoBytesSent    = 200
	tcpInfoBytesRetrans = 208
	tcpInfoFull         = 216
)

// parseRate reads a rate in bits per second as tc writes it: 20Mbit, 500kbit, 1G, 8000.
func parseRate(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "bit")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, t[:len(t)-1]
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, t[:len(t)-1]
	case strings.HasSuffix(t, "g"):
		mult, t = 1e9, t[:len(t)-1]
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("-rate %q: want bits per second, e.g. 20Mbit", s)
	}
	return v * mult, nil
}

// senderInfo is what an info frame carries.
type senderInfo struct {
	Conn, Seq    uint32
	SentAt       int64 // the VM's clock, ns
	RateBps      uint64
	TotalRetrans uint32
	BytesSent    uint64 // tcpi_bytes_sent: payload sent, retransmissions included (Linux 4.19+)
	BytesRetrans uint64
	BytesAcked   uint64
	Written      uint64 // what the client wrote on this connection, framing included
	RTTus, Cwnd  uint32
}

func (i *senderInfo) put(b []byte) {
	be := binary.BigEndian
	be.PutUint32(b[0:], i.Conn)
	be.PutUint32(b[4:], i.Seq)
	be.PutUint64(b[8:], uint64(i.SentAt))
	be.PutUint64(b[16:], i.RateBps)
	be.PutUint32(b[24:], i.TotalRetrans)
	be.PutUint64(b[28:], i.BytesSent)
	be.PutUint64(b[36:], i.BytesRetrans)
	be.PutUint64(b[44:], i.BytesAcked)
	be.PutUint64(b[52:], i.Written)
	be.PutUint32(b[60:], i.RTTus)
	be.PutUint32(b[64:], i.Cwnd)
}

func (i *senderInfo) get(b []byte) {
	be := binary.BigEndian
	*i = senderInfo{Conn: be.Uint32(b[0:]), Seq: be.Uint32(b[4:]), SentAt: int64(be.Uint64(b[8:])),
		RateBps: be.Uint64(b[16:]), TotalRetrans: be.Uint32(b[24:]), BytesSent: be.Uint64(b[28:]),
		BytesRetrans: be.Uint64(b[36:]), BytesAcked: be.Uint64(b[44:]), Written: be.Uint64(b[52:]),
		RTTus: be.Uint32(b[60:]), Cwnd: be.Uint32(b[64:])}
}

// readTCPInfo fills the counters TCP_INFO has on this kernel (a short answer leaves the rest 0).
func readTCPInfo(c *net.TCPConn, i *senderInfo) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	var info [tcpInfoFull]byte
	n := uint32(len(info))
	_ = raw.Control(func(fd uintptr) {
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
		if e != 0 {
			n = 0
		}
	})
	ne := binary.NativeEndian
	u32 := func(off int) uint32 {
		if int(n) < off+4 {
			return 0
		}
		return ne.Uint32(info[off:])
	}
	u64 := func(off int) uint64 {
		if int(n) < off+8 {
			return 0
		}
		return ne.Uint64(info[off:])
	}
	i.TotalRetrans, i.RTTus, i.Cwnd = u32(tcpInfoTotalRetrans), u32(tcpInfoRTT), u32(tcpInfoCwnd)
	i.BytesAcked, i.BytesSent, i.BytesRetrans = u64(tcpInfoBytesAcked), u64(tcpInfoBytesSent), u64(tcpInfoBytesRetrans)
}

// streamClient connects to the server (retrying every 100 ms while it is absent, again
// after a break) and sends at rateBps until stop is closed (never, from the command line).
func streamClient(to string, rateBps float64, stop <-chan struct{}) error {
	if _, _, err := net.SplitHostPort(to); err != nil {
		return fmt.Errorf("-to %q: %v", to, err)
	}
	for conn := uint32(1); ; {
		select {
		case <-stop:
			return nil
		default:
		}
		c, err := net.DialTimeout("tcp", to, time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if streamSend(c.(*net.TCPConn), conn, rateBps, stop) {
			return nil
		}
		conn++
	}
}

// streamSend sends on one connection until it breaks (false) or stop is closed (true).
// A token bucket refilled at every wake-up, 20 ms deep: the stream is smooth, and
// after a stall it resumes at the rate instead of bursting to catch up.
func streamSend(c *net.TCPConn, conn uint32, rateBps float64, stop <-chan struct{}) bool {
	defer c.Close()
	done := make(chan struct{})
	// The server sends nothing: a read returns only when the connection ends.
	go func() { _, _ = io.Copy(io.Discard, c); close(done) }()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-stop:
			close(stopped)
			_ = c.Close() // unblocks a write held by a full send buffer
		case <-done:
		}
	}()
	rate := rateBps / 8 // bytes per second
	// A write of about 1 ms of the rate, at least a segment's worth.
	chunk := math.Min(math.Max(rate/1000, 1448), streamMaxChunk)
	depth := math.Max(rate*0.02, 2*chunk)
	buf := make([]byte, streamHdr+streamMaxChunk)
	info := senderInfo{Conn: conn, RateBps: uint64(rateBps)}
	tokens, last, nextInfo := 0.0, time.Now(), time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	write := func(kind uint32, body int) bool {
		binary.BigEndian.PutUint32(buf, uint32(body))
		binary.BigEndian.PutUint32(buf[4:], kind)
		n, err := c.Write(buf[:streamHdr+body])
		info.Written += uint64(n)
		tokens -= float64(n)
		return err == nil
	}
	for {
		select {
		case <-stopped:
			return true
		case <-done:
			return false
		default:
		}
		now := time.Now()
		tokens = math.Min(tokens+rate*now.Sub(last).Seconds(), depth)
		last = now
		if !now.Before(nextInfo) {
			info.Seq++
			info.SentAt = now.UnixNano()
			readTCPInfo(c, &info)
			info.put(buf[streamHdr:])
			ok := write(streamInfo, streamInfoSize)
			clear(buf[streamHdr : streamHdr+streamInfoSize]) // filler is zeros
			if !ok {
				return isClosed(stopped)
			}
			if nextInfo = nextInfo.Add(streamBin); nextInfo.Before(now) {
				nextInfo = now.Add(streamBin)
			}
			continue
		}
		if tokens >= chunk {
			body := int(math.Min(tokens, streamMaxChunk)) - streamHdr
			if !write(streamFiller, body) {
				return isClosed(stopped)
			}
			continue
		}
		wait := time.Duration((chunk - tokens) / rate * 1e9)
		wait = min(wait, nextInfo.Sub(now))
		timer.Reset(max(wait, 100*time.Microsecond))
		select {
		case <-stopped:
			return true
		case <-done:
			return false
		case <-timer.C:
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// streamReport is what the server prints when it is stopped: one JSON document. Times are
// ns since the epoch on this host's clock unless said otherwise.
type streamReport struct {
	// Bytes received per bin of BinMs, the first bin starting at StartNs (a whole multiple
	// of BinMs at or before the first byte); the bins run to the stop.
	BinMs      int     `json:"binMs"`
	StartNs    int64   `json:"startNs"`
	Bytes      []int64 `json:"bytes"`
	TotalBytes int64   `json:"totalBytes"`
	FirstAt    int64   `json:"firstAt"`
	LastAt     int64   `json:"lastAt"`
	StoppedAt  int64   `json:"stoppedAt"`
	// Connections accepted; breaks: those that ended with recv() 0 or -1 before the stop.
	Connections int        `json:"connections"`
	Breaks      []tcpBreak `json:"breaks"`
	// The longest time without a byte, between the first byte and the stop (toStop: it
	// lasted to the stop). Null before any byte.
	LongestStall *streamStall `json:"longestStall"`
	// The sender's own counters, from its last info frame on each connection (summed).
	Sender streamSender `json:"sender"`
	// This host's CLOCK_REALTIME and CLOCK_MONOTONIC read together at the stop: places on
	// the epoch what tools on the same host time on the monotonic clock (sockperf --no-rdtsc).
	Clock streamClock `json:"clock"`
}

type streamStall struct {
	StartNs    int64 `json:"startNs"`
	DurationNs int64 `json:"durationNs"`
	ToStop     bool  `json:"toStop"`
}

type streamSender struct {
	// Info frames received (one per 100 ms per connection).
	Reports         int    `json:"reports"`
	RateBps         uint64 `json:"rateBps"`
	Retransmissions uint32 `json:"retransmissions"`
	BytesSent       uint64 `json:"bytesSent"`
	BytesRetrans    uint64 `json:"bytesRetrans"`
	BytesAcked      uint64 `json:"bytesAcked"`
	Written         uint64 `json:"written"`
	// The last report's smoothed RTT (µs) and congestion window (segments), and when the
	// VM sent it (the VM's clock).
	RTTus  uint32 `json:"rttUs"`
	Cwnd   uint32 `json:"cwnd"`
	LastAt int64  `json:"lastAt"`
}

type streamClock struct {
	RealtimeNs  int64 `json:"realtimeNs"`
	MonotonicNs int64 `json:"monotonicNs"`
}

// streamRecorder records what arrives on every connection, under one lock.
type streamRecorder struct {
	mu      sync.Mutex
	r       streamReport
	stopped bool
	last    map[uint32]senderInfo // each connection's last info, by the client's number
	stall   streamStall
	ready   string
}

func newStreamRecorder(ready string) *streamRecorder {
	return &streamRecorder{r: streamReport{BinMs: int(streamBin / time.Millisecond), Bytes: []int64{}, Breaks: []tcpBreak{}},
		last: map[uint32]senderInfo{}, ready: ready}
}

// arrive counts n bytes read at `at`.
func (s *streamRecorder) arrive(n int, at int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || n <= 0 {
		return
	}
	r := &s.r
	bin := streamBin.Nanoseconds()
	if r.TotalBytes == 0 {
		r.FirstAt, r.LastAt = at, at
		r.StartNs = at - at%bin
		if s.ready != "" {
			_ = os.WriteFile(s.ready, []byte("receiving\n"), 0o644)
		}
	}
	if gap := at - r.LastAt; gap > s.stall.DurationNs {
		s.stall = streamStall{StartNs: r.LastAt, DurationNs: gap}
	}
	r.LastAt = max(r.LastAt, at)
	r.TotalBytes += int64(n)
	i := int((at - r.StartNs) / bin)
	for len(r.Bytes) <= i {
		r.Bytes = append(r.Bytes, 0)
	}
	r.Bytes[i] += int64(n)
}

// timedReader times each read from the connection: its arrival, to the bins.
type timedReader struct {
	c net.Conn
	s *streamRecorder
}

func (t timedReader) Read(b []byte) (int, error) {
	n, err := t.c.Read(b)
	t.s.arrive(n, time.Now().UnixNano())
	return n, err
}

func (s *streamRecorder) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	s.r.Connections++
	s.mu.Unlock()
	rd := bufio.NewReaderSize(timedReader{c, s}, 64<<10)
	hdr := make([]byte, streamHdr)
	body := make([]byte, streamInfoSize)
	var err error
	for err == nil {
		if _, err = io.ReadFull(rd, hdr); err != nil {
			break
		}
		n, kind := int64(binary.BigEndian.Uint32(hdr)), binary.BigEndian.Uint32(hdr[4:])
		switch {
		case kind == streamFiller && n <= streamMaxChunk:
			_, err = io.CopyN(io.Discard, rd, n)
		case kind == streamInfo && n == streamInfoSize:
			if _, err = io.ReadFull(rd, body); err == nil {
				var i senderInfo
				i.get(body)
				s.mu.Lock()
				s.last[i.Conn] = i
				s.r.Sender.Reports++
				s.mu.Unlock()
			}
		default:
			err = fmt.Errorf("not a stream frame (kind %#x, length %d)", kind, n)
		}
	}
	at := time.Now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		reason := "recv() returned 0: the VM closed the connection"
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) {
			reason = "recv() returned -1: " + err.Error()
		} else if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			reason = "the stream was garbled: " + err.Error()
		}
		s.r.Breaks = append(s.r.Breaks, tcpBreak{At: at, Reason: reason})
	}
}

// stop ends the recording and returns the report.
func (s *streamRecorder) stop() streamReport {
	clock := readClocks()
	now := clock.RealtimeNs
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	r := s.r
	r.StoppedAt = now
	r.Clock = clock
	if r.TotalBytes > 0 {
		st := s.stall
		if gap := now - r.LastAt; gap > st.DurationNs {
			st = streamStall{StartNs: r.LastAt, DurationNs: gap, ToStop: true}
		}
		r.LongestStall = &st
		// Bins to the stop: a silence at the end shows.
		for n := int((now-r.StartNs)/streamBin.Nanoseconds()) + 1; len(r.Bytes) < n; {
			r.Bytes = append(r.Bytes, 0)
		}
		r.Bytes = append([]int64(nil), r.Bytes...)
	}
	r.Breaks = append(make([]tcpBreak, 0, len(r.Breaks)), r.Breaks...)
	var lastAt int64
	for _, i := range s.last {
		r.Sender.Retransmissions += i.TotalRetrans
		r.Sender.BytesSent += i.BytesSent
		r.Sender.BytesRetrans += i.BytesRetrans
		r.Sender.BytesAcked += i.BytesAcked
		r.Sender.Written += i.Written
		if i.SentAt >= lastAt {
			lastAt = i.SentAt
			r.Sender.RateBps, r.Sender.RTTus, r.Sender.Cwnd, r.Sender.LastAt = i.RateBps, i.RTTus, i.Cwnd, i.SentAt
		}
	}
	return r
}

// accept serves each connection on ln until ln is closed.
func (s *streamRecorder) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go s.serve(c)
	}
}

// streamServer records the stream until SIGINT or SIGTERM, then prints its report.
func streamServer(port int, ready string) error {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{Port: port})
	if err != nil {
		return err
	}
	s := newStreamRecorder(ready)
	go s.accept(ln)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	r := s.stop()
	_ = ln.Close()
	return json.NewEncoder(os.Stdout).Encode(r)
}

// readClocks reads this host's CLOCK_REALTIME and CLOCK_MONOTONIC together, which places
// on the epoch what tools on the host time on the monotonic clock (sockperf --no-rdtsc).
func readClocks() streamClock {
	var mono syscall.Timespec
	_, _, _ = syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&mono)), 0)
	return streamClock{RealtimeNs: time.Now().UnixNano(), MonotonicNs: mono.Nano()}
}
