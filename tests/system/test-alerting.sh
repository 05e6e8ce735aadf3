#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vnm-timeout: 240
#
# Acceptance of alerting (issue 6) on a two-tenant lab with the agent, the
# analyzer and its "ip-spoof" detector; VMs forge their source address with
# scapy.  Receivers on loopback (tests/system/alert-receivers.py): an HTTP
# server for three webhook sinks (ops-hook: everyone's; a-hook: tenant1's;
# b-hook: tenant2's, each on its own URL path), an SMTP server (the email
# sink) and a UDP syslog receiver (the syslog sink).  The jsonl sink rotates
# every few records.  [analyzer] spool is in the lab; retries after 1 s,
# then 2 s at most.
#
#   1. Attacks from t1vm1 and t2vm1: each incident is opened, updated
#      (update_interval 2 s) and resolved (incident_idle 5 s), and each of
#      these reaches the ops webhook with one id, the one `vnmonctl alerts`
#      shows; the e-mail names the type and the VM; a-hook gets tenant1's
#      incident, b-hook tenant2's, and neither ever gets the other tenant's.
#   2. Webhook receiver down: an attack's records are spooled, one file per
#      delivery in SPOOL/SINK/; the receiver back, they all arrive within
#      retry_max + 3 s, in order, once each, and the spool is empty.
#   3. Webhook receiver down, records spooled, the analyzer killed (SIGKILL):
#      the receiver back and the analyzer restarted, every record spooled
#      before the kill arrives, and the incident is resolved.
#   4. Over the whole run: no webhook got an (id, state, updates) twice;
#      every syslog message is RFC 5424 with the vnmon@32473 SD-ELEMENT and
#      matches an archived record (and every archived record has its
#      message); the jsonl files (current and rotated) hold every archived
#      record exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"
# Expected: the analyzer says once per outage that a sink is spooling.
ALLOWED_LOG_RE+=('[|]analyzer[|]WARN[|]spool[|]spool [^ ]*/(ops|a|b)-hook: the sink cannot deliver now')

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 2s
update_interval = 1s
CONF

