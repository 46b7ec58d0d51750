package main

// The VM-side echo probe (seed 003): the VM pings a target (the study's "college proxy")
// while it migrates, and the finding is on the return path: replies in flight reach the
// old host and are lost after a NAT move. So the VM must say which replies it got, and
// the VM has no channel out but the probe itself: each request carries the VM's reports
// of the replies it received (sequence number, round trip on the VM's clock), and each
// reply acknowledges the reports the target holds, as TCP does, so that reports outlive
// a broken forward path and arrive once it works again.
//
// A request: magic, session, sequence number, send time (ns on the client's monotonic
// clock, echoed back), the index of its first report, the report count, and the reports
// (sequence number, RTT in µs), oldest first. Reports are numbered from 1 in the order
// the replies came. A reply: magic, session, sequence number, the echoed send time, and
// the highest report index up to which the target holds every report.

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"
)

const (
	echoReqMagic   = 0x776c6571 // "wleq"
	echoReplyMagic = 0x776c6572 // "wler"
	echoReqHead    = 4 + 4 + 4 + 8 + 4 + 2
	echoReportSize = 4 + 4
	echoReplySize  = 4 + 4 + 4 + 8 + 4
	// 140 reports: a request of 1146 bytes, below 1200 whatever the path's MTU (a VXLAN or
	// GRE overlay inside a 1280-byte IPv6 path still carries it in one piece). At 100
	// requests per second a backlog of reports drains at 139 per request.
	echoMaxReports = 140
	// Replies seen, by sequence number modulo this: a reply delivered twice is reported once.
	echoSeenRing = 1 << 16
)

type echoReport struct {
	seq, rttUs uint32
}

// echoClient: the VM's side. Its pending reports are those the target has not acknowledged.
type echoClient struct {
	conn    *net.UDPConn
	session uint32
	start   time.Time
	mu      sync.Mutex
	pending []echoReport // reports next-len(pending) .. next-1
	next    uint32       // the index the next report gets
	seen    [echoSeenRing]uint32
}

// echoClientRun sends a request every interval until stop is closed (never, from the
// command line). Nothing it meets ends it: no route, no address, a refused send or a
// paused guest all cost requests, not the probe.
func echoClientRun(to string, interval time.Duration, stop <-chan struct{}) error {
	host, _, err := net.SplitHostPort(to)
	if err != nil {
		return fmt.Errorf("-to %q: %v", to, err)
	}
	// An unconnected socket: the kernel picks the source address for each datagram, so a
	// changed address or route is used at once, and an ICMP error does not stick to it.
	network := "udp4"
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	c := &echoClient{conn: conn, start: time.Now(), next: 1}
	var s [4]byte
	_, _ = rand.Read(s[:])
	c.session = binary.BigEndian.Uint32(s[:])
	go c.receive()

	// A ticker drops the ticks it could not deliver: a guest paused for seconds sends one
	// request when it resumes, not a burst.
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var dst *net.UDPAddr
	buf := make([]byte, echoReqHead+echoMaxReports*echoReportSize)
	for seq := uint32(1); ; seq++ {
		if dst == nil {
			// An address is resolved without a network; a name waits for one.
			dst, _ = net.ResolveUDPAddr(network, to)
		}
		if dst != nil {
			n := c.request(buf, seq)
			_, _ = conn.WriteToUDP(buf[:n], dst) // ENETUNREACH and the like: a lost request
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
}

// request writes request seq, with the oldest pending reports, into buf; its length.
func (c *echoClient) request(buf []byte, seq uint32) int {
	binary.BigEndian.PutUint32(buf, echoReqMagic)
	binary.BigEndian.PutUint32(buf[4:], c.session)
	binary.BigEndian.PutUint32(buf[8:], seq)
	binary.BigEndian.PutUint64(buf[12:], uint64(time.Since(c.start)))
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.pending), echoMaxReports)
	binary.BigEndian.PutUint32(buf[20:], c.next-uint32(len(c.pending)))
	binary.BigEndian.PutUint16(buf[24:], uint16(n))
	for i, r := range c.pending[:n] {
		off := echoReqHead + i*echoReportSize
		binary.BigEndian.PutUint32(buf[off:], r.seq)
		binary.BigEndian.PutUint32(buf[off+4:], r.rttUs)
	}
	return echoReqHead + n*echoReportSize
}

