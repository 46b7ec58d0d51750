package main

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	mag1 = MagPeer{Name: "mag1", Address: netip.MustParseAddr("2001:100:1::2"), Local: netip.MustParseAddr("2001:100:1::1"), Tunnel: "pmip-mag1"}
	mag2 = MagPeer{Name: "mag2", Address: netip.MustParseAddr("2001:100:2::2"), Local: netip.MustParseAddr("2001:100:2::1"), Tunnel: "pmip-mag2"}
	t0   = time.Unix(1700000000, 0)
)

type lmaRig struct {
	t      *testing.T
	bc     *BindingCache
	events []string
	seq    uint16
}

func newLMARig(t *testing.T) *lmaRig {
	r := &lmaRig{t: t}
	cfg := &Config{MAGs: []MagPeer{mag1, mag2}}
	cfg.Timers.MinDelayBeforeBCEDeleteMs, cfg.Timers.TimestampValidityWindowMs, cfg.Timers.MaxBindingLifetimeS = 10000, 5000, 3600
	r.bc = NewBindingCache(cfg, func(ev string, kv ...any) { r.events = append(r.events, fmt.Sprint(append([]any{ev}, kv...)...)) })
	return r
}

// pbu is a PBU from mag at time at (its clock is the LMA's), with timestamp ts.
func (r *lmaRig) pbu(now time.Time, from MagPeer, lifetimeS int, ts time.Time, hi uint8) (*Message, []Action) {
	r.seq++
	m := newPBU(r.seq, lifetimeS, testHNP, nai(testMAC), hi, testMAC, ts)
	return r.bc.HandlePBU(now, from.Address, true, m)
}

func (r *lmaRig) entry() *BCE { return r.bc.Entries["000000163e010101"] }

func (r *lmaRig) lastEvent() string {
	if len(r.events) == 0 {
		return ""
	}
	return r.events[len(r.events)-1]
}

func acts(a ...Action) []Action { return a }

func TestLMANewRegistration(t *testing.T) {
	r := newLMARig(t)
	pba, got := r.pbu(t0, mag1, 3600, t0, hiNewInterface)
	if pba.Status != 0 || pba.Lifetime != 900 || !pba.Proxy || pba.Seq != 1 || pba.Opts.HNP != testHNP ||
		pba.Opts.MNID != "000000163e010101" || pba.Opts.Timestamp != Timestamp(t0) || pba.Opts.HI != 1 || pba.Opts.ATT != 3 {
		t.Fatalf("PBA %+v", pba)
	}
	want := acts(Action{Op: "tunnel-add", Name: "pmip-mag1", Local: mag1.Local, Remote: mag1.Address},
		Action{Op: "route-replace", Prefix: testHNP, Name: "pmip-mag1"})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %+v", got)
	}
	if e := r.entry(); e == nil || e.State != "registered" || e.MAG != "mag1" || e.ProxyCoA != mag1.Address || e.LifetimeS != 3600 {
		t.Fatalf("BCE %+v", e)
	}
	// A refresh from the same MAG changes nothing in the datapath.
	if pba, got := r.pbu(t0.Add(time.Second), mag1, 3600, t0.Add(time.Second), hiNotChanged); pba.Status != 0 || got != nil {
		t.Fatalf("refresh %+v %+v", pba, got)
	}
	// Lifetime expiry deletes it, and the tunnel.
	if got := r.bc.Tick(t0.Add(3602 * time.Second)); len(got) != 2 || r.entry() != nil || got[1].Op != "tunnel-del" {
		t.Fatalf("expiry %+v %v", got, r.entry())
	}
}

