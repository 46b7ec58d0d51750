package main

// The LMA: a binding cache keyed by MN-ID (RFC 5213 §5), as a state machine fed with
// decoded PBUs and the time, that returns the PBA and the datapath changes to make; and
// the loop around it (raw socket, RADIUS check of the MAG, timers).

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// BCE is a binding cache entry; its JSON is the state file's.
type BCE struct {
	MN        string       `json:"mn"`
	Prefix    netip.Prefix `json:"prefix"`
	MAG       string       `json:"mag"`
	ProxyCoA  netip.Addr   `json:"proxyCoa"`
	State     string       `json:"state"` // "registered" or "waiting"
	LifetimeS int          `json:"lifetimeS"`
	Timestamp uint64       `json:"timestamp"`
	Seq       uint16       `json:"seq"`
	Tunnel    string       `json:"tunnel"`
	MNLLID    []byte       `json:"-"`
	ATT       uint8        `json:"-"`

	expires  time.Time // lifetime end (registered)
	deleteAt time.Time // end of MinDelayBeforeBCEDelete (waiting)
}

// Action is one datapath change: "tunnel-add", "tunnel-del", "route-replace", "route-del".
type Action struct {
	Op     string
	Name   string // tunnel or device
	Local  netip.Addr
	Remote netip.Addr
	Prefix netip.Prefix
}

// BindingCache is the LMA's state machine. Emit receives its events.
type BindingCache struct {
	MAGs         []MagPeer
	MinDelay     time.Duration // MinDelayBeforeBCEDelete
	Window       time.Duration // TimestampValidityWindow
	MaxLifetimeS int
	Emit         func(event string, kv ...any)
	Entries      map[string]*BCE
	Tunnels      map[string]MagPeer // tunnels up, by name
}

func NewBindingCache(cfg *Config, emit func(string, ...any)) *BindingCache {
	return &BindingCache{MAGs: cfg.MAGs,
		MinDelay:     time.Duration(cfg.Timers.MinDelayBeforeBCEDeleteMs) * time.Millisecond,
		Window:       time.Duration(cfg.Timers.TimestampValidityWindowMs) * time.Millisecond,
		MaxLifetimeS: cfg.Timers.MaxBindingLifetimeS,
		Emit:         emit, Entries: map[string]*BCE{}, Tunnels: map[string]MagPeer{}}
}

func (bc *BindingCache) emit(ev string, kv ...any) {
	if bc.Emit != nil {
		bc.Emit(ev, kv...)
	}
}

// MAGByAddress is the configured MAG whose proxy-CoA is a.
func (bc *BindingCache) MAGByAddress(a netip.Addr) (MagPeer, bool) {
	for _, m := range bc.MAGs {
		if m.Address == a {
			return m, true
		}
	}
	return MagPeer{}, false
}

// pbaFor starts the reply to pbu: same sequence number, P flag, the PBU's options mirrored
// (RFC 5213 §5.3.6).
func pbaFor(pbu *Message, status uint8) *Message {
	o := pbu.Opts
	return &Message{Type: mhTypePBA, Seq: pbu.Seq, Proxy: true, Status: status,
		Opts: Options{HNP: o.HNP, MNID: o.MNID, HI: o.HI, ATT: o.ATT, MNLLID: o.MNLLID, Timestamp: o.Timestamp}}
}

