// wanlab-probe: the studies' UDP probes in one flow (seed 000 §3 item 5, seed 001 §4.3),
// and their TCP survival probe (seed 000 §3 item 8; tcp.go).
//
//	wanlab-probe reflect [-port 9000]
//	    On the VM: answer each probe with its payload and the VM's own arrival time.
//	wanlab-probe probe -to ADDR [-port 9000] [-interval 10ms] -out FILE
//	    On the client: send a probe (sequence number, send time) every interval until
//	    SIGINT or SIGTERM, and write one line per answer: sequence, send time, the
//	    answer's arrival (both on the client's clock, ns since the epoch), and the
//	    probe's arrival on the VM (the VM's clock). Then print how many were sent.
//
// The answers give both forms: the echo form (seed 001: the client measures the gap
// between answers) and the one-way form (seed 000: the receiver's gap, here the run of
// sequence numbers that never reached the VM, timed by their send times).
//
//	wanlab-probe tcp-client -to ADDR:PORT [-interval 10ms]
//	    On the VM: send a message every interval to the server, reconnecting when the
//	    connection breaks (or while the server is absent).
//	wanlab-probe tcp-server [-port 9001] [-stall 50ms] [-ready FILE]
//	    On the client: record the VM's messages until SIGINT or SIGTERM, then print a
//	    JSON report: connections, breaks, silences over -stall, retransmissions. FILE is
//	    written when the first message arrives.
//	wanlab-probe echo-client -to ADDR:PORT [-interval 10ms]
//	    On the VM: request an echo every interval, carrying its reports of the replies (echo.go).
//	wanlab-probe echo-target [-port 9002] [-ready FILE]
//	    On the proxy: answer, record by sequence number, print JSON at SIGINT or SIGTERM.
//	wanlab-probe stream-client -to ADDR:PORT [-rate 20Mbit]
//	    On the VM: send a bulk stream at the rate to the server, reconnecting when the
//	    connection breaks (or while the server is absent); every 100 ms the stream carries
//	    the VM's TCP_INFO counters (stream.go).
//	wanlab-probe stream-server [-port 9003] [-ready FILE]
//	    On the client: bin the bytes received by 100 ms until SIGINT or SIGTERM, then print
//	    a JSON report: bins, connections, breaks, the longest stall, the sender's
//	    retransmissions. FILE is written when the first bytes arrive.
//	wanlab-probe tcp-capture-stats -r FILE.pcap [-port 49152[-49215]] [-largest]
//	    Anywhere: each TCP connection in a classic pcap (tcpdump -w), as JSON: bytes,
//	    segments, retransmissions, out-of-order segments, duplicate ACKs (pcap.go).
//	wanlab-probe sockperf-bins -r FILE [-bin 100ms]
//	    On the host that ran sockperf ping-pong: its --full-log as JSON, per bin of the
//	    monotonic clock the transactions and their round trips, and the longest gap
//	    between replies (rr.go).
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A probe: magic, sequence number, send time; an answer adds the VM's arrival time.
const (
	magic      = 0x776c7564 // "wlud"
	probeSize  = 4 + 4 + 8
	answerSize = probeSize + 8
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "reflect":
		fs := flag.NewFlagSet("reflect", flag.ExitOnError)
		port := fs.Int("port", 9000, "UDP port")
		_ = fs.Parse(os.Args[2:])
		fail(reflect(*port))
	case "probe":
		fs := flag.NewFlagSet("probe", flag.ExitOnError)
		to := fs.String("to", "", "the VM's address (IPv4 or IPv6)")
		port := fs.Int("port", 9000, "UDP port")
		interval := fs.Duration("interval", 10*time.Millisecond, "time between probes")
		out := fs.String("out", "", "where the answers go")
		_ = fs.Parse(os.Args[2:])
		if *to == "" || *out == "" || *interval <= 0 {
			usage()
		}
		fail(probe(*to, *port, *interval, *out))
	case "tcp-client":
		fs := flag.NewFlagSet("tcp-client", flag.ExitOnError)
		to := fs.String("to", "", "the server's ADDR:PORT")
		interval := fs.Duration("interval", 10*time.Millisecond, "time between messages")
		_ = fs.Parse(os.Args[2:])
		if *to == "" || *interval <= 0 {
			usage()
		}
		fail(tcpClient(*to, *interval))
	case "tcp-server":
		fs := flag.NewFlagSet("tcp-server", flag.ExitOnError)
		port := fs.Int("port", 9001, "TCP port")
		stall := fs.Duration("stall", 50*time.Millisecond, "the shortest silence listed")
		ready := fs.String("ready", "", "a file written when the first message arrives")
		_ = fs.Parse(os.Args[2:])
		fail(tcpServer(*port, *stall, *ready))
	case "echo-client":
		fs := flag.NewFlagSet("echo-client", flag.ExitOnError)
		to := fs.String("to", "", "the target's ADDR:PORT")
		interval := fs.Duration("interval", 10*time.Millisecond, "time between requests")
		_ = fs.Parse(os.Args[2:])
		if *to == "" || *interval <= 0 {
			usage()
		}
		fail(echoClientRun(*to, *interval, nil))
	case "echo-target":
		fs := flag.NewFlagSet("echo-target", flag.ExitOnError)
		port := fs.Int("port", 9002, "UDP port")
		ready := fs.String("ready", "", "a file written when the first request arrives")
		_ = fs.Parse(os.Args[2:])
		fail(echoTargetMain(*port, *ready))
	case "stream-client":
		fs := flag.NewFlagSet("stream-client", flag.ExitOnError)
		to := fs.String("to", "", "the server's ADDR:PORT")
		rate := fs.String("rate", "20Mbit", "the stream's rate in bits per second (k, M, G: 10^3, 10^6, 10^9)")
		_ = fs.Parse(os.Args[2:])
		bps, err := parseRate(*rate)
		if *to == "" || err != nil {
			fail(err)
			usage()
		}
		fail(streamClient(*to, bps, nil))
	case "stream-server":
		fs := flag.NewFlagSet("stream-server", flag.ExitOnError)
		port := fs.Int("port", 9003, "TCP port")
		ready := fs.String("ready", "", "a file written when the first bytes arrive")
		_ = fs.Parse(os.Args[2:])
		fail(streamServer(*port, *ready))
	case "tcp-capture-stats":
		fs := flag.NewFlagSet("tcp-capture-stats", flag.ExitOnError)
		file := fs.String("r", "", "the capture (classic pcap)")
		ports := fs.String("port", "", "only connections on this port or range (N or N-M)")
		largest := fs.Bool("largest", false, "only the connection with the most bytes")
		_ = fs.Parse(os.Args[2:])
		if *file == "" {
			usage()
		}
		fail(captureStats(*file, *ports, *largest))
	case "sockperf-bins":
		fs := flag.NewFlagSet("sockperf-bins", flag.ExitOnError)
		file := fs.String("r", "", "sockperf's --full-log")
		bin := fs.Duration("bin", 100*time.Millisecond, "bin width, whole ms")
		_ = fs.Parse(os.Args[2:])
		if *file == "" || *bin < time.Millisecond || *bin%time.Millisecond != 0 {
			usage()
		}
		fail(sockperfBinsFile(*file, *bin))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: wanlab-probe reflect [-port N] | probe -to ADDR [-port N] [-interval D] -out FILE\n"+
		"       wanlab-probe tcp-client -to ADDR:PORT [-interval D] | tcp-server [-port N] [-stall D] [-ready FILE]")
	os.Exit(2)
}

