package main

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestNetlinkDatapath makes routes, rules, an address and a MAC change through the netlink
// datapath in a namespace, on a veth pair (a kernel without dummy links will do), checks
// them with iproute2 against what iproute2 itself makes, and times a route change both ways.
// Tunnels need ip6_tunnel: where the kernel lacks it, only the error path is seen here, and
// tunnels are exercised in the router appliance.
func TestNetlinkDatapath(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (a network namespace)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no iproute2")
	}
	ns := fmt.Sprintf("pmipd-nl-%d", os.Getpid()%100000)
	sh(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, c := range [][]string{
		{"ip", "-n", ns, "link", "add", "n0", "type", "veth", "peer", "name", "n1"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "link", "set", "n0", "up"},
		{"ip", "-n", ns, "link", "set", "n1", "up"},
	} {
		sh(t, c...)
	}
	var dp *nlDatapath
	errc := make(chan error, 1)
	if err := inNetns(ns, func() {
		var err error
		dp, err = openDatapath()
		errc <- err
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	ipn := func(args ...string) string { return sh(t, append([]string{"ip", "-n", ns}, args...)...) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	hnp, def := testHNP, netip.MustParsePrefix("::/0")

	// Routes: as iproute2 makes them (same attributes, proto boot), and replace replaces.
	must(dp.RouteReplace(hnp, "n0", 0))
	must(dp.RouteReplace(hnp, "n1", 0))
	if got := ipn("-6", "route", "show", hnp.String()); !strings.HasPrefix(got, hnp.String()+" dev n1 metric 1024") || strings.Count(got, "\n") != 1 {
		t.Errorf("main table:\n%s", got)
	}
	must(dp.RouteReplace(def, "n0", 100))
	ipn("-6", "route", "replace", "default", "dev", "n0", "table", "101")
	table := regexp.MustCompile(`table \d+ `)
	ours, theirs := ipn("-6", "-d", "route", "show", "table", "100"), ipn("-6", "-d", "route", "show", "table", "101")
	if ours == "" || table.ReplaceAllString(ours, "") != table.ReplaceAllString(theirs, "") {
		t.Errorf("table 100 (netlink):\n%stable 101 (ip):\n%s", ours, theirs)
	}

	// Rules: from the HNP lookup the table, with the priority the kernel picks, as iproute2's.
	must(dp.RuleAdd(hnp, 100))
	ipn("-6", "rule", "add", "from", "2001:db8:1:2::/64", "lookup", "101")
	rules := ipn("-6", "-d", "rule", "show")
	ourRule := regexp.MustCompile(`(?m)^\d+:\s+from 2001:db8:1:1::/64 lookup 100 ?(.*)$`).FindStringSubmatch(rules)
	theirRule := regexp.MustCompile(`(?m)^\d+:\s+from 2001:db8:1:2::/64 lookup 101 ?(.*)$`).FindStringSubmatch(rules)
	if ourRule == nil || theirRule == nil || ourRule[1] != theirRule[1] {
		t.Errorf("rules, ours (100) and iproute2's (101):\n%s", rules)
	}

	// The MAG's access setup: MAC and link-local (nodad: not tentative).
	must(dp.SetLinkMAC("n0", "00:11:22:33:44:55"))
	if mac, err := dp.LinkMAC("n0"); err != nil || mac != "00:11:22:33:44:55" {
		t.Errorf("MAC %s %v", mac, err)
	}
	ll := netip.MustParsePrefix("fe80::211:22ff:fe33:4455/64")
	must(dp.AddrAdd("n0", ll))
	if got := ipn("-6", "addr", "show", "dev", "n0"); !strings.Contains(got, "inet6 fe80::211:22ff:fe33:4455/64 scope link nodad") || strings.Contains(got, "4455/64 scope link tentative") {
		t.Errorf("addresses:\n%s", got)
	}

	// Timing: one route change through netlink, and through a fork and exec of iproute2.
	const nNL, nExec = 500, 50
	start := time.Now()
	for range nNL {
		must(dp.RouteReplace(hnp, "n0", 0))
	}
	perNL := time.Since(start) / nNL
	start = time.Now()
	for range nExec {
		ipn("-6", "route", "replace", hnp.String(), "dev", "n0")
	}
	perExec := time.Since(start) / nExec
	t.Logf("route replace: netlink %v, exec of ip %v (x%.0f)", perNL, perExec, float64(perExec)/float64(perNL))

	// And back: nothing of ours left.
	must(dp.RuleDel(hnp, 100))
	must(dp.RouteDel(hnp, "n0", 0))
	must(dp.RouteDel(def, "n0", 100))
	must(dp.AddrDel("n0", ll))
	if err := dp.RouteDel(hnp, "n0", 0); err == nil {
		t.Error("deleting a route that is gone succeeded")
	}
	if got := ipn("-6", "route", "show", hnp.String()) + ipn("-6", "route", "show", "table", "100") + ipn("-6", "addr", "show", "dev", "n0"); strings.Contains(got, "2001:db8:1:1::/64") ||
		strings.Contains(got, "default dev") || strings.Contains(got, "4455/64") {
		t.Errorf("left over:\n%s", got)
	}
	if got := ipn("-6", "rule", "show"); strings.Contains(got, "lookup 100") {
		t.Errorf("rule left over:\n%s", got)
	}
	if err := dp.RouteReplace(hnp, "nosuch0", 0); err == nil || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("route to a missing link: %v", err)
	}

	// The tunnel, where the kernel has ip6_tunnel.
	local, remote := netip.MustParseAddr("2001:100:1::2"), netip.MustParseAddr("2001:100:1::1")
	start = time.Now()
	if err := dp.TunnelAdd("pmip0", local, remote); err != nil {
		t.Logf("no ip6tnl in this kernel (%v): tunnels are exercised in the router appliance only", err)
		return
	}
	tunnelNL := time.Since(start)
	must(dp.TunnelAdd("pmip0", local, remote)) // a leftover is replaced
	got := ipn("-d", "link", "show", "pmip0")
	for _, want := range []string{"ip6tnl ip6ip6 remote 2001:100:1::1 local 2001:100:1::2", "encaplimit none", "hoplimit 64", ",UP"} {
		if !strings.Contains(got, want) {
			t.Errorf("tunnel: no %q in\n%s", want, got)
		}
	}
	must(dp.RouteReplace(def, "pmip0", 100))
	must(dp.TunnelDel("pmip0"))
	if ipn("-6", "route", "show", "table", "100") != "" {
		t.Error("the tunnel's route outlived it")
	}
	start = time.Now()
	ipn("-6", "tunnel", "add", "pmip1", "mode", "ip6ip6", "local", local.String(), "remote", remote.String(), "encaplimit", "none")
	ipn("link", "set", "dev", "pmip1", "up")
	t.Logf("tunnel add and up: netlink %v, exec of ip %v", tunnelNL, time.Since(start))
	if theirs := ipn("-d", "link", "show", "pmip1"); !strings.Contains(theirs, strings.SplitN(got, "ip6tnl", 2)[1]) {
		t.Errorf("tunnel, ours:\n%s\niproute2's:\n%s", got, theirs)
	}
	must(dp.TunnelDel("pmip1"))
}
