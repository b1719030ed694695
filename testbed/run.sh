#!/usr/bin/env bash
# Capture testbed: real relayed SSH through a stepping stone S, captured at S, with
# ground truth. Needs root. See testbed/README.md.
#
#   sudo testbed/run.sh [--config FILE] [--out DIR] [--keep]
#   sudo testbed/run.sh --cleanup        # remove what a killed run left behind
#
# --config  link and session config (default testbed/config.json)
# --out     where capture.pcap.gz, labels.csv, counts.json and run.json go
#           (default fixtures/real-capture)
# --keep    keep the run's state folder (keys, logs, raw pcaps) under /tmp
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONFIG=$REPO/testbed/config.json
OUT=$REPO/fixtures/real-capture
KEEP=0
CLEANUP_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --config) CONFIG=$(realpath "$2"); shift 2 ;;
    --out) OUT=$(realpath -m "$2"); shift 2 ;;
    --keep) KEEP=1; shift ;;
    --cleanup) CLEANUP_ONLY=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done

say() { printf '[run] %s\n' "$*" >&2; }
die() { printf '[run] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, TAP devices, sshd, tcpdump)"
cd "$REPO"

# --- packages --------------------------------------------------------------------------
# binary:package for everything the testbed runs.
NEEDS="ip:iproute2 ss:iproute2 sshd:openssh-server ssh:openssh-client scp:openssh-client
ssh-keygen:openssh-client tcpdump:tcpdump socat:socat ethtool:ethtool ping:iputils-ping
mergecap:wireshark-common vi:vim-tiny ps:procps gzip:gzip"
missing=""
for pair in $NEEDS; do
  bin=${pair%%:*}; pkg=${pair#*:}
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
  fi
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -d node_modules/tsx ] || die "node_modules/tsx is missing: run npm ci in $REPO first"
TSX="$REPO/node_modules/.bin/tsx"

# --- layout ----------------------------------------------------------------------------
LAYOUT=$("$TSX" testbed/layout.ts "$CONFIG")
eval "$LAYOUT"
# shellcheck disable=SC2154  # set by layout.ts
STONE_NS=$NS_stone

STATE=""
EMU_PID=""
DRV_PID=""
TCPDUMP_PIDS=""
MADE_RUN_SSHD=0

alive() { kill -0 "$1" 2>/dev/null; }

# Stops everything this script started, in an order that lets each part exit cleanly:
# the driver (and its ssh clients), the capture, every process inside our namespaces
# (sshd and its sessions), the link emulator (whose socat children own the TAP devices),
# then the namespaces themselves.
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ "$rc" -eq 0 ] || say "stopping (status $rc): removing namespaces, links and processes"
  if [ -n "$DRV_PID" ] && alive "$DRV_PID"; then kill -TERM -- "-$DRV_PID" 2>/dev/null; fi
  for p in $TCPDUMP_PIDS; do alive "$p" && kill -INT "$p" 2>/dev/null; done
  local ns pids left i
  for i in 1 2 3 4 5 6 7 8 9 10 11; do
    left=""
    for ns in $NAMESPACES; do
      [ -e "/run/netns/$ns" ] || continue
      pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
      [ -n "${pids// /}" ] || continue
      left="$left $pids"
      if [ "$i" -lt 11 ]; then kill -TERM $pids 2>/dev/null; else kill -KILL $pids 2>/dev/null; fi
    done
    [ -z "${left// /}" ] && break
    sleep 0.5
  done
  if [ -n "$DRV_PID" ]; then
    for i in 1 2 3 4 5 6; do alive "$DRV_PID" || break; sleep 0.5; done
    alive "$DRV_PID" && kill -KILL -- "-$DRV_PID" 2>/dev/null
  fi
  if [ -n "$EMU_PID" ]; then
    alive "$EMU_PID" && { kill -TERM -- "-$EMU_PID" 2>/dev/null || kill -TERM "$EMU_PID" 2>/dev/null; }
    for i in 1 2 3 4 5 6 7 8 9 10; do alive "$EMU_PID" || break; sleep 0.5; done
    alive "$EMU_PID" && { kill -KILL -- "-$EMU_PID" 2>/dev/null || kill -KILL "$EMU_PID" 2>/dev/null; }
  fi
  if [ -n "$STATE" ] && [ -f "$STATE/emulator.ready" ]; then
    # socat processes outlive a SIGKILLed emulator: stop them by the pids it recorded.
    for p in $(grep -o '"socats":\[[0-9,]*\]' "$STATE/emulator.ready" | grep -o '[0-9]\+'); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = socat ] && kill -TERM "$p" 2>/dev/null
    done
  fi
  for ns in $NAMESPACES; do
    [ -e "/run/netns/$ns" ] && ip netns del "$ns" 2>/dev/null
  done
  [ "$MADE_RUN_SSHD" -eq 1 ] && rmdir /run/sshd 2>/dev/null
  if [ -n "$STATE" ]; then
    if [ "$KEEP" -eq 1 ]; then say "state kept in $STATE"; else rm -rf "$STATE"; rm -f "$POINTER"; fi
  fi
  for ns in $NAMESPACES; do
    if [ -e "/run/netns/$ns" ]; then echo "[run] warning: namespace $ns is still there" >&2; [ "$rc" -ne 0 ] || rc=1; fi
  done
  exit "$rc"
}

