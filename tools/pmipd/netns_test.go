package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recorder is a Datapath that writes down tunnel, route and rule changes instead of making
// them (this kernel has no ip6tnl), and reads the real MAC.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) add(f string, a ...any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, fmt.Sprintf(f, a...))
	return nil
}

func (r *recorder) list() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.ops, "\n")
}

func (r *recorder) TunnelAdd(n string, l, rm netip.Addr) error {
	return r.add("tunnel-add %s %s %s", n, l, rm)
}
func (r *recorder) TunnelDel(n string) error { return r.add("tunnel-del %s", n) }
func (r *recorder) RouteReplace(p netip.Prefix, dev string, table int) error {
	return r.add("route-replace %s dev %s table %d", p, dev, table)
}
func (r *recorder) RouteDel(p netip.Prefix, dev string, table int) error {
	return r.add("route-del %s dev %s table %d", p, dev, table)
}
func (r *recorder) RuleAdd(p netip.Prefix, table int) error {
	return r.add("rule-add from %s table %d", p, table)
}
func (r *recorder) RuleDel(p netip.Prefix, table int) error {
	return r.add("rule-del from %s table %d", p, table)
}
func (r *recorder) LinkMAC(dev string) (string, error) {
	i, err := net.InterfaceByName(dev) // the calling thread's namespace
	if err != nil {
		return "", err
	}
	return i.HardwareAddr.String(), nil
}
func (r *recorder) SetLinkMAC(dev, mac string) error         { return r.add("link-mac %s %s", dev, mac) }
func (r *recorder) AddrAdd(dev string, a netip.Prefix) error { return r.add("addr-add %s %s", dev, a) }
func (r *recorder) AddrDel(dev string, a netip.Prefix) error { return r.add("addr-del %s %s", dev, a) }
func (r *recorder) Sysctl(k, v string) (string, error)       { return "0", r.add("sysctl %s=%s", k, v) }

// inNetns runs f on an OS thread that has entered network namespace ns, and lets that
// thread die afterwards: sockets f opens stay in ns.
func inNetns(ns string, f func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		fd, err := unix.Open("/var/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			err = unix.Setns(fd, unix.CLONE_NEWNET)
			unix.Close(fd)
		}
		if err != nil {
			errc <- err
			return
		}
		errc <- nil
		f()
	}()
	return <-errc
}

type event struct {
	node, name string
	kv         map[string]any
	at         time.Time
}

type eventSink struct {
	mu  sync.Mutex
	evs []event
}

func (s *eventSink) log(t *testing.T, dir, node string) *EventLog {
	l, err := openEventLog(filepath.Join(dir, node+".jsonl"), node)
	if err != nil {
		t.Fatal(err)
	}
	l.Hook = func(name string, kv []any) {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = fmt.Sprint(kv[i+1])
		}
		s.mu.Lock()
		s.evs = append(s.evs, event{node, name, m, time.Now()})
		s.mu.Unlock()
	}
	return l
}

// wait returns the first event of node named name whose fields include want.
func (s *eventSink) wait(t *testing.T, node, name string, want map[string]string, timeout time.Duration) event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, e := range s.evs {
			ok := e.node == node && e.name == name
			for k, v := range want {
				ok = ok && e.kv[k] == v
			}
			if ok {
				s.mu.Unlock()
				return e
			}
		}
		s.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []string
	for _, e := range s.evs {
		all = append(all, fmt.Sprintf("%s %s %v", e.node, e.name, e.kv))
	}
	t.Fatalf("no %s event %s %v within %v; events:\n%s", node, name, want, timeout, strings.Join(all, "\n"))
	return event{}
}

// names lists node's event names from the first from event to the first to event after it.
func (s *eventSink) names(node, from, to string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.evs {
		if e.node != node || (len(out) == 0 && e.name != from) {
			continue
		}
		out = append(out, e.name)
		if len(out) > 1 && e.name == to {
			break
		}
	}
	return strings.Join(out, " ")
}