RCV=$VNM_LAB_DIR/receivers
SPOOL=$VNM_LAB_DIR/spool
ARCHIVE=$VNM_LAB_DIR/incidents.jsonl
JSONL=$VNM_LAB_DIR/alerts.jsonl
mkdir -p "$RCV"
read -r HTTP_PORT SMTP_PORT SYSLOG_PORT < <("$PYTHON" -c '
import socket
socks = [socket.socket(), socket.socket(),
         socket.socket(socket.AF_INET, socket.SOCK_DGRAM)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

sed -i -e '/^\[detector "scan"\]$/,/^$/d' \
    -e "s|^\\[analyzer\\]\$|[analyzer]\\nupdate_interval = 2s\\nincident_idle = 5s\\nretry_min = 1s\\nretry_max = 2s|" \
    -e "s|^path = $JSONL\$|&\\nmax_size = 3000\\nkeep = 1000|" \
    "$VNM_LAB_DIR/etc/analyzer.conf"
cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[detector "ip-spoof"]

[sink "email"]
server = smtp://127.0.0.1:$SMTP_PORT
from = vnmon@lab.example
to = soc@lab.example

[sink "syslog"]
address = udp:127.0.0.1:$SYSLOG_PORT
CONF
# Three instances of the webhook sink, each POSTing to its own path.
for hook in ops-hook:/ops: a-hook:/a:tenant1 b-hook:/b:tenant2; do
    IFS=: read -r name path tenant <<<"$hook"
    printf '\n[sink "%s"]\nplugin = sink-webhook.so\n' "$name"
    printf 'url = http://127.0.0.1:%s%s\n' "$HTTP_PORT" "$path"
    printf 'retries = 0\ntimeout = 2s\n'
    [ -z "$tenant" ] || printf 'tenant = %s\n' "$tenant"
done >>"$VNM_LAB_DIR/etc/analyzer.conf"
grep -q '^max_size = 3000$' "$VNM_LAB_DIR/etc/analyzer.conf" \
    || fail "could not set the jsonl sink's max_size"

# receivers_start ARGS...: alert-receivers.py with ARGS; sets RCV_PID once
# it listens.
receivers_start()
{
    local pid
    "$PYTHON" "$VNM_TOP/tests/system/alert-receivers.py" --dir "$RCV" "$@" \
        2>>"$VNM_LAB_DIR/receivers.err" &
    pid=$!
    register_pid "$pid"
    wait_for 20 test -e "$RCV/ready-$pid" \
        || fail "alert-receivers.py $* did not start"
    RCV_PID=$pid
}

# The mail and syslog receivers run all along; the webhook receiver alone
# is stopped and restarted on its port.
receivers_start --smtp "$SMTP_PORT" --syslog "$SYSLOG_PORT"
receivers_start --http "$HTTP_PORT"
HOOK_PID=$RCV_PID
hook_stop()
{
    kill -TERM "$HOOK_PID"
    wait "$HOOK_PID" 2>/dev/null || true
}
hook_start()
{
    receivers_start --http "$HTTP_PORT"
    HOOK_PID=$RCV_PID
}

# What was received and spooled: al CMD ARGS...
#   has PATH ID STATE         PATH received a record of incident ID, STATE
#   spooled SINK              "ID STATE UPDATES" of each file in SPOOL/SINK
#   pending SINK              the number of files there
#   id PORT TARGET            the id of the archived incident of PORT>TARGET
#   arrived SNAPSHOT          every "SINK ID STATE UPDATES" line of SNAPSHOT
#                             was POSTed to SINK's path
# al_check ARGS... <<PY: runs the Python check PY, with the functions
# lines(FILE), hook(PATH) (the records POSTed to PATH) and spooled(SINK) and
# the modules collections, glob, json, os, re, sys already there.
# shellcheck disable=SC2089 # Python source, not a command line.
_AL_PY='
import collections, glob, json, os, re, sys
rcv, spool, archive = os.environ["RCV"], os.environ["SPOOL"], os.environ["ARCHIVE"]
PATHS = {"ops-hook": "/ops", "a-hook": "/a", "b-hook": "/b"}

def lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f]
    except FileNotFoundError:
        return []

def hook(path):
    return [p["body"] for p in lines(rcv + "/http.jsonl") if p["path"] == path]

def spooled(sink):
    files = sorted(glob.glob("%s/%s/*.json" % (spool, sink)))
    return [r for f in files for r in lines(f)]
'
# shellcheck disable=SC2089
_AL_CMD='
cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "has":
    sys.exit(not any(r["id"] == args[1] and r["state"] == args[2]
                     for r in hook(args[0])))
elif cmd == "spooled":
    for r in spooled(args[0]):
        print(r["id"], r["state"], r["updates"])
elif cmd == "pending":
    print(len(glob.glob("%s/%s/*.json" % (spool, args[0]))))
elif cmd == "id":
    ids = {r["id"] for r in lines(archive)
           if r["port"] == args[0] and r["target"] == args[1]}
    if len(ids) != 1:
        sys.exit("incidents of %s>%s: %s" % (args[0], args[1], ids))
    print(ids.pop())
elif cmd == "arrived":
    want = [l.split() for l in open(args[0]) if l.strip()]
    got = {}
    for sink, path in PATHS.items():
        got[sink] = [(r["id"], r["state"], str(r["updates"])) for r in hook(path)]
    missing = [w for w in want if tuple(w[1:]) not in got[w[0]]]
    if missing:
        sys.exit("not arrived: %s" % missing)
'
al()
{
    "$PYTHON" -c "$_AL_PY$_AL_CMD" "$@"
}
# shellcheck disable=SC2120 # Called through check, with arguments.
al_check()
{
    "$PYTHON" -c "$_AL_PY$(cat)" "$@"
}
# For "bash -c".
# shellcheck disable=SC2090
export RCV SPOOL ARCHIVE PYTHON _AL_PY _AL_CMD
export -f al

# attack VM SRC SECONDS: VM (t<T>vm1) sends UDP to t<T>vm2 from the forged
# address SRC, 10 frames a second, in the background (BG_PID).
attack()
{
    local t=${1:1:1}
    vm_bg "$1" "$PYTHON" -c '
import sys, time
from scapy.all import Ether, IP, UDP, conf
conf.verb = 0
t, src, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
frame = (Ether(src="02:00:00:00:%02x:01" % t, dst="02:00:00:00:%02x:02" % t)
         / IP(src=src, dst="10.0.0.%d2" % t) / UDP(sport=40000, dport=9999)
         / (b"x" * 64))
s = conf.L2socket(iface="eth0")
end = time.time() + seconds
while time.time() < end:
    s.send(frame)
    time.sleep(0.1)
s.close()' "$t" "$2" "$3"
}

start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 1                         # Taps bound, analyzer's group created.

# ---------------------------------------------------- 1. routed, each state

attack t1vm1 10.0.0.99 5
a_pid=$BG_PID
attack t2vm1 10.0.0.98 5
b_pid=$BG_PID
wait "$a_pid" || fail "scapy in t1vm1 failed"
wait "$b_pid" || fail "scapy in t2vm1 failed"
check -m "both incidents archived" \
    wait_for 5 bash -c 'al id t1vm1 10.0.0.99 && al id t2vm1 10.0.0.98'
ID_A=$(al id t1vm1 10.0.0.99)
ID_B=$(al id t2vm1 10.0.0.98)
pass "tenant1's incident $ID_A, tenant2's $ID_B"
check -m "both resolved, at the ops webhook" \
    wait_for 20 bash -c "al has /ops $ID_A resolved && al has /ops $ID_B resolved"
check -m "tenant1's reached a-hook, tenant2's b-hook" \
    wait_for 5 bash -c "al has /a $ID_A resolved && al has /b $ID_B resolved"

check -m "ops webhook: opening, updates and resolution of each, one id" \
    al_check "$ID_A" "$ID_B" <<'PY'
recs = hook("/ops")
for inc, port, tenant in ((sys.argv[1], "t1vm1", "tenant1"),
                          (sys.argv[2], "t2vm1", "tenant2")):
    mine = [r for r in recs if r["id"] == inc]
    states = [r["state"] for r in mine]
    print(inc, states)
    assert states[0] == "open" and states.count("open") == 1, states
    assert states.count("update") >= 1, states
    assert states[-1] == "resolved" and states.count("resolved") == 1, states
    assert [r["updates"] for r in mine if r["state"] != "resolved"] \
        == list(range(len(mine) - 1)), mine
    for r in mine:
        assert r["type"] == "ip-spoof" and r["port"] == port, r
        assert r["tenant"] == tenant, r
PY

check -m "vnmonctl alerts --json shows the same ids" \
    "$PYTHON" - "$VNMONCTL" "$VNM_REDIS_SOCK" "$ID_A" "$ID_B" <<'PY'
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "--redis", "unix:" + sys.argv[2],
                      "alerts", "--json"], check=True, capture_output=True,
                     text=True).stdout