# Where a run's state folder is, for --cleanup after a run that was killed outright.
POINTER=/tmp/ssbench-testbed.last

if [ "$CLEANUP_ONLY" -eq 1 ]; then
  if [ -f "$POINTER" ]; then
    STATE=$(cat "$POINTER")
    [ -d "$STATE" ] || STATE=""
    # The emulator and the driver run in process groups of their own (setsid): their
    # leaders' pids are in the state folder; a pid only counts while it is still a node.
    for f in emulator driver; do
      p=""
      [ -n "$STATE" ] && [ -f "$STATE/$f.pid" ] && p=$(cat "$STATE/$f.pid")
      [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = node ] || p=""
      if [ "$f" = emulator ]; then EMU_PID=$p; else DRV_PID=$p; fi
    done
    rm -f "$POINTER"
  fi
  trap cleanup EXIT
  say "removing namespaces: $NAMESPACES"
  exit 0
fi

for ns in $NAMESPACES; do
  [ -e "/run/netns/$ns" ] && die "namespace $ns exists (a killed run?): run testbed/run.sh --cleanup"
done

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STATE=$(mktemp -d /tmp/ssbench-testbed.XXXXXX)
chmod 755 "$STATE"
echo "$STATE" >"$POINTER"
mkdir -p "$STATE/keys" "$STATE/cap" "$STATE/log" "$OUT"
T_START=$(date +%s)

# --- namespaces and links --------------------------------------------------------------
for ns in $NAMESPACES; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # No IPv6: its router and neighbour solicitations would only add frames to the links.
  ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
say "namespaces: $NAMESPACES"

# Raised priority: every frame of every link waits on this process's timers, and a
# busy machine would otherwise stretch the emulated delays.
setsid nice -n -10 "$TSX" testbed/link-emulator.ts --config "$CONFIG" --state "$STATE" >"$STATE/log/emulator.log" 2>&1 &
EMU_PID=$!
echo "$EMU_PID" >"$STATE/emulator.pid"
for _ in $(seq 1 300); do
  [ -f "$STATE/emulator.ready" ] && break
  alive "$EMU_PID" || { cat "$STATE/log/emulator.log" >&2; die "link emulator failed"; }
  sleep 0.1
done
[ -f "$STATE/emulator.ready" ] || die "link emulator did not come up"
say "link emulator up (pid $EMU_PID)"