// kinds lists the kind fields of node's events named name.
func (s *eventSink) kinds(node, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.evs {
		if e.node == node && e.name == name {
			out = append(out, e.kv["kind"].(string))
		}
	}
	return strings.Join(out, " ")
}

func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestNetns runs an LMA and a MAG in two namespaces joined by a veth, a third namespace as
// the VM, and a fake AAA in the LMA's namespace; a fourth namespace is a second MAG, as
// `pmipd pbu`, for the handoff. Tunnels and routes are recorded, not made.
func TestNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no iproute2")
	}
	id := fmt.Sprint(os.Getpid() % 100000)
	lmaNS, magNS, vmNS, mag2NS := "pmipd-lma-"+id, "pmipd-mag-"+id, "pmipd-vm-"+id, "pmipd-mag2-"+id
	for _, ns := range []string{lmaNS, magNS, vmNS, mag2NS} {
		sh(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	vmMAC := "00:16:3e:01:01:01"
	for _, c := range [][]string{
		{"ip", "link", "add", "l0", "netns", lmaNS, "type", "veth", "peer", "name", "e0", "netns", magNS},
		{"ip", "link", "add", "a0", "netns", magNS, "address", "00:11:22:33:44:55", "type", "veth", "peer", "name", "v0", "netns", vmNS, "address", vmMAC},
		{"ip", "-n", lmaNS, "addr", "add", "2001:100:1::1/64", "dev", "l0", "nodad"},
		{"ip", "-n", magNS, "addr", "add", "2001:100:1::2/64", "dev", "e0", "nodad"},
		{"ip", "link", "add", "l1", "netns", lmaNS, "type", "veth", "peer", "name", "e1", "netns", mag2NS},
		{"ip", "-n", lmaNS, "addr", "add", "2001:100:2::1/64", "dev", "l1", "nodad"},
		{"ip", "-n", mag2NS, "addr", "add", "2001:100:2::2/64", "dev", "e1", "nodad"},
		{"ip", "-n", lmaNS, "link", "set", "l1", "up"},
		{"ip", "-n", mag2NS, "link", "set", "e1", "up"},
		// The VM: no RS of its own (the test sends it), no DAD wait on its link-local.
		{"ip", "netns", "exec", vmNS, "sysctl", "-qw", "net.ipv6.conf.v0.router_solicitations=0", "net.ipv6.conf.v0.accept_dad=0"},
		{"ip", "netns", "exec", magNS, "sysctl", "-qw", "net.ipv6.conf.a0.accept_dad=0"},
		{"ip", "-n", lmaNS, "link", "set", "lo", "up"},
		{"ip", "-n", magNS, "link", "set", "lo", "up"},
		{"ip", "-n", lmaNS, "link", "set", "l0", "up"},
		{"ip", "-n", magNS, "link", "set", "e0", "up"},
		{"ip", "-n", magNS, "link", "set", "a0", "up"},
		{"ip", "-n", vmNS, "link", "set", "v0", "up"},
	} {
		sh(t, c...)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "password"), []byte("pmip-pass\n"), 0o600)
	rc := RadiusConfig{Server: "[2001:100:1::1]:1812", SecretFile: filepath.Join(dir, "secret"),
		PasswordFile: filepath.Join(dir, "password"), TimeoutMs: 500, Retries: 3}

	var srv *fakeRadius
	if err := inNetns(lmaNS, func() {}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	inNetns(lmaNS, func() { srv = newFakeRadius(t, "[2001:100:1::1]:1812", "s3cret"); close(done) })
	<-done
	srv.users["000000163e010101"] = "pmip-pass"
	srv.prefixes["000000163e010101"] = testHNP
	srv.users["mag1"] = "pmip-pass"
	srv.users["mag2"] = "pmip-pass"

	lmaCfg := &Config{Role: "lma", Name: "lma", StateFile: filepath.Join(dir, "lma.json"), MAGs: []MagPeer{mag1, mag2}, Radius: rc}
	lmaCfg.Radius.NASIdentifier = "lma"
	lmaCfg.Timers.MinDelayBeforeBCEDeleteMs, lmaCfg.Timers.TimestampValidityWindowMs, lmaCfg.Timers.MaxBindingLifetimeS = 5000, 60000, 3600
	magCfg := &Config{Role: "mag", Name: "mag1", StateFile: filepath.Join(dir, "mag.json"), LMAAddress: mag1.Local, Radius: rc,
		Tunnel: "pmip0", RouteTable: 100}
	magCfg.Radius.NASIdentifier = "mag1"
	magCfg.Egress.Interface, magCfg.Egress.Address = "e0", mag1.Address
	magCfg.Access.Interface, magCfg.Access.MAC, magCfg.Access.LinkLocal = "a0", "00:11:22:33:44:55", netip.MustParseAddr("fe80::211:22ff:fe33:4455")
	tm := &magCfg.Timers
	tm.PBULifetimeS, tm.RetransmitMs, tm.MaxRetransmits, tm.NUDIntervalMs, tm.NUDProbes, tm.RAIntervalS = 3600, 300, 3, 200, 3, 30

	sink := &eventSink{}
	lmaDP, magDP := &recorder{}, &recorder{}
	stopLMA, stopMAG := make(chan struct{}), make(chan struct{})
	lmaDone, magDone := make(chan error, 1), make(chan error, 1)
	inNetns(lmaNS, func() { lmaDone <- runLMA(lmaCfg, lmaDP, sink.log(t, dir, "lma"), stopLMA) })
	inNetns(magNS, func() { magDone <- runMAG(magCfg, magDP, sink.log(t, dir, "mag1"), stopMAG) })
	stopped := false
	var stopErrs []error
	stopAll := func() { // stop both, and wait at most 1 s for each
		if stopped {
			return
		}
		stopped = true
		close(stopLMA)
		close(stopMAG)
		for _, c := range []chan error{lmaDone, magDone} {
			select {
			case err := <-c:
				stopErrs = append(stopErrs, err)
			case <-time.After(time.Second):
				stopErrs = append(stopErrs, fmt.Errorf("a daemon did not stop within 1 s"))
			}
		}
	}
	t.Cleanup(stopAll)
	sink.wait(t, "lma", "start", nil, 2*time.Second)
	sink.wait(t, "mag1", "start", nil, 2*time.Second)
	// The MAG's tunnel and its table's default route are made once, before it starts.
	wantMAG := "tunnel-add pmip0 2001:100:1::2 2001:100:1::1\nroute-replace ::/0 dev pmip0 table 100"
	if !strings.HasSuffix(magDP.list(), wantMAG) {
		t.Errorf("MAG datapath at start:\n%s", magDP.list())
	}

	// The VM: a packet socket to send RS and NA, and to see the RA.
	var vm *accessLink
	mac, _ := net.ParseMAC(vmMAC)
	vmLL := linkLocalOf(mac)
	done = make(chan struct{})
	inNetns(vmNS, func() {
		var err error
		if vm, err = openAccessLink("v0", mac, vmLL); err != nil {
			t.Error(err)
		}
		close(done)
	})
	<-done
	if vm == nil {
		t.FailNow()
	}
	defer vm.Close()
	raCh := make(chan netip.Prefix, 4)
	go func() {
		buf := make([]byte, 2048)
		for !stopped {
			n, _, err := unix.Recvfrom(vm.fd, buf, 0)
			if err != nil || n < 14+40+16 {
				continue
			}
			f := buf[:n]
			if f[12] == 0x86 && f[13] == 0xdd && f[14+6] == 58 && f[14+40] == icmpv6RA {
				// options after the 16-octet RA: SLLA (8), then the PIO (32)
				pio := f[14+40+16+8:]
				if len(pio) >= 32 && pio[0] == 3 {
					p, _ := netip.AddrFrom16([16]byte(pio[16:32])).Prefix(int(pio[2]))
					raCh <- p
				}
			}
		}
	}()

	allRouters, _ := net.ParseMAC("33:33:00:00:00:02")
	rs := []byte{icmpv6RS, 0, 0, 0, 0, 0, 0, 0, 1, 1}
	rs = append(rs, mac...)
	start := time.Now()
	rsFrame := ethIPv6ICMP(allRouters, mac, vmLL, netip.MustParseAddr("ff02::2"), rs)
	if err := vm.send(rsFrame); err != nil {
		t.Fatal(err)
	}
	attach := sink.wait(t, "mag1", "attach", map[string]string{"mn": "000000163e010101", "trigger": "rs", "mac": vmMAC}, 2*time.Second)
	sink.wait(t, "mag1", "access-accept", map[string]string{"prefix": testHNP.String()}, 3*time.Second)
	sink.wait(t, "lma", "pbu-received", map[string]string{"mag": "mag1", "mn": "000000163e010101", "hi": "1", "lifetimeS": "3600"}, 3*time.Second)
	sink.wait(t, "lma", "mag-authorized", map[string]string{"mag": "mag1"}, 3*time.Second)
	sink.wait(t, "lma", "bce-created", map[string]string{"mag": "mag1", "prefix": testHNP.String()}, 3*time.Second)
	sink.wait(t, "mag1", "pba-received", map[string]string{"status": "0"}, 3*time.Second)
	ra := sink.wait(t, "mag1", "ra-sent", map[string]string{"prefix": testHNP.String()}, 3*time.Second)
	t.Logf("registration: RS to RA %v (attach to ra-sent %v)", ra.at.Sub(start), ra.at.Sub(attach.at))
	// Between the PBA and the RA: the HNP's route on the access link and its rule, nothing else.
	if got := sink.names("mag1", "pba-received", "ra-sent"); got != "pba-received route-add rule-add ra-sent" {
		t.Errorf("MAG from PBA to RA: %s", got)
	}
	select {
	case p := <-raCh:
		if p != testHNP {
			t.Fatalf("RA prefix %s", p)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the VM saw no RA")
	}
	// The VM's kernel took the RA: SLAAC address from the HNP.
	wantAddr := "2001:db8:1:1:216:3eff:fe01:101"
	for i := 0; ; i++ {
		if strings.Contains(sh(t, "ip", "-n", vmNS, "-6", "addr", "show", "dev", "v0"), wantAddr) {
			break
		}
		if i == 100 {
			t.Fatalf("no %s on the VM:\n%s", wantAddr, sh(t, "ip", "-n", vmNS, "-6", "addr", "show", "dev", "v0"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(sh(t, "ip", "-n", vmNS, "-6", "route", "show", "default"), "fe80::211:22ff:fe33:4455") {
		t.Error("the VM has no default route via the MAG's link-local")
	}

	// Unsolicited NAs and a RARP from the registered VM start nothing new, but the first of
	// each kind is logged; the trigger's kind (rs) is not logged again.
	allNodes, _ := net.ParseMAC("33:33:00:00:00:01")
	ll := vmLL.As16()
	na := append([]byte{icmpv6NA, 0, 0, 0, 0x20, 0, 0, 0}, ll[:]...) // O=1, S=0
	na = append(na, 2, 1)
	na = append(na, mac...)
	naFrame := ethIPv6ICMP(allNodes, mac, vmLL, netip.MustParseAddr("ff02::1"), na)
	broadcast, _ := net.ParseMAC("ff:ff:ff:ff:ff:ff")
	rarp := append(append(append([]byte(nil), broadcast...), mac...), 0x80, 0x35)
	rarp = append(rarp, 0, 1, 8, 0, 6, 4, 0, 3) // Ethernet, IPv4, reverse request
	rarp = append(append(rarp, mac...), 0, 0, 0, 0)
	rarp = append(append(rarp, mac...), 0, 0, 0, 0)
	for _, f := range [][]byte{naFrame, rarp, naFrame, rsFrame, rarp} {
		if err := vm.send(f); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	sink.wait(t, "mag1", "announce", map[string]string{"mn": "000000163e010101", "kind": "rarp"}, time.Second)
	if got := sink.kinds("mag1", "announce"); got != "na rarp" {
		t.Errorf("announce events: %s", got)
	}
	// NUD: the VM's kernel answers the MAG's NS, so the MN stays for well over nudProbes intervals.
	time.Sleep(1200 * time.Millisecond)
	sink.mu.Lock()
	for _, e := range sink.evs {
		if e.name == "detach" || (e.name == "attach" && e.at.After(attach.at)) {
			t.Errorf("unexpected %s %v", e.name, e.kv)
		}
	}
	sink.mu.Unlock()

	wantLMA := "tunnel-add pmip-mag1 2001:100:1::1 2001:100:1::2\nroute-replace 2001:db8:1:1::/64 dev pmip-mag1 table 0"
	if !strings.HasPrefix(lmaDP.list(), "sysctl net/ipv6/conf/all/forwarding=1\n"+wantLMA) {
		t.Errorf("LMA datapath:\n%s", lmaDP.list())
	}
	wantMAG += "\nroute-replace 2001:db8:1:1::/64 dev a0 table 0\nrule-add from 2001:db8:1:1::/64 table 100"
	if !strings.HasSuffix(magDP.list(), wantMAG) {
		t.Errorf("MAG datapath:\n%s", magDP.list())
	}

	// `pmipd pbu` as the MAG: a late de-registration with an old timestamp is acknowledged
	// and ignored.
	pbuErr := make(chan error, 1)
	inNetns(magNS, func() { pbuErr <- cmdPBU(magCfg, "000000163e010101", 0, -30*time.Second, "", 2*time.Second) })
	if err := <-pbuErr; err != nil {
		t.Fatal(err)
	}
	sink.wait(t, "lma", "dereg-ignored", map[string]string{"reason": "timestamp older than the binding's"}, time.Second)

	// The VM leaves (its link goes down): NUD detaches it, the LMA waits; the MAG's routes
	// for it go, its tunnel stays.
	down := time.Now()
	sh(t, "ip", "-n", vmNS, "link", "set", "v0", "down")
	detach := sink.wait(t, "mag1", "detach", map[string]string{"reason": "nud"}, 3*time.Second)
	t.Logf("NUD detach %v after the link went down", detach.at.Sub(down))
	sink.wait(t, "lma", "bce-waiting", nil, 2*time.Second)
	sink.wait(t, "mag1", "pba-received", map[string]string{"status": "0", "lifetimeS": "0"}, 2*time.Second)
	if !strings.HasSuffix(magDP.list(), "rule-del from 2001:db8:1:1::/64 table 100\nroute-del 2001:db8:1:1::/64 dev a0 table 0") {
		t.Errorf("MAG datapath after the detach:\n%s", magDP.list())
	}

	// mag2 registers the VM during the wait (seed 001 §3.4's order): the LMA makes mag2's
	// tunnel and route, sends the PBA, and only then deletes mag1's tunnel.
	mag2Cfg := *magCfg
	mag2Cfg.Name, mag2Cfg.StateFile, mag2Cfg.LMAAddress = "mag2", filepath.Join(dir, "mag2.json"), mag2.Local
	mag2Cfg.Egress.Interface, mag2Cfg.Egress.Address = "e1", mag2.Address
	mag2Cfg.Radius.NASIdentifier = "mag2"
	inNetns(mag2NS, func() { pbuErr <- cmdPBU(&mag2Cfg, "000000163e010101", 3600, 0, testHNP.String(), 2*time.Second) })
	if err := <-pbuErr; err != nil {
		t.Fatal(err)
	}
	sink.wait(t, "lma", "bce-updated", map[string]string{"mag": "mag2", "previous": "mag1"}, time.Second)
	sink.wait(t, "lma", "tunnel-down", map[string]string{"name": "pmip-mag1"}, time.Second)
	if got := sink.names("lma", "bce-updated", "tunnel-down"); got != "bce-updated tunnel-up route-add pba-sent tunnel-down" {
		t.Errorf("LMA handoff: %s", got)
	}
	wantHandoff := "tunnel-add pmip-mag2 2001:100:2::1 2001:100:2::2\nroute-replace 2001:db8:1:1::/64 dev pmip-mag2 table 0\ntunnel-del pmip-mag1"
	if !strings.HasSuffix(lmaDP.list(), wantHandoff) {
		t.Errorf("LMA datapath at the handoff:\n%s", lmaDP.list())
	}

	stopAll()
	for _, err := range stopErrs {
		if err != nil {
			t.Error(err)
		}
	}
	if !strings.HasSuffix(magDP.list(), "tunnel-del pmip0\nsysctl net/ipv6/conf/all/forwarding=0\naddr-del a0 fe80::211:22ff:fe33:4455/64") {
		t.Errorf("MAG did not undo its setup:\n%s", magDP.list())
	}
	if !strings.HasSuffix(lmaDP.list(), "route-del 2001:db8:1:1::/64 dev pmip-mag2 table 0\ntunnel-del pmip-mag2\nsysctl net/ipv6/conf/all/forwarding=0") {
		t.Errorf("LMA did not clean up:\n%s", lmaDP.list())
	}
	b, _ := os.ReadFile(magCfg.StateFile)
	if !strings.Contains(string(b), `"bul": []`) || !strings.Contains(string(b), `"up": false`) {
		t.Errorf("MAG final state:\n%s", b)
	}
}

// TestMHChecksumOnTheWire: the kernel (here without mip6) fills in the checksum of what an
// openMH socket sends, and an openMH socket does not deliver a datagram whose checksum is
// wrong.
func TestMHChecksumOnTheWire(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (a network namespace)")
	}
	ns := fmt.Sprintf("pmipd-ck-%d", os.Getpid()%100000)
	sh(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	type result struct {
		raw     []byte // as a socket without IPV6_CHECKSUM saw it
		checked bool   // whether the openMH socket got it
	}
	lo := netip.MustParseAddr("::1")
	res := make(chan []result, 1)
	inNetns(ns, func() {
		var out []result
		plain, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW, ipprotoMH)
		if err != nil {
			t.Error(err)
			res <- nil
			return
		}
		defer unix.Close(plain)
		// Linux's raw IPv6 sockets for protocol 135 start with the checksum at offset 4
		// (net/ipv6/raw.c); turn it off here to see and send datagrams as they are.
		if v, err := unix.GetsockoptInt(plain, unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM); err == nil {
			t.Logf("IPV6_CHECKSUM of a new protocol-135 raw socket: %d", v)
		}
		if err := unix.SetsockoptInt(plain, unix.IPPROTO_IPV6, unix.IPV6_CHECKSUM, -1); err != nil {
			t.Error(err)
		}
		unix.SetsockoptTimeval(plain, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 300000})
		s, err := openMH(netip.Addr{})
		if err != nil {
			t.Error(err)
			res <- nil
			return
		}
		defer s.Close()
		good := testPBU().Encode()
		bad := append([]byte(nil), good...)
		bad[4], bad[5] = 0xde, 0xad
		send := []func() error{
			func() error { return s.send(netip.Addr{}, lo, good) },                                   // kernel fills it in
			func() error { return unix.Sendto(plain, bad, 0, &unix.SockaddrInet6{Addr: lo.As16()}) }, // sent as is
		}
		buf := make([]byte, 2048)
		for _, f := range send {
			if err := f(); err != nil {
				t.Error(err)
			}
			var r result
			if n, _, err := unix.Recvfrom(plain, buf, 0); err == nil {
				r.raw = append([]byte(nil), buf[:n]...)
			}
			_, _, _, r.checked, _ = s.recv(buf)
			out = append(out, r)
		}
		res <- out
	})
	out := <-res
	if len(out) != 2 {
		t.FailNow()
	}
	if out[0].raw == nil || MHChecksum(lo, lo, out[0].raw) != 0 || !out[0].checked {
		t.Errorf("sent through openMH: checksum %x verifies=%v, received=%v", out[0].raw[4:6], MHChecksum(lo, lo, out[0].raw) == 0, out[0].checked)
	}
	if out[1].raw == nil || out[1].checked {
		t.Errorf("bad checksum: seen raw=%v, passed the checking socket=%v", out[1].raw != nil, out[1].checked)
	}
}
