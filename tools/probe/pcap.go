package main

// The capture's TCP statistics (seed 004 §3 and §6: Wireshark's conversations,
// retransmissions and out-of-order segments of the migration connection), from a classic
// pcap as `tcpdump -w` writes it. Payload lengths come from the IP header, not from what
// was captured: a capture with a small snaplen (-s 96) keeps headers only and still
// counts every byte.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Link types (www.tcpdump.org/linktypes.html).
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// pcapReport is what tcp-capture-stats prints: one JSON document.
type pcapReport struct {
	LinkType int `json:"linkType"`
	// Records in the file, TCP segments among them, and records whose headers were cut
	// short or malformed (Wireshark's "malformed", roughly).
	Packets   int   `json:"packets"`
	TCP       int   `json:"tcpPackets"`
	Undecoded int   `json:"undecoded"`
	FirstNs   int64 `json:"firstNs"`
	LastNs    int64 `json:"lastNs"`
	// The connections (those on -port, if given), most bytes first.
	Connections []*tcpConnStats `json:"connections"`
}

// tcpConnStats is one TCP connection as the capture saw it. The client is the sender of
// its SYN, or, if the capture began later, of its first packet.
type tcpConnStats struct {
	Client    string       `json:"client"`
	Server    string       `json:"server"`
	Handshake bool         `json:"handshake"` // the SYN was captured
	Fin       bool         `json:"fin"`
	Rst       bool         `json:"rst"`
	FirstNs   int64        `json:"firstNs"`
	LastNs    int64        `json:"lastNs"`
	Packets   int          `json:"packets"`
	ToServer  *tcpDirStats `json:"toServer"`
	ToClient  *tcpDirStats `json:"toClient"`
	closed    bool
}

// tcpDirStats: one direction's segments. Sequence numbers are unwrapped to 64 bits; next is
// the highest sequence seen, and holes the ranges below it not seen yet.
type tcpDirStats struct {
	// Payload bytes, retransmissions included; segments (all); those with a payload.
	Bytes        int64 `json:"bytes"`
	Segments     int   `json:"segments"`
	DataSegments int   `json:"dataSegments"`
	// A data segment with some of its range already seen here; its payload bytes.
	Retransmissions    int   `json:"retransmissions"`
	RetransmittedBytes int64 `json:"retransmittedBytes"`
	// A data segment beyond the next expected sequence: the ones before it were lost
	// before the capture point, or come later.
	OutOfOrder int `json:"outOfOrder"`
	// A data segment that fills such a hole and nothing more (the lost data resent, or the
	// late segment).
	HoleFills int `json:"holeFills"`
	// A pure ACK repeating this side's last ACK and window while the other side has data
	// unacknowledged (Wireshark's duplicate ACK).
	DupAcks int `json:"dupAcks"`

	started bool
	next    int64
	holes   [][2]int64
	ackSeen bool
	lastAck uint32
	lastWin uint16
}

// unwrap places a 32-bit sequence number next to the last one seen in this direction.
func (d *tcpDirStats) unwrap(seq uint32) int64 {
	return d.next + int64(int32(seq-uint32(d.next)))
}

// seen removes [from, to) from the holes and returns how much of it was seen before.
func (d *tcpDirStats) seen(from, to int64) int64 {
	if to > d.next {
		to = d.next
	}
	if from >= to {
		return 0
	}
	was := to - from
	kept := d.holes[:0]
	for _, h := range d.holes {
		lo, hi := max(h[0], from), min(h[1], to)
		if lo >= hi {
			kept = append(kept, h)
			continue
		}
		was -= hi - lo
		if h[0] < lo {
			kept = append(kept, [2]int64{h[0], lo})
		}
		if hi < h[1] {
			kept = append(kept, [2]int64{hi, h[1]})
		}
	}
	d.holes = kept
	return was
}

// segment classifies one segment sent in this direction.
func (d *tcpDirStats) segment(seq uint32, payload int, syn, fin bool) {
	d.Segments++
	if payload > 0 {
		d.Bytes += int64(payload)
		d.DataSegments++
	}
	seqLen := int64(payload)
	if syn {
		seqLen++
	}
	if fin {
		seqLen++
	}
	if !d.started {
		d.started = true
		d.next = int64(seq) + seqLen
		return
	}
	start := d.unwrap(seq)
	end := start + seqLen
	switch {
	case payload == 0:
	case payload <= 1 && start == d.next-1 && !syn && !fin:
		// A keep-alive or zero-window probe: a byte already sent, by design.
	case start > d.next:
		d.OutOfOrder++
		d.holes = append(d.holes, [2]int64{d.next, start})
		if len(d.holes) > 256 { // a capture that misses much: forget the oldest
			d.holes = d.holes[1:]
		}
	case start < d.next:
		if d.seen(start, end) > 0 {
			d.Retransmissions++
			d.RetransmittedBytes += int64(payload)
		} else {
			d.HoleFills++
		}
	}
	if end > d.next {
		d.next = end
	}
}

