#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Tenant access (doc/alerting.md, "Tenant access"), on a two-tenant lab
# with the agent and the analyzer ("ip-spoof" detector):
#
#   1. Traffic in both tenants, and an incident in each: t1vm1 and t2vm1
#      send UDP from forged sources (10.0.0.99, 10.0.0.98).
#   2. `vnmonctl tenant add` makes a Redis user for each tenant (tenant1's
#      password from a file, tenant2's generated and printed once).
#   3. With tenant1's credentials, `vnmonctl --tenant tenant1 alerts` shows
#      tenant1's incident and not tenant2's; `bw` and `peak` show
#      tenant1's traffic (its VMs), nothing else; with the agent stopped
#      for 5 s, its `bw` shows the gap at the same seconds as the host's
#      (coverage series vnm:cov:*, readable, not writable); `conns`
#      shows tenant1's conntrack summary and its VMs', from its own keys;
#      `top` its live view (its VMs and ports, no apps nor pairs);
#      `capacity` its ports' link speeds (from its part of the inventory).
#   4. tenant1's credentials cannot read tenant2's index, incident hash,
#      stream or bandwidth keys, nor the global ones, nor list keys, nor
#      write their own: each refusal is checked to be Redis's NOPERM, and
#      vnmonctl reports it as such (exit 2).
#   5. `tenant del` removes the users: AUTH then fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 2s
update_interval = 0
CONF
sed -i -e '/^\[detector "scan"\]$/,/^$/d' "$VNM_LAB_DIR/etc/analyzer.conf"
cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[detector "ip-spoof"]
CONF

redis()
{
    redis-cli -s "$VNM_REDIS_SOCK" "$@"
}

# as_user USER PASSWORD redis-cli ARGS...: a Redis command as USER.
as_user()
{
    local user=$1 pass=$2
    shift 2
    REDISCLI_AUTH=$pass redis-cli -s "$VNM_REDIS_SOCK" --user "$user" "$@" 2>&1
}

# refused USER PASSWORD ARGS...: the command is refused with NOPERM.
refused()
{
    local out
    out=$(as_user "$@") || true
    if ! grep -q '^NOPERM' <<<"$out"; then
        echo "not refused with NOPERM: ${*:3}: $out"
        return 1
    fi
}

# ctl_refused ARGS...: vnmonctl ARGS (with tenant1's credentials) exits 2
# naming Redis's NOPERM refusal.
ctl_refused()
{
    local out rc=0
    out=$(vnmonctl --user tenant1 --password-file "$pw1" "$@" 2>&1) || rc=$?
    if [ "$rc" != 2 ] || ! grep -q 'vnmonctl: Redis refused .*(NOPERM .*): these credentials cannot read that' <<<"$out"; then
        echo "vnmonctl $*: exit $rc: $out"
        return 1
    fi
}

# burst VM SRC DST_MAC DST: VM sends 20 UDP frames from forged source SRC.
burst()
{
    vm_exec "$1" "$PYTHON" - "$2" "$3" "$4" <<'PY'
import sys
from scapy.all import Ether, IP, UDP, Raw, conf, get_if_hwaddr, sendp
conf.verb = 0
src, dmac, dst = sys.argv[1:4]
sendp([Ether(src=get_if_hwaddr("eth0"), dst=dmac) / IP(src=src, dst=dst)
       / UDP(sport=41001, dport=9999) / Raw(b"x" * 58)] * 20,
      iface="eth0", inter=0.005)
PY
}

has_incident()
{
    [ "$(redis zcard "vnm:t:$1:alerts")" -ge 1 ]
}

has_bw_index()
{
    redis sismember "vnm:t:$1:bw:hosts" "$VNM_LAB_NAME" | grep -qx 1 \
        && [ "$(redis zcard "vnm:t:$1:{$VNM_LAB_NAME}:bw:index")" -ge 1 ]
}

start_agent
start_analyzer
check -m "agent and analyzer up" wait_for 10 both_up
sleep 1                         # Taps bound, inventory read.

# ---------------------------------------------------- 1. traffic, incidents

check -m "t1vm1 reaches t1vm2" vm_ping t1vm1 10.0.0.12
check -m "t2vm1 reaches t2vm2" vm_ping t2vm1 10.0.0.22
burst t1vm1 10.0.0.99 02:00:00:00:01:02 10.0.0.12
burst t2vm1 10.0.0.98 02:00:00:00:02:02 10.0.0.22
check -m "an incident of tenant1" wait_for 15 has_incident tenant1
check -m "an incident of tenant2" wait_for 15 has_incident tenant2
# The agent indexes series at each minute's end.
check -m "tenant1's hosts and bandwidth index (minute's end)" \
    wait_for 75 has_bw_index tenant1
