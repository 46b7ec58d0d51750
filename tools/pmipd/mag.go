package main

// The MAG: detects MNs on the access link, authorizes them with RADIUS, registers them with
// the LMA (PBU/PBA), sets up the tunnel and routes, emulates the home link with unicast RAs,
// and detaches an MN when NUD stops hearing it (RFC 5213 §6).

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"
)

// mnEntry is a Binding Update List entry, plus the MAG's timers for the MN.
type mnEntry struct {
	MN           string       `json:"mn"`
	MAC          string       `json:"mac"`
	Prefix       netip.Prefix `json:"prefix"`
	LifetimeS    int          `json:"lifetimeS"`
	RegisteredAt *time.Time   `json:"registeredAt"`
	Trigger      string       `json:"trigger"`
	State        string       `json:"state"` // authorizing, registering, registered, deregistering
	mac          net.HardwareAddr
	announced    map[string]bool // announcement kinds seen (the trigger's included)
	hi           uint8
	seq          uint16    // of the PBU awaiting its PBA
	pending      bool      // a PBU awaits its PBA
	pendingLife  int       // its lifetime, s
	sentAt       time.Time // last (re)transmission
	sends        int
	refreshAt    time.Time
	nextRA       time.Time
	heard        bool // an NA since the last NUD probe
	missed       int  // NUD intervals without an NA
	routed       bool
}

type magState struct {
	Role   string     `json:"role"`
	Name   string     `json:"name"`
	BUL    []*mnEntry `json:"bul"`
	Tunnel struct {
		Name string `json:"name"`
		Up   bool   `json:"up"`
	} `json:"tunnel"`
}

type radReply struct {
	mac string
	res RadiusResult
	err error
}

type magDaemon struct {
	cfg       *Config
	dp        Datapath
	log       *EventLog
	link      *accessLink
	sock      *mhSocket
	rad       *RadiusClient
	pw        []byte
	accessMAC net.HardwareAddr
	mns       map[string]*mnEntry // by MAC
	seq       uint16
	tunnelUp  bool
	radCh     chan radReply
	now       func() time.Time
}

func (d *magDaemon) ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

func runMAG(cfg *Config, dp Datapath, log *EventLog, stop chan struct{}) error {
	mac, _ := net.ParseMAC(cfg.Access.MAC)
	d := &magDaemon{cfg: cfg, dp: dp, log: log, accessMAC: mac, mns: map[string]*mnEntry{},
		radCh: make(chan radReply, 16), now: time.Now}
	var b [2]byte
	rand.Read(b[:])
	d.seq = binary.BigEndian.Uint16(b[:])

	undo, err := d.setupAccess()
	defer func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}()
	if err != nil {
		return err
	}
	if d.rad, d.pw, err = cfg.radiusClient(cfg.Egress.Address); err != nil {
		return err
	}
	defer d.rad.Close()
	if d.sock, err = openMHRetry(cfg.Egress.Address); err != nil {
		return err
	}
	defer d.sock.Close()
	// After the egress address is usable (the MH socket is bound to it): the tunnel's MTU
	// follows the route to the LMA as the kernel finds it at creation.
	defer d.closeTunnel()
	if err := d.openTunnel(); err != nil {
		return err
	}
	if d.link, err = openAccessLink(cfg.Access.Interface, mac, cfg.Access.LinkLocal); err != nil {
		return fmt.Errorf("packet socket on %s: %w", cfg.Access.Interface, err)
	}
	defer d.link.Close()

	linkCh := make(chan linkEvent, 64)
	pbaCh := make(chan *Message, 16)
	go func() {
		buf := make([]byte, 2048)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if ev, ok, err := d.link.read(buf); err == nil && ok {
				linkCh <- ev
			}
		}
	}()
	go func() {
		buf := make([]byte, 2048)
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, from, _, ok, err := d.sock.recv(buf)
			if err != nil || !ok || from != cfg.LMAAddress {
				continue
			}
			if m, err := DecodeMH(b); err == nil && m.Type == mhTypePBA {
				pbaCh <- m
			}
		}
	}()
	log.Emit("start", "role", "mag", "access", cfg.Access.Interface, "lma", cfg.LMAAddress)
	d.save()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	nud := time.NewTicker(d.ms(cfg.Timers.NUDIntervalMs))
	defer nud.Stop()
	for {
		select {
		case ev := <-linkCh:
			d.onLink(ev)
		case r := <-d.radCh:
			d.onRadius(r)
		case m := <-pbaCh:
			d.onPBA(m)
		case <-tick.C:
			d.onTick()
		case <-nud.C:
			d.onNUD()
		case <-stop:
			// Remove what the MAG made: routes, rules, the tunnel. (No de-registration: the
			// LMA's lifetime or the next MAG's registration takes care of the binding.)
			for _, m := range d.mns {
				d.unroute(m)
			}
			d.mns = map[string]*mnEntry{}
			d.closeTunnel()
			d.save()
			log.Emit("stop")
			return nil
		}
	}
}

