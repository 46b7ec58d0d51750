package main

// The kernel state pmipd manages: links, addresses, routes and rules through rtnetlink (one
// socket, opened at start in the daemon's network namespace), sysctls through /proc/sys.
// Each change is one netlink request and its ACK, in process: under TCG a fork and exec of
// iproute2 cost 25-65 ms, which landed in the migration downtime. Tests replace it with a
// recorder.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Datapath changes the kernel's links, addresses, routes and rules.
type Datapath interface {
	TunnelAdd(name string, local, remote netip.Addr) error
	TunnelDel(name string) error
	RouteReplace(dst netip.Prefix, dev string, table int) error // table 0: main
	RouteDel(dst netip.Prefix, dev string, table int) error
	RuleAdd(from netip.Prefix, table int) error
	RuleDel(from netip.Prefix, table int) error
	LinkMAC(dev string) (string, error)
	SetLinkMAC(dev, mac string) error
	AddrAdd(dev string, a netip.Prefix) error
	AddrDel(dev string, a netip.Prefix) error
	Sysctl(key, value string) (old string, err error) // key as under /proc/sys
}

// nlDatapath is the real one: a netlink handle bound to the network namespace of the thread
// that opened it.
type nlDatapath struct{ h *netlink.Handle }

func openDatapath() (*nlDatapath, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("rtnetlink socket: %w", err)
	}
	return &nlDatapath{h}, nil
}

func (d *nlDatapath) Close() { d.h.Close() }

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func (d *nlDatapath) link(dev string) (netlink.Link, error) {
	l, err := d.h.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", dev, err)
	}
	return l, nil
}

// TunnelAdd makes an ip6ip6 tunnel (ip6tnl), up, as `ip -6 tunnel add NAME mode ip6ip6 local
// L remote R encaplimit none` and `ip link set NAME up` did: hop limit 64, and no Tunnel
// Encapsulation Limit option, so packets carry a plain 40-octet outer header. A link of that
// name (left by a killed pmipd) is replaced.
func (d *nlDatapath) TunnelAdd(name string, local, remote netip.Addr) error {
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.Flags = name, net.FlagUp
	t := &netlink.Ip6tnl{LinkAttrs: attrs, Local: local.AsSlice(), Remote: remote.AsSlice(), Proto: unix.IPPROTO_IPV6,
		Ttl: 64, EncapLimit: 4, Flags: uint32(netlink.IP6_TNL_F_IGN_ENCAP_LIMIT)}
	err := d.h.LinkAdd(t)
	if errors.Is(err, unix.EEXIST) {
		if old, e := d.h.LinkByName(name); e == nil && d.h.LinkDel(old) == nil {
			err = d.h.LinkAdd(t)
		}
	}
	if err != nil {
		return fmt.Errorf("ip6tnl %s local %s remote %s: %w", name, local, remote, err)
	}
	return nil
}

func (d *nlDatapath) TunnelDel(name string) error {
	l, err := d.link(name)
	if err == nil {
		err = d.h.LinkDel(l)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// route is `DST dev DEV [table T]`, proto boot, as iproute2 makes it.
func (d *nlDatapath) route(dst netip.Prefix, dev string, table int) (*netlink.Route, error) {
	l, err := d.link(dev)
	if err != nil {
		return nil, err
	}
	return &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipNet(dst), Table: table}, nil
}

func (d *nlDatapath) RouteReplace(dst netip.Prefix, dev string, table int) error {
	r, err := d.route(dst, dev, table)
	if err == nil {
		err = d.h.RouteReplace(r)
	}
	if err != nil {
		return fmt.Errorf("route replace %s dev %s table %d: %w", dst, dev, table, err)
	}
	return nil
}

func (d *nlDatapath) RouteDel(dst netip.Prefix, dev string, table int) error {
	r, err := d.route(dst, dev, table)
	if err == nil {
		err = d.h.RouteDel(r)
	}
	if err != nil {
		return fmt.Errorf("route del %s dev %s table %d: %w", dst, dev, table, err)
	}
	return nil
}

// rule is `from PREFIX lookup TABLE`, with the priority the kernel picks.
func rule(from netip.Prefix, table int) *netlink.Rule {
	r := netlink.NewRule()
	r.Family, r.Src, r.Table = unix.AF_INET6, ipNet(from), table
	return r
}

func (d *nlDatapath) RuleAdd(from netip.Prefix, table int) error {
	if err := d.h.RuleAdd(rule(from, table)); err != nil {
		return fmt.Errorf("rule add from %s lookup %d: %w", from, table, err)
	}
	return nil
}

func (d *nlDatapath) RuleDel(from netip.Prefix, table int) error {
	if err := d.h.RuleDel(rule(from, table)); err != nil {
		return fmt.Errorf("rule del from %s lookup %d: %w", from, table, err)
	}
	return nil
}

func (d *nlDatapath) LinkMAC(dev string) (string, error) {
	l, err := d.link(dev)
	if err != nil {
		return "", err
	}
	return l.Attrs().HardwareAddr.String(), nil
}

// SetLinkMAC changes the MAC; drivers without live address change need the link down.
func (d *nlDatapath) SetLinkMAC(dev, mac string) error {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return err
	}
	l, err := d.link(dev)
	if err != nil {
		return err
	}
	if d.h.LinkSetHardwareAddr(l, hw) == nil {
		return nil
	}
	if err := d.h.LinkSetDown(l); err != nil {
		return fmt.Errorf("%s down: %w", dev, err)
	}
	err = d.h.LinkSetHardwareAddr(l, hw)
	if e := d.h.LinkSetUp(l); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("%s address %s: %w", dev, mac, err)
	}
	return nil
}

// AddrAdd adds a with nodad: usable at once.
func (d *nlDatapath) AddrAdd(dev string, a netip.Prefix) error {
	l, err := d.link(dev)
	if err == nil {
		err = d.h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(a), Flags: unix.IFA_F_NODAD})
	}
	if err != nil {
		return fmt.Errorf("addr add %s dev %s: %w", a, dev, err)
	}
	return nil
}

func (d *nlDatapath) AddrDel(dev string, a netip.Prefix) error {
	l, err := d.link(dev)
	if err == nil {
		err = d.h.AddrDel(l, &netlink.Addr{IPNet: ipNet(a)})
	}
	if err != nil {
		return fmt.Errorf("addr del %s dev %s: %w", a, dev, err)
	}
	return nil
}

func (d *nlDatapath) Sysctl(key, value string) (string, error) {
	p := "/proc/sys/" + key // slashes: interface names may hold dots
	old, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(old)), os.WriteFile(p, []byte(value), 0o644)
}
