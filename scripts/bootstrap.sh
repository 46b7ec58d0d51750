#!/usr/bin/env bash
# Installs what wanlab needs on a fresh Debian machine and prints the environment to use:
#   Debian packages, npm packages, and the Pulumi engine (a `pulumi` on PATH if there is one,
#   else the CLI built from the Go module pinned in tools/go.mod, plus the project's own
#   Node.js language host and command provider in tools/engine/bin).
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
log() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------
# Tools the emulated lab runs: namespaces and links (iproute2, util-linux), checks (ping),
# the ssh transport test (openssh), checksum offload (ethtool), Open vSwitch, libvirt with
# QEMU and its userspace iSCSI driver, the tgt iSCSI target, socat (the appliances' SSH
# forwarder), iperf3, FRR (copied into the router appliance's image), what the images
# are built with (cpio, gzip), shellcheck, which npm test runs on every script, and
# busybox-static and bc, which the hand-written baseline lab (bench/manual-lab.sh) uses, and
# tini, which reaps the QEMUs of an emulated host's libvirtd (libvirtd-create.sh), and
# nftables, whose counters give each migration's traffic split (modules/traffic), and
# nfs-ganesha with its VFS backend and rpcbind, the userspace NFSv3 server (modules/nfs;
# this kernel has no nfsd), and what watches TCP during a migration (seed 004): sockperf
# (TCP request/response, in the guest and on the client) and tcpdump (the migration's
# connection).
DEB_PACKAGES=(iproute2 iputils-ping util-linux procps ethtool openssh-server openssh-client kmod frr
  openvswitch-switch libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  tgt cpio gzip gawk socat iperf3 shellcheck busybox-static bc tini nftables
  nfs-ganesha nfs-ganesha-vfs rpcbind sockperf tcpdump)
# FreeRADIUS 3 and its radclient: seed 001's AAA server (modules/radius), one per lab on its
# host, with its own raddb (the package's service is not started, and not used).
DEB_PACKAGES+=(freeradius freeradius-utils)
# tshark: its mip6 dissector checks pmipd's PBU and PBA on the wire (tools/pmipd tests, the lab's
# captures through `pmipd tshark-check`).
DEB_PACKAGES+=(tshark)
# QEMU 9.0 or newer: older ones lose guest memory writes in a live migration under TCG
# (docs/experiments/tcg-migration-hang). Debian 12 has 7.2, so there it comes from
# bookworm-backports.
QEMU_PACKAGES=(qemu-system-x86 qemu-block-extra qemu-utils)
QEMU_MIN=1:9.0
BACKPORTS=/etc/apt/sources.list.d/wanlab-bookworm-backports.sources

apt_install() {  # [apt-get options...] packages...
  [ "$(id -u)" = 0 ] || { log "need root to install Debian packages: $*"; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  # Packages must not start their system daemons: each lab host runs its own.
  local policy=/usr/sbin/policy-rc.d had_policy=0
  [ -e "$policy" ] && had_policy=1
  [ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; }
  apt-get install -y -qq --no-install-recommends "$@" >&2
  [ "$had_policy" = 1 ] || rm -f "$policy"
}
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >&2
  apt_install "${missing[@]}"
fi
qemu_version() { v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null) || v=; echo "${v:-none}"; }
if ! dpkg --compare-versions "$(qemu_version)" ge "$QEMU_MIN" 2>/dev/null; then
  # shellcheck source=/dev/null # the machine's own
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = bookworm ]; then
    log "installing QEMU from bookworm-backports (the installed one, $(qemu_version), is older than 9.0)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$BACKPORTS"
    apt-get update -qq >&2
    apt_install -t bookworm-backports "${QEMU_PACKAGES[@]}"
  else
    log "installing QEMU"
    apt-get update -qq >&2
    apt_install "${QEMU_PACKAGES[@]}"
  fi
  dpkg --compare-versions "$(qemu_version)" ge "$QEMU_MIN" \
    || { log "QEMU $(qemu_version) is older than 9.0, which live migration under TCG needs: install a newer qemu-system-x86"; exit 1; }
fi

# libvirt's QEMU driver resolves its default user at start, even when qemu.conf says root;
# libvirt-daemon-system (not installed: it would start a system daemon) creates it.
getent passwd libvirt-qemu >/dev/null || useradd --system --no-create-home --home-dir /var/lib/libvirt \
  --shell /usr/sbin/nologin --user-group libvirt-qemu

# --- npm packages ----------------------------------------------------------------------
# .npmrc sets ignore-scripts: @pulumi/command's install script would download a plugin.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund >&2
fi

