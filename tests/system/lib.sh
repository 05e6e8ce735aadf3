# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced by the system tests (tests/system/test-*.sh, run as root by
# "make check-system").  A test does:
#
#     . "$(dirname "$0")/lib.sh"
#     lab_up                      # tools/vnmon-lab up; exports its lab.env
#     check -m "t1vm1 reaches t1vm2" vm_ping t1vm1 10.0.0.12
#     ...
#     lab_down                    # fails on unexpected WARN/ERR in the logs
#
# lab_up installs an EXIT/INT/TERM trap that, however the test ends
# (including a "set -e" failure halfway), kills what the test started with
# vm_bg/register_pid/register_pidfile and takes the lab down.
# VNM_KEEP_LAB=1 keeps the lab of a failed test for inspection.
#
# Functions: fail, pass, check, wait_for, lab_up, lab_down, vm_exec, vm_bg,
# vm_ping, ovs_sh, ovs_vsctl, register_pid, register_pidfile, check_logs,
# check_lab_logs.

set -eEuo pipefail

TEST_NAME=$(basename -- "$0" .sh)
VNM_TOP=${VNM_TOP:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)}
VNMON_LAB=${VNMON_LAB:-$VNM_TOP/tools/vnmon-lab}
# Debian's interpreter (scapy lives there), not whatever is first in PATH.
PYTHON=${PYTHON:-/usr/bin/python3}

# What makes a log line a warning or an error.  Our daemons and OVS both
# write "2026-11-21T09:14:14.123Z|agent|WARN|redis|message"-style lines.
LOG_LEVEL_RE='[|](WARN|ERR|EMER)[|]'

# Extended regexes (array elements, or newline-separated lines) of
# WARN/ERR lines that are expected; tests append their own with
# ALLOWED_LOG_RE+=('...').  Keep each narrow, and say why it is expected.
ALLOWED_LOG_RE=(
)

_LAB_UP=no
_LAB_PIDS=()
_LAB_PIDFILES=()
BG_PID=

fail()
{
    echo "FAIL: $TEST_NAME: $*" >&2
    exit 1
}

pass()
{
    echo "ok - $*"
}

