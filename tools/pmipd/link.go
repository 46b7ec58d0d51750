package main

// The MAG's access link: an AF_PACKET socket that sees the MNs' RS, NA and RARP frames and
// sends the unicast RAs and NUD probes (RFC 4861) with the fixed MAG MAC and link-local.

import (
	"encoding/binary"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

const (
	etherTypeIPv6 = 0x86dd
	etherTypeRARP = 0x8035 // QEMU announces a migrated guest with RARP

	icmpv6RS = 133
	icmpv6RA = 134
	icmpv6NS = 135
	icmpv6NA = 136

	naFlagS = 0x40 // Solicited: clear in an unsolicited NA
)

// linkEvent is a frame of interest from an MN.
type linkEvent struct {
	MAC  net.HardwareAddr
	Kind string // "rs", "na" (unsolicited), "na-solicited", "rarp"
}

// accessLink is the packet socket on the access interface.
type accessLink struct {
	fd      int
	ifindex int
	mac     net.HardwareAddr
	ll      netip.Addr
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func openAccessLink(ifname string, mac net.HardwareAddr, ll netip.Addr) (*accessLink, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// All-multicast: RS goes to ff02::2 and unsolicited NA to ff02::1, which a NIC filter
	// could drop otherwise.
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_ALLMULTI}
	unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq)
	// A receive timeout lets the reader notice Close.
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 200000})
	return &accessLink{fd: fd, ifindex: ifi.Index, mac: mac, ll: ll}, nil
}

func (l *accessLink) Close() { unix.Close(l.fd) }

// read returns the next MN frame of interest; ok is false on timeout or a frame of no interest.
func (l *accessLink) read(buf []byte) (ev linkEvent, ok bool, err error) {
	n, from, err := unix.Recvfrom(l.fd, buf, 0)
	if err != nil {
		if err == unix.EAGAIN || err == unix.EINTR {
			return ev, false, nil
		}
		return ev, false, err
	}
	if sa, _ := from.(*unix.SockaddrLinklayer); sa != nil && sa.Pkttype == unix.PACKET_OUTGOING {
		return ev, false, nil
	}
	ev, ok = parseAccessFrame(buf[:n], l.mac)
	return ev, ok, nil
}

// parseAccessFrame classifies an Ethernet frame sent by an MN.
func parseAccessFrame(f []byte, self net.HardwareAddr) (linkEvent, bool) {
	if len(f) < 14 {
		return linkEvent{}, false
	}
	src := net.HardwareAddr(append([]byte(nil), f[6:12]...))
	if src.String() == self.String() || src[0]&1 != 0 {
		return linkEvent{}, false
	}
	switch binary.BigEndian.Uint16(f[12:]) {
	case etherTypeRARP:
		return linkEvent{src, "rarp"}, true
	case etherTypeIPv6:
		p := f[14:]
		if len(p) < 40+8 || p[6] != 58 { // ICMPv6 right after the fixed header
			return linkEvent{}, false
		}
		icmp := p[40:]
		switch icmp[0] {
		case icmpv6RS:
			return linkEvent{src, "rs"}, true
		case icmpv6NA:
			if icmp[4]&naFlagS != 0 {
				return linkEvent{src, "na-solicited"}, true
			}
			return linkEvent{src, "na"}, true
		}
	}
	return linkEvent{}, false
}

// linkLocalOf is fe80::/64 plus the modified EUI-64 of mac (RFC 4291 appendix A).
func linkLocalOf(mac net.HardwareAddr) netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	a[8], a[9], a[10] = mac[0]^0x02, mac[1], mac[2]
	a[11], a[12] = 0xff, 0xfe
	a[13], a[14], a[15] = mac[3], mac[4], mac[5]
	return netip.AddrFrom16(a)
}

// ethIPv6ICMP wraps an ICMPv6 message (checksum zero) into Ethernet and IPv6 with hop limit
// 255, as Neighbor Discovery requires, and fills in the checksum.
func ethIPv6ICMP(dstMAC, srcMAC net.HardwareAddr, src, dst netip.Addr, icmp []byte) []byte {
	binary.BigEndian.PutUint16(icmp[2:], inetChecksum(src, dst, 58, icmp))
	f := make([]byte, 0, 14+40+len(icmp))
	f = append(f, dstMAC...)
	f = append(f, srcMAC...)
	f = binary.BigEndian.AppendUint16(f, etherTypeIPv6)
	f = append(f, 0x60, 0, 0, 0) // version 6, traffic class 0, flow label 0
	f = binary.BigEndian.AppendUint16(f, uint16(len(icmp)))
	f = append(f, 58, 255) // next header ICMPv6, hop limit 255
	s, d := src.As16(), dst.As16()
	f = append(f, s[:]...)
	f = append(f, d[:]...)
	return append(f, icmp...)
}

// buildRA is the unicast Router Advertisement that gives an MN its HNP: router lifetime
// 1800 s, the MAG's MAC (SLLA), and the HNP with L and A set (SLAAC), valid 86400 s,
// preferred 14400 s. No MTU option: the access link's MTU stands.
func buildRA(mnMAC, magMAC net.HardwareAddr, magLL netip.Addr, hnp netip.Prefix) []byte {
	icmp := []byte{icmpv6RA, 0, 0, 0,
		64,   // Cur Hop Limit
		0,    // M=0 O=0: SLAAC only
		0, 0, // Router Lifetime, below
		0, 0, 0, 0, // Reachable Time: unspecified
		0, 0, 0, 0, // Retrans Timer: unspecified
	}
	binary.BigEndian.PutUint16(icmp[6:], 1800)
	icmp = append(icmp, 1, 1) // Source Link-layer Address option, 8 octets
	icmp = append(icmp, magMAC...)
	icmp = append(icmp, 3, 4, byte(hnp.Bits()), 0xc0) // Prefix Information, 32 octets, L=1 A=1
	icmp = binary.BigEndian.AppendUint32(icmp, 86400)
	icmp = binary.BigEndian.AppendUint32(icmp, 14400)
	icmp = append(icmp, 0, 0, 0, 0) // Reserved2
	p := hnp.Masked().Addr().As16()
	icmp = append(icmp, p[:]...)
	return ethIPv6ICMP(mnMAC, magMAC, magLL, linkLocalOf(mnMAC), icmp)
}

// buildNS is a unicast Neighbor Solicitation for the MN's link-local (NUD, RFC 4861 §7.3.1).
func buildNS(mnMAC, magMAC net.HardwareAddr, magLL netip.Addr) []byte {
	target := linkLocalOf(mnMAC)
	t := target.As16()
	icmp := []byte{icmpv6NS, 0, 0, 0, 0, 0, 0, 0}
	icmp = append(icmp, t[:]...)
	icmp = append(icmp, 1, 1) // Source Link-layer Address option
	icmp = append(icmp, magMAC...)
	return ethIPv6ICMP(mnMAC, magMAC, magLL, target, icmp)
}

func (l *accessLink) send(frame []byte) error {
	var dst [8]byte
	copy(dst[:], frame[:6])
	return unix.Sendto(l.fd, frame, 0, &unix.SockaddrLinklayer{Ifindex: l.ifindex, Halen: 6, Addr: dst, Protocol: htons(etherTypeIPv6)})
}
