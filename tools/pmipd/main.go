// Command pmipd is the lab's stand-in for OAI pmip6d (which needs a 3.x-era kernel and is
// in no reachable registry): a small Local Mobility Anchor and Mobile Access Gateway for
// Proxy Mobile IPv6 (RFC 5213), doing the part of it that seed 001 used.
//
// Covered: PBU/PBA over the Mobility Header (RFC 6275) with the HNP, MN-ID (RFC 4283 NAI),
// Handoff Indicator, Access Technology Type, MN Link-layer Identifier and Timestamp options;
// timestamp-based ordering; the LMA binding cache with handoff between MAGs,
// MinDelayBeforeBCEDelete ("waiting mode") and lifetime expiry; ip6ip6 tunnels between LMA
// and MAGs; RADIUS (RFC 2865) authorization of the MN at the MAG and of the MAG at the LMA;
// attach detection from RS, unsolicited NA (seed 001's hasNA patch) and QEMU's RARP
// self-announce; detach detection by NUD; unicast RAs carrying the HNP from a fixed MAG
// link-local and MAC.
//
// Not covered: IPv4 home addresses and transport (RFC 5844), GRE keys (RFC 5845),
// LMA-initiated revocation (RFC 5846), sequence-number-based ordering, multiple prefixes per
// MN, the Link-local Address option, IPsec protection of the signalling, bulk refresh,
// exponential retransmission back-off, and the LMA allocating prefixes itself (the AAA
// assigns the HNP).
//
// Usage:
//
//	pmipd run -config FILE
//	pmipd show -state FILE
//	pmipd pbu -config MAGCONFIG -mn ID -lifetime SECONDS [-timestamp-offset DURATION] [-prefix HNP]
//	pmipd tshark-check -pcap FILE
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RadiusConfig says how to reach the AAA server; secrets stay in files.
type RadiusConfig struct {
	Server        string `json:"server"`
	SecretFile    string `json:"secretFile"`
	PasswordFile  string `json:"passwordFile"`
	NASIdentifier string `json:"nasIdentifier"`
	TimeoutMs     int    `json:"timeoutMs"`
	Retries       int    `json:"retries"`
}

// MagPeer is one MAG as the LMA knows it.
type MagPeer struct {
	Name    string     `json:"name"`
	Address netip.Addr `json:"address"`
	Local   netip.Addr `json:"local"`
	Tunnel  string     `json:"tunnel"`
}

// Config is the file the lab renders for one node, MAG or LMA.
type Config struct {
	Role      string `json:"role"`
	Name      string `json:"name"`
	StateFile string `json:"stateFile"`
	EventLog  string `json:"eventLog"`

	// MAG
	LMAAddress netip.Addr `json:"lmaAddress"`
	Egress     struct {
		Interface string     `json:"interface"`
		Address   netip.Addr `json:"address"`
	} `json:"egress"`
	Access struct {
		Interface string     `json:"interface"`
		MAC       string     `json:"mac"`
		LinkLocal netip.Addr `json:"linkLocal"`
	} `json:"access"`
	Tunnel     string `json:"tunnel"`
	RouteTable int    `json:"routeTable"`

	// LMA
	MAGs []MagPeer `json:"mags"`

	Radius RadiusConfig `json:"radius"`
	Timers struct {
		// MAG
		PBULifetimeS   int `json:"pbuLifetimeS"`
		RetransmitMs   int `json:"retransmitMs"`
		MaxRetransmits int `json:"maxRetransmits"`
		NUDIntervalMs  int `json:"nudIntervalMs"`
		NUDProbes      int `json:"nudProbes"`
		RAIntervalS    int `json:"raIntervalS"`
		// LMA
		MinDelayBeforeBCEDeleteMs int `json:"minDelayBeforeBceDeleteMs"`
		TimestampValidityWindowMs int `json:"timestampValidityWindowMs"`
		MaxBindingLifetimeS       int `json:"maxBindingLifetimeS"`
	} `json:"timers"`
}

func loadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t := &c.Timers
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.PBULifetimeS, 3600)
	def(&t.RetransmitMs, 1000)
	def(&t.MaxRetransmits, 5)
	def(&t.NUDIntervalMs, 1000)
	def(&t.NUDProbes, 3)
	def(&t.RAIntervalS, 30)
	def(&t.MinDelayBeforeBCEDeleteMs, 10000)
	def(&t.TimestampValidityWindowMs, 5000)
	def(&t.MaxBindingLifetimeS, 3600)
	def(&c.Radius.TimeoutMs, 1000)
	def(&c.Radius.Retries, 3)
	def(&c.RouteTable, 100)
	if c.Tunnel == "" {
		c.Tunnel = "pmip0"
	}
	switch c.Role {
	case "mag":
		if !c.LMAAddress.IsValid() || !c.Egress.Address.IsValid() || c.Access.Interface == "" {
			return nil, fmt.Errorf("%s: a mag needs lmaAddress, egress.address and access.interface", path)
		}
		if _, err := net.ParseMAC(c.Access.MAC); err != nil {
			return nil, fmt.Errorf("%s: access.mac: %w", path, err)
		}
	case "lma":
		if len(c.MAGs) == 0 {
			return nil, fmt.Errorf("%s: an lma needs mags", path)
		}
	default:
		return nil, fmt.Errorf("%s: role must be mag or lma, not %q", path, c.Role)
	}
	return c, nil
}

// readSecret reads a secret file, without its trailing newline. Secrets are never logged.
func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(b, "\r\n"), nil
}

