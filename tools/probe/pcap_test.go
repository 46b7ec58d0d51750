package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// pcapWriter builds a classic pcap in memory, cutting each record at snaplen as tcpdump -s does.
type pcapWriter struct {
	buf     bytes.Buffer
	bo      binary.ByteOrder
	nano    bool
	snaplen int
	t       int64 // ns
}

func newPcap(bo binary.ByteOrder, nano bool, snaplen int) *pcapWriter {
	w := &pcapWriter{bo: bo, nano: nano, snaplen: snaplen, t: 1_700_000_000_000_000_000}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	h := make([]byte, 24)
	bo.PutUint32(h, magic)
	bo.PutUint16(h[4:], 2)
	bo.PutUint16(h[6:], 4)
	bo.PutUint32(h[16:], uint32(snaplen))
	bo.PutUint32(h[20:], linkEthernet)
	w.buf.Write(h)
	return w
}

func (w *pcapWriter) record(frame []byte) {
	w.t += 1_000_000 // 1 ms apart
	incl := min(len(frame), w.snaplen)
	h := make([]byte, 16)
	w.bo.PutUint32(h, uint32(w.t/1e9))
	frac := w.t % 1e9
	if !w.nano {
		frac /= 1000
	}
	w.bo.PutUint32(h[4:], uint32(frac))
	w.bo.PutUint32(h[8:], uint32(incl))
	w.bo.PutUint32(h[12:], uint32(len(frame)))
	w.buf.Write(h)
	w.buf.Write(frame[:incl])
}

// tcp writes an Ethernet/IPv4/TCP frame (with a timestamp option, as Linux sends) and a
// payload of n zeros.
func (w *pcapWriter) tcp(src, dst string, seq, ack uint32, flags uint8, win uint16, n int) {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	f := make([]byte, 14+20+32+n)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+32+n))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8], ip[9] = 64, 6
	copy(ip[12:], s.Addr().AsSlice())
	copy(ip[16:], d.Addr().AsSlice())
	t := ip[20:]
	binary.BigEndian.PutUint16(t[0:], s.Port())
	binary.BigEndian.PutUint16(t[2:], d.Port())
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint32(t[8:], ack)
	t[12], t[13] = 8<<4, flags
	binary.BigEndian.PutUint16(t[14:], win)
	t[20], t[21], t[22] = 1, 1, 8 // NOP NOP TS
	w.record(f)
}

const (
	cli = "192.168.1.10:40000"
	srv = "192.168.2.10:49152"
	mss = 1448
)

// migrationCapture: a migration-like connection whose client sequence numbers wrap, seen
// where segment 3 was lost (it comes later) and segment 1 is sent twice; and a small ssh
// connection beside it, a UDP datagram, and a record cut short at the end.
func migrationCapture(w *pcapWriter) {
	isn, sisn := uint32(0xffffe000), uint32(5000)
	const win = 502
	seg := func(i int) uint32 { return isn + 1 + uint32(i*mss) }
	w.tcp(cli, srv, isn, 0, tcpSYN, 64240, 0)
	w.tcp(srv, cli, sisn, isn+1, tcpSYN|tcpACK, 65160, 0)
	w.tcp(cli, srv, isn+1, sisn+1, tcpACK, win, 0)
	for i := 0; i < 3; i++ {
		w.tcp(cli, srv, seg(i), sisn+1, tcpACK|0x08, win, mss)
		w.tcp(srv, cli, sisn+1, seg(i+1), tcpACK, win, 0)
	}
	w.tcp(cli, srv, seg(4), sisn+1, tcpACK, win, mss) // beyond the next expected: out of order
	w.tcp(srv, cli, sisn+1, seg(3), tcpACK, win, 0)   // duplicate ACKs, SACKing segment 4
	w.tcp(cli, srv, seg(5), sisn+1, tcpACK, win, mss)
	w.tcp(srv, cli, sisn+1, seg(3), tcpACK, win, 0)
	w.tcp(cli, srv, seg(3), sisn+1, tcpACK, win, mss) // the hole filled
	w.tcp(srv, cli, sisn+1, seg(6), tcpACK, win, 0)
	w.tcp(cli, srv, seg(1), sisn+1, tcpACK, win, mss) // sent again: a retransmission
	w.tcp(srv, cli, sisn+1, seg(6), tcpACK, 1024, 0)  // a window update: no duplicate ACK
	w.tcp(srv, cli, sisn+1, seg(6), tcpACK, 1024, 0)  // same ACK and window, nothing outstanding: none either
	w.tcp(srv, cli, sisn+1, seg(6), tcpACK|0x08, win, 100)
	w.tcp(cli, srv, seg(6), sisn+101, tcpACK|tcpFIN, win, 0)
	w.tcp(srv, cli, sisn+101, seg(6)+1, tcpACK|tcpFIN, win, 0)
	w.tcp(cli, srv, seg(6)+1, sisn+102, tcpACK, win, 0)

	// An ssh session with less data, and a datagram.
	w.tcp("192.168.1.10:22", "192.168.1.1:50000", 7, 9, tcpACK|0x08, 300, 200)
	udp := make([]byte, 14+20+8)
	binary.BigEndian.PutUint16(udp[12:], 0x0800)
	udp[14], udp[14+9] = 0x45, 17
	binary.BigEndian.PutUint16(udp[16:], 28)
	w.record(udp)
	// tcpdump killed while writing: half a record header.
	w.buf.Write([]byte{1, 2, 3, 4, 5, 6})
}

