#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vnmon quickstart: installs what vnmon needs from Debian, builds it, and runs
# vnmon-agent and vnmon-analyzer
#   - against the local Open vSwitch, if it has bridges, or
#   - against a demo lab (tools/vnmon-lab: a sandboxed OVS with 2 tenants x 2
#     VMs in network namespaces) when it has none,
# each with a Redis of its own on a unix socket, then shows `vnmonctl status`.
#
#   tools/quickstart.sh [start]   install, build, start (the default)
#   tools/quickstart.sh stop      stop the daemons (and the demo lab)
#   tools/quickstart.sh status    vnmonctl status
#
# Options (environment): VNM_DEMO_DIR (state directory, default
# /tmp/vnmon-demo), VNM_DEMO_NAME (lab name, default vnmdemo), VNM_BUILDDIR
# (build tree, default _build/run, or the source tree if configured there),
# VNM_NO_INSTALL=1 (skip apt-get), VNM_FORCE_LAB=1 (use a demo lab even if
# the local OVS has bridges).
set -euo pipefail

top=$(cd -- "$(dirname -- "$0")/.." && pwd)
if [ -n "${VNM_BUILDDIR:-}" ]; then
    build=$VNM_BUILDDIR
elif [ -f "$top/config.status" ]; then
    build=$top                  # Configured in place by hand.
else
    build=$top/_build/run
fi
state=${VNM_DEMO_DIR:-/tmp/vnmon-demo}
name=${VNM_DEMO_NAME:-vnmdemo}
lab=$top/tools/vnmon-lab

