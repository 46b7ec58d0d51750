package main

// Mobility Header (RFC 6275 §6.1) carrying the Proxy Binding Update and Proxy Binding
// Acknowledgement of RFC 5213 §6.9, with the mobility options PMIPv6 needs.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

const (
	ipprotoMH   = 135 // IPv6 Next Header of the Mobility Header
	ipprotoNone = 59  // MH Payload Proto: "no next header"

	mhTypePBU = 5 // Binding Update; a PBU is a BU with the P flag
	mhTypePBA = 6 // Binding Acknowledgement; a PBA has the P flag

	// Mobility option types (IANA "Mobility Options").
	optPad1      = 0
	optPadN      = 1
	optMNID      = 8  // Mobile Node Identifier, RFC 4283
	optHNP       = 22 // Home Network Prefix, RFC 5213 §8.3
	optHI        = 23 // Handoff Indicator, §8.4
	optATT       = 24 // Access Technology Type, §8.5
	optMNLLID    = 25 // Mobile Node Link-layer Identifier, §8.6
	optTimestamp = 27 // Timestamp, §8.8

	mnidSubtypeNAI = 1 // RFC 4283 §3

	// BU flags (RFC 6275 §6.1.7, P from RFC 5213 §8.1) in the 16 bits after the sequence number.
	buFlagA = 0x8000
	buFlagH = 0x4000
	buFlagP = 0x0200
	// BA flags (RFC 6275 §6.1.8, P from RFC 5213 §8.2) in the octet after the status.
	baFlagP = 0x20
)

// Handoff Indicator values, RFC 5213 §8.4.
const (
	hiNewInterface = 1 // attachment over a new interface
	hiUnknown      = 4 // handoff state unknown
	hiNotChanged   = 5 // re-registration
)

// Access Technology Type, RFC 5213 §8.5. The MN reaches the MAG over an emulated Ethernet
// (a virtio NIC on the MAG's access bridge), so "IEEE 802.3" describes it; "Virtual" (1) is
// meant for a logical interface inside the MN.
const attIEEE8023 = 3

// PBA status codes, RFC 5213 §8.9 (IANA "Status Codes").
const (
	statusAccepted          = 0
	statusAdminProhibited   = 129
	statusMAGNotAuthorized  = 154 // MAG_NOT_AUTHORIZED_FOR_PROXY_REG
	statusTimestampMismatch = 156 // outside the validity window
	statusTimestampLower    = 157 // TIMESTAMP_LOWER_THAN_PREV_ACCEPTED
	statusMissingHNP        = 158
	statusPrefixSetMismatch = 159 // BCE_PBU_PREFIX_SET_DO_NOT_MATCH
	statusMissingMNID       = 160
	statusMissingHI         = 161
	statusMissingATT        = 162
)

// Options are the mobility options of a PBU or PBA; zero values mean absent.
type Options struct {
	HNP       netip.Prefix // Home Network Prefix
	MNID      string       // MN-ID, subtype NAI
	HI        uint8        // Handoff Indicator
	ATT       uint8        // Access Technology Type
	MNLLID    []byte       // the MN's MAC
	Timestamp uint64       // RFC 5213 §8.8 fixed point; 0 = absent
}

// Message is a PBU (Type 5) or a PBA (Type 6).
type Message struct {
	Type     uint8
	Seq      uint16
	Ack      bool   // A flag (PBU)
	Proxy    bool   // P flag
	Status   uint8  // PBA only
	Lifetime uint16 // in units of 4 s
	Opts     Options
}

// Timestamp encodes t as RFC 5213 §8.8 does: seconds since 1970 in the first 48 bits,
// 1/65536 s in the last 16.
func Timestamp(t time.Time) uint64 {
	return uint64(t.Unix())<<16 | uint64(t.Nanosecond())*65536/1e9
}

// TimestampTime is the inverse of Timestamp.
func TimestampTime(ts uint64) time.Time {
	return time.Unix(int64(ts>>16), int64((ts&0xffff)*1e9/65536)).UTC()
}

// optWriter appends mobility options honouring their alignment (xn+y, counted from the
// start of the Mobility Header, RFC 6275 §6.2), with Pad1/PadN in between.
type optWriter struct{ b []byte }