// receive reports each reply's round trip and drops the reports the target acknowledges.
// The pending reports are bounded by what is in flight: every reply acknowledges.
func (c *echoClient) receive() {
	buf := make([]byte, 64)
	for {
		n, _, err := c.conn.ReadFromUDP(buf)
		now := time.Since(c.start)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond) // not spinning on an error that stays
			continue
		}
		if n != echoReplySize || binary.BigEndian.Uint32(buf) != echoReplyMagic || binary.BigEndian.Uint32(buf[4:]) != c.session {
			continue
		}
		seq := binary.BigEndian.Uint32(buf[8:])
		sent := time.Duration(binary.BigEndian.Uint64(buf[12:]))
		ack := binary.BigEndian.Uint32(buf[20:])
		rtt := max(now-sent, 0) / time.Microsecond
		c.mu.Lock()
		if slot := &c.seen[seq%echoSeenRing]; *slot != seq {
			*slot = seq
			c.pending = append(c.pending, echoReport{seq, uint32(min(rtt, 1<<32-1))})
			c.next++
		}
		c.acknowledge(ack)
		c.mu.Unlock()
	}
}

// acknowledge drops the reports up to index ack (c.mu held). An old reply's ack is below
// what is dropped already.
func (c *echoClient) acknowledge(ack uint32) {
	if first := c.next - uint32(len(c.pending)); ack >= first && ack < c.next {
		c.pending = append(c.pending[:0], c.pending[ack-first+1:]...)
	} else if ack >= c.next {
		c.pending = c.pending[:0]
	}
}

// echoRecord is what echo-target prints when it is stopped: one JSON document.
type echoRecord struct {
	Format string `json:"format"` // "wanlab-echo/1"
	// Each request's first copy, by sequence number: [seq, arrival in µs since the epoch
	// (this host's clock; µs, so that a JavaScript number holds it exactly), index into
	// sources of the address it came from].
	Requests [][3]int64 `json:"requests"`
	Sources  []string   `json:"sources"`
	// The client's reports in its order (index 1 first): [seq, round trip in µs on the
	// VM's clock]. A request answered and never reported is a reply lost on the way back
	// (or still on its way when the target was stopped).
	Reports [][2]uint32 `json:"reports"`
	// Requests answered (first copies), and those not answered (the send failed), by seq.
	Answered    int      `json:"answered"`
	NotAnswered []uint32 `json:"notAnswered"`
	// Copies of a request already recorded (answered again, not recorded again).
	Duplicates int `json:"duplicates"`
	// Report entries received again after the target held them: the client's retransmissions.
	RepeatedReports int `json:"repeatedReports"`
	// Datagrams that were not this session's requests (another client, a restarted one).
	Foreign int `json:"foreign"`
	// When the record was taken (the target stopped), µs since the epoch: a silence runs
	// to here when no request came after it.
	EndUs int64 `json:"endUs"`
}

type echoArrival struct {
	seq  uint32
	atNs int64
	src  int
}

// echoTarget records by sequence number, not by address: after a NAT move the same
// client comes from another address.
type echoTarget struct {
	conn *net.UDPConn
	// skip, for tests: requests not answered, as if the reply were lost on the way.
	skip func(seq uint32) bool

	mu          sync.Mutex
	session     uint32
	started     bool
	base        uint32 // reports[i] has index base+i+1
	reports     [][2]uint32
	arrivals    []echoArrival
	seen        map[uint32]bool
	sources     []string
	sourceIdx   map[string]int
	answered    int
	notAnswered []uint32
	duplicates  int
	repeated    int
	foreign     int
	first       chan struct{}
}

func newEchoTarget(port int) (*echoTarget, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
	if err != nil {
		return nil, err
	}
	return &echoTarget{conn: conn, seen: map[uint32]bool{}, sourceIdx: map[string]int{}, first: make(chan struct{})}, nil
}