# check [-m DESCRIPTION] CMD...: runs CMD (a function is fine, in a
# subshell: its variable assignments and vm_bg calls do not stick); prints
# an "ok" line if it succeeds, else CMD's output and fails the test.
check()
{
    local desc='' out rc=0
    if [ "${1:-}" = -m ]; then
        desc=$2
        shift 2
    fi
    desc=${desc:-$*}
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" -ne 0 ]; then
        [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    | /' >&2
        fail "$desc (exit status $rc)"
    fi
    pass "$desc"
}

# wait_for TIMEOUT_S CMD...: runs CMD every 0.1 s until it succeeds (returns
# 0) or TIMEOUT_S seconds have passed (returns 1, with a message).
wait_for()
{
    local timeout=$1 now deadline us int frac
    shift
    [[ $timeout =~ ^[0-9]*(\.[0-9]*)?$ ]] \
        || fail "wait_for: bad timeout '$timeout'"
    if [[ $timeout == *.* ]]; then
        int=${timeout%.*}
        frac=${timeout#*.}000000
        us=$((10#${int:-0} * 1000000 + 10#${frac:0:6}))
    else
        us=$((10#$timeout * 1000000))
    fi
    now=${EPOCHREALTIME/[.,]/}
    deadline=$((now + us))
    while :; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        now=${EPOCHREALTIME/[.,]/}
        if [ "$now" -ge "$deadline" ]; then
            echo "$TEST_NAME: wait_for: timed out after ${timeout}s: $*" >&2
            return 1
        fi
        sleep 0.1
    done
}

# ------------------------------------------------------------------ lab

# Commands inside the lab.
vm_exec()
{
    local vm=$1
    shift
    ip netns exec "$VNM_LAB_NAME-$vm" "$@"
}

ovs_sh()
{
    ip netns exec "$VNM_LAB_NETNS" env OVS_RUNDIR="$OVS_RUNDIR" \
        OVS_DBDIR="$OVS_DBDIR" OVS_LOGDIR="$OVS_LOGDIR" \
        OVS_SYSCONFDIR="$OVS_SYSCONFDIR" "$@"
}

ovs_vsctl()
{
    ovs_sh ovs-vsctl --timeout=10 "$@"
}

# vm_bg VM CMD...: starts CMD in the background in VM; sets BG_PID; the
# process is killed at cleanup unless the test ends it first.
vm_bg()
{
    local vm=$1
    shift
    ip netns exec "$VNM_LAB_NAME-$vm" "$@" &
    BG_PID=$!
    _LAB_PIDS+=("$BG_PID")
}

# register_pid PID: a child of the test to kill at cleanup.
register_pid()
{
    _LAB_PIDS+=("$1")
}

# register_pidfile FILE: a daemon (not a child) to kill at cleanup; only
# killed if its command line mentions a path in $VNM_LAB_DIR (so that it is
# the test's).
register_pidfile()
{
    _LAB_PIDFILES+=("$1")
}

_lab_stop_pid()
{
    local pid=$1 n=50
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
        # A child stays a zombie, and keeps its pid, until waited for.
        if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
            break
        fi
        sleep 0.1
        n=$((n - 1))
    done
    if [ "$n" -eq 0 ]; then
        echo "$TEST_NAME: pid $pid ignored SIGTERM; SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

_lab_stop_started()
{
    local pid f
    for pid in "${_LAB_PIDS[@]}"; do
        _lab_stop_pid "$pid"
    done
    _LAB_PIDS=()
    for f in "${_LAB_PIDFILES[@]}"; do
        [ -r "$f" ] || continue
        pid=$(tr -dc '0-9' <"$f")
        if [ -z "$pid" ] || [ ! -r "/proc/$pid/cmdline" ]; then
            continue
        fi
        if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$VNM_LAB_DIR/"
        then
            _lab_stop_pid "$pid"
        fi
    done
    _LAB_PIDFILES=()
}

# Processes still inside the lab's namespaces other than the lab's own
# daemons: all were started by this test (the namespaces are its own).
_lab_stray_pids()
{
    local ns own pid vm nss=("$VNM_LAB_NETNS")
    own=" $(cat "$VNM_LAB_DIR"/run/*.pid 2>/dev/null | tr '\n' ' ') "
    for vm in $VNM_LAB_VMS; do
        nss+=("$VNM_LAB_NAME-$vm")
    done
    for ns in "${nss[@]}"; do
        [ -e "/run/netns/$ns" ] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            [[ $own == *" $pid "* ]] || echo "$pid"
        done
    done
}

_lab_dump_logs()
{
    local f
    for f in "$VNM_LAB_DIR"/log/*.log; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f" >&2
        tail -n 15 "$f" >&2
    done
}

# check_logs FILE...: fails if a FILE has a line matching $LOG_LEVEL_RE
# that no regex in ALLOWED_LOG_RE matches; prints those lines.
check_logs()
{
    local f hits allowed bad=0
    allowed=$(printf '%s\n' "${ALLOWED_LOG_RE[@]}" | sed '/^$/d')
    for f in "$@"; do
        [ -f "$f" ] || fail "check_logs: no log file $f"
        hits=$(grep -E -- "$LOG_LEVEL_RE" "$f" \
            | { if [ -n "$allowed" ]; then
                    grep -v -E -f <(printf '%s\n' "$allowed")
                else
                    cat
                fi; } || true)
        if [ -n "$hits" ]; then
            echo "unexpected warnings/errors in $f:" >&2
            printf '%s\n' "$hits" | sed 's/^/    | /' >&2
            bad=1
        fi
    done
    [ "$bad" = 0 ] || fail "unexpected WARN/ERR lines in logs"
}

# shellcheck disable=SC2120 # Tests pass FILEs.
# check_lab_logs [FILE...]: check_logs on the lab's logs and FILEs: the OVS
# logs, and whatever else the test put in $VNM_LAB_DIR/log/*.log, except
# redis.log, whose format ("pid:M date # message") LOG_LEVEL_RE does not fit
# and whose warnings are about the host (vm.overcommit_memory...).
check_lab_logs()
{
    local f logs=()
    for f in "$VNM_LAB_DIR"/log/*.log; do
        [ "$f" = "$VNM_LAB_DIR/log/redis.log" ] || logs+=("$f")
    done
    check_logs "${logs[@]}" "$@"
}

# vm_ping VM ADDR [COUNT]: like "ping -c COUNT -W 2 ADDR" in VM (succeeds
# if a reply came).  iputils ping if installed, else the same in Python.
vm_ping()
{
    local vm=$1 addr=$2 count=${3:-2}
    if command -v ping >/dev/null; then
        vm_exec "$vm" ping -n -c "$count" -W 2 "$addr"
    else
        vm_exec "$vm" "$PYTHON" -c "$_LAB_PING_PY" "$addr" "$count" 2
    fi
}

_LAB_PING_PY='
import ipaddress, os, select, socket, struct, sys, time
addr, count, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
dst = ipaddress.ip_address(addr)
if dst.version == 6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    req, rep = 128, 129
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    req, rep = 8, 0
ident = os.getpid() & 0xffff
payload = b"vnmon-lab ping.." * 3

def csum(b):
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    n = (n >> 16) + (n & 0xffff)
    n += n >> 16
    return ~n & 0xffff

got = 0
for seq in range(1, count + 1):
    hdr = struct.pack("!BBHHH", req, 0, 0, ident, seq)
    if dst.version == 4:  # The kernel does ICMPv6 checksums itself.
        hdr = struct.pack("!BBHHH", req, 0, csum(hdr + payload), ident, seq)
    t0 = time.monotonic()
    s.sendto(hdr + payload, (addr, 0))
    while True:
        left = t0 + wait - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print("no reply from %s icmp_seq=%d" % (addr, seq))
            break
        data, src = s.recvfrom(4096)
        if dst.version == 4:
            data = data[(data[0] & 15) * 4:]
        if len(data) < 8:
            continue
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[:8])
        if (typ == rep and rid == ident and rseq == seq
                and ipaddress.ip_address(src[0].split("%")[0]) == dst):
            got += 1
            print("reply from %s: icmp_seq=%d time=%.2f ms"
                  % (src[0], seq, (time.monotonic() - t0) * 1000))
            break
    if seq < count:
        time.sleep(0.2)
print("%d packets transmitted, %d received" % (count, got))
sys.exit(0 if got else 1)
'

_lab_cleanup()
{
    local rc=$? stray
    trap - EXIT INT TERM ERR
    set +e
    _lab_stop_started
    if [ "$_LAB_UP" = yes ]; then
        if [ "$rc" -ne 0 ]; then
            _lab_dump_logs
        fi
        if [ "$rc" -ne 0 ] && [ "${VNM_KEEP_LAB:-0}" = 1 ]; then
            echo "$TEST_NAME: VNM_KEEP_LAB=1: lab kept; remove it with:" \
                "$VNMON_LAB down --name $VNM_LAB_NAME --dir $VNM_LAB_DIR" >&2
        else
            stray=$(_lab_stray_pids)
            for pid in $stray; do
                echo "$TEST_NAME: killing stray pid $pid in the lab" >&2
                kill -KILL "$pid" 2>/dev/null
            done
            if [ "$rc" -eq 0 ]; then
                # The test forgot lab_down: do it, logs check included.
                (lab_down) || rc=1
            else
                "$VNMON_LAB" down --name "$VNM_LAB_NAME" \
                    --dir "$VNM_LAB_DIR" || rc=1
            fi
        fi
    fi
    exit "$rc"
}

_lab_on_err()
{
    local rc=$?
    echo "FAIL: $TEST_NAME: line ${BASH_LINENO[0]}: '$BASH_COMMAND'" \
        "exited with status $rc" >&2
}

# lab_up [vnmon-lab up options]: builds a lab named after the test and the
# shell's pid, exports its lab.env (VNM_LAB_*, OVS_*...), installs cleanup.
lab_up()
{
    local short env
    [ "$_LAB_UP" = no ] || fail "lab_up: a lab is already up"
    short=${TEST_NAME#test-}
    short=$(printf '%s' "${short:0:12}" | tr -c 'A-Za-z0-9-' -)
    VNM_LAB_NAME=vt-$short-$$
    VNM_LAB_DIR=/tmp/vnmon-lab-$VNM_LAB_NAME
    VNM_LAB_NETNS=$VNM_LAB_NAME-ovs
    VNM_LAB_VMS=        # Until lab.env says.
    # Set before the lab exists, so that an interrupted "up" is undone too.
    _LAB_UP=yes
    trap _lab_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    env=$("$VNMON_LAB" up --name "$VNM_LAB_NAME" --dir "$VNM_LAB_DIR" "$@") \
        || fail "lab_up: $VNMON_LAB up failed"
    eval "$env"
    [ -S "$VNM_OVSDB_SOCK" ] || fail "lab_up: no $VNM_OVSDB_SOCK"
    pass "lab $VNM_LAB_NAME up ($VNM_LAB_VMS)"
}

# lab_down: checks the lab's logs, then destroys the lab (always), then
# fails if the logs had unexpected WARN/ERR lines.
lab_down()
{
    local logs_ok=yes stray=()
    [ "$_LAB_UP" = yes ] || return 0
    _lab_stop_started
    mapfile -t stray < <(_lab_stray_pids)
    if [ "${#stray[@]}" -gt 0 ]; then
        kill -KILL "${stray[@]}" 2>/dev/null || true
        echo "$TEST_NAME: killed stray pids in the lab: ${stray[*]}" >&2
        logs_ok=no
    fi
    # shellcheck disable=SC2119 # No extra log here.
    (check_lab_logs) || logs_ok=no
    "$VNMON_LAB" down --name "$VNM_LAB_NAME" --dir "$VNM_LAB_DIR" \
        || fail "lab_down: $VNMON_LAB down failed"
    _LAB_UP=no
    [ "$logs_ok" = yes ] || fail "lab_down: unexpected log lines or processes"
    pass "lab $VNM_LAB_NAME down"
}

if [ "$(id -u)" != 0 ]; then
    fail "system tests need root (network namespaces, OVS):" \
        "run 'make check-system' as root"
fi
for _b in ip ovs-vsctl redis-cli "$PYTHON" "$VNMON_LAB"; do
    command -v "$_b" >/dev/null || fail "missing $_b (tools/install-deps.sh)"
done
unset _b
trap _lab_on_err ERR

# ------------------------------------------------------------- incidents
#
# The alert records (doc/alerts.md) that a "jsonl" sink appended to FILE:
# one JSON line per delivery of an incident (its opening, its updates, its
# resolution), all with the incident's "id".
#
#   incident_count FILE [TYPE]     incidents (distinct ids) in FILE, of TYPE
#   incident_types FILE            their types, one per line, sorted, unique
#   incident_check FILE TYPE TARGET [COND...]
#       fails unless FILE holds exactly one incident of TYPE whose target is
#       TARGET (or, if TARGET is PORT>TARGET, whose key ends with it: the
#       key is HOST/PORT>TARGET) and whose latest record meets each COND:
#       FIELD=VALUE (equal, as text), FIELD~TEXT (contains TEXT), FIELD>N
#       (a number above N); prints that record.  "records>N" counts the
#       incident's records.

_INCIDENT_PY='
import json, sys
path, op = sys.argv[1], sys.argv[2]
records = []
for line in open(path):
    r = json.loads(line)
    r.setdefault("type", r.get("kind"))          # Records before ABI 1.1.
    if "port" not in r and isinstance(r.get("vm"), dict):
        r["port"] = r["vm"].get("port")
    records.append(r)
if op == "count":
    want = sys.argv[3] if len(sys.argv) > 3 else None
    print(len({r["id"] for r in records if want in (None, r["type"])}))
elif op == "types":
    print("\n".join(sorted({r["type"] for r in records})))
else:
    kind, target = sys.argv[3], sys.argv[4]
    if ">" in target:   # PORT>TARGET: the end of the key HOST/PORT>TARGET.
        mine = [r for r in records if r["type"] == kind
                and (r.get("key") or "").endswith("/" + target)]
    else:
        mine = [r for r in records
                if r["type"] == kind and r.get("target") == target]
    ids = sorted({r["id"] for r in mine})
    if len(ids) != 1:
        sys.exit("%d incidents of type %s with target %r (want 1); types and "
                 "targets there: %s" % (len(ids), kind, target,
                 sorted({(r["type"], r.get("target")) for r in records})))
    last = mine[-1]
    last["records"] = len(mine)
    bad = []
    for cond in sys.argv[5:]:
        for sep in "=~>":
            if sep in cond:
                field, value = cond.split(sep, 1)
                break
        else:
            sys.exit("bad condition %r" % cond)
        have = last.get(field)
        text = have if isinstance(have, str) else json.dumps(have)
        if not ((sep == "=" and text == value)
                or (sep == "~" and value in text)
                or (sep == ">" and isinstance(have, (int, float))
                    and have > float(value))):
            bad.append("%s: %s" % (cond, text))
    print(json.dumps(last))
    if bad:
        sys.exit("incident %s of type %s: unmet: %s" % (ids[0], kind,
                                                         "; ".join(bad)))
'

incident_count()
{
    "$PYTHON" -c "$_INCIDENT_PY" "$1" count ${2+"$2"}
}

incident_types()
{
    "$PYTHON" -c "$_INCIDENT_PY" "$1" types
}

incident_check()
{
    "$PYTHON" -c "$_INCIDENT_PY" "$1" check "${@:2}"
}