# ARP and ICMP through every emulated link before any SSH.
for l in $LINKS; do
  IFS=: read -r name peer net delay <<<"$l"
  pns=NS_$peer
  res=$(ip netns exec "${!pns}" ping -n -q -c 5 -i 0.2 -W 2 "$net.1" 2>&1 || true)
  recv=$(sed -n 's/.* \([0-9]\+\) received.*/\1/p' <<<"$res")
  minavg=$(sed -n 's#^rtt [^=]*= \([0-9.]*\)/\([0-9.]*\)/.*#\1/\2#p' <<<"$res")
  [ "${recv:-0}" -ge 3 ] || { echo "$res" >&2; die "link $name ($peer <-> S) does not carry ping"; }
  # The first echo also waits for ARP, which is what the average shows above the minimum.
  say "link $name: $peer <-> S ping ok, $recv/5 replies, RTT min/avg ${minavg} ms (configured 2 x ${delay} ms + jitter)"
done

# --- keys and sshd ---------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C ssbench-client -f "$STATE/keys/client"
cp "$STATE/keys/client.pub" "$STATE/keys/authorized_keys"
if [ ! -d /run/sshd ]; then mkdir -p /run/sshd && chmod 755 /run/sshd; MADE_RUN_SSHD=1; fi
for h in $SERVERS; do
  ssh-keygen -q -t ed25519 -N '' -C "ssbench-$h" -f "$STATE/keys/host_$h"
  cfg=$STATE/sshd_$h.conf
  {
    echo "Port 22"
    addrs=ADDRS_$h
    for a in ${!addrs}; do echo "ListenAddress $a"; done
    echo "HostKey $STATE/keys/host_$h"
    echo "PidFile $STATE/sshd_$h.pid"
    echo "AuthorizedKeysFile $STATE/keys/authorized_keys"
    echo "PubkeyAuthentication yes"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "UsePAM no"
    echo "PermitRootLogin prohibit-password"
    # The key files live under /tmp, which StrictModes would reject for its mode.
    echo "StrictModes no"
    echo "UseDNS no"
    echo "PrintMotd no"
    echo "PrintLastLog no"
    echo "X11Forwarding no"
    echo "MaxStartups 200"
    echo "MaxSessions 50"
    echo "SetEnv HOME=$STATE/home/$h"
    echo "Subsystem sftp internal-sftp"
    echo "LogLevel VERBOSE"
  } >"$cfg"
  ns=NS_$h
  "$SSHD" -t -f "$cfg"
  ip netns exec "${!ns}" "$SSHD" -f "$cfg" -E "$STATE/log/sshd_$h.log"
done
for h in $SERVERS; do
  for _ in $(seq 1 50); do [ -s "$STATE/sshd_$h.pid" ] && break; sleep 0.1; done
  [ -s "$STATE/sshd_$h.pid" ] || die "sshd on $h did not start: $(cat "$STATE/log/sshd_$h.log")"
done
say "sshd up on: $SERVERS"

# --- capture at S ----------------------------------------------------------------------
for dev in $STONE_DEVS; do
  ip netns exec "$STONE_NS" tcpdump -i "$dev" -nn -s "$SNAPLEN" -U -Z root -w "$STATE/cap/$dev.pcap" 'tcp port 22' \
    2>"$STATE/log/tcpdump_$dev.log" &
  TCPDUMP_PIDS="$TCPDUMP_PIDS $!"
done
for dev in $STONE_DEVS; do
  for _ in $(seq 1 50); do grep -q 'listening on' "$STATE/log/tcpdump_$dev.log" 2>/dev/null && break; sleep 0.1; done
  grep -q 'listening on' "$STATE/log/tcpdump_$dev.log" || die "tcpdump on $dev did not start: $(cat "$STATE/log/tcpdump_$dev.log")"
done
say "capturing port 22 on S ($STONE_DEVS), snap length $SNAPLEN"

# --- sessions --------------------------------------------------------------------------
setsid "$TSX" testbed/driver.ts --config "$CONFIG" --state "$STATE" --truth "$STATE/truth.json" \
  2> >(tee "$STATE/log/driver.log" >&2) &
