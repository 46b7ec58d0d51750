package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTshark has Wireshark's mip6 dissector decode our PBU and PBAs.
func TestTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("no tshark (the bootstrap installs it)")
	}
	pbu := testPBU()
	ok := pbaFor(pbu, statusAccepted)
	ok.Lifetime = 900
	lower := pbaFor(pbu, statusTimestampLower)
	pcap := filepath.Join(t.TempDir(), "pmip.pcap")
	if err := WritePcap(pcap, [][]byte{ipv6Packet(testMAG, testLMA, pbu.Encode()),
		ipv6Packet(testLMA, testMAG, ok.Encode()), ipv6Packet(testLMA, testMAG, lower.Encode())}); err != nil {
		t.Fatal(err)
	}
	got, err := TsharkDecode(pcap)
	if err != nil {
		t.Fatal(err)
	}
	zero, s157 := 0, 157
	common := TsharkMH{Seq: 0x1234, HNP: "2001:db8:1:1::/64", MNID: "000000163e010101", HI: 1, ATT: 3,
		Timestamp: "2023-11-14T22:13:20.5Z", MNLLID: "00163e010101"}
	want := []TsharkMH{common, common, common}
	want[0].Type, want[0].Src, want[0].Dst, want[0].Lifetime = "pbu", "2001:100:1::2", "2001:100:1::1", 900
	want[0].Flags = map[string]bool{"A": true, "P": true}
	want[1].Type, want[1].Src, want[1].Lifetime, want[1].Status = "pba", "2001:100:1::1", 900, &zero
	want[1].Flags = map[string]bool{"P": true}
	want[2].Type, want[2].Status, want[2].Flags = "pba", &s157, map[string]bool{"P": true}
	if len(got) != len(want) {
		t.Fatalf("tshark decoded %d messages: %+v", len(got), got)
	}
	for i := range want {
		if err := CheckTsharkMH(got[i], want[i]); err != nil {
			t.Error(err)
		}
	}
	if got[2].Lifetime != 0 {
		t.Errorf("rejected PBA lifetime %d", got[2].Lifetime)
	}
}
