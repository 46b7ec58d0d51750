package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sockperfLog writes a full log as sockperf 3.7 does (statistics, then the rows): from
// 10000.000250 s on the monotonic clock, transactions back to back (300 µs round trip,
// the next request 40 µs after the reply) for 6 s, one of them taking 2 s at 3 s.
// It returns the log, the replies' times (ns) and the reply before the 2 s one.
func sockperfLog() (string, []int64, int64) {
	var b strings.Builder
	b.WriteString("------------------------------\n" +
		"test was performed using the following parameters: --mps=600000 --burst=1 --reply-every=1 --msg-size=14 --time=6 --full-rtt\n" +
		"------------------------------\n" +
		"sockperf: [Total Run] RunTime=6.000 sec; Warm up time=400 msec; SentMessages=9000; ReceivedMessages=8999\n" +
		"sockperf: ---> percentile 99.000 =   16.805\n" +
		"sockperf: ---> <MIN> observation =  300.000\n" +
		"------------------------------\n" +
		"packet, txTime(sec), rxTime(sec), rtt(usec)\n")
	start := int64(10_000_000_250_000)
	var rx []int64
	var beforeGap int64
	stalled := false
	for t := start; t < start+6e9; {
		rtt := int64(300_000)
		if !stalled && t >= start+3e9 {
			rtt, stalled = 2e9, true
			beforeGap = rx[len(rx)-1]
		}
		fmt.Fprintf(&b, "%d, %d.%09d, %d.%09d, %.3f\n", len(rx), t/1e9, t%1e9, (t+rtt)/1e9, (t+rtt)%1e9, float64(rtt)/1e3)
		rx = append(rx, t+rtt)
		t += rtt + 40_000
	}
	b.WriteString("------------------------------\n")
	return b.String(), rx, beforeGap
}

func TestSockperfBins(t *testing.T) {
	text, rx, beforeGap := sockperfLog()
	got, err := sockperfBins(strings.NewReader(text), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got.Transactions != int64(len(rx)) || got.Skipped != 0 {
		t.Fatalf("transactions %d (skipped %d), want %d", got.Transactions, got.Skipped, len(rx))
	}
	if got.BinMs != 100 || got.StartMs != 10_000_000 || got.FirstTxMs != 10_000_000.25 || got.LastRxMs != nsToMs(rx[len(rx)-1]) {
		t.Fatalf("bin %d, start %d, first %v, last %v", got.BinMs, got.StartMs, got.FirstTxMs, got.LastRxMs)
	}
	// Contiguous bins, to the last reply's, every transaction in one.
	last := rx[len(rx)-1]/1e8 - got.StartMs/100
	if int64(len(got.Count)) != last+1 || len(got.RTTus) != len(got.Count) {
		t.Fatalf("%d and %d bins, want %d", len(got.Count), len(got.RTTus), last+1)
	}
	var n, sum int64
	for i, c := range got.Count {
		n += c
		sum += got.RTTus[i]
	}
	if n != got.Transactions || sum != (int64(len(rx))-1)*300+2e6 {
		t.Fatalf("%d transactions and %d µs in the bins", n, sum)
	}
	// A bin before the gap: its transactions at 300 µs each, about 1000 / 0.34 per s.
	if c := got.Count[10]; c < 293 || c > 295 || got.RTTus[10] != c*300 {
		t.Fatalf("bin 10: %d transactions, %d µs", c, got.RTTus[10])
	}
	// The gap: 2 s and the 40 µs before the request; the bins inside it are empty, and
	// the one where it ends holds the 2 s round trip.
	want := rrGap{AtMs: nsToMs(beforeGap), Ms: 2000.04}
	if got.LongestGap == nil || *got.LongestGap != want {
		t.Fatalf("longest gap %+v, want %+v", got.LongestGap, want)
	}
	first, end := beforeGap/1e8-got.StartMs/100, (beforeGap+2_000_040_000)/1e8-got.StartMs/100
	for k := first + 1; k < end; k++ {
		if got.Count[k] != 0 || got.RTTus[k] != 0 {
			t.Fatalf("bin %d in the gap: %d, %d", k, got.Count[k], got.RTTus[k])
		}
	}
	if got.RTTus[end] != 2e6+(got.Count[end]-1)*300 {
		t.Fatalf("bin %d where the gap ends: %d transactions, %d µs", end, got.Count[end], got.RTTus[end])
	}

	// Compact: arrays, no object per bin; a few kB where the log is hundreds.
	var out bytes.Buffer
	if err := json.NewEncoder(&out).Encode(got); err != nil {
		t.Fatal(err)
	}
	if out.Len() > len(text)/50 || strings.Count(out.String(), "{") != 2 {
		t.Fatalf("%d bytes from %d: %s", out.Len(), len(text), out.String())
	}
	// Wider bins: the same transactions, fewer bins.
	wide, err := sockperfBins(strings.NewReader(text), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if wide.BinMs != 1000 || wide.StartMs != 10_000_000 || len(wide.Count) != 7 || wide.Transactions != got.Transactions || *wide.LongestGap != want {
		t.Fatalf("1 s bins: %+v", wide)
	}
}

func TestSockperfBinsEmpty(t *testing.T) {
	// sockperf without a server: no table, no transaction, and still JSON the figures read.
	got, err := sockperfBins(strings.NewReader("sockperf: ERROR: Failed to connect\n"), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	if want := `{"binMs":100,"startMs":0,"count":[],"rttUs":[],"transactions":0,"firstTxMs":0,"lastRxMs":0,"longestGap":null}`; string(b) != want {
		t.Fatalf("%s, want %s", b, want)
	}
	// One transaction: its bin, no gap; a row without a reply is left out.
	got, _ = sockperfBins(strings.NewReader("packet, txTime(sec), rxTime(sec), rtt(usec)\n0, 5.000000000, 5.000500000, 500.000\n1, 5.001000000, 0.000000000, 0.000\n"), 100*time.Millisecond)
	if got.Transactions != 1 || got.Skipped != 1 || got.StartMs != 5000 || len(got.Count) != 1 || got.RTTus[0] != 500 || got.LongestGap != nil {
		t.Fatalf("%+v", got)
	}
}

func TestParseSecNs(t *testing.T) {
	for s, want := range map[string]int64{"10721.785757709": 10_721_785_757_709, "5": 5e9, "5.5": 5.5e9, "0.000000001": 1, "1e3": 1e12} {
		if got, ok := parseSecNs(s); !ok || got != want {
			t.Errorf("%q: %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "x", "-1.0", "1.-5"} {
		if _, ok := parseSecNs(s); ok {
			t.Errorf("%q read", s)
		}
	}
}