func (w *optWriter) pad(n int) {
	switch {
	case n == 1:
		w.b = append(w.b, optPad1)
	case n >= 2:
		w.b = append(w.b, optPadN, byte(n-2))
		w.b = append(w.b, make([]byte, n-2)...)
	}
}

func (w *optWriter) align(x, y int) {
	if x > 1 {
		w.pad(((y-len(w.b))%x + x) % x)
	}
}

func (w *optWriter) opt(x, y int, typ byte, data []byte) {
	w.align(x, y)
	w.b = append(w.b, typ, byte(len(data)))
	w.b = append(w.b, data...)
}

// Encode returns the Mobility Header with a zero checksum (the kernel fills it in, see
// openMH; MHChecksum computes it for captures).
func (m *Message) Encode() []byte {
	w := &optWriter{b: make([]byte, 12, 96)}
	w.b[0] = ipprotoNone
	w.b[2] = m.Type
	switch m.Type {
	case mhTypePBU:
		binary.BigEndian.PutUint16(w.b[6:], m.Seq)
		var f uint16
		if m.Ack {
			f |= buFlagA
		}
		if m.Proxy {
			f |= buFlagP
		}
		binary.BigEndian.PutUint16(w.b[8:], f)
		binary.BigEndian.PutUint16(w.b[10:], m.Lifetime)
	case mhTypePBA:
		w.b[6] = m.Status
		if m.Proxy {
			w.b[7] = baFlagP
		}
		binary.BigEndian.PutUint16(w.b[8:], m.Seq)
		binary.BigEndian.PutUint16(w.b[10:], m.Lifetime)
	}
	o := &m.Opts
	if o.HNP.IsValid() { // 8n+4: the prefix itself lands on 8n
		a := o.HNP.Addr().As16()
		w.opt(8, 4, optHNP, append([]byte{0, byte(o.HNP.Bits())}, a[:]...))
	}
	if o.HI != 0 { // no alignment requirement
		w.opt(1, 0, optHI, []byte{0, o.HI})
	}
	if o.ATT != 0 { // no alignment requirement
		w.opt(1, 0, optATT, []byte{0, o.ATT})
	}
	if o.MNLLID != nil { // "aligned appropriately" (§8.6): 8n, as OAI pmip6d does, puts the identifier on 8n+4
		w.opt(8, 0, optMNLLID, append([]byte{0, 0}, o.MNLLID...))
	}
	if o.Timestamp != 0 { // 8n+2: the 64-bit value lands on 8n
		w.opt(8, 2, optTimestamp, binary.BigEndian.AppendUint64(nil, o.Timestamp))
	}
	if o.MNID != "" { // RFC 4283: no alignment requirement
		w.opt(1, 0, optMNID, append([]byte{mnidSubtypeNAI}, o.MNID...))
	}
	w.align(8, 0) // the MH is a multiple of 8 octets
	w.b[1] = byte(len(w.b)/8 - 1)
	return w.b
}

// DecodeMH parses a PBU or PBA; other MH types are an error.
func DecodeMH(b []byte) (*Message, error) {
	if len(b) < 12 {
		return nil, errors.New("mh: short")
	}
	n := (int(b[1]) + 1) * 8
	if n > len(b) {
		return nil, fmt.Errorf("mh: header length %d > %d", n, len(b))
	}
	b = b[:n]
	m := &Message{Type: b[2]}
	switch m.Type {
	case mhTypePBU:
		m.Seq = binary.BigEndian.Uint16(b[6:])
		f := binary.BigEndian.Uint16(b[8:])
		m.Ack, m.Proxy = f&buFlagA != 0, f&buFlagP != 0
		m.Lifetime = binary.BigEndian.Uint16(b[10:])
	case mhTypePBA:
		m.Status = b[6]
		m.Proxy = b[7]&baFlagP != 0
		m.Seq = binary.BigEndian.Uint16(b[8:])
		m.Lifetime = binary.BigEndian.Uint16(b[10:])
	default:
		return nil, fmt.Errorf("mh: type %d is not a PBU or PBA", m.Type)
	}
	for i := 12; i < len(b); {
		t := b[i]
		if t == optPad1 {
			i++
			continue
		}
		if i+2 > len(b) || i+2+int(b[i+1]) > len(b) {
			return nil, fmt.Errorf("mh: option %d overruns the header", t)
		}
		d := b[i+2 : i+2+int(b[i+1])]
		i += 2 + len(d)
		switch t {
		case optHNP:
			if len(d) != 18 || d[1] > 128 {
				return nil, errors.New("mh: bad HNP option")
			}
			p, err := netip.AddrFrom16([16]byte(d[2:18])).Prefix(int(d[1]))
			if err != nil {
				return nil, err
			}
			m.Opts.HNP = p
		case optHI:
			if len(d) == 2 {
				m.Opts.HI = d[1]
			}
		case optATT:
			if len(d) == 2 {
				m.Opts.ATT = d[1]
			}
		case optMNLLID:
			if len(d) > 2 {
				m.Opts.MNLLID = append([]byte(nil), d[2:]...)
			}
		case optTimestamp:
			if len(d) == 8 {
				m.Opts.Timestamp = binary.BigEndian.Uint64(d)
			}
		case optMNID:
			if len(d) > 1 && d[0] == mnidSubtypeNAI {
				m.Opts.MNID = string(d[1:])
			}
		}
	}
	return m, nil
}