func TestCaptureStats(t *testing.T) {
	for _, c := range []struct {
		name string
		bo   binary.ByteOrder
		nano bool
	}{{"little-endian µs", binary.LittleEndian, false}, {"big-endian ns", binary.BigEndian, true}} {
		t.Run(c.name, func(t *testing.T) {
			w := newPcap(c.bo, c.nano, 96)
			migrationCapture(w)
			rep, err := tcpCaptureStats(bytes.NewReader(w.buf.Bytes()), portFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.LinkType != 1 || rep.Packets != 24 || rep.TCP != 23 || rep.Undecoded != 1 {
				t.Errorf("link %d, packets %d, tcp %d, undecoded %d", rep.LinkType, rep.Packets, rep.TCP, rep.Undecoded)
			}
			if len(rep.Connections) != 2 {
				t.Fatalf("%d connections", len(rep.Connections))
			}
			m := rep.Connections[0]
			if m.Client != cli || m.Server != srv || !m.Handshake || !m.Fin || m.Rst || m.Packets != 22 {
				t.Errorf("connection %+v", m)
			}
			if m.FirstNs != 1_700_000_000_001_000_000 || m.LastNs != m.FirstNs+21_000_000 {
				t.Errorf("first %d, last %d", m.FirstNs, m.LastNs)
			}
			want := tcpDirStats{Bytes: 7 * mss, Segments: 11, DataSegments: 7, Retransmissions: 1,
				RetransmittedBytes: mss, OutOfOrder: 1, HoleFills: 1}
			if got := *m.ToServer; !sameCounts(got, want) {
				t.Errorf("to the server %+v, want %+v", got, want)
			}
			want = tcpDirStats{Bytes: 100, Segments: 11, DataSegments: 1, DupAcks: 2}
			if got := *m.ToClient; !sameCounts(got, want) {
				t.Errorf("to the client %+v, want %+v", got, want)
			}
			if ssh := rep.Connections[1]; ssh.Client != "192.168.1.10:22" || ssh.Handshake || ssh.ToServer.Bytes != 200 {
				t.Errorf("ssh %+v", ssh)
			}

			only, err := tcpCaptureStats(bytes.NewReader(w.buf.Bytes()), portFilter{49152, 49215})
			if err != nil || len(only.Connections) != 1 || only.Connections[0].Server != srv {
				t.Errorf("-port 49152-49215: %v, %+v", err, only)
			}
		})
	}
}

func sameCounts(a, b tcpDirStats) bool {
	return a.Bytes == b.Bytes && a.Segments == b.Segments && a.DataSegments == b.DataSegments &&
		a.Retransmissions == b.Retransmissions && a.RetransmittedBytes == b.RetransmittedBytes &&
		a.OutOfOrder == b.OutOfOrder && a.HoleFills == b.HoleFills && a.DupAcks == b.DupAcks
}

func TestCaptureStatsRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"pcapng": {0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		"empty":  {},
		"text":   []byte("this is not a capture at all"),
	} {
		if _, err := tcpCaptureStats(bytes.NewReader(b), portFilter{}); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	for _, p := range []string{"0", "x", "49215-49152", "70000"} {
		if _, err := parsePorts(p); err == nil {
			t.Errorf("-port %q: want an error", p)
		}
	}
	// The command's file path: one connection with -largest.
	w := newPcap(binary.LittleEndian, false, 96)
	migrationCapture(w)
	f := filepath.Join(t.TempDir(), "m.pcap")
	if err := os.WriteFile(f, w.buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := captureStats(f, "", true); err != nil {
		t.Fatal(err)
	}
}