// HandlePBU processes a PBU from address from; magAuthorized is the AAA's verdict on that
// MAG (only asked for registrations). It returns the PBA and the datapath changes.
func (bc *BindingCache) HandlePBU(now time.Time, from netip.Addr, magAuthorized bool, pbu *Message) (*Message, []Action) {
	o := pbu.Opts
	mag, known := bc.MAGByAddress(from)
	reject := func(status uint8, why string) (*Message, []Action) {
		r := pbaFor(pbu, status)
		if status == statusTimestampMismatch { // §5.5: the LMA's own time, so the MAG can resync
			r.Opts.Timestamp = Timestamp(now)
		}
		bc.emit("pbu-rejected", "mn", o.MNID, "from", from, "status", status, "reason", why)
		return r, nil
	}
	dereg := pbu.Lifetime == 0
	switch {
	case !known:
		return reject(statusMAGNotAuthorized, "not a configured MAG")
	case !dereg && !magAuthorized:
		return reject(statusMAGNotAuthorized, "the AAA rejected the MAG")
	case !pbu.Proxy:
		return reject(statusAdminProhibited, "P flag clear")
	case o.MNID == "":
		return reject(statusMissingMNID, "no MN-ID option")
	case !o.HNP.IsValid():
		return reject(statusMissingHNP, "no HNP option")
	case o.HI == 0:
		return reject(statusMissingHI, "no Handoff Indicator option")
	case o.ATT == 0:
		return reject(statusMissingATT, "no Access Technology Type option")
	}
	// §5.5: the timestamp must be close to the LMA's clock...
	if d := TimestampTime(o.Timestamp).Sub(now); o.Timestamp == 0 || d > bc.Window || d < -bc.Window {
		return reject(statusTimestampMismatch, fmt.Sprintf("timestamp %v off the LMA clock", d))
	}
	e := bc.Entries[o.MNID]
	if dereg {
		return bc.deregister(now, from, mag, pbu, e)
	}
	// ...and no older than the last one accepted for this MN.
	if e != nil && o.Timestamp < e.Timestamp {
		return reject(statusTimestampLower, "timestamp lower than the binding's")
	}
	if e != nil && e.Prefix != o.HNP.Masked() {
		return reject(statusPrefixSetMismatch, "HNP differs from the binding's")
	}
	lifetimeS := min(int(pbu.Lifetime)*4, bc.MaxLifetimeS)
	var acts []Action
	tunnel := bc.ensureTunnel(mag, &acts)
	prefix := o.HNP.Masked()
	switch {
	case e == nil:
		e = &BCE{MN: o.MNID, Prefix: prefix}
		bc.Entries[o.MNID] = e
		defer bc.emit("bce-created", "mn", e.MN, "prefix", e.Prefix, "mag", mag.Name)
		acts = append(acts, Action{Op: "route-replace", Prefix: prefix, Name: tunnel})
	default:
		previous, wasWaiting := e.MAG, e.State == "waiting"
		defer bc.emit("bce-updated", "mn", e.MN, "prefix", e.Prefix, "mag", mag.Name, "previous", previous)
		if previous != mag.Name || wasWaiting {
			acts = append(acts, Action{Op: "route-replace", Prefix: prefix, Name: tunnel})
		}
	}
	e.MAG, e.ProxyCoA, e.Tunnel, e.State = mag.Name, from, tunnel, "registered"
	e.LifetimeS, e.Timestamp, e.Seq = lifetimeS, o.Timestamp, pbu.Seq
	e.MNLLID, e.ATT = o.MNLLID, o.ATT
	e.expires, e.deleteAt = now.Add(time.Duration(lifetimeS)*time.Second), time.Time{}
	bc.gcTunnels(&acts) // the previous MAG's tunnel, if nothing else uses it
	r := pbaFor(pbu, statusAccepted)
	r.Lifetime = uint16(lifetimeS / 4)
	return r, acts
}

