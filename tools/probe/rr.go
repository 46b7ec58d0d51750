package main

// TCP request/response (seed 004's TCP_RR, here sockperf ping-pong), reduced on the host
// that ran it. sockperf's --full-log has a line per transaction: 5-10 MB for a migration's
// minute or two at a few thousand transactions per second, too much for the migration's
// record. What the figures need (modules/migration/tcp-watch.ts) fits in a few kB: the
// transactions and their round trips per bin, and the longest gap between replies, exact.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rrBins is what sockperf-bins prints: one JSON document. Times are ms on the clock
// sockperf timed with (CLOCK_MONOTONIC with --no-rdtsc), to the µs.
type rrBins struct {
	BinMs int64 `json:"binMs"`
	// Start of the first bin, a whole multiple of binMs: bin i holds the transactions
	// whose reply came in [startMs + i*binMs, startMs + (i+1)*binMs). The bins run to the
	// last reply's, empty ones included.
	StartMs int64 `json:"startMs"`
	// Per bin: transactions completed, and the sum of their round trips (µs).
	Count []int64 `json:"count"`
	RTTus []int64 `json:"rttUs"`
	// All the bins', and the span they came in: the first request to the last reply.
	Transactions int64   `json:"transactions"`
	FirstTxMs    float64 `json:"firstTxMs"`
	LastRxMs     float64 `json:"lastRxMs"`
	// The longest time between two consecutive replies (null: fewer than two).
	LongestGap *rrGap `json:"longestGap"`
	// Lines whose reply is not after their request (none seen with TCP; a reply never
	// received would read so): left out.
	Skipped int64 `json:"skipped,omitempty"`
	// This host's clocks read together, which place sockperf's monotonic times on the epoch.
	Clock *streamClock `json:"clock,omitempty"`
}

type rrGap struct {
	AtMs float64 `json:"atMs"`
	Ms   float64 `json:"ms"`
}

// nsToMs rounds to the µs: the log's ns are below what the figures look at, and the
// JSON stays short.
func nsToMs(ns int64) float64 { return float64((ns+500)/1000) / 1000 }

// parseSecNs reads sockperf's "%.9lf" seconds as integer ns: no float noise in the bins'
// edges or in the gap.
func parseSecNs(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err == nil && sec >= 0 && len(frac) <= 9 {
		f := frac + "000000000"[len(frac):]
		if n, err := strconv.ParseInt(f, 10, 64); err == nil && n >= 0 && f[0] != '+' {
			return sec*1e9 + n, true
		}
	}
	// Not as sockperf 3.7 writes them: any decimal, to the ns a float64 keeps.
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 9e9 {
		return 0, false
	}
	return int64(v*1e9 + 0.5), true
}

// sockperfBins reduces a full log. Its rows follow a line "packet, txTime(sec), ..."
// (the statistics above it are not rows) and end at a line of dashes; a log without them
// (sockperf found no server) has no transaction.
func sockperfBins(r io.Reader, bin time.Duration) (*rrBins, error) {
	binNs := int64(bin)
	out := &rrBins{BinMs: bin.Milliseconds(), Count: []int64{}, RTTus: []int64{}}
	var rx []int64
	rttNs := map[int64]int64{} // by bin index
	firstTx := int64(-1)
	inTable := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "packet, txTime") {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		if strings.HasPrefix(line, "---") {
			inTable = false
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 3 {
			continue // not a row (a line cut short when sockperf was stopped)
		}
		if _, err := strconv.ParseUint(strings.TrimSpace(f[0]), 10, 64); err != nil {
			continue
		}
		tx, ok1 := parseSecNs(strings.TrimSpace(f[1]))
		at, ok2 := parseSecNs(strings.TrimSpace(f[2]))
		if !ok1 || !ok2 {
			continue
		}
		if at <= tx {
			out.Skipped++
			continue
		}
		// The round trip from the two times, not the rtt column: that one is half the
		// round trip without --full-rtt.
		rx = append(rx, at)
		rttNs[at/binNs] += at - tx
		if firstTx < 0 || tx < firstTx {
			firstTx = tx
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rx) == 0 {
		return out, nil
	}
	// Replies come in order on one connection; sorting anyway keeps the gap exact.
	if !slices.IsSorted(rx) {
		slices.Sort(rx)
	}
	k0, k1 := rx[0]/binNs, rx[len(rx)-1]/binNs
	out.StartMs = k0 * out.BinMs
	out.Count = make([]int64, k1-k0+1)
	out.RTTus = make([]int64, k1-k0+1)
	for _, t := range rx {
		out.Count[t/binNs-k0]++
	}
	for k, ns := range rttNs {
		out.RTTus[k-k0] = (ns + 500) / 1000
	}
	out.Transactions = int64(len(rx))
	out.FirstTxMs, out.LastRxMs = nsToMs(firstTx), nsToMs(rx[len(rx)-1])
	var gapAt, gap int64 = 0, -1
	for i := 1; i < len(rx); i++ {
		if d := rx[i] - rx[i-1]; d > gap {
			gapAt, gap = rx[i-1], d
		}
	}
	if gap >= 0 {
		out.LongestGap = &rrGap{AtMs: nsToMs(gapAt), Ms: nsToMs(gap)}
	}
	return out, nil
}

func sockperfBinsFile(file string, bin time.Duration) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := sockperfBins(f, bin)
	if err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	clock := readClocks()
	rep.Clock = &clock
	return json.NewEncoder(os.Stdout).Encode(rep)
}