func TestLMAHandoff(t *testing.T) {
	r := newLMARig(t)
	r.pbu(t0, mag1, 3600, t0, hiNewInterface)
	pba, got := r.pbu(t0.Add(time.Minute), mag2, 3600, t0.Add(time.Minute), hiUnknown)
	if pba.Status != 0 {
		t.Fatal(pba.Status)
	}
	want := acts(Action{Op: "tunnel-add", Name: "pmip-mag2", Local: mag2.Local, Remote: mag2.Address},
		Action{Op: "route-replace", Prefix: testHNP, Name: "pmip-mag2"},
		Action{Op: "tunnel-del", Name: "pmip-mag1", Local: mag1.Local, Remote: mag1.Address})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %+v", got)
	}
	// The PBA waits for mag2's tunnel and route, not for mag1's tunnel to go.
	if before, after := splitAtPBA(got); !reflect.DeepEqual(before, want[:2]) || !reflect.DeepEqual(after, want[2:]) {
		t.Fatalf("before the PBA %+v, after it %+v", before, after)
	}
	if e := r.entry(); e.MAG != "mag2" || e.ProxyCoA != mag2.Address || e.Tunnel != "pmip-mag2" {
		t.Fatalf("BCE %+v", e)
	}
	if r.lastEvent() != "bce-updatedmn000000163e010101prefix2001:db8:1:1::/64magmag2previousmag1" {
		t.Fatal(r.lastEvent())
	}
}

// Seed 001 §3.4's race: MAG2's registration reaches the LMA before MAG1's NUD-triggered
// de-registration. The binding must stay on MAG2.
func TestLMALateDeregistration(t *testing.T) {
	r := newLMARig(t)
	r.pbu(t0, mag1, 3600, t0, hiNewInterface)
	r.pbu(t0.Add(60*time.Second), mag2, 3600, t0.Add(60*time.Second), hiUnknown)
	// MAG1's de-registration, stamped after MAG2's registration (NUD took 3 s).
	pba, got := r.pbu(t0.Add(63*time.Second), mag1, 0, t0.Add(63*time.Second), hiUnknown)
	if pba.Status != 0 || pba.Lifetime != 0 || got != nil {
		t.Fatalf("PBA %+v actions %+v", pba, got)
	}
	if e := r.entry(); e.State != "registered" || e.MAG != "mag2" {
		t.Fatalf("BCE %+v", e)
	}
	if r.lastEvent() != "dereg-ignoredmn000000163e010101frommag1reasonbinding is with mag2" {
		t.Fatal(r.lastEvent())
	}
	// A de-registration from MAG2 with an older timestamp than the binding's is ignored too.
	pba, got = r.pbu(t0.Add(64*time.Second), mag2, 0, t0.Add(59*time.Second), hiUnknown)
	if pba.Status != 0 || got != nil || r.entry().State != "registered" {
		t.Fatalf("old dereg %+v %+v %+v", pba, got, r.entry())
	}
	if r.lastEvent() != "dereg-ignoredmn000000163e010101frommag2reasontimestamp older than the binding's" {
		t.Fatal(r.lastEvent())
	}
}

func TestLMATimestamps(t *testing.T) {
	r := newLMARig(t)
	r.pbu(t0, mag1, 3600, t0, hiNewInterface)
	pba, got := r.pbu(t0.Add(2*time.Second), mag2, 3600, t0.Add(-time.Second), hiUnknown)
	if pba.Status != statusTimestampLower || got != nil || r.entry().MAG != "mag1" {
		t.Fatalf("lower: %+v %+v", pba, got)
	}
	pba, _ = r.pbu(t0.Add(2*time.Second), mag2, 3600, t0.Add(10*time.Second), hiUnknown)
	if pba.Status != statusTimestampMismatch || pba.Opts.Timestamp != Timestamp(t0.Add(2*time.Second)) {
		t.Fatalf("outside the window: %+v", pba)
	}
}