check -m "tenant2's hosts and bandwidth index" wait_for 5 has_bw_index tenant2
inc2=$(redis zrange vnm:t:tenant2:alerts 0 0)
check -m "tenant2's incident hash ($inc2)" [ -n "$inc2" ]

# ---------------------------------------------------- 2. users

pw1=$VNM_LAB_DIR/tenant1.pw
printf 'pw-%s\n' "$$-$RANDOM$RANDOM" >"$pw1"
chmod 600 "$pw1"
p1=$(head -n 1 "$pw1")
out=$(vnmonctl tenant add tenant1 --password-file "$pw1")
check -m "tenant add tenant1 (password from a file): not printed" \
    bash -c '! grep -q -- "$1" <<<"$2" && grep -q "vnm:t:tenant1:\*" <<<"$2"' \
    _ "$p1" "$out"
out=$(vnmonctl --json tenant add tenant2 --user t2reader)
p2=$("$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["password"])' <<<"$out")
check -m "tenant add tenant2 --user t2reader: a generated password" \
    grep -Eqx '[0-9a-f]{32}' <<<"$p2"
bad_name_refused()
{
    local rc=0
    vnmonctl tenant add "a b" || rc=$?
    [ "$rc" = 2 ]
}
check -m "tenant add: a tenant name with a space is refused" bad_name_refused
list=$(vnmonctl --json tenant list)
check -m "tenant list: both users, present" "$PYTHON" -c '
import json, sys
l = {u["user"]: u for u in json.loads(sys.argv[1])}
assert l["tenant1"]["tenant"] == "tenant1" and l["tenant1"]["exists"], l
assert l["t2reader"]["tenant"] == "tenant2" and l["t2reader"]["exists"], l' "$list"
check -m "the ACL: tenant1's keys and the coverage only, no channel" \
    bash -c 'redis-cli -s "$1" acl getuser tenant1 | grep -qx "%R~vnm:t:tenant1:\* %R~vnm:cov:\*" \
             && ! redis-cli -s "$1" acl getuser tenant1 | grep -q "&\*"' \
    _ "$VNM_REDIS_SOCK"

# ---------------------------------------------------- 3. tenant1's view

ctl1()
{
    vnmonctl --user tenant1 --password-file "$pw1" --tenant tenant1 "$@"
}
out=$(ctl1 alerts --json)
check -m "alerts as tenant1: tenant1's incident, none of tenant2's" \
    "$PYTHON" -c '
import json, sys
a = [json.loads(l) for l in sys.argv[1].splitlines()]
assert a, "no incident"
assert all(r["tenant"] == "tenant1" for r in a), a
assert any(r["type"] == "ip-spoof" and r["src"] == "10.0.0.99" for r in a), a
assert not any(r.get("src") == "10.0.0.98" for r in a), a' "$out"
check -m "alerts table as tenant1 (environment credentials)" \
    bash -c 'VNM_REDIS_USER=tenant1 VNM_REDIS_PASSWORD="$3" "$1" \
             --redis "unix:$2" --tenant tenant1 alerts | grep -q " tenant1 "' \
    _ "$VNMONCTL" "$VNM_REDIS_SOCK" "$p1"
out=$(ctl1 bw --json --since 10m)
check -m "bw as tenant1: the tenant's traffic" "$PYTHON" -c '
import json, sys
b = json.loads(sys.argv[1])
assert b["entity"]["kind"] == "tenant" and b["entity"]["id"] == "tenant1", b
assert b["stats"]["tx"]["bytes"] >= 2000, b["stats"]' "$out"
out=$(ctl1 peak --json --since 10m)
check -m "peak as tenant1: its VMs and ports, nothing else" "$PYTHON" -c '
import json, sys
e = json.loads(sys.argv[1])["entities"]
assert e and all(x["tenant"] == "tenant1" for x in e), e
assert any(x["kind"] == "vm" and x["tx"]["peak_bytes_per_s"] > 0 for x in e), e' "$out"

# The agent stopped for 5 s: a gap in tenant1's view too (from the hosts'
# coverage series, vnm:cov:*), at the same seconds as in the host's.
stop_daemon agent
sleep 5
start_agent
check -m "agent up again" wait_for 10 agent_up
sleep 4
out=$(ctl1 bw --json --since 3m --res s)
adm=$(vnmonctl bw host - --json --since 3m --res s)
check -m "bw as tenant1: the agent's stop is a gap, as in the host's view" \
    "$PYTHON" -c '
import json, sys
t, h = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert t["entity"]["kind"] == "tenant", t["entity"]
lo, hi = max(t["from"], h["from"]), min(t["to"], h["to"]) - 5
def gaps(v):
    return {b["time"] for b in v["bins"] if b.get("gap") and lo <= b["time"] < hi}
def recorded(v):
    return {b["time"] for b in v["bins"] if not b.get("gap") and lo <= b["time"] < hi}
tg, hg = gaps(t), gaps(h)
assert tg == hg, (sorted(tg ^ hg), sorted(tg), sorted(hg))
assert recorded(t) == recorded(h), sorted(recorded(t) ^ recorded(h))
first = min(recorded(t))
run = [x for x in sorted(tg) if x > first]
assert len(run) >= 2 and run[-1] - run[0] == len(run) - 1, run
assert t["stats"]["recorded_seconds"] < t["to"] - t["from"], t["stats"]' \
    "$out" "$adm"
out=$(ctl1 conns --json)
check -m "conns as tenant1: its summary and its VMs', none of tenant2's" \
    "$PYTHON" -c '
import json, sys
h = json.loads(sys.argv[1])["hosts"]
assert [x["host"] for x in h] == [sys.argv[2]], h
h = h[0]
assert h["summary"] is None and h["tenant"] == "tenant1", h
assert [t["tenant"] for t in h["tenants"]] == ["tenant1"], h["tenants"]
assert h["tenants"][0]["vms"] == 2, h["tenants"]
assert sorted(v["name"] for v in h["vms"]) == ["t1vm1", "t1vm2"], h["vms"]
assert all(v["tenant"] == "tenant1" for v in h["vms"]), h["vms"]' \
    "$out" "$VNM_LAB_NAME"
out=$(ctl1 conns)
check -m "conns as tenant1 (table): the tenant's header, its VMs" \
    bash -c 'grep -q "^host .*, tenant tenant1: " <<<"$1" \
             && grep -Eq "^vm +t1vm2 +tenant1 " <<<"$1" \
             && ! grep -q "tenant2" <<<"$1"' _ "$out"
# The live view (top): tenant1's own, while both tenants send.
SEND_PY='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(400):
    s.sendto(b"x" * 100, (sys.argv[1], 9))
    time.sleep(0.05)'
vm_bg t1vm1 "$PYTHON" -c "$SEND_PY" 10.0.0.12
vm_bg t2vm1 "$PYTHON" -c "$SEND_PY" 10.0.0.22
top_ok()
{
    local t a
    t=$(ctl1 top --json) && a=$(vnmonctl top --json) || return 1
    "$PYTHON" -c '
import json, sys
t, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert sorted(x["tenant"] for x in a["tenants"]) == ["tenant1", "tenant2"], a
assert [x["tenant"] for x in t["tenants"]] == ["tenant1"], t["tenants"]
assert t["vms"] and all(x["tenant"] == "tenant1" for x in t["vms"]), t["vms"]
assert all(x["tenant"] == "tenant1" for x in t["ports"]), t["ports"]
assert t["apps"] == [] and t["pairs"] == [], t
assert t["total"]["tx_bytes"] > 0, t["total"]
assert not t["missing_hosts"], t' "$t" "$a"
}
check -m "top as tenant1: its live view, its VMs and ports only" \
    wait_for 10 top_ok
# The tenant's part of the inventory: its interfaces only, and the link
# speeds of `capacity` as the operator sees them.
inv1=$(redis get "vnm:t:tenant1:{$VNM_LAB_NAME}:inventory")
check -m "tenant1's inventory: its interfaces only" "$PYTHON" -c '
import json, sys
i = json.loads(sys.argv[1])
names = sorted(x["name"] for x in i["interfaces"])
assert i["tenant"] == "tenant1" and names == ["t1vm1", "t1vm2"], names
assert all(x["tenant"] == "tenant1" for x in i["interfaces"]), i' "$inv1"
check -m "tenant1 cannot read tenant2's inventory" \
    refused tenant1 "$p1" get "vnm:t:tenant2:{$VNM_LAB_NAME}:inventory"
out=$(ctl1 capacity port --json --since 10m)
adm=$(vnmonctl capacity port --json --since 10m)
check -m "capacity as tenant1: its ports, with the operator's link speeds" \
    "$PYTHON" -c '
import json, sys
t, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
ts = {e["id"]: e["stats"]["link_speed"] for e in t["entities"]}
as_ = {e["id"]: e["stats"]["link_speed"] for e in a["entities"]}
assert sorted(ts) == ["t1vm1", "t1vm2"], ts
assert all(ts[p] == as_[p] for p in ts), (ts, as_)
assert all(ts.values()), ts             # veths: 10 Gbit/s.' "$out" "$adm"
covkey=$(redis keys "vnm:cov:{$VNM_LAB_NAME}:bw:s:*" | head -n 1)
check -m "tenant1 reads a coverage key ($covkey)" \
    bash -c '[ -n "$(REDISCLI_AUTH=$2 redis-cli -s "$1" --user tenant1 hgetall "$3")" ]' \
    _ "$VNM_REDIS_SOCK" "$p1" "$covkey"
check -m "tenant1 cannot write a coverage key" \
    refused tenant1 "$p1" hset "$covkey" 0 "1 1 1 1"

# ---------------------------------------------------- 4. refusals

bwkey=$(redis keys "vnm:t:tenant2:{$VNM_LAB_NAME}:bw:s:*" | head -n 1)
check -m "a bandwidth key of tenant2 ($bwkey)" [ -n "$bwkey" ]
check -m "tenant1 reads its own index" \
    bash -c '[ -n "$(REDISCLI_AUTH=$2 redis-cli -s "$1" --user tenant1 zrange vnm:t:tenant1:alerts 0 -1 | grep "^vnm:t:tenant1:")" ]' \
    _ "$VNM_REDIS_SOCK" "$p1"
check -m "tenant1 cannot read tenant2's index" \
    refused tenant1 "$p1" zrange vnm:t:tenant2:alerts 0 -1
check -m "tenant1 cannot read tenant2's incident" \
    refused tenant1 "$p1" hgetall "$inc2"
check -m "tenant1 cannot read tenant2's stream" \
    refused tenant1 "$p1" xrange vnm:t:tenant2:alerts:events - +
check -m "tenant1 cannot XREAD tenant2's stream" \
    refused tenant1 "$p1" xread count 1 streams vnm:t:tenant2:alerts:events 0
check -m "tenant1 cannot read tenant2's bandwidth series" \
    refused tenant1 "$p1" hgetall "$bwkey"
check -m "tenant1 cannot read tenant2's hosts" \
    refused tenant1 "$p1" smembers vnm:t:tenant2:bw:hosts
check -m "tenant1 cannot read the global index" \
    refused tenant1 "$p1" zrange vnm:alerts 0 -1
check -m "tenant1 cannot list keys (KEYS)" refused tenant1 "$p1" keys '*'
check -m "tenant1 cannot list keys (SCAN)" refused tenant1 "$p1" scan 0
check -m "tenant1 cannot HSET its own keys" \
    refused tenant1 "$p1" hset vnm:t:tenant1:x a b
check -m "tenant1 cannot DEL its own keys" \
    refused tenant1 "$p1" del vnm:t:tenant1:alerts
check -m "tenant1 cannot XADD to its own stream" \
    refused tenant1 "$p1" xadd vnm:t:tenant1:alerts:events '*' a b
check -m "tenant1 cannot publish" refused tenant1 "$p1" publish x y
check -m "t2reader cannot read tenant1's incident" \
    refused t2reader "$p2" hgetall "$(redis zrange vnm:t:tenant1:alerts 0 0)"
check -m "vnmonctl as tenant1, --tenant tenant2 alerts: NOPERM, exit 2" \
    ctl_refused --tenant tenant2 alerts
check -m "vnmonctl as tenant1, --tenant tenant2 bw: NOPERM, exit 2" \
    ctl_refused --tenant tenant2 bw
check -m "vnmonctl as tenant1, alerts (global index): NOPERM, exit 2" \
    ctl_refused alerts
check -m "vnmonctl as tenant1, bw of the host: NOPERM, exit 2" \
    ctl_refused bw host -
check -m "vnmonctl as tenant1, status: NOPERM, exit 2" ctl_refused status
check -m "vnmonctl as tenant1, conns of the host: NOPERM, exit 2" \
    ctl_refused conns
check -m "vnmonctl as tenant1, --tenant tenant2 conns: NOPERM, exit 2" \
    ctl_refused --tenant tenant2 conns
check -m "tenant1's own index unchanged" has_incident tenant1

# ---------------------------------------------------- 5. deletion

vnmonctl tenant del tenant1 >/dev/null
vnmonctl tenant del tenant2 --user t2reader >/dev/null
check -m "tenant1 can no longer AUTH" \
    bash -c 'REDISCLI_AUTH=$2 redis-cli -s "$1" --user tenant1 ping 2>&1 | grep -q WRONGPASS' \
    _ "$VNM_REDIS_SOCK" "$p1"
check -m "vnmonctl with tenant1's credentials fails to connect" \
    bash -c '! "$1" --redis "unix:$2" --user tenant1 --password-file "$3" \
             --tenant tenant1 alerts' _ "$VNMONCTL" "$VNM_REDIS_SOCK" "$pw1"
check -m "only the default user is left" \
    bash -c '[ "$(redis-cli -s "$1" acl users)" = default ]' _ "$VNM_REDIS_SOCK"
check -m "tenant list: empty" \
    bash -c '[ "$("$1" --redis "unix:$2" --json tenant list)" = "[]" ]' \
    _ "$VNMONCTL" "$VNM_REDIS_SOCK"

lab_down
