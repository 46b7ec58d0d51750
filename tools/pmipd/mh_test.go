package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	testMAC  = net.HardwareAddr{0x00, 0x16, 0x3e, 0x01, 0x01, 0x01}
	testHNP  = netip.MustParsePrefix("2001:db8:1:1::/64")
	testTime = time.Unix(1700000000, 500000000) // 0x6553f100 s + 0x8000/65536 s
	testMAG  = netip.MustParseAddr("2001:100:1::2")
	testLMA  = netip.MustParseAddr("2001:100:1::1")
)

// The options both messages carry, from the HNP on: their offsets from the start of the
// Mobility Header are what the alignment rules are about.
var optionBytes = []byte{
	// 12: Home Network Prefix (RFC 5213 §8.3), alignment 8n+4: 12 = 8+4, no padding
	22, 18, // Type, Length
	0,                                                                      // Reserved
	64,                                                                     // Prefix Length
	0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, // Home Network Prefix (at 16 = 8n)
	// 32: Handoff Indicator (§8.4), no alignment requirement
	23, 2, // Type, Length
	0, // Reserved
	1, // HI: attachment over a new interface
	// 36: Access Technology Type (§8.5), no alignment requirement
	24, 2, // Type, Length
	0, // Reserved
	3, // ATT: IEEE 802.3
	// 40: Mobile Node Link-layer Identifier (§8.6), aligned 8n
	25, 8, // Type, Length (Reserved + 6)
	0, 0, // Reserved (16 bits)
	0x00, 0x16, 0x3e, 0x01, 0x01, 0x01, // Link-layer Identifier: the MN's MAC
	// 50: Timestamp (§8.8), alignment 8n+2: 50 = 48+2, no padding
	27, 8, // Type, Length
	0x00, 0x00, 0x65, 0x53, 0xf1, 0x00, // seconds since 1970 (48 bits): 1700000000
	0x80, 0x00, // 1/65536 s (16 bits): 0.5 s
	// 60: Mobile Node Identifier (RFC 4283 §3), no alignment requirement
	8, 17, // Option Type, Option Length (Subtype + Identifier)
	1,                                                                              // Subtype: NAI
	'0', '0', '0', '0', '0', '0', '1', '6', '3', 'e', '0', '1', '0', '1', '0', '1', // Identifier
	// 79: Pad1, to a multiple of 8 octets (RFC 6275 §6.1.1)
	0,
}

func testPBU() *Message {
	return newPBU(0x1234, 3600, testHNP, nai(testMAC), hiNewInterface, testMAC, testTime)
}

func TestEncodePBU(t *testing.T) {
	want := append([]byte{
		// Mobility Header (RFC 6275 §6.1.1)
		59,   // Payload Proto: IPV6-NoNxt
		9,    // Header Len: (80 octets / 8) - 1
		5,    // MH Type: Binding Update
		0,    // Reserved
		0, 0, // Checksum: left to the kernel (IPV6_CHECKSUM)
		// Binding Update (RFC 6275 §6.1.7; P flag RFC 5213 §8.1)
		0x12, 0x34, // Sequence #
		0x82, 0x00, // A=1 H=0 L=0 K=0 M=0 R=0 P=1 F=0, Reserved
		0x03, 0x84, // Lifetime: 900 units of 4 s = 3600 s
	}, optionBytes...)
	got := testPBU().Encode()
	if !bytes.Equal(got, want) {
		t.Fatalf("PBU\n got %x\nwant %x", got, want)
	}
	back, err := DecodeMH(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, testPBU()) {
		t.Fatalf("round trip: %+v, want %+v", back, testPBU())
	}
}

func TestEncodePBA(t *testing.T) {
	want := append([]byte{
		59, 9, 6, 0, // Payload Proto, Header Len, MH Type: Binding Acknowledgement, Reserved
		0, 0, // Checksum
		// Binding Acknowledgement (RFC 6275 §6.1.8; P flag RFC 5213 §8.2)
		0,          // Status: accepted
		0x20,       // K=0 R=0 P=1, Reserved
		0x12, 0x34, // Sequence #: the PBU's
		0x03, 0x84, // Lifetime: 900 (3600 s)
	}, optionBytes...)
	pba := pbaFor(testPBU(), statusAccepted)
	pba.Lifetime = 900
	got := pba.Encode()
	if !bytes.Equal(got, want) {
		t.Fatalf("PBA\n got %x\nwant %x", got, want)
	}
	back, err := DecodeMH(got)
	if err != nil || !reflect.DeepEqual(back, pba) {
		t.Fatalf("round trip: %+v %v, want %+v", back, err, pba)
	}
}

// Without the MN LL-ID and with a short NAI the options need PadN twice.
func TestEncodePadN(t *testing.T) {
	m := &Message{Type: mhTypePBA, Status: statusTimestampLower, Proxy: true, Seq: 7,
		Opts: Options{HNP: testHNP, HI: hiUnknown, ATT: attIEEE8023, Timestamp: Timestamp(testTime), MNID: "mn1"}}
	want := []byte{
		59, 7, 6, 0, 0, 0, // Payload Proto, Header Len (64/8-1), MH Type, Reserved, Checksum
		157, 0x20, 0, 7, 0, 0, // Status: TIMESTAMP_LOWER_THAN_PREV_ACCEPTED, P, Sequence #, Lifetime 0
		22, 18, 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, // 12: HNP
		23, 2, 0, 4, // 32: HI: handoff state unknown
		24, 2, 0, 3, // 36: ATT
		1, 0, // 40: PadN, 2 octets: the Timestamp must start at 8n+2
		27, 8, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x80, 0x00, // 42: Timestamp
		8, 4, 1, 'm', 'n', '1', // 52: MN-ID
		1, 4, 0, 0, 0, 0, // 58: PadN, 6 octets, to 64
	}
	got := m.Encode()
	if !bytes.Equal(got, want) {
		t.Fatalf("\n got %x\nwant %x", got, want)
	}
	if back, err := DecodeMH(got); err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("round trip: %+v %v", back, err)
	}
}

func TestMHChecksum(t *testing.T) {
	mh := testPBU().Encode()
	binary.BigEndian.PutUint16(mh[4:], MHChecksum(testMAG, testLMA, mh))
	if MHChecksum(testMAG, testLMA, mh) != 0 { // a correct checksum sums to 0xffff
		t.Fatal("checksum does not verify")
	}
}

func TestTimestamp(t *testing.T) {
	if ts := Timestamp(testTime); ts != 0x6553f1008000 {
		t.Fatalf("%x", ts)
	}
	if got := TimestampTime(0x6553f1008000); !got.Equal(testTime) {
		t.Fatal(got)
	}
}

func TestNAI(t *testing.T) {
	if got := nai(testMAC); got != "000000163e010101" {
		t.Fatal(got)
	}
	if m, err := macFromNAI("000000163e010101"); err != nil || m.String() != testMAC.String() {
		t.Fatal(m, err)
	}
	if got := linkLocalOf(testMAC); got != netip.MustParseAddr("fe80::216:3eff:fe01:101") {
		t.Fatal(got)
	}
}

func TestDecodeRejectsOverrun(t *testing.T) {
	b := testPBU().Encode()
	b[13] = 200 // HNP length past the end
	if _, err := DecodeMH(b); err == nil {
		t.Fatal("no error")
	}
}