// serve answers and records until the socket is closed.
func (t *echoTarget) serve() {
	buf := make([]byte, 2048)
	out := make([]byte, echoReplySize)
	for {
		n, from, err := t.conn.ReadFromUDP(buf)
		at := time.Now().UnixNano()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ack, dup, ok := t.record(buf[:n], from, at)
		if !ok {
			continue
		}
		seq := binary.BigEndian.Uint32(buf[8:])
		if t.skip != nil && t.skip(seq) {
			if !dup {
				t.mu.Lock()
				t.notAnswered = append(t.notAnswered, seq)
				t.mu.Unlock()
			}
			continue
		}
		binary.BigEndian.PutUint32(out, echoReplyMagic)
		copy(out[4:20], buf[4:20]) // session, seq, send time
		binary.BigEndian.PutUint32(out[20:], ack)
		// To the address the request came from, whatever it was before. A copy is answered
		// too (the client reports a reply once), but counted once.
		_, err = t.conn.WriteToUDP(out, from)
		if dup {
			continue
		}
		t.mu.Lock()
		if err != nil {
			t.notAnswered = append(t.notAnswered, seq)
		} else {
			t.answered++
		}
		t.mu.Unlock()
	}
}

// record takes a request's reports and arrival; the ack to send, whether the request is
// a copy of one recorded, and whether it is a request of this session.
func (t *echoTarget) record(p []byte, from *net.UDPAddr, at int64) (ack uint32, dup, ok bool) {
	if len(p) < echoReqHead || binary.BigEndian.Uint32(p) != echoReqMagic {
		t.mu.Lock()
		t.foreign++
		t.mu.Unlock()
		return 0, false, false
	}
	session := binary.BigEndian.Uint32(p[4:])
	seq := binary.BigEndian.Uint32(p[8:])
	firstIdx := binary.BigEndian.Uint32(p[20:])
	count := int(binary.BigEndian.Uint16(p[24:]))
	if len(p) != echoReqHead+count*echoReportSize {
		t.mu.Lock()
		t.foreign++
		t.mu.Unlock()
		return 0, false, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.started {
		// The first request fixes the session, and where its reports start: a target
		// started after the client takes its reports from there on.
		t.started, t.session, t.base = true, session, firstIdx-1
		close(t.first)
	} else if session != t.session {
		t.foreign++
		return 0, false, false
	}
	if dup = t.seen[seq]; dup {
		t.duplicates++
	} else {
		t.seen[seq] = true
		src := from.String()
		i, ok := t.sourceIdx[src]
		if !ok {
			i = len(t.sources)
			t.sources = append(t.sources, src)
			t.sourceIdx[src] = i
		}
		t.arrivals = append(t.arrivals, echoArrival{seq, at, i})
	}
	// The client sends from its oldest unacknowledged report, so a request's reports start
	// at or below the next index the target needs: the rest are repeats.
	for i := range count {
		idx := firstIdx + uint32(i)
		have := t.base + uint32(len(t.reports))
		switch {
		case idx == have+1:
			off := echoReqHead + i*echoReportSize
			t.reports = append(t.reports, [2]uint32{binary.BigEndian.Uint32(p[off:]), binary.BigEndian.Uint32(p[off+4:])})
		case idx <= have:
			t.repeated++
		}
	}
	return t.base + uint32(len(t.reports)), dup, true
}

// snapshot is the record so far.
func (t *echoTarget) snapshot() echoRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := echoRecord{Format: "wanlab-echo/1", Requests: make([][3]int64, 0, len(t.arrivals)),
		Sources: append([]string{}, t.sources...), Reports: append([][2]uint32{}, t.reports...),
		Answered: t.answered, NotAnswered: append([]uint32{}, t.notAnswered...),
		Duplicates: t.duplicates, RepeatedReports: t.repeated, Foreign: t.foreign,
		EndUs: time.Now().UnixMicro()}
	for _, a := range t.arrivals {
		r.Requests = append(r.Requests, [3]int64{int64(a.seq), a.atNs / 1000, int64(a.src)})
	}
	sort.Slice(r.Requests, func(i, j int) bool { return r.Requests[i][0] < r.Requests[j][0] })
	sort.Slice(r.NotAnswered, func(i, j int) bool { return r.NotAnswered[i] < r.NotAnswered[j] })
	return r
}

// echoTargetMain answers and records until SIGINT or SIGTERM, then prints the record.
func echoTargetMain(port int, ready string) error {
	t, err := newEchoTarget(port)
	if err != nil {
		return err
	}
	go t.serve()
	if ready != "" {
		go func() {
			<-t.first
			_ = os.WriteFile(ready, []byte("request\n"), 0o644)
		}()
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	_ = t.conn.Close()
	return json.NewEncoder(os.Stdout).Encode(t.snapshot())
}