// MHChecksum is the Mobility Header checksum (RFC 6275 §6.1.1: the ICMPv6 one, over the
// pseudo-header with Next Header 135). mh's checksum field must be zero.
func MHChecksum(src, dst netip.Addr, mh []byte) uint16 {
	return inetChecksum(src, dst, ipprotoMH, mh)
}

// inetChecksum is the Internet checksum over the IPv6 pseudo-header and payload.
func inetChecksum(src, dst netip.Addr, proto byte, payload []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	s, d := src.As16(), dst.As16()
	add(s[:])
	add(d[:])
	add(binary.BigEndian.AppendUint32(nil, uint32(len(payload))))
	add([]byte{0, 0, 0, proto})
	add(payload)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// mhSocket is a raw IPv6 socket for protocol 135. With the checksum offset at 4
// (IPV6_CHECKSUM) the kernel fills in the MH checksum on send and drops a datagram with a
// bad one on receive. Linux starts protocol-135 raw sockets that way even without mip6
// (TestMHChecksumOnTheWire); openMH sets it anyway, and recv checks again, which is cheap.
type mhSocket struct{ fd int }

func openMH(local netip.Addr) (*mhSocket, error) {
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, ipprotoMH)
	if err != nil {
		return nil, fmt.Errorf("raw socket for the Mobility Header: %w", err)
	}
	s := &mhSocket{fd}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, 4); err != nil {
		s.Close()
		return nil, fmt.Errorf("IPV6_CHECKSUM: %w", err)
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000})
	if local.IsValid() {
		if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: local.As16()}); err != nil {
			s.Close()
			return nil, fmt.Errorf("bind %s: %w", local, err)
		}
	}
	return s, nil
}

func (s *mhSocket) Close() { unix.Close(s.fd) }

// send sends mh to dst, from src when src is valid (IPV6_PKTINFO).
func (s *mhSocket) send(src, dst netip.Addr, mh []byte) error {
	var oob []byte
	if src.IsValid() {
		oob = unix.PktInfo6(&unix.Inet6Pktinfo{Addr: src.As16()})
	}
	return unix.Sendmsg(s.fd, mh, oob, &unix.SockaddrInet6{Addr: dst.As16()}, 0)
}

// recv returns the next datagram with a good checksum; ok is false on timeout.
func (s *mhSocket) recv(buf []byte) (mh []byte, from, to netip.Addr, ok bool, err error) {
	oob := make([]byte, 128)
	n, oobn, _, sa, err := unix.Recvmsg(s.fd, buf, oob, 0)
	if err != nil {
		if err == unix.EAGAIN || err == unix.EINTR {
			return nil, from, to, false, nil
		}
		return nil, from, to, false, err
	}
	if a, _ := sa.(*unix.SockaddrInet6); a != nil {
		from = netip.AddrFrom16(a.Addr)
	}
	if msgs, e := unix.ParseSocketControlMessage(oob[:oobn]); e == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_PKTINFO && len(m.Data) >= 16 {
				to = netip.AddrFrom16([16]byte(m.Data[:16]))
			}
		}
	}
	if to.IsValid() && MHChecksum(from, to, buf[:n]) != 0 {
		return nil, from, to, false, nil // a bad checksum
	}
	return buf[:n], from, to, true, nil
}