# One of the project's Go programs (tools/<pkg>, module tools/go.mod) into OUT, unless OUT
# is newer than its source: written beside and moved, so that a symlink left at OUT (an
# older bootstrap's) is replaced, not written through. The environment passes to go build.
go_build() {
  local out=$1 pkg=$2 what=$3
  # Any Go file of the package newer than the binary (not only main.go) means a build.
  if [ -L "$out" ] || [ ! -x "$out" ] || [ -n "$(find "tools/$pkg" -name '*.go' -newer "$out" -print -quit)" ] || [ tools/go.sum -nt "$out" ]; then
    command -v go >/dev/null || { log "no Go toolchain to build $what (tools/$pkg): install Go"; exit 1; }
    log "building $what (tools/$pkg)"
    mkdir -p "$(dirname "$out")"
    (cd tools && go build -trimpath -o "$out.tmp" "./$pkg") >&2
    mv -f "$out.tmp" "$out"
  fi
}

# --- Pulumi engine -----------------------------------------------------------------------
PULUMI_VERSION=$(node -p 'require("./package.json").dependencies["@pulumi/pulumi"]')
BIN="$ROOT/.tools/bin"
mkdir -p "$BIN"
if command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$BIN/pulumi" ]; then
  log "using the Pulumi CLI on PATH: $(command -v pulumi) ($(pulumi version))"
else
  if [ ! -x "$BIN/pulumi" ] || [ "$("$BIN/pulumi" version 2>/dev/null)" != "v$PULUMI_VERSION" ]; then
    command -v go >/dev/null || { log "no pulumi on PATH and no Go toolchain to build it"; exit 1; }
    grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" tools/go.mod \
      || { log "tools/go.mod does not pin pkg/v3 v$PULUMI_VERSION (package.json): fix one of them"; exit 1; }
    log "building the Pulumi CLI v$PULUMI_VERSION from Go modules (a cold build takes several minutes)"
    start=$(date +%s)
    (cd tools && go build -trimpath -o "$BIN/pulumi" \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) >&2
    log "built $BIN/pulumi in $(( $(date +%s) - start ))s"
  fi
  # The language host sits beside the CLI, where the engine looks for it first: a Go front
  # (tools/engine/langhost) that answers the engine's first call at once, and hands Run to
  # the Node.js host. It replaces the symlink an older bootstrap put there.
  go_build "$BIN/pulumi-language-nodejs" engine/langhost "the language host"
fi

# The command provider, installed as a plugin of the version @pulumi/command asks for
# (in the project's PULUMI_HOME), unless a real one is installed there already.
CMD_VERSION=$(node -p 'require("./package.json").dependencies["@pulumi/command"]')
PLUGIN_DIR="$ROOT/.tools/pulumi-home/plugins/resource-command-v$CMD_VERSION"
if [ ! -e "$PLUGIN_DIR/pulumi-resource-command" ]; then
  mkdir -p "$PLUGIN_DIR"
  ln -sfn "$ROOT/tools/engine/bin/pulumi-resource-command" "$PLUGIN_DIR/pulumi-resource-command"
fi
rm -f "$BIN/pulumi-resource-command"   # an older bootstrap put it on PATH

# --- The project's own programs ------------------------------------------------------
# wanlab-probe (tools/probe): the studies' UDP and TCP probes, for the guest image and
# the probe host. Static, so that the busybox guest needs no library for it.
CGO_ENABLED=0 go_build "$ROOT/.cache/bin/wanlab-probe" probe "the probes"
# pmipd (tools/pmipd): the PMIPv6 LMA/MAG daemon, for the router appliance (seed 001).
CGO_ENABLED=0 go_build "$ROOT/.cache/bin/pmipd" pmipd "the PMIPv6 daemon"
rm -f "$ROOT/.cache/bin/wanlab-udp"   # its name before the TCP probe

# --- Images ---------------------------------------------------------------------------
# From Debian packages, cached in .cache/images: the small Linux guest that migrates, and
# the router appliance (a kernel with WAN emulation, GRE, IPv6 tunnels, OVS; iproute2, sshd).
[ -n "$(apt-cache depends linux-image-amd64 2>/dev/null)" ] || apt-get update -qq >&2
bash scripts/image.sh guest
bash scripts/image.sh router

# --- Environment ----------------------------------------------------------------------
# A local file backend inside the project and a passphrase secrets provider: no account,
# no network. Set PULUMI_CONFIG_PASSPHRASE yourself for a lab whose secrets matter.
mkdir -p "$ROOT/.state"
cat > "$ROOT/.tools/env.sh" <<ENV
export PATH="$BIN:\$PATH"
export PULUMI_BACKEND_URL="\${PULUMI_BACKEND_URL:-file://$ROOT/.state}"
export PULUMI_CONFIG_PASSPHRASE="\${PULUMI_CONFIG_PASSPHRASE-wanlab-local}"
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_HOME="\${PULUMI_HOME:-$ROOT/.tools/pulumi-home}"
ENV
log "engine ready; environment in .tools/env.sh"