func TestLMARejects(t *testing.T) {
	r := newLMARig(t)
	m := newPBU(1, 3600, testHNP, nai(testMAC), hiNewInterface, testMAC, t0)
	if p, _ := r.bc.HandlePBU(t0, netip.MustParseAddr("2001:100:9::2"), true, m); p.Status != statusMAGNotAuthorized {
		t.Fatal("unknown MAG:", p.Status)
	}
	if p, _ := r.bc.HandlePBU(t0, mag1.Address, false, m); p.Status != statusMAGNotAuthorized {
		t.Fatal("AAA-rejected MAG:", p.Status)
	}
	for _, c := range []struct {
		change func(o *Options)
		status uint8
	}{
		{func(o *Options) { o.HNP = netip.Prefix{} }, statusMissingHNP},
		{func(o *Options) { o.MNID = "" }, statusMissingMNID},
		{func(o *Options) { o.HI = 0 }, statusMissingHI},
		{func(o *Options) { o.ATT = 0 }, statusMissingATT},
	} {
		m := newPBU(1, 3600, testHNP, nai(testMAC), hiNewInterface, testMAC, t0)
		c.change(&m.Opts)
		if p, a := r.bc.HandlePBU(t0, mag1.Address, true, m); p.Status != c.status || a != nil {
			t.Errorf("want %d, got %d", c.status, p.Status)
		}
	}
	if len(r.bc.Entries) != 0 || len(r.bc.Tunnels) != 0 {
		t.Fatal("a rejected PBU left state")
	}
}

func TestLMADeregistrationWaitsThenDeletes(t *testing.T) {
	r := newLMARig(t)
	r.pbu(t0, mag1, 3600, t0, hiNewInterface)
	pba, got := r.pbu(t0.Add(time.Second), mag1, 0, t0.Add(time.Second), hiUnknown)
	if pba.Status != 0 || !reflect.DeepEqual(got, acts(Action{Op: "route-del", Prefix: testHNP, Name: "pmip-mag1"})) {
		t.Fatalf("%+v %+v", pba, got)
	}
	if e := r.entry(); e.State != "waiting" {
		t.Fatalf("BCE %+v", e)
	}
	if got := r.bc.Tick(t0.Add(10 * time.Second)); got != nil || r.entry() == nil {
		t.Fatal("deleted early", got)
	}
	got = r.bc.Tick(t0.Add(11 * time.Second))
	if r.entry() != nil || !reflect.DeepEqual(got, acts(Action{Op: "tunnel-del", Name: "pmip-mag1", Local: mag1.Local, Remote: mag1.Address})) {
		t.Fatalf("after MinDelay: %+v %+v", got, r.entry())
	}
}

// The migration as seed 001 §3.4 tells it: MAG1 de-registers, then MAG2 registers while the
// LMA waits. The entry is kept and moves to MAG2.
func TestLMARegistrationDuringWait(t *testing.T) {
	r := newLMARig(t)
	r.pbu(t0, mag1, 3600, t0, hiNewInterface)
	r.pbu(t0.Add(time.Second), mag1, 0, t0.Add(time.Second), hiUnknown)
	pba, got := r.pbu(t0.Add(2*time.Second), mag2, 3600, t0.Add(2*time.Second), hiUnknown)
	if pba.Status != 0 {
		t.Fatal(pba.Status)
	}
	want := acts(Action{Op: "tunnel-add", Name: "pmip-mag2", Local: mag2.Local, Remote: mag2.Address},
		Action{Op: "route-replace", Prefix: testHNP, Name: "pmip-mag2"},
		Action{Op: "tunnel-del", Name: "pmip-mag1", Local: mag1.Local, Remote: mag1.Address})
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %+v", got)
	}
	if r.bc.Tick(t0.Add(20 * time.Second)); r.entry() == nil || r.entry().State != "registered" || r.entry().MAG != "mag2" {
		t.Fatalf("BCE %+v", r.entry())
	}
	// Same MAG re-registering during its own wait: the route comes back.
	r.pbu(t0.Add(21*time.Second), mag2, 0, t0.Add(21*time.Second), hiUnknown)
	_, got = r.pbu(t0.Add(22*time.Second), mag2, 3600, t0.Add(22*time.Second), hiUnknown)
	if !reflect.DeepEqual(got, acts(Action{Op: "route-replace", Prefix: testHNP, Name: "pmip-mag2"})) || r.entry().State != "registered" {
		t.Fatalf("%+v %+v", got, r.entry())
	}
}