DRV_PID=$!
echo "$DRV_PID" >"$STATE/driver.pid"
set +e
wait "$DRV_PID"
drv_rc=$?
set -e
DRV_PID=""
case $drv_rc in
  0) ;;
  2) say "warning: some relay sessions failed or had no pair at S (see above); labelling what was captured" ;;
  *) die "driver failed ($drv_rc)" ;;
esac

# --- capture out -----------------------------------------------------------------------
for p in $TCPDUMP_PIDS; do kill -INT "$p" 2>/dev/null || true; done
for p in $TCPDUMP_PIDS; do wait "$p" 2>/dev/null || true; done
TCPDUMP_PIDS=""
drops=0
for dev in $STONE_DEVS; do
  d=$(sed -n 's/^\([0-9]\+\) packets dropped by kernel.*/\1/p' "$STATE/log/tcpdump_$dev.log")
  drops=$((drops + ${d:-0}))
done
[ "$drops" -eq 0 ] || say "warning: tcpdump reports $drops packets dropped by the kernel"
# One Ethernet pcap for all of S's interfaces, in time order.
mergecap -F pcap -w "$STATE/capture.pcap" "$STATE"/cap/*.pcap

set +e
"$TSX" testbed/label.ts --config "$CONFIG" --truth "$STATE/truth.json" --pcap "$STATE/capture.pcap" --out "$OUT" \
  >"$STATE/summary.json"
lbl_rc=$?
set -e
cat "$STATE/summary.json" >&2
[ "$lbl_rc" -eq 0 ] || say "warning: labelling reported problems (see summary)"
gzip -9 -n -c "$STATE/capture.pcap" >"$OUT/capture.pcap.gz"

# Facts of the run (no dates): the config, what each session did, the capture summary.
T_END=$(date +%s)
node -e '
  const fs = require("fs");
  const [config, truth, summary, out, drops, secs] = process.argv.slice(1);
  const t = JSON.parse(fs.readFileSync(truth, "utf8"));
  const run = {
    config: JSON.parse(fs.readFileSync(config, "utf8")),
    runSeconds: Number(secs),
    tcpdumpKernelDrops: Number(drops),
    capture: JSON.parse(fs.readFileSync(summary, "utf8")),
    sessions: t.sessions.map(({ id, kind, from, to, ok, error, start, end, keystrokes, commands, bytes, copy, cipher }) =>
      ({ id, kind, from, to, ok, error, start: +start.toFixed(1), end: +end.toFixed(1), keystrokes, commands, bytes, copy, cipher })),
    monitorProblems: t.problems,
  };
  fs.writeFileSync(out, JSON.stringify(run, null, 1) + "\n");
' "$CONFIG" "$STATE/truth.json" "$STATE/summary.json" "$OUT/run.json" "$drops" "$((T_END - T_START))"

# The emulator writes its statistics when stopped: stop it now, then add them.
kill -TERM -- "-$EMU_PID" 2>/dev/null || true
for _ in $(seq 1 50); do alive "$EMU_PID" || break; sleep 0.1; done
EMU_PID=""
if [ -f "$STATE/emulator-stats.json" ]; then
  node -e '
    const fs = require("fs");
    const [run, stats] = process.argv.slice(1);
    const r = JSON.parse(fs.readFileSync(run, "utf8"));
    const s = JSON.parse(fs.readFileSync(stats, "utf8"));
    for (const d of Object.values(s)) for (const k of Object.keys(d)) if (typeof d[k] === "number" && !Number.isInteger(d[k])) d[k] = +d[k].toFixed(3);
    r.linkStats = s;
    fs.writeFileSync(run, JSON.stringify(r, null, 1) + "\n");
  ' "$OUT/run.json" "$STATE/emulator-stats.json"
fi
say "done in $((T_END - T_START)) s: $(du -h "$OUT/capture.pcap.gz" | cut -f1) capture in $OUT"