alerts = {(a["port"], a["target"]): a for a in map(json.loads, out.splitlines())}
print(sorted(alerts))
assert alerts[("t1vm1", "10.0.0.99")]["id"] == sys.argv[3], alerts
assert alerts[("t2vm1", "10.0.0.98")]["id"] == sys.argv[4], alerts
assert alerts[("t1vm1", "10.0.0.99")]["tenant"] == "tenant1"
assert alerts[("t2vm1", "10.0.0.98")]["tenant"] == "tenant2"
PY

mails_resolved()
{
    grep -qF "<$ID_A.resolved." "$RCV/smtp.jsonl" \
        && grep -qF "<$ID_B.resolved." "$RCV/smtp.jsonl"
}
check -m "e-mails of both resolutions arrived" wait_for 5 mails_resolved
check -m "e-mails: to the recipient, subject naming the type and VM, one per delivery" \
    al_check "$ID_A" "$ID_B" <<'PY'
mails = lines(rcv + "/smtp.jsonl")
archive = lines(archive)
for inc in sys.argv[1:3]:
    mine = [m for m in mails if m["record"]["id"] == inc]
    recs = [r for r in archive if r["id"] == inc]
    assert len(mine) == len(recs), (len(mine), len(recs))
    for m, r in zip(mine, recs):
        assert m["record"] == r, (m, r)
        assert m["rcpt_tos"] == ["soc@lab.example"], m
        assert m["mail_from"] == "vnmon@lab.example", m
        assert "ip-spoof" in m["subject"] and r["vm"] in m["subject"], m
        assert r["tenant"] in m["subject"], m
        assert m["message_id"] == "<%s.%s.%d@vnmon>" % (inc, r["state"],
                                                        r["updates"]), m
        assert r["summary"] in m["body"], m
    print(inc, [m["subject"] for m in mine][:1])
