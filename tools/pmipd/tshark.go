package main

// Checking the wire format against an independent decoder: Wireshark's mip6 dissector,
// run through tshark, on a pcap written here or on a capture taken in the lab.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// tsharkTime turns tshark's absolute time ("Nov 14, 2023 22:13:20.500000000 UTC") into
// RFC 3339; what it cannot parse it returns as is.
func tsharkTime(s string) string {
	if t, err := time.Parse("Jan _2, 2006 15:04:05.999999999 MST", s); err == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// ipv6Packet puts the MH behind a 40-octet IPv6 header, with its checksum filled in.
func ipv6Packet(src, dst netip.Addr, mh []byte) []byte {
	mh = append([]byte(nil), mh...)
	binary.BigEndian.PutUint16(mh[4:], 0)
	binary.BigEndian.PutUint16(mh[4:], MHChecksum(src, dst, mh))
	p := []byte{0x60, 0, 0, 0}
	p = binary.BigEndian.AppendUint16(p, uint16(len(mh)))
	p = append(p, ipprotoMH, 64)
	s, d := src.As16(), dst.As16()
	p = append(p, s[:]...)
	p = append(p, d[:]...)
	return append(p, mh...)
}

// WritePcap writes raw IPv6 packets (LINKTYPE_RAW, 101) to a classic pcap file.
func WritePcap(path string, packets [][]byte) error {
	var b bytes.Buffer
	for _, v := range []any{uint32(0xa1b2c3d4), uint16(2), uint16(4), int32(0), uint32(0), uint32(65535), uint32(101)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	for i, p := range packets {
		for _, v := range []uint32{uint32(1700000000 + i), 0, uint32(len(p)), uint32(len(p))} {
			binary.Write(&b, binary.LittleEndian, v)
		}
		b.Write(p)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// TsharkMH is one PBU or PBA as tshark decoded it.
type TsharkMH struct {
	Frame     int             `json:"frame"`
	Type      string          `json:"type"` // "pbu" or "pba"
	Src       string          `json:"src"`
	Dst       string          `json:"dst"`
	Seq       int             `json:"seq"`
	Lifetime  int             `json:"lifetime"` // as tshark shows it: units of 4 s
	Flags     map[string]bool `json:"flags"`
	Status    *int            `json:"status,omitempty"`
	HNP       string          `json:"hnp,omitempty"`
	MNID      string          `json:"mnId,omitempty"`
	HI        int             `json:"hi,omitempty"`
	ATT       int             `json:"att,omitempty"`
	Timestamp string          `json:"timestamp,omitempty"`
	MNLLID    string          `json:"mnLlId,omitempty"`
}

var tsharkFields = []string{"frame.number", "ipv6.src", "ipv6.dst", "mip6.mhtype",
	"mip6.bu.seqnr", "mip6.ba.seqnr", "mip6.bu.lifetime", "mip6.ba.lifetime",
	"mip6.bu.a_flag", "mip6.bu.p_flag", "mip6.ba.p_flag", "mip6.ba.status",
	"mip6.nemo.mnp.mnp", "mip6.nemo.mnp.pfl", "mip6.mnid.identifier", "mip6.hi", "mip6.att",
	"mip6.timestamp_tmp", "mip6.mnlli.lli"}

// TsharkDecode runs tshark on a capture and returns its decode of every PBU and PBA.
// An IPv6 packet inside an ip6ip6 tunnel shows both headers: the outer ones are taken.
func TsharkDecode(pcap string) ([]TsharkMH, error) {
	args := []string{"-r", pcap, "-Y", "mip6.mhtype == 5 || mip6.mhtype == 6", "-T", "fields",
		"-E", "separator=\t", "-E", "occurrence=f"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var msgs []TsharkMH
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		for len(f) < len(tsharkFields) {
			f = append(f, "")
		}
		get := func(name string) string {
			for i, n := range tsharkFields {
				if n == name {
					return f[i]
				}
			}
			return ""
		}
		num := func(name string) int { v, _ := strconv.ParseInt(get(name), 0, 64); return int(v) }
		flag := func(name string) bool { v := get(name); return v == "1" || v == "True" || v == "true" }
		m := TsharkMH{Frame: num("frame.number"), Src: get("ipv6.src"), Dst: get("ipv6.dst"),
			MNID: get("mip6.mnid.identifier"), HI: num("mip6.hi"), ATT: num("mip6.att"),
			Timestamp: tsharkTime(get("mip6.timestamp_tmp")), MNLLID: get("mip6.mnlli.lli"), Flags: map[string]bool{}}
		if p := get("mip6.nemo.mnp.mnp"); p != "" {
			m.HNP = p + "/" + get("mip6.nemo.mnp.pfl")
		}
		switch num("mip6.mhtype") {
		case mhTypePBU:
			m.Type, m.Seq, m.Lifetime = "pbu", num("mip6.bu.seqnr"), num("mip6.bu.lifetime")
			m.Flags["A"], m.Flags["P"] = flag("mip6.bu.a_flag"), flag("mip6.bu.p_flag")
		case mhTypePBA:
			m.Type, m.Seq, m.Lifetime = "pba", num("mip6.ba.seqnr"), num("mip6.ba.lifetime")
			m.Flags["P"] = flag("mip6.ba.p_flag")
			st := num("mip6.ba.status")
			m.Status = &st
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// CheckTsharkMH compares tshark's decode with what is expected: every field set in want
// (Type and Seq always; Status when not nil; strings and numbers when not zero; each flag
// named in want.Flags) must match. The lab's test applies it to the lines of tshark-check.
func CheckTsharkMH(got, want TsharkMH) error {
	var diffs []string
	ne := func(name string, g, w any) { diffs = append(diffs, fmt.Sprintf("%s %v, want %v", name, g, w)) }
	if got.Type != want.Type {
		ne("type", got.Type, want.Type)
	}
	if got.Seq != want.Seq {
		ne("seq", got.Seq, want.Seq)
	}
	if want.Lifetime != 0 && got.Lifetime != want.Lifetime {
		ne("lifetime", got.Lifetime, want.Lifetime)
	}
	for k, v := range want.Flags {
		if got.Flags[k] != v {
			ne("flag "+k, got.Flags[k], v)
		}
	}
	if want.Status != nil && (got.Status == nil || *got.Status != *want.Status) {
		ne("status", got.Status, *want.Status)
	}
	for _, f := range [][3]string{{"src", got.Src, want.Src}, {"dst", got.Dst, want.Dst}, {"hnp", got.HNP, want.HNP},
		{"mnId", got.MNID, want.MNID}, {"timestamp", got.Timestamp, want.Timestamp}, {"mnLlId", got.MNLLID, want.MNLLID}} {
		if f[2] != "" && f[1] != f[2] {
			ne(f[0], f[1], f[2])
		}
	}
	if want.HI != 0 && got.HI != want.HI {
		ne("hi", got.HI, want.HI)
	}
	if want.ATT != 0 && got.ATT != want.ATT {
		ne("att", got.ATT, want.ATT)
	}
	if diffs != nil {
		return fmt.Errorf("frame %d: %s", got.Frame, strings.Join(diffs, "; "))
	}
	return nil
}
