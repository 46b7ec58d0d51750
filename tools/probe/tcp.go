package main

// The TCP survival probe (seed 000 §3 item 8, seed 001): a client on the VM sends a
// message every interval to a server on the client host, for the whole window. The
// server's recv() of 0 (closed) or -1 (error) is a break. Each message carries the
// VM's count of retransmitted segments (TCP_INFO), so the server can say how many the
// migration caused without anything being read on the VM.

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// A message: magic, connection number (the client's), sequence number, send time (VM
// clock, ns), and the VM's tcpi_total_retrans on this connection.
const (
	tcpMagic   = 0x776c7463 // "wltc"
	tcpMsgSize = 4 + 4 + 4 + 8 + 4
	// struct tcp_info: tcpi_total_retrans is at byte 100 (linux/tcp.h; stable ABI).
	tcpInfoTotalRetrans = 100
	tcpInfoSize         = 104
)

// tcpClient connects to the server, retrying every 100 ms while it is absent, and sends
// every interval; when the connection breaks it connects again. It never ends.
func tcpClient(to string, interval time.Duration) error {
	if _, _, err := net.SplitHostPort(to); err != nil {
		return fmt.Errorf("-to %q: %v", to, err)
	}
	msg := make([]byte, tcpMsgSize)
	binary.BigEndian.PutUint32(msg, tcpMagic)
	for conn := uint32(1); ; conn++ {
		c, err := net.DialTimeout("tcp", to, time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			conn--
			continue
		}
		tc := c.(*net.TCPConn)
		_ = tc.SetNoDelay(true)
		// The server sends nothing: a read returns only when the connection ends.
		done := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, tc); close(done) }()
		binary.BigEndian.PutUint32(msg[4:], conn)
		tick := time.NewTicker(interval)
	send:
		for seq := uint32(1); ; seq++ {
			binary.BigEndian.PutUint32(msg[8:], seq)
			binary.BigEndian.PutUint64(msg[12:], uint64(time.Now().UnixNano()))
			binary.BigEndian.PutUint32(msg[20:], totalRetrans(tc))
			if _, err := tc.Write(msg); err != nil {
				break
			}
			select {
			case <-done:
				break send
			case <-tick.C:
			}
		}
		tick.Stop()
		_ = tc.Close()
	}
}

func totalRetrans(c *net.TCPConn) uint32 {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var info [tcpInfoSize]byte
	var got uint32
	_ = raw.Control(func(fd uintptr) {
		n := uint32(len(info))
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
		if e == 0 && n >= tcpInfoTotalRetrans+4 {
			got = binary.NativeEndian.Uint32(info[tcpInfoTotalRetrans:])
		}
	})
	return got
}

// tcpReport is what the server prints when it is stopped: one JSON document.
type tcpReport struct {
	Connections int `json:"connections"`
	// Breaks: connections that ended with recv() 0 or -1 before the server was stopped.
	Breaks []tcpBreak `json:"breaks"`
	// Messages received, and the first and last arrival (ns since the epoch, this host's clock).
	Messages int   `json:"messages"`
	FirstAt  int64 `json:"firstAt"`
	LastAt   int64 `json:"lastAt"`
	// Silences between arrivals longer than stallAbove, as [from, to] in ns: the longest is
	// the stall; a migration makes one.
	Stalls [][2]int64 `json:"stalls"`
	// Retransmitted segments on the VM, summed over the connections (last message's count
	// less the first's).
	Retransmissions uint32 `json:"retransmissions"`
	// Sequence numbers missing within a connection (TCP delivers all, so this stays 0).
	Missing uint32 `json:"missing"`
}

type tcpBreak struct {
	At     int64  `json:"at"`
	Reason string `json:"reason"`
}

// tcpServer accepts the VM's client and records its messages until SIGINT or SIGTERM,
// then prints its report. Silences longer than stallAbove are listed.
func tcpServer(port int, stallAbove time.Duration, ready string) error {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{Port: port})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var r tcpReport
	r.Breaks = []tcpBreak{}
	r.Stalls = [][2]int64{}
	stopped := false
	// Each connection's first and last retransmission count, summed at the end.
	type conn struct{ first, last uint32 }
	var conns []*conn
	arrive := func(at int64) {
		if r.Messages == 0 {
			r.FirstAt = at
			if ready != "" {
				_ = os.WriteFile(ready, []byte("connected\n"), 0o644)
			}
		} else if gap := at - r.LastAt; gap > stallAbove.Nanoseconds() {
			r.Stalls = append(r.Stalls, [2]int64{r.LastAt, at})
		}
		r.Messages++
		r.LastAt = at
	}
	serve := func(c *net.TCPConn) {
		defer c.Close()
		rd := bufio.NewReader(c)
		buf := make([]byte, tcpMsgSize)
		var prevSeq uint32
		n := 0
		mu.Lock()
		st := &conn{}
		conns = append(conns, st)
		mu.Unlock()
		for {
			_, err := io.ReadFull(rd, buf)
			at := time.Now().UnixNano()
			mu.Lock()
			if err != nil {
				if !stopped {
					reason := "recv() returned 0: the VM closed the connection"
					if !errors.Is(err, io.EOF) {
						reason = "recv() returned -1: " + err.Error()
					}
					r.Breaks = append(r.Breaks, tcpBreak{At: at, Reason: reason})
				}
				mu.Unlock()
				return
			}
			if binary.BigEndian.Uint32(buf) != tcpMagic {
				mu.Unlock()
				continue
			}
			seq := binary.BigEndian.Uint32(buf[8:])
			retrans := binary.BigEndian.Uint32(buf[20:])
			if n == 0 {
				st.first = retrans
			} else if seq > prevSeq+1 {
				r.Missing += seq - prevSeq - 1
			}
			prevSeq, st.last = seq, retrans
			n++
			arrive(at)
			mu.Unlock()
		}
	}
	go func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			mu.Lock()
			r.Connections++
			mu.Unlock()
			go serve(c)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	mu.Lock()
	defer mu.Unlock()
	stopped = true
	_ = ln.Close()
	for _, c := range conns {
		r.Retransmissions += c.last - c.first
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