PY

# Every record a tenant's hook got is that tenant's (checked again at the
# end, over everything).
# shellcheck disable=SC2119 # No arguments.
tenant_hooks_ok()
{
    al_check <<'PY'
a, b, ops = hook("/a"), hook("/b"), hook("/ops")
assert a and b, (len(a), len(b))
for recs, tenant in ((a, "tenant1"), (b, "tenant2")):
    bad = [(r["id"], r["state"], r["tenant"]) for r in recs
           if r["tenant"] != tenant]
    assert not bad, ("%s's hook got" % tenant, bad)
key = lambda r: json.dumps(r, sort_keys=True)
assert sorted(map(key, a)) == sorted(key(r) for r in ops if r["tenant"] == "tenant1")
assert sorted(map(key, b)) == sorted(key(r) for r in ops if r["tenant"] == "tenant2")
print("a-hook %d records, b-hook %d, ops-hook %d" % (len(a), len(b), len(ops)))
PY
}
check -m "a-hook got only tenant1's records, b-hook only tenant2's, as ops did" \
    tenant_hooks_ok

# ---------------------------------------------------- 2. receiver down, up

# attack_unheard VM SRC: with the webhook receiver stopped, VM forges SRC
# for 2 s; sets ID to the incident's id.
attack_unheard()
{
    hook_stop
    attack "$1" "$2" 2
    wait "$BG_PID" || fail "scapy in $1 failed"
    check -m "incident archived" wait_for 5 al id "$1" "$2"
    ID=$(al id "$1" "$2")
}
# spooled ID STATE SINK...: each SINK has a spooled STATE record of ID.
spooled()
{
    local id=$1 state=$2 sink
    shift 2
    for sink in "$@"; do
        al spooled "$sink" | grep -q "^$id $state " || return 1
    done
}
# snapshot FILE SINK...: "SINK ID STATE UPDATES" of every spooled delivery.
snapshot()
{
    local file=$1 sink
    shift
    for sink in "$@"; do
        al spooled "$sink" | sed "s/^/$sink /"
    done >"$file"
}

attack_unheard t1vm1 10.0.0.97
ID_C=$ID
check -m "$ID_C spooled for ops-hook and a-hook until resolved" \
    wait_for 20 spooled "$ID_C" resolved ops-hook a-hook
check -m "nothing of it reached the stopped receiver" \
    bash -c "! al has /ops $ID_C open"
check -m "nothing spooled for b-hook (not its tenant)" \
    [ "$(al pending b-hook)" = 0 ]