// deregister handles lifetime 0. Only the MAG that holds the binding may release it, and
// only with a timestamp no older than the binding's: a late de-registration from the
// previous MAG (its NUD fired after the new MAG registered, seed 001 §3.4) is acknowledged
// and ignored, so the binding stays with the new MAG.
func (bc *BindingCache) deregister(now time.Time, from netip.Addr, mag MagPeer, pbu *Message, e *BCE) (*Message, []Action) {
	r := pbaFor(pbu, statusAccepted)
	ignore := func(why string) (*Message, []Action) {
		bc.emit("dereg-ignored", "mn", pbu.Opts.MNID, "from", mag.Name, "reason", why)
		return r, nil
	}
	switch {
	case e == nil:
		return ignore("no binding")
	case e.ProxyCoA != from:
		return ignore("binding is with " + e.MAG)
	case pbu.Opts.Timestamp < e.Timestamp:
		return ignore("timestamp older than the binding's")
	case e.State == "waiting":
		return r, nil // a retransmission
	}
	// RFC 5213 §5.3.5: keep the entry for MinDelayBeforeBCEDelete so that the new MAG's
	// registration finds it ("waiting mode"), but stop routing to the old MAG.
	e.State, e.Timestamp, e.Seq = "waiting", pbu.Opts.Timestamp, pbu.Seq
	e.deleteAt = now.Add(bc.MinDelay)
	bc.emit("bce-waiting", "mn", e.MN, "prefix", e.Prefix, "mag", e.MAG, "deleteInMs", bc.MinDelay.Milliseconds())
	return r, []Action{{Op: "route-del", Prefix: e.Prefix, Name: e.Tunnel}}
}

// Tick deletes the entries whose wait or lifetime is over.
func (bc *BindingCache) Tick(now time.Time) []Action {
	var acts []Action
	for _, mn := range slices.Sorted(maps.Keys(bc.Entries)) {
		e := bc.Entries[mn]
		switch {
		case e.State == "waiting" && !now.Before(e.deleteAt):
			delete(bc.Entries, mn)
			bc.emit("bce-deleted", "mn", mn, "prefix", e.Prefix, "mag", e.MAG, "reason", "min-delay")
		case e.State == "registered" && !now.Before(e.expires):
			delete(bc.Entries, mn)
			acts = append(acts, Action{Op: "route-del", Prefix: e.Prefix, Name: e.Tunnel})
			bc.emit("bce-deleted", "mn", mn, "prefix", e.Prefix, "mag", e.MAG, "reason", "lifetime")
		}
	}
	bc.gcTunnels(&acts)
	return acts
}

// NextDeadline is when Tick next has something to do (zero: nothing).
func (bc *BindingCache) NextDeadline() time.Time {
	var t time.Time
	for _, e := range bc.Entries {
		d := e.expires
		if e.State == "waiting" {
			d = e.deleteAt
		}
		if t.IsZero() || d.Before(t) {
			t = d
		}
	}
	return t
}

func (bc *BindingCache) ensureTunnel(mag MagPeer, acts *[]Action) string {
	if _, up := bc.Tunnels[mag.Tunnel]; !up {
		bc.Tunnels[mag.Tunnel] = mag
		*acts = append(*acts, Action{Op: "tunnel-add", Name: mag.Tunnel, Local: mag.Local, Remote: mag.Address})
	}
	return mag.Tunnel
}

// gcTunnels removes tunnels that no entry (registered or waiting) uses.
func (bc *BindingCache) gcTunnels(acts *[]Action) {
	used := map[string]bool{}
	for _, e := range bc.Entries {
		used[e.Tunnel] = true
	}
	for _, name := range slices.Sorted(maps.Keys(bc.Tunnels)) {
		if !used[name] {
			m := bc.Tunnels[name]
			delete(bc.Tunnels, name)
			*acts = append(*acts, Action{Op: "tunnel-del", Name: name, Local: m.Local, Remote: m.Address})
		}
	}
}

// lmaState is the LMA's state file.
type lmaState struct {
	Role         string      `json:"role"`
	Name         string      `json:"name"`
	BindingCache []*BCE      `json:"bindingCache"`
	Tunnels      []lmaTunnel `json:"tunnels"`
}

type lmaTunnel struct {
	Name   string     `json:"name"`
	MAG    string     `json:"mag"`
	Remote netip.Addr `json:"remote"`
}