func fail(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "wanlab-probe: %v\n", err)
		os.Exit(1)
	}
}

// reflect answers on every address of the VM, IPv4 and IPv6 alike (one dual-stack socket).
func reflect(port int) error {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: port})
	if err != nil {
		return err
	}
	buf := make([]byte, 64)
	out := make([]byte, answerSize)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		arrived := time.Now().UnixNano()
		if err != nil {
			return err
		}
		if n != probeSize || binary.BigEndian.Uint32(buf) != magic {
			continue
		}
		copy(out, buf[:probeSize])
		binary.BigEndian.PutUint64(out[probeSize:], uint64(arrived))
		_, _ = conn.WriteToUDP(out, from)
	}
}

func probe(to string, port int, interval time.Duration, out string) error {
	ip := net.ParseIP(to)
	if ip == nil {
		return fmt.Errorf("-to %q is not an IP address", to)
	}
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var mu sync.Mutex
	var sent atomic.Uint32

	// Answers, as they come: written under the lock the end takes to flush.
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := conn.Read(buf)
			arrived := time.Now().UnixNano()
			if err != nil {
				// A probe into an unreachable network is refused (ICMP): go on reading.
				if ne, ok := err.(*net.OpError); ok && !ne.Timeout() && isRefused(ne) {
					continue
				}
				return
			}
			if n != answerSize || binary.BigEndian.Uint32(buf) != magic {
				continue
			}
			seq := binary.BigEndian.Uint32(buf[4:])
			sentAt := int64(binary.BigEndian.Uint64(buf[8:]))
			vmAt := int64(binary.BigEndian.Uint64(buf[16:]))
			mu.Lock()
			fmt.Fprintf(w, "%d %d %d %d\n", seq, sentAt, arrived, vmAt)
			mu.Unlock()
		}
	}()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	pkt := make([]byte, probeSize)
	binary.BigEndian.PutUint32(pkt, magic)
	for seq := uint32(1); ; seq++ {
		binary.BigEndian.PutUint32(pkt[4:], seq)
		binary.BigEndian.PutUint64(pkt[8:], uint64(time.Now().UnixNano()))
		_, _ = conn.Write(pkt) // a send that fails (no route yet) is a lost probe
		sent.Store(seq)
		select {
		case <-stop:
			// Answers still on their way: a few intervals more.
			time.Sleep(3 * interval)
			mu.Lock()
			defer mu.Unlock()
			if err := w.Flush(); err != nil {
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Println("sent " + strconv.FormatUint(uint64(sent.Load()), 10))
			return nil
		case <-tick.C:
		}
	}
}

func isRefused(err *net.OpError) bool {
	if se, ok := err.Err.(*os.SyscallError); ok {
		return se.Err == syscall.ECONNREFUSED || se.Err == syscall.EHOSTUNREACH || se.Err == syscall.ENETUNREACH
	}
	return false
}