say() { printf 'quickstart: %s\n' "$*"; }
die() { printf 'quickstart: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages, creates namespaces and talks to OVS)"

stop_pidfile() {
    local f=$1 pid n=30
    [ -r "$f" ] || return 0
    pid=$(tr -dc '0-9' <"$f")
    [ -n "$pid" ] || return 0
    if grep -q vnmon "/proc/$pid/comm" 2>/dev/null \
        || grep -q redis "/proc/$pid/comm" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
            sleep 0.1
            n=$((n - 1))
        done
    fi
    rm -f "$f"
}

do_stop() {
    stop_pidfile "$state/run/vnmon-agent.pid"
    stop_pidfile "$state/run/vnmon-analyzer.pid"
    if [ -f "$state/mode" ] && [ "$(cat "$state/mode")" = lab ]; then
        "$lab" down --name "$name" --dir "$state/lab" || true
    else
        stop_pidfile "$state/run/redis.pid"
    fi
    rm -rf "$state"
    say "stopped"
}

redis_addr() { printf 'unix:%s' "$(cat "$state/redis.sock.path")"; }

do_status() {
    [ -f "$state/redis.sock.path" ] || die "not running (no $state)"
    "$build/tools/vnmonctl" --redis "$(redis_addr)" status
}

wait_for() { # wait_for SECONDS CMD...
    local n=$(($1 * 10))
    shift
    until "$@" >/dev/null 2>&1; do
        n=$((n - 1))
        [ "$n" -gt 0 ] || return 1
        sleep 0.1
    done
}

do_start() {
    if [ -d "$state" ]; then
        die "$state exists: already started? run '$0 stop' first"
    fi

    if [ "${VNM_NO_INSTALL:-0}" != 1 ]; then
        say "installing Debian packages"
        "$top/tools/install-deps.sh"
    fi

    say "building in $build"
    if [ ! -f "$build/Makefile" ]; then
        if [ ! -x "$top/configure" ]; then
            (cd "$top" && autoreconf -fi >/dev/null 2>&1) \
                || die "autoreconf failed"
        fi
        mkdir -p "$build"
        (cd "$build" && "$top/configure" --quiet) || die "configure failed"
    fi
    make -C "$build" -j"$(nproc)" >"$build/quickstart-build.log" 2>&1 \
        || { tail -n 30 "$build/quickstart-build.log"; die "build failed"; }

    mkdir -p "$state/etc" "$state/run" "$state/log"
    local ns_exec=() ovsdb redis_sock
    if [ "${VNM_FORCE_LAB:-0}" != 1 ] \
        && [ -S /run/openvswitch/db.sock ] \
        && [ -n "$(ovs-vsctl --timeout=3 list-br 2>/dev/null)" ]; then
        say "local Open vSwitch has bridges: $(ovs-vsctl list-br | tr '\n' ' ')"
        echo local >"$state/mode"
        ovsdb=/run/openvswitch/db.sock
        ovs_rundir=/run/openvswitch
        host_ips=$(ip -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | paste -sd, -)
        redis_sock=$state/run/redis.sock
        redis-server --port 0 --unixsocket "$redis_sock" --unixsocketperm 700 \
            --daemonize yes --pidfile "$state/run/redis.pid" --dir "$state" \
            --save "" --appendonly no --logfile "$state/log/redis.log"
    else
        say "no local OVS bridge: starting a demo lab (2 tenants x 2 VMs)"
        echo lab >"$state/mode"
        "$lab" up --name "$name" --dir "$state/lab" >"$state/lab.env"
        # shellcheck disable=SC1091
        . "$state/lab.env"
        ovsdb=$VNM_OVSDB_SOCK
        ovs_rundir=$OVS_RUNDIR
        host_ips=10.0.0.1,fd00::1
        redis_sock=$VNM_REDIS_SOCK
        ns_exec=(ip netns exec "$VNM_LAB_NETNS")
    fi
    printf '%s' "$redis_sock" >"$state/redis.sock.path"
    wait_for 10 redis-cli -s "$redis_sock" ping || die "Redis did not start"

    cat >"$state/etc/agent.conf" <<CONF
; vnmon-agent, written by tools/quickstart.sh.  Keys: doc/configuration.md.
[agent]
log = $state/log/agent.log
pidfile = $state/run/vnmon-agent.pid
plugin_dir = $build/plugins

[redis]
address = unix:$redis_sock

[ovs]
db = unix:$ovsdb
rundir = $ovs_rundir

[networks]
host = $host_ips
CONF
    cat >"$state/etc/analyzer.conf" <<CONF
; vnmon-analyzer, written by tools/quickstart.sh.  Keys: doc/configuration.md.
[analyzer]
log = $state/log/analyzer.log
pidfile = $state/run/vnmon-analyzer.pid
plugin_dir = $build/plugins
archive = $state/incidents.jsonl
spool = $state/spool

[redis]
address = unix:$redis_sock

; The host's own addresses: VMs may use DHCP, DNS and ICMP there.
[protected "host"]
prefixes = $host_ips
services = udp/67, udp/547, udp/53, tcp/53, icmp

[sink "jsonl"]
path = $state/alerts.jsonl
CONF
    # Every detector built, at its defaults (doc/alerts.md).
    for so in "$build"/plugins/detect-*.so; do
        [ -e "$so" ] || continue
        so=${so##*/detect-}
        printf '\n[detector "%s"]\n' "${so%.so}" >>"$state/etc/analyzer.conf"
    done
    echo "$ovsdb" >"$state/ovsdb.sock.path"

    say "starting vnmon-agent and vnmon-analyzer"
    "${ns_exec[@]}" "$build/collector/vnmon-agent" -c "$state/etc/agent.conf" \
        --detach
    "$build/analyzer/vnmon-analyzer" -c "$state/etc/analyzer.conf" --detach

    # Wait for both heartbeats, then show them.
    wait_for 10 sh -c "'$build/tools/vnmonctl' --redis unix:$redis_sock status --json | grep -c '\"up\": true' | grep -qx 2" \
        || { "$build/tools/vnmonctl" --redis "unix:$redis_sock" status || true;
             die "daemons did not report in time; logs in $state/log"; }
    "$build/tools/vnmonctl" --redis "unix:$redis_sock" status
    echo
    say "running. Logs: $state/log/  Alerts: $state/alerts.jsonl"
    say "status: $0 status    stop: $0 stop"
}

case ${1:-start} in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*) die "usage: $0 [start|stop|status]" ;;
esac