func (bc *BindingCache) state(name string) lmaState {
	s := lmaState{Role: "lma", Name: name, BindingCache: []*BCE{}, Tunnels: []lmaTunnel{}}
	for _, mn := range slices.Sorted(maps.Keys(bc.Entries)) {
		s.BindingCache = append(s.BindingCache, bc.Entries[mn])
	}
	for _, n := range slices.Sorted(maps.Keys(bc.Tunnels)) {
		s.Tunnels = append(s.Tunnels, lmaTunnel{n, bc.Tunnels[n].Name, bc.Tunnels[n].Address})
	}
	return s
}

// applyLMA carries out the actions, logging each.
func applyLMA(dp Datapath, log *EventLog, acts []Action) {
	for _, a := range acts {
		var err error
		switch a.Op {
		case "tunnel-add":
			if err = dp.TunnelAdd(a.Name, a.Local, a.Remote); err == nil {
				log.Emit("tunnel-up", "name", a.Name, "local", a.Local, "remote", a.Remote)
			}
		case "tunnel-del":
			if err = dp.TunnelDel(a.Name); err == nil {
				log.Emit("tunnel-down", "name", a.Name, "local", a.Local, "remote", a.Remote)
			}
		case "route-replace":
			if err = dp.RouteReplace(a.Prefix, a.Name, 0); err == nil {
				log.Emit("route-add", "prefix", a.Prefix, "dev", a.Name)
			}
		case "route-del":
			if err = dp.RouteDel(a.Prefix, a.Name, 0); err == nil {
				log.Emit("route-del", "prefix", a.Prefix, "dev", a.Name)
			}
		}
		if err != nil {
			log.Emit("error", "op", a.Op, "error", err.Error())
		}
	}
}

// lmaDaemon is the LMA's loop. Everything runs on one goroutine but the socket reader and
// the RADIUS checks of MAGs.
type lmaDaemon struct {
	cfg  *Config
	dp   Datapath
	log  *EventLog
	bc   *BindingCache
	sock *mhSocket
	rad  *RadiusClient
	pw   map[string][]byte // per MAG name: the MAG's password (the AAA has MAGs as users)
	stop chan struct{}
}

type rxPBU struct {
	from, to netip.Addr
	msg      *Message
	authOK   bool
}

func runLMA(cfg *Config, dp Datapath, log *EventLog, stop chan struct{}) error {
	d := &lmaDaemon{cfg: cfg, dp: dp, log: log, stop: stop}
	d.bc = NewBindingCache(cfg, log.Emit)
	rad, pw, err := cfg.radiusClient(netip.Addr{})
	if err != nil {
		return err
	}
	d.rad = rad
	defer rad.Close()
	d.pw = map[string][]byte{}
	for _, m := range cfg.MAGs {
		d.pw[m.Name] = pw
	}
	if d.sock, err = openMH(netip.Addr{}); err != nil {
		return err
	}
	defer d.sock.Close()
	var restore []func()
	if old, err := dp.Sysctl("net/ipv6/conf/all/forwarding", "1"); err == nil && old != "1" {
		restore = append(restore, func() { dp.Sysctl("net/ipv6/conf/all/forwarding", old) })
	}
	log.Emit("start", "role", "lma", "mags", len(cfg.MAGs))
	d.save()

	rx := make(chan rxPBU, 64)
	go d.reader(rx)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case p := <-rx:
			d.handle(p)
		case now := <-tick.C:
			n := len(d.bc.Entries)
			if acts := d.bc.Tick(now); len(acts) > 0 || len(d.bc.Entries) != n {
				applyLMA(dp, log, acts)
				d.save()
			}
		case <-stop:
			// Clean up: routes of live bindings, then every tunnel.
			var acts []Action
			for _, e := range d.bc.Entries {
				if e.State == "registered" {
					acts = append(acts, Action{Op: "route-del", Prefix: e.Prefix, Name: e.Tunnel})
				}
			}
			d.bc.Entries = map[string]*BCE{}
			d.bc.gcTunnels(&acts)
			applyLMA(dp, log, acts)
			for _, f := range restore {
				f()
			}
			d.save()
			log.Emit("stop")
			return nil
		}
	}
}