// ack checks a segment's ACK against this side's last one; peer is the other direction.
func (d *tcpDirStats) ack(ack uint32, win uint16, pure bool, peer *tcpDirStats) {
	if d.ackSeen && pure && ack == d.lastAck && win == d.lastWin && win != 0 &&
		peer.started && peer.unwrap(ack) < peer.next {
		d.DupAcks++
	}
	d.ackSeen, d.lastAck, d.lastWin = true, ack, win
}

// portFilter is -port: N or N-M; zero keeps every connection.
type portFilter struct{ lo, hi uint16 }

func parsePorts(s string) (portFilter, error) {
	if s == "" {
		return portFilter{}, nil
	}
	a, b, found := strings.Cut(s, "-")
	lo, err1 := strconv.ParseUint(a, 10, 16)
	hi := lo
	var err2 error
	if found {
		hi, err2 = strconv.ParseUint(b, 10, 16)
	}
	if err1 != nil || err2 != nil || lo == 0 || hi < lo {
		return portFilter{}, fmt.Errorf("-port %q: want a port or a range, e.g. 49152 or 49152-49215", s)
	}
	return portFilter{uint16(lo), uint16(hi)}, nil
}

func (p portFilter) match(a, b uint16) bool {
	return p.lo == 0 || (a >= p.lo && a <= p.hi) || (b >= p.lo && b <= p.hi)
}

type tcpKey struct{ a, b netip.AddrPort } // a < b

// tcpCaptureStats reads a classic pcap and returns its TCP connections' statistics.
func tcpCaptureStats(r io.Reader, ports portFilter) (*pcapReport, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	gh := make([]byte, 24)
	if _, err := io.ReadFull(br, gh); err != nil {
		return nil, fmt.Errorf("not a pcap file: %v", err)
	}
	var bo binary.ByteOrder
	nano := false
	switch m := binary.LittleEndian.Uint32(gh); m {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo, nano = binary.LittleEndian, m == 0xa1b23c4d
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo, nano = binary.BigEndian, m == 0x4d3cb2a1
	case 0x0a0d0d0a:
		return nil, errors.New("a pcapng file: write classic pcap (tcpdump -w does; editcap -F pcap converts)")
	default:
		return nil, fmt.Errorf("not a pcap file (magic %#x)", m)
	}
	rep := &pcapReport{LinkType: int(bo.Uint32(gh[20:]) & 0xffff), Connections: []*tcpConnStats{}}
	switch rep.LinkType {
	case linkNull, linkEthernet, linkRaw, linkSLL, linkIPv4, linkIPv6, linkSLL2:
	default:
		return nil, fmt.Errorf("link type %d: want Ethernet, Linux cooked or raw IP", rep.LinkType)
	}
	conns := map[tcpKey]*tcpConnStats{}
	var all []*tcpConnStats
	rh := make([]byte, 16)
	data := make([]byte, 0, 256<<10)
	for {
		if _, err := io.ReadFull(br, rh); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, io.ErrUnexpectedEOF) { // tcpdump killed mid-record
				rep.Undecoded++
				break
			}
			return nil, err
		}
		sec, frac, incl := int64(bo.Uint32(rh)), int64(bo.Uint32(rh[4:])), int(bo.Uint32(rh[8:]))
		if incl > 256<<10 {
			return nil, fmt.Errorf("record %d: %d bytes, more than a pcap record holds", rep.Packets+1, incl)
		}
		data = data[:incl]
		if _, err := io.ReadFull(br, data); err != nil {
			rep.Undecoded++
			break
		}
		rep.Packets++
		at := sec*1e9 + frac*1000
		if nano {
			at = sec*1e9 + frac
		}
		if rep.FirstNs == 0 {
			rep.FirstNs = at
		}
		rep.LastNs = at
		s, ok := decodeTCP(rep.LinkType, data, bo)
		if !ok {
			rep.Undecoded++
			continue
		}
		if s.notTCP {
			continue
		}
		rep.TCP++
		if !ports.match(s.src.Port(), s.dst.Port()) {
			continue
		}
		key := tcpKey{s.src, s.dst}
		if key.b.Compare(key.a) < 0 {
			key.a, key.b = key.b, key.a
		}
		c := conns[key]
		synOnly := s.flags&tcpSYN != 0 && s.flags&tcpACK == 0
		if c == nil || (c.closed && synOnly) {
			c = &tcpConnStats{Client: s.src.String(), Server: s.dst.String(), FirstNs: at,
				ToServer: &tcpDirStats{}, ToClient: &tcpDirStats{}}
			if s.flags&tcpSYN != 0 && s.flags&tcpACK != 0 { // the SYN was not captured
				c.Client, c.Server = c.Server, c.Client
			}
			conns[key] = c
			all = append(all, c)
		}
		c.Packets++
		c.LastNs = at
		out, in := c.ToServer, c.ToClient
		if s.src.String() != c.Client {
			out, in = in, out
		}
		if s.flags&tcpSYN != 0 {
			c.Handshake = c.Handshake || synOnly
		}
		if s.flags&tcpFIN != 0 {
			c.Fin, c.closed = true, true
		}
		if s.flags&tcpRST != 0 {
			c.Rst, c.closed = true, true
		}
		out.segment(s.seq, s.payload, s.flags&tcpSYN != 0, s.flags&tcpFIN != 0)
		if s.flags&tcpACK != 0 {
			pure := s.payload == 0 && s.flags&(tcpSYN|tcpFIN|tcpRST) == 0
			out.ack(s.ack, s.win, pure, in)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		return all[i].ToServer.Bytes+all[i].ToClient.Bytes > all[j].ToServer.Bytes+all[j].ToClient.Bytes
	})
	rep.Connections = append(rep.Connections, all...)
	return rep, nil
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