// openMHRetry waits a little for the egress address (it may still be tentative).
func openMHRetry(a netip.Addr) (*mhSocket, error) {
	for i := 0; ; i++ {
		s, err := openMH(a)
		if err == nil || i == 25 {
			return s, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// setupAccess gives the access interface the MAC and link-local every MAG shares, so that
// an MN moving between MAGs sees the same router (seed 001 §3.1); turns on forwarding and
// off RA processing. It returns how to undo each change.
func (d *magDaemon) setupAccess() (undo []func(), err error) {
	dp, ifname := d.dp, d.cfg.Access.Interface
	old, err := dp.LinkMAC(ifname)
	if err != nil {
		return undo, err
	}
	if old != d.accessMAC.String() {
		if err := dp.SetLinkMAC(ifname, d.accessMAC.String()); err != nil {
			return undo, err
		}
		undo = append(undo, func() { dp.SetLinkMAC(ifname, old) })
	}
	if d.cfg.Access.LinkLocal.IsValid() {
		ll := netip.PrefixFrom(d.cfg.Access.LinkLocal, 64)
		if err := dp.AddrAdd(ifname, ll); err == nil {
			undo = append(undo, func() { dp.AddrDel(ifname, ll) })
		} else {
			d.log.Emit("warning", "op", "addr-add", "error", err.Error()) // e.g. already there
		}
	}
	for _, s := range [][2]string{{"net/ipv6/conf/all/forwarding", "1"}, {"net/ipv6/conf/" + ifname + "/accept_ra", "0"}} {
		prev, err := dp.Sysctl(s[0], s[1])
		if err != nil {
			return undo, err
		}
		if prev != s[1] {
			undo = append(undo, func() { dp.Sysctl(s[0], prev) })
		}
	}
	return undo, nil
}

func (d *magDaemon) save() {
	s := magState{Role: "mag", Name: d.cfg.Name, BUL: []*mnEntry{}}
	for _, k := range slices.Sorted(maps.Keys(d.mns)) {
		s.BUL = append(s.BUL, d.mns[k])
	}
	s.Tunnel.Name, s.Tunnel.Up = d.cfg.Tunnel, d.tunnelUp
	if err := writeState(d.cfg.StateFile, s); err != nil {
		d.log.Emit("error", "op", "state", "error", err.Error())
	}
}

// onLink handles a frame from an MN. The first RS, unsolicited NA or RARP from an unknown
// MAC starts a registration; while one is under way or done, further ones start nothing, but
// the first of each other kind is logged (announce), so that the order in which a migrated
// VM's announcements came (QEMU's RARP, the guest's own NA) can be told.
func (d *magDaemon) onLink(ev linkEvent) {
	key := ev.MAC.String()
	m := d.mns[key]
	if m != nil {
		if ev.Kind != "na-solicited" && m.State != "deregistering" && !m.announced[ev.Kind] {
			m.announced[ev.Kind] = true
			d.log.Emit("announce", "mn", m.MN, "kind", ev.Kind)
		}
		switch ev.Kind {
		case "na", "na-solicited":
			m.heard = true
		case "rs":
			if m.State == "registered" { // answer a registered MN's RS at once
				d.sendRA(m)
			}
		}
		return
	}
	if ev.Kind == "na-solicited" {
		return
	}
	// HI: an RS comes from an interface coming up (a booting VM): a new attachment (1).
	// After an unsolicited NA or a RARP the MAG cannot tell a VM that migrated from another
	// MAG from a new one: handoff state unknown (4), and the LMA decides from its cache.
	hi := uint8(hiUnknown)
	if ev.Kind == "rs" {
		hi = hiNewInterface
	}
	m = &mnEntry{MN: nai(ev.MAC), MAC: key, mac: ev.MAC, Trigger: ev.Kind, State: "authorizing", hi: hi,
		announced: map[string]bool{ev.Kind: true}}
	d.mns[key] = m
	d.log.Emit("attach", "mn", m.MN, "mac", key, "trigger", ev.Kind)
	d.log.Emit("access-request", "user", m.MN)
	go func() {
		r, err := d.rad.Authenticate(m.MN, d.pw)
		d.radCh <- radReply{key, r, err}
	}()
	d.save()
}

func (d *magDaemon) onRadius(r radReply) {
	m := d.mns[r.mac]
	if m == nil || m.State != "authorizing" {
		return
	}
	switch {
	case r.err != nil:
		d.log.Emit("access-error", "user", m.MN, "error", r.err.Error())
	case !r.res.Accept:
		d.log.Emit("access-reject", "user", m.MN)
	case !r.res.Prefix.IsValid():
		d.log.Emit("access-accept", "user", m.MN, "prefix", nil, "interfaceId", fmt.Sprintf("%x", r.res.InterfaceID))
		d.log.Emit("error", "op", "access-accept", "error", "no Framed-IPv6-Prefix: no HNP for "+m.MN)
	default:
		d.log.Emit("access-accept", "user", m.MN, "prefix", r.res.Prefix, "interfaceId", fmt.Sprintf("%x", r.res.InterfaceID))
		m.Prefix = r.res.Prefix.Masked()
		m.State = "registering"
		m.sends = 0
		d.sendPBU(m, d.cfg.Timers.PBULifetimeS)
		d.save()
		return
	}
	delete(d.mns, r.mac)
	d.save()
}

// sendPBU sends a PBU for m: every (re)transmission has a new sequence number and timestamp.
func (d *magDaemon) sendPBU(m *mnEntry, lifetimeS int) {
	d.seq++
	now := d.now()
	m.seq, m.pending, m.pendingLife, m.sentAt = d.seq, true, lifetimeS, now
	m.sends++
	msg := newPBU(d.seq, lifetimeS, m.Prefix, m.MN, m.hi, m.mac, now)
	if err := d.sock.send(d.cfg.Egress.Address, d.cfg.LMAAddress, msg.Encode()); err != nil {
		d.log.Emit("error", "op", "pbu-send", "error", err.Error())
	}
	d.log.Emit("pbu-sent", "mn", m.MN, "seq", msg.Seq, "lifetimeS", lifetimeS, "hi", m.hi,
		"timestamp", TimestampTime(msg.Opts.Timestamp).Format(time.RFC3339Nano))
}

func newPBU(seq uint16, lifetimeS int, hnp netip.Prefix, mn string, hi uint8, mac net.HardwareAddr, now time.Time) *Message {
	return &Message{Type: mhTypePBU, Seq: seq, Ack: true, Proxy: true, Lifetime: uint16(min((lifetimeS+3)/4, 0xffff)),
		Opts: Options{HNP: hnp, MNID: mn, HI: hi, ATT: attIEEE8023, MNLLID: mac, Timestamp: Timestamp(now)}}
}

func (d *magDaemon) onPBA(p *Message) {
	var m *mnEntry
	for _, e := range d.mns {
		if e.pending && e.seq == p.Seq {
			m = e
		}
	}
	if m == nil {
		return // a late PBA for a retransmitted PBU, or another sender's
	}
	m.pending = false
	d.log.Emit("pba-received", "mn", m.MN, "seq", p.Seq, "status", p.Status, "lifetimeS", int(p.Lifetime)*4)
	now := d.now()
	switch m.State {
	case "registering":
		if p.Status != statusAccepted {
			d.log.Emit("registration-failed", "mn", m.MN, "status", p.Status)
			delete(d.mns, m.MAC)
			break
		}
		d.route(m)
		m.State, m.LifetimeS, m.RegisteredAt = "registered", int(p.Lifetime)*4, &now
		m.refreshAt = now.Add(time.Duration(m.LifetimeS) * time.Second * 3 / 4)
		m.heard, m.missed = true, 0
		d.sendRA(m)
	case "registered": // a refresh
		if p.Status != statusAccepted {
			d.drop(m, "refresh-rejected")
			break
		}
		m.LifetimeS = int(p.Lifetime) * 4
		m.refreshAt = now.Add(time.Duration(m.LifetimeS) * time.Second * 3 / 4)
	case "deregistering":
		delete(d.mns, m.MAC)
	}
	d.save()
}

// onTick retransmits PBUs, refreshes bindings and repeats RAs.
func (d *magDaemon) onTick() {
	now := d.now()
	for _, k := range slices.Sorted(maps.Keys(d.mns)) {
		m := d.mns[k]
		if m.pending && now.Sub(m.sentAt) >= d.ms(d.cfg.Timers.RetransmitMs) {
			if m.sends > d.cfg.Timers.MaxRetransmits {
				m.pending = false
				switch m.State {
				case "registering":
					d.log.Emit("registration-failed", "mn", m.MN, "reason", "no PBA")
					delete(d.mns, k)
				case "registered":
					d.drop(m, "refresh-unanswered")
				case "deregistering":
					delete(d.mns, k) // forget the MN anyway
				}
				d.save()
				continue
			}
			d.sendPBU(m, m.pendingLife)
		}
		if m.State == "registered" && !m.pending && !now.Before(m.refreshAt) {
			m.hi, m.sends = hiNotChanged, 0
			d.sendPBU(m, d.cfg.Timers.PBULifetimeS)
		}
		if m.State == "registered" && !now.Before(m.nextRA) {
			d.sendRA(m)
		}
	}
}

// onNUD probes every registered MN with a unicast NS; nudProbes intervals in a row without
// an NA from its MAC mean it has left (migrated away): de-register it.
func (d *magDaemon) onNUD() {
	for _, k := range slices.Sorted(maps.Keys(d.mns)) {
		m := d.mns[k]
		if m.State != "registered" {
			continue
		}
		if m.heard {
			m.missed = 0
		} else {
			m.missed++
		}
		m.heard = false
		if m.missed >= d.cfg.Timers.NUDProbes {
			d.log.Emit("detach", "mn", m.MN, "mac", m.MAC, "reason", "nud")
			d.unroute(m)
			m.State, m.hi, m.sends = "deregistering", hiUnknown, 0
			d.sendPBU(m, 0)
			d.save()
			continue
		}
		if err := d.link.send(buildNS(m.mac, d.accessMAC, d.cfg.Access.LinkLocal)); err != nil {
			d.log.Emit("error", "op", "ns-send", "error", err.Error())
		}
	}
}

// drop forgets a registered MN without signalling.
func (d *magDaemon) drop(m *mnEntry, reason string) {
	d.log.Emit("detach", "mn", m.MN, "mac", m.MAC, "reason", reason)
	d.unroute(m)
	delete(d.mns, m.MAC)
}

func (d *magDaemon) sendRA(m *mnEntry) {
	if err := d.link.send(buildRA(m.mac, d.accessMAC, d.cfg.Access.LinkLocal, m.Prefix)); err != nil {
		d.log.Emit("error", "op", "ra-send", "error", err.Error())
		return
	}
	m.nextRA = d.now().Add(time.Duration(d.cfg.Timers.RAIntervalS) * time.Second)
	d.log.Emit("ra-sent", "mn", m.MN, "prefix", m.Prefix)
}

// openTunnel makes the MAG's half of the data path once, at start, for its whole lifetime:
// the tunnel to the LMA and the PMIP table's default route through it. A registration then
// waits only for its own route and rule before the RA.
func (d *magDaemon) openTunnel() error {
	c := d.cfg
	if err := d.dp.TunnelAdd(c.Tunnel, c.Egress.Address, c.LMAAddress); err != nil {
		return err
	}
	d.tunnelUp = true
	d.log.Emit("tunnel-up", "name", c.Tunnel, "local", c.Egress.Address, "remote", c.LMAAddress)
	if err := d.dp.RouteReplace(netip.MustParsePrefix("::/0"), c.Tunnel, c.RouteTable); err != nil {
		return err
	}
	d.log.Emit("route-add", "prefix", "::/0", "dev", c.Tunnel, "table", c.RouteTable)
	return nil
}

// closeTunnel removes the tunnel, and the default route with it.
func (d *magDaemon) closeTunnel() {
	c := d.cfg
	if !d.tunnelUp {
		return
	}
	d.tunnelUp = false
	if err := d.dp.TunnelDel(c.Tunnel); err != nil {
		d.log.Emit("error", "op", "tunnel-del", "error", err.Error())
	} else {
		d.log.Emit("tunnel-down", "name", c.Tunnel, "local", c.Egress.Address, "remote", c.LMAAddress)
	}
}

// route makes the MN's data path, the minimum before its RA: the HNP on the access link, and
// traffic from the HNP looked up in the PMIP table (the tunnel's).
func (d *magDaemon) route(m *mnEntry) {
	c := d.cfg
	try := func(err error, op string) bool {
		if err != nil {
			d.log.Emit("error", "op", op, "error", err.Error())
		}
		return err == nil
	}
	if try(d.dp.RouteReplace(m.Prefix, c.Access.Interface, 0), "route-add") {
		d.log.Emit("route-add", "prefix", m.Prefix, "dev", c.Access.Interface)
	}
	if try(d.dp.RuleAdd(m.Prefix, c.RouteTable), "rule-add") {
		d.log.Emit("rule-add", "from", m.Prefix, "table", c.RouteTable)
	}
	m.routed = true
}

// unroute undoes route for m.
func (d *magDaemon) unroute(m *mnEntry) {
	c := d.cfg
	if !m.routed {
		return
	}
	m.routed = false
	if err := d.dp.RuleDel(m.Prefix, c.RouteTable); err == nil {
		d.log.Emit("rule-del", "from", m.Prefix, "table", c.RouteTable)
	}
	if err := d.dp.RouteDel(m.Prefix, c.Access.Interface, 0); err == nil {
		d.log.Emit("route-del", "prefix", m.Prefix, "dev", c.Access.Interface)
	}
}

// pbaJSON is how `pmipd pbu` prints the PBA.
func pbaJSON(m *Message) map[string]any {
	o := map[string]any{"mnId": m.Opts.MNID, "hi": m.Opts.HI, "att": m.Opts.ATT}
	if m.Opts.HNP.IsValid() {
		o["hnp"] = m.Opts.HNP.String()
	}
	if m.Opts.MNLLID != nil {
		o["mnLlId"] = net.HardwareAddr(m.Opts.MNLLID).String()
	}
	if m.Opts.Timestamp != 0 {
		o["timestamp"] = TimestampTime(m.Opts.Timestamp).Format(time.RFC3339Nano)
	}
	return map[string]any{"type": "pba", "seq": m.Seq, "status": m.Status, "lifetimeS": int(m.Lifetime) * 4,
		"flags": map[string]bool{"P": m.Proxy}, "options": o}
}

// cmdPBU sends one PBU as the MAG of cfg (no daemon needed; its raw socket sees the PBA
// too, and ignores a sequence number it did not send) and prints the matching PBA.
func cmdPBU(cfg *Config, mnID string, lifetimeS int, tsOffset time.Duration, prefix string, wait time.Duration) error {
	if cfg.Role != "mag" {
		return errors.New("pbu needs a mag config")
	}
	mac, err := macFromNAI(mnID)
	if err != nil {
		return err
	}
	id := nai(mac)
	var hnp netip.Prefix
	switch {
	case prefix != "":
		if hnp, err = netip.ParsePrefix(prefix); err != nil {
			return err
		}
	default:
		var st magState
		if b, err := os.ReadFile(cfg.StateFile); err == nil && json.Unmarshal(b, &st) == nil {
			for _, e := range st.BUL {
				if e.MN == id && e.Prefix.IsValid() {
					hnp = e.Prefix
				}
			}
		}
		if !hnp.IsValid() { // ask the AAA, as a registration would
			rad, pw, err := cfg.radiusClient(cfg.Egress.Address)
			if err != nil {
				return err
			}
			r, err := rad.Authenticate(id, pw)
			rad.Close()
			if err != nil {
				return err
			}
			if !r.Accept || !r.Prefix.IsValid() {
				return fmt.Errorf("the AAA gave no HNP for %s", id)
			}
			hnp = r.Prefix
		}
	}
	sock, err := openMH(cfg.Egress.Address)
	if err != nil {
		return err
	}
	defer sock.Close()
	var b [2]byte
	rand.Read(b[:])
	msg := newPBU(binary.BigEndian.Uint16(b[:]), lifetimeS, hnp.Masked(), id, hiUnknown, mac, time.Now().Add(tsOffset))
	pkt := msg.Encode()
	every := time.Duration(cfg.Timers.RetransmitMs) * time.Millisecond
	if wait <= 0 {
		wait = every * time.Duration(cfg.Timers.MaxRetransmits+1)
	}
	deadline := time.Now().Add(wait)
	buf := make([]byte, 2048)
	for next := time.Now(); time.Now().Before(deadline); {
		if !time.Now().Before(next) { // same sequence number each time: this is one request
			if err := sock.send(cfg.Egress.Address, cfg.LMAAddress, pkt); err != nil {
				return err
			}
			next = time.Now().Add(every)
		}
		p, from, _, ok, err := sock.recv(buf)
		if err != nil || !ok || from != cfg.LMAAddress {
			continue
		}
		if m, err := DecodeMH(p); err == nil && m.Type == mhTypePBA && m.Seq == msg.Seq {
			out, _ := json.Marshal(pbaJSON(m))
			fmt.Println(string(out))
			return nil
		}
	}
	return fmt.Errorf("no PBA for sequence number %d from %s within %v", msg.Seq, cfg.LMAAddress, wait)
}