snap=$VNM_LAB_DIR/spool-snapshot-2
snapshot "$snap" ops-hook a-hook
check -m "spooled: $(wc -l <"$snap") deliveries, each one file with its record" \
    al_check "$snap" "$ID_C" <<'PY'
snap = [l.split() for l in open(sys.argv[1])]
for sink in ("ops-hook", "a-hook"):
    files = sorted(glob.glob("%s/%s/*.json" % (spool, sink)))
    for f in files:
        assert re.fullmatch(r"\d{20}\.json", os.path.basename(f)), f
        text = open(f).read()
        assert text.endswith("}\n") and text.count("\n") == 1, f
    mine = [l[2] for l in snap if l[0] == sink]
    assert mine[0] == "open" and mine[-1] == "resolved", mine
    assert {l[1] for l in snap} == {sys.argv[2]}, snap
    print(sink, len(files), "files:", mine)
PY
hook_start
t_up=${EPOCHREALTIME/[.,]/}
check -m "receiver back: every spooled delivery arrives within retry_max + 3 s" \
    wait_for 5 al arrived "$snap"
pass "arrived $(( (${EPOCHREALTIME/[.,]/} - t_up) / 1000 )) ms after the receiver came back"
spools_empty()
{
    [ "$(al pending ops-hook)" = 0 ] && [ "$(al pending a-hook)" = 0 ] \
        && [ "$(al pending b-hook)" = 0 ]
}
check -m "spools emptied" wait_for 3 spools_empty
check -m "the outage was logged at WARN once per sink, and its end" \
    "$PYTHON" -c '
import re, sys
log = open(sys.argv[1]).read()
for hook in ("ops-hook", "a-hook"):
    n = len(re.findall(r"\|WARN\|spool\|spool \S*/%s: the sink cannot deliver now" % hook, log))
    assert n == 1, (hook, n)
    assert re.search(r"\|INFO\|spool\|spool \S*/%s: every spooled delivery done" % hook, log), hook
assert "b-hook: the sink cannot" not in log' "$VNM_LAB_DIR/log/analyzer.log"
check -m "none moved to failed/" \
    bash -c "[ -z \"\$(find '$SPOOL' -path '*/failed/*' -type f)\" ]"
check -m "arrived in order, same id, once each" \
    al_check "$ID_C" <<'PY'
for path in ("/ops", "/a"):
    mine = [(r["state"], r["updates"]) for r in hook(path)
            if r["id"] == sys.argv[1]]
    print(path, mine)
    assert len(set(mine)) == len(mine), mine
    assert mine[0] == ("open", 0) and mine[-1][0] == "resolved", mine
    assert [u for _, u in mine[:-1]] == list(range(len(mine) - 1)), mine
PY

# ---------------------------------------------------- 3. SIGKILL while spooled

attack_unheard t2vm1 10.0.0.96
ID_D=$ID
check -m "$ID_D opened and updated, spooled for ops-hook and b-hook" \
    wait_for 8 spooled "$ID_D" update ops-hook b-hook
snap=$VNM_LAB_DIR/spool-snapshot-3
snapshot "$snap" ops-hook b-hook
check -m "not resolved yet (incident_idle 5 s)" \
    bash -c "! grep -q ' resolved ' '$snap'"
pid=$(daemon_pid analyzer)
kill -KILL "$pid"
check -m "analyzer killed (SIGKILL) with $(wc -l <"$snap") deliveries spooled" \
    wait_for 5 bash -c "! kill -0 $pid 2>/dev/null || [ \"\$(awk '{print \$3}' /proc/$pid/stat)\" = Z ]"
snapshot "$snap.after" ops-hook b-hook
check -m "the spool files survived" cmp "$snap" "$snap.after"
hook_start
start_analyzer
check -m "analyzer restarted" wait_for 10 both_up
check -m "it found the spooled deliveries" \
    grep -Eq "spool .*/ops-hook: $(grep -c '^ops-hook ' "$snap") deliveries pending from a previous run" \
    "$VNM_LAB_DIR/log/analyzer.log"