func (d *lmaDaemon) save() {
	if err := writeState(d.cfg.StateFile, d.bc.state(d.cfg.Name)); err != nil {
		d.log.Emit("error", "op", "state", "error", err.Error())
	}
}

// reader decodes PBUs; registrations first go through the RADIUS check of their MAG, on
// their own goroutine so that one slow AAA answer holds up nothing else.
func (d *lmaDaemon) reader(out chan<- rxPBU) {
	buf := make([]byte, 2048)
	for {
		select {
		case <-d.stop:
			return
		default:
		}
		b, from, to, ok, err := d.sock.recv(buf)
		if err != nil || !ok {
			continue
		}
		m, err := DecodeMH(b)
		if err != nil || m.Type != mhTypePBU {
			continue
		}
		mag, known := d.bc.MAGByAddress(from)
		magName := ""
		if known {
			magName = mag.Name
		}
		d.log.Emit("pbu-received", "from", from, "mag", magName, "mn", m.Opts.MNID, "seq", m.Seq,
			"lifetimeS", int(m.Lifetime)*4, "hi", m.Opts.HI, "timestamp", TimestampTime(m.Opts.Timestamp).Format(time.RFC3339Nano))
		p := rxPBU{from: from, to: to, msg: m}
		if !known || m.Lifetime == 0 {
			out <- p
			continue
		}
		go func() {
			d.log.Emit("access-request", "user", mag.Name)
			r, err := d.rad.Authenticate(mag.Name, d.pw[mag.Name])
			switch {
			case err != nil:
				d.log.Emit("mag-rejected", "mag", mag.Name, "error", err.Error())
			case !r.Accept:
				d.log.Emit("access-reject", "user", mag.Name)
				d.log.Emit("mag-rejected", "mag", mag.Name)
			default:
				d.log.Emit("access-accept", "user", mag.Name, "prefix", r.Prefix, "interfaceId", fmt.Sprintf("%x", r.InterfaceID))
				d.log.Emit("mag-authorized", "mag", mag.Name)
				p.authOK = true
			}
			out <- p
		}()
	}
}

// handle answers a PBU. The PBA goes as soon as the binding's tunnel and route are in place;
// the previous MAG's tunnel, which no binding uses any more, is deleted after it.
func (d *lmaDaemon) handle(p rxPBU) {
	pba, acts := d.bc.HandlePBU(time.Now(), p.from, p.authOK, p.msg)
	before, after := splitAtPBA(acts)
	applyLMA(d.dp, d.log, before)
	src := p.to
	if mag, ok := d.bc.MAGByAddress(p.from); ok && mag.Local.IsValid() {
		src = mag.Local
	}
	if err := d.sock.send(src, p.from, pba.Encode()); err != nil {
		d.log.Emit("error", "op", "pba-send", "error", err.Error())
	}
	d.log.Emit("pba-sent", "mn", pba.Opts.MNID, "to", p.from, "seq", pba.Seq, "status", pba.Status, "lifetimeS", int(pba.Lifetime)*4)
	applyLMA(d.dp, d.log, after)
	d.save()
}

// splitAtPBA separates what the PBA must wait for from what can follow it: deleting a tunnel
// that no binding uses.
func splitAtPBA(acts []Action) (before, after []Action) {
	for _, a := range acts {
		if a.Op == "tunnel-del" {
			after = append(after, a)
		} else {
			before = append(before, a)
		}
	}
	return before, after
}

// run starts the node the config describes and stops it on SIGTERM or SIGINT.
func run(cfg *Config, dp Datapath) error {
	log, err := openEventLog(cfg.EventLog, cfg.Name)
	if err != nil {
		return err
	}
	defer log.Close()
	stop := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; close(stop) }()
	if cfg.Role == "lma" {
		return runLMA(cfg, dp, log, stop)
	}
	return runMAG(cfg, dp, log, stop)
}