type tcpSeg struct {
	notTCP   bool
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	win      uint16
	payload  int
}

// decodeTCP finds the TCP header in a record; ok is false where a header is cut short.
func decodeTCP(link int, b []byte, bo binary.ByteOrder) (s tcpSeg, ok bool) {
	var eth uint16
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return s, false
		}
		eth, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for eth == 0x8100 || eth == 0x88a8 { // VLAN tags
			if len(b) < 4 {
				return s, false
			}
			eth, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case linkSLL:
		if len(b) < 16 {
			return s, false
		}
		eth, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case linkSLL2:
		if len(b) < 20 {
			return s, false
		}
		eth, b = binary.BigEndian.Uint16(b[0:]), b[20:]
	case linkNull:
		if len(b) < 4 {
			return s, false
		}
		// The address family, in the capturing host's byte order: 2 is IPv4, the rest IPv6.
		eth = 0x86dd
		if af := bo.Uint32(b); af == 2 || af == 2<<24 {
			eth = 0x0800
		}
		b = b[4:]
	default: // raw IP
		if len(b) < 1 {
			return s, false
		}
		eth = 0x86dd
		if b[0]>>4 == 4 {
			eth = 0x0800
		}
	}
	var src, dst netip.Addr
	var l4 []byte
	var l4len int
	switch eth {
	case 0x0800:
		if len(b) < 20 || b[0]>>4 != 4 {
			return s, false
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:]))
		if ihl < 20 || len(b) < ihl || total < ihl {
			return s, false
		}
		if b[9] != 6 || binary.BigEndian.Uint16(b[6:])&0x1fff != 0 { // not TCP, or a later fragment
			return tcpSeg{notTCP: true}, true
		}
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		l4, l4len = b[ihl:], total-ihl
	case 0x86dd:
		if len(b) < 40 || b[0]>>4 != 6 {
			return s, false
		}
		next, plen := b[6], int(binary.BigEndian.Uint16(b[4:]))
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:]
		for next == 0 || next == 43 || next == 60 { // hop-by-hop, routing, destination options
			if len(b) < 8 {
				return s, false
			}
			n := (int(b[1]) + 1) * 8
			if len(b) < n {
				return s, false
			}
			next, b, plen = b[0], b[n:], plen-n
		}
		if next != 6 {
			return tcpSeg{notTCP: true}, true
		}
		l4, l4len = b, plen
	default:
		return tcpSeg{notTCP: true}, true
	}
	if len(l4) < 20 {
		return s, false
	}
	off := int(l4[12]>>4) * 4
	if off < 20 || l4len < off {
		return s, false
	}
	be := binary.BigEndian
	s.src = netip.AddrPortFrom(src, be.Uint16(l4[0:]))
	s.dst = netip.AddrPortFrom(dst, be.Uint16(l4[2:]))
	s.seq, s.ack, s.flags, s.win = be.Uint32(l4[4:]), be.Uint32(l4[8:]), l4[13], be.Uint16(l4[14:])
	s.payload = l4len - off
	return s, true
}

// captureStats is tcp-capture-stats: the report on stdout, all connections or the largest.
func captureStats(file, ports string, largest bool) error {
	p, err := parsePorts(ports)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := tcpCaptureStats(f, p)
	if err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	if largest && len(rep.Connections) > 1 {
		rep.Connections = rep.Connections[:1]
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}
