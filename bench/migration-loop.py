#!/usr/bin/env python3
# A diagnostic, not the lab's migration action: N live migrations of vm1 back and forth on a
# built default lab (STACK=<stack>, emulated, e.g. local-wan at trans-pacific), straight
# through virsh, each probed from the client every 10 ms. One JSON line per migration:
# libvirt's downtime and elapsed time, the probe's longest silence, whether the VM answered
# within 15 s (hung if not: it stops there), late (silence > downtime + 1 s), the soft
# lockups its console gained and, while it stays silent, samples of the vCPU's RIP and
# flags, the tap's packet counters and the top CPU users.
#   STACK=local-wan python3 bench/migration-loop.py 30 results/migration-loop.jsonl
import subprocess, sys, time, re, json, os
N = int(sys.argv[1]); out = open(sys.argv[2], "a")
STACK = os.environ.get("STACK", "local-wan")
PROBE_LOG = f"/tmp/wanlab-migration-loop-{os.getpid()}.log"
R = f"/run/wanlab/{STACK}"
uri = lambda h: f"qemu+unix:///system?socket={R}/{h}/fs/run/libvirt/libvirt-sock"
ip = {"host1": "192.168.1.10", "host2": "192.168.2.10"}
def sh(c, **k): return subprocess.run(c, shell=True, capture_output=True, text=True, **k)
def where():
    for h in ("host1", "host2"):
        if sh(f"virsh -c '{uri(h)}' domstate vm1").stdout.strip() == "running": return h
def lockups():
    n = 0
    for h in ("host1", "host2"):
        f = f"{R}/{h}/fs/var/log/libvirt/vm1-console.log"
        if os.path.exists(f): n += open(f, errors="replace").read().count("soft lockup")
    return n
for i in range(N):
    src = where(); dst = "host2" if src == "host1" else "host1"
    lk0 = lockups()
    pf = open(PROBE_LOG, "w")
    probe = subprocess.Popen(f"exec ip netns exec wl-{STACK}-storage ping -n -D -i 0.01 -W 1 10.0.0.100", shell=True, stdout=pf, text=True)
    time.sleep(1)
    t0 = time.time()
    m = sh(f"timeout 300 virsh -c '{uri(src)}' migrate --live --persistent --undefinesource vm1 '{uri(dst)}' tcp://{ip[dst]}")
    t1 = time.time()
    def arrivals():
        return [float(mm.group(1)) for l in open(PROBE_LOG) for mm in [re.match(r"\[(\d+\.\d+)\].*icmp_seq", l)] if mm]
    answered = None
    diag = []
    def tapstats():
        try:
            links = json.loads(sh(f"ip -n wl-{STACK}-{dst} -s -j link show").stdout)
        except Exception:
            return None
        return [(l["ifname"], l["stats64"]["rx"]["packets"], l["stats64"]["tx"]["packets"]) for l in links if l["ifname"].startswith("vnet")]
    while time.time() < t1 + 15:
        after = [a for a in arrivals() if a > t1]
        if after: answered = after[0]; break
        if time.time() > t1 + 1.5 and len(diag) < 30:
            regs = sh(f"virsh -c '{uri(dst)}' qemu-monitor-command vm1 --hmp 'info registers'").stdout
            rip = re.search(r"RIP=(\w+) RFL=(\w+).*HLT=(\d)", regs)
            cpu = sh("top -bn1 -o %CPU | sed -n 8,11p | awk '{print $9, $12}' | tr '\\n' ' '").stdout
            diag.append({"t": round(time.time() - t1, 1), "rip": rip.groups() if rip else None, "tap": tapstats(), "top": cpu})
        time.sleep(0.25)
    time.sleep(1)
    probe.terminate(); probe.wait(); pf.close()
    arr = [a for a in arrivals() if a >= t0 - 0.5]
    gap = max((b - a for a, b in zip(arr, arr[1:])), default=0) * 1000
    job = sh(f"virsh -c '{uri(dst)}' domjobinfo vm1 --completed").stdout
    dt = re.search(r"Total downtime:\s+(\d+)", job); dt = int(dt.group(1)) if dt else None
    el = re.search(r"Time elapsed:\s+(\d+)", job); el = int(el.group(1)) if el else None
    lk = lockups() - lk0
    rec = {"i": i, "from": src, "to": dst, "rc": m.returncode, "err": m.stderr.strip()[-200:], "wallMs": round((t1 - t0) * 1000),
           "elapsedMs": el, "libvirtDowntimeMs": dt, "probeGapMs": round(gap), "answered": answered is not None,
           "late": answered is not None and dt is not None and gap - dt > 1000, "lockups": lk, "at": time.strftime("%H:%M:%S"), "diag": diag}
    out.write(json.dumps(rec) + "\n"); out.flush()
    print(json.dumps(rec), flush=True)
    if not rec["answered"]:
        print("HUNG: stopping", flush=True); break

if os.path.exists(PROBE_LOG):
    os.remove(PROBE_LOG)
