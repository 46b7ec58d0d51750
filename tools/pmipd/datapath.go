package main

// The kernel state pmipd manages, through iproute2 and /proc/sys: readable, and the same
// commands an operator would type. Tests replace it with a recorder.

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

type realDatapath struct{}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func withTable(args []string, table int) []string {
	if table != 0 {
		args = append(args, "table", strconv.Itoa(table))
	}
	return args
}

// TunnelAdd makes an ip6ip6 tunnel (ip6tnl). encaplimit none: no Tunnel Encapsulation Limit
// option, so packets carry a plain 40-octet outer header.
func (realDatapath) TunnelAdd(name string, local, remote netip.Addr) error {
	if err := ip("-6", "tunnel", "add", name, "mode", "ip6ip6", "local", local.String(), "remote", remote.String(), "encaplimit", "none"); err != nil {
		return err
	}
	return ip("link", "set", "dev", name, "up")
}

func (realDatapath) TunnelDel(name string) error { return ip("link", "del", "dev", name) }

func (realDatapath) RouteReplace(dst netip.Prefix, dev string, table int) error {
	return ip(withTable([]string{"-6", "route", "replace", dst.String(), "dev", dev}, table)...)
}

func (realDatapath) RouteDel(dst netip.Prefix, dev string, table int) error {
	return ip(withTable([]string{"-6", "route", "del", dst.String(), "dev", dev}, table)...)
}

func (realDatapath) RuleAdd(from netip.Prefix, table int) error {
	return ip("-6", "rule", "add", "from", from.String(), "lookup", strconv.Itoa(table))
}

func (realDatapath) RuleDel(from netip.Prefix, table int) error {
	return ip("-6", "rule", "del", "from", from.String(), "lookup", strconv.Itoa(table))
}

func (realDatapath) LinkMAC(dev string) (string, error) {
	i, err := net.InterfaceByName(dev)
	if err != nil {
		return "", err
	}
	return i.HardwareAddr.String(), nil
}

// SetLinkMAC changes the MAC; drivers without live address change need the link down.
func (realDatapath) SetLinkMAC(dev, mac string) error {
	if ip("link", "set", "dev", dev, "address", mac) == nil {
		return nil
	}
	if err := ip("link", "set", "dev", dev, "down"); err != nil {
		return err
	}
	err := ip("link", "set", "dev", dev, "address", mac)
	if e := ip("link", "set", "dev", dev, "up"); err == nil {
		err = e
	}
	return err
}

func (realDatapath) AddrAdd(dev string, a netip.Prefix) error {
	return ip("-6", "addr", "add", a.String(), "dev", dev, "nodad")
}

func (realDatapath) AddrDel(dev string, a netip.Prefix) error {
	return ip("-6", "addr", "del", a.String(), "dev", dev)
}

func (realDatapath) Sysctl(key, value string) (string, error) {
	p := "/proc/sys/" + key // slashes: interface names may hold dots
	old, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(old)), os.WriteFile(p, []byte(value), 0o644)
}