// radiusClient opens the node's RADIUS client, from local when valid, and reads the password.
func (c *Config) radiusClient(local netip.Addr) (*RadiusClient, []byte, error) {
	secret, err := readSecret(c.Radius.SecretFile)
	if err != nil {
		return nil, nil, fmt.Errorf("radius secret: %w", err)
	}
	pw, err := readSecret(c.Radius.PasswordFile)
	if err != nil {
		return nil, nil, fmt.Errorf("radius password: %w", err)
	}
	nasID := c.Radius.NASIdentifier
	if nasID == "" {
		nasID = c.Name
	}
	rc := &RadiusClient{Server: c.Radius.Server, Secret: secret, NASID: nasID,
		Timeout: time.Duration(c.Radius.TimeoutMs) * time.Millisecond, Retries: c.Radius.Retries}
	if err := rc.Open(local); err != nil {
		return nil, nil, fmt.Errorf("radius client: %w", err)
	}
	return rc, pw, nil
}

// EventLog appends one JSON object per line, written through at once, so that the lab can
// split a migration's downtime into detection, authorization, registration and RA.
type EventLog struct {
	mu   sync.Mutex
	f    *os.File
	node string
	now  func() time.Time
	// Hook, if set, sees every event (tests).
	Hook func(event string, kv []any)
}

func openEventLog(path, node string) (*EventLog, error) {
	l := &EventLog{node: node, now: time.Now}
	if path == "" {
		return l, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	l.f = f
	return l, nil
}

// Emit writes {"tNs","t","node","event", then kv pairs in order}.
func (l *EventLog) Emit(event string, kv ...any) {
	if l == nil {
		return
	}
	t := l.now()
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"tNs":%d,"t":%q,"node":%q,"event":%q`, t.UnixNano(), t.Format(time.RFC3339Nano), l.node, event)
	for i := 0; i+1 < len(kv); i += 2 {
		v, err := json.Marshal(kv[i+1])
		if err != nil {
			v, _ = json.Marshal(fmt.Sprint(kv[i+1]))
		}
		fmt.Fprintf(&b, `,%q:%s`, kv[i], v)
	}
	b.WriteString("}\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Write(b.Bytes())
	} else {
		os.Stderr.Write(b.Bytes())
	}
	if l.Hook != nil {
		l.Hook(event, kv)
	}
}

func (l *EventLog) Close() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

// writeState replaces path atomically with v as indented JSON.
func writeState(path string, v any) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// nai is the MN's identity as OAI pmip6d builds it: its MAC as hex, left-padded with zeros
// to 16 digits (00:16:3e:01:01:01 -> 000000163e010101). It is the RADIUS User-Name and the
// MN-ID NAI.
func nai(mac net.HardwareAddr) string {
	return fmt.Sprintf("%016s", strings.ReplaceAll(mac.String(), ":", ""))
}

// macFromNAI reverses nai, or parses a MAC given as such.
func macFromNAI(s string) (net.HardwareAddr, error) {
	if m, err := net.ParseMAC(s); err == nil && len(m) == 6 && strings.ContainsAny(s, ":-") {
		return m, nil
	}
	if len(s) != 16 {
		return nil, fmt.Errorf("%q is neither a MAC nor a 16-digit MN-ID", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || v>>48 != 0 {
		return nil, fmt.Errorf("%q is not a MAC-derived MN-ID", s)
	}
	m := make(net.HardwareAddr, 6)
	for i := 5; i >= 0; i-- {
		m[i] = byte(v)
		v >>= 8
	}
	return m, nil
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  pmipd run -config FILE
  pmipd show -state FILE
  pmipd pbu -config MAGCONFIG -mn ID -lifetime SECONDS [-timestamp-offset DURATION] [-prefix HNP]
  pmipd tshark-check -pcap FILE
`)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var err error
	switch os.Args[1] {
	case "run":
		cfgPath := fs.String("config", "", "config file (JSON)")
		fs.Parse(os.Args[2:])
		var cfg *Config
		var dp *nlDatapath
		if cfg, err = loadConfig(*cfgPath); err == nil {
			if dp, err = openDatapath(); err == nil {
				err = run(cfg, dp)
				dp.Close()
			}
		}
	case "show":
		state := fs.String("state", "", "state file")
		fs.Parse(os.Args[2:])
		var b []byte
		if b, err = os.ReadFile(*state); err == nil {
			var out bytes.Buffer
			if err = json.Indent(&out, b, "", "  "); err == nil {
				out.WriteByte('\n')
				os.Stdout.Write(out.Bytes())
			}
		}
	case "pbu":
		cfgPath := fs.String("config", "", "the MAG's config file")
		mn := fs.String("mn", "", "the MN: its MN-ID (16 hex digits) or MAC")
		lifetime := fs.Int("lifetime", 0, "lifetime in seconds (0: de-registration)")
		tsOff := fs.Duration("timestamp-offset", 0, "added to the PBU's timestamp (negative: an old PBU)")
		prefix := fs.String("prefix", "", "the HNP (default: from the MAG's state file, else RADIUS)")
		wait := fs.Duration("timeout", 0, "how long to wait for the PBA (default: retransmitMs*(maxRetransmits+1))")
		fs.Parse(os.Args[2:])
		var cfg *Config
		if cfg, err = loadConfig(*cfgPath); err == nil {
			err = cmdPBU(cfg, *mn, *lifetime, *tsOff, *prefix, *wait)
		}
	case "tshark-check":
		pcap := fs.String("pcap", "", "capture file (any link type tshark reads)")
		fs.Parse(os.Args[2:])
		var msgs []TsharkMH
		if msgs, err = TsharkDecode(*pcap); err == nil {
			enc := json.NewEncoder(os.Stdout)
			for _, m := range msgs {
				enc.Encode(m)
			}
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pmipd:", err)
		os.Exit(1)
	}
}