check -m "every delivery spooled before the kill arrives" \
    wait_for 10 al arrived "$snap"
check -m "the incident resolved after the restart, at ops-hook and b-hook" \
    wait_for 20 bash -c "al has /ops $ID_D resolved && al has /b $ID_D resolved"
check -m "spools emptied" wait_for 3 spools_empty

# ---------------------------------------------------- 4. the whole run

check -m "the last delivery reached the syslog receiver" \
    wait_for 5 grep -qF "resolved [vnmon@32473 id=\\\"$ID_D\\\"" "$RCV/syslog.jsonl"

check -m "no webhook got an (id, state, updates) twice" \
    al_check <<'PY'
for path in ("/ops", "/a", "/b"):
    recs = hook(path)
    n = collections.Counter((r["id"], r["state"], r["updates"]) for r in recs)
    dup = [k for k, c in n.items() if c > 1]
    print(path, len(recs), "records,", len({r["id"] for r in recs}), "incidents")
    assert not dup, dup
PY
check -m "a-hook got only tenant1's records, b-hook only tenant2's, as ops did" \
    tenant_hooks_ok
check -m "ops-hook got every archived record" \
    al_check <<'PY'
key = lambda r: json.dumps(r, sort_keys=True)
ops = {key(r) for r in hook("/ops")}
missing = [(r["id"], r["state"], r["updates"]) for r in lines(archive)
           if key(r) not in ops]
assert not missing, missing
PY

check -m "syslog: RFC 5424 messages, one per archived record" \
    al_check <<'PY'
import socket
msgs = [m["msg"] for m in lines(rcv + "/syslog.jsonl")]
RE = re.compile(r'<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) '
                r'(\S{1,255}) (\S{1,48}) (\d+|-) (open|update|resolved) '
                r'\[vnmon@32473((?: [a-z_]{1,32}="(?:[^"\\\]]|\\.)*")+)\] '
                r'(.+)')
PARAM = re.compile(r' ([a-z_]+)="((?:[^"\\\]]|\\.)*)"')
PRI = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
got = collections.Counter()
for m in msgs:
    match = RE.fullmatch(m.rstrip("\n"))
    assert match, ("not RFC 5424 as expected", m)
    pri, ts, hostname, app, procid, msgid, sd, text = match.groups()
    p = dict(PARAM.findall(sd))
    assert hostname == socket.gethostname() and app == "vnmon", m
    assert p["state"] == msgid, m
    for k in ("id", "type", "severity", "tenant"):
        assert k in p, (k, m)
    assert int(pri) == 16 * 8 + PRI[p["severity"]], m
    got[(p["id"], msgid, ts, p["type"], p["tenant"], p["severity"],
         p.get("vm"), p.get("port"), text)] += 1
want = collections.Counter((r["id"], r["state"], r["last_seen"], r["type"],
                            r["tenant"], r["severity"], r["vm"], r["port"],
                            r["summary"]) for r in lines(archive))
assert got == want, (got - want, want - got)
print(len(msgs), "messages, e.g.", msgs[0])
PY

check -m "jsonl: several rotations, every archived record exactly once" \
    al_check "$JSONL" <<'PY'
path = sys.argv[1]
rotated = glob.glob(path + ".*")
assert len(rotated) >= 3, rotated
for f in rotated + [path]:
    assert os.path.getsize(f) <= 3000, f
key = lambda r: json.dumps(r, sort_keys=True)
got = collections.Counter(key(json.loads(l)) for f in rotated + [path]
                          for l in open(f))
want = collections.Counter(map(key, lines(archive)))
assert got == want, (len(got - want), len(want - got))
print(len(rotated), "rotated files,", sum(want.values()), "records")
PY

stop_daemon agent
stop_daemon analyzer
lab_down
