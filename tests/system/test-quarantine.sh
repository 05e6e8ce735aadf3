#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End to end: quarantine on a lab of 3 VMs (t1vm1..t1vm3).  `vnmonctl
# quarantine t1vm1` makes the agent install drop rules with the quarantine
# cookie: t1vm1 reaches no one and no one reaches it, while t1vm2 and
# t1vm3 still talk; rules deleted by hand come back; `vnmonctl release`
# restores t1vm1 and removes the rules; both actions are in the events
# streams.  A stopped agent leaves the rules (release_on_stop = false, the
# default); with release_on_stop = true, SIGTERM removes them.  Last, the
# analyzer with [quarantine] types = ip-spoof quarantines t1vm1 by itself
# when it forges its source address, logging the incident id.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

COOKIE=0x766e6d6f6e710000
VM1=10.0.0.11 VM2=10.0.0.12 VM3=10.0.0.13

lab_up --tenants 1 --vms 3
write_configs
cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[tenancy]
learn = off

[detector "ip-spoof"]

[quarantine]
types = ip-spoof
CONF

rcli()
{
    redis-cli -s "$VNM_REDIS_SOCK" "$@"
}

# Our rules on br0, one per line (match and actions).
q_rules()
{
    ovs_sh ovs-ofctl -O OpenFlow13 --no-stats dump-flows br0 \
        "cookie=$COOKIE/-1" | grep -v '^OFPST_FLOW\|^ *$' || true
}

n_rules()
{
    [ "$(q_rules | wc -l)" -eq "$1" ]
}

reaches()
{
    vm_ping "$1" "$2" 1
}

cannot_reach()
{
    ! vm_ping "$1" "$2" 1
}

vm1_isolated()
{
    cannot_reach t1vm1 $VM2 && cannot_reach t1vm1 $VM3 \
        && cannot_reach t1vm2 $VM1 && cannot_reach t1vm3 $VM1
}

# listed PORT BY: `vnmonctl quarantine --json` lists only PORT, applied.
listed()
{
    vnmonctl quarantine --json | "$PYTHON" -c '
import json, sys
r = json.load(sys.stdin)
assert [(x["port"], x["applied"], x["by"], x["rules"]) for x in r] \
    == [(sys.argv[1], True, sys.argv[2], 2)], r' "$1" "$2"
}

# exits STATUS CMD...: CMD exits with STATUS.
exits()
{
    local want=$1 rc=0
    shift
    "$@" || rc=$?
    [ "$rc" = "$want" ]
}

# The agent's inventory lists t1vm1 (vnmonctl quarantine refuses a port
# that its host's inventory does not have).
inventory_has_vm1()
{
    rcli GET "vnm:{$VNM_LAB_NAME}:inventory" | grep -q '"t1vm1"'
}

start_agent
check -m "agent up" wait_for 10 agent_up
check -m "its inventory lists t1vm1" wait_for 10 inventory_has_vm1
# The tap has its rules in place.
wait_for 10 reaches t1vm1 $VM2 || fail "no traffic before quarantine"
check -m "t1vm1 reaches t1vm2" reaches t1vm1 $VM2
check -m "t1vm2 reaches t1vm3" reaches t1vm2 $VM3
check -m "no quarantine rule yet" n_rules 0

# Quarantine.
check -m "vnmonctl quarantine t1vm1 exits 0 (applied)" \
    vnmonctl quarantine t1vm1 --reason "system test"
q_rules | sed 's/^/    | /'
check -m "drop rules: in_port and dl_dst of t1vm1, priority 65535" \
    test "$(q_rules | grep -c 'priority=65535.*actions=drop')" = 2
check -m "the dl_dst rule names t1vm1's MAC" \
    test "$(q_rules | grep -c dl_dst=02:00:00:00:01:01)" = 1
check -m "t1vm1 reaches no one, no one reaches t1vm1" vm1_isolated
check -m "t1vm2 and t1vm3 still talk" reaches t1vm2 $VM3
check -m "t1vm3 reaches t1vm2" reaches t1vm3 $VM2
check -m "listed as quarantined and applied" listed t1vm1 vnmonctl
check -m "the tap's rules did not move above the quarantine's" \
    exits 1 grep -q "flow tap: priority" "$VNM_LAB_DIR/log/agent.log"

# Deleted by hand: back within a few seconds.
ovs_sh ovs-ofctl -O OpenFlow13 del-flows br0 "cookie=$COOKIE/-1"
check -m "rules deleted by hand" n_rules 0
check -m "rules back within 3 s" wait_for 3 n_rules 2
check -m "t1vm1 still cut off" cannot_reach t1vm2 $VM1

# Release.
check -m "vnmonctl release t1vm1 exits 0" vnmonctl release t1vm1
check -m "rules gone" n_rules 0
check -m "t1vm1 reaches t1vm2 again" wait_for 5 reaches t1vm1 $VM2
check -m "t1vm3 reaches t1vm1 again" reaches t1vm3 $VM1
check -m "release of a port not quarantined exits 1" \
    exits 1 vnmonctl release t1vm1
check -m "quarantine of an unknown port exits 2" \
    exits 2 vnmonctl quarantine nosuch

# The actions in the events streams, global and tenant's.
events_ok()
{
    rcli --json XRANGE "$1" - + | "$PYTHON" -c '
import json, sys
acts = [dict(zip(e[1][::2], e[1][1::2])) for e in json.load(sys.stdin)]
acts = [a for a in acts if "action" in a]
assert [(a["action"], a["port"], a["by"]) for a in acts] == [
    ("quarantine", "t1vm1", "vnmonctl"), ("release", "t1vm1", "vnmonctl")
], acts
assert all(a["host"] == sys.argv[1] and int(a["time"]) > 0 for a in acts)
assert acts[0]["reason"] == "system test", acts' "$VNM_LAB_NAME"
}
check -m "actions logged in vnm:alerts:events" events_ok vnm:alerts:events
check -m "and in the tenant's events stream" \
    events_ok vnm:t:tenant1:alerts:events

# release_on_stop = false (default): a stopped agent keeps the rules.
check -m "quarantine again" vnmonctl quarantine t1vm1
stop_daemon agent
check -m "rules stay after the agent stopped (release_on_stop = false)" \
    n_rules 2
check -m "t1vm1 still cut off with the agent stopped" vm1_isolated
check -m "vnmonctl quarantine with no agent: exit 1 after --wait" \
    exits 1 vnmonctl quarantine t1vm1 --wait 1
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[quarantine]
release_on_stop = true
CONF
ovs_sh ovs-ofctl -O OpenFlow13 del-flows br0 "cookie=$COOKIE/-1"
start_agent
check -m "a restarted agent applies the state kept in Redis" \
    wait_for 5 n_rules 2
stop_daemon agent
check -m "release_on_stop = true: rules gone after SIGTERM" n_rules 0
check -m "t1vm1 reaches t1vm2 with the agent stopped" \
    wait_for 5 reaches t1vm1 $VM2
check -m "the desired state stays in Redis" \
    test "$(rcli HEXISTS "vnm:{$VNM_LAB_NAME}:quarantine" t1vm1)" = 1
check -m "clean slate" vnmonctl release t1vm1 --wait 0

# Automatic: the analyzer quarantines t1vm1 when it forges its source.
start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
sleep 1                         # Taps bound, analyzer's group created.
vm_bg t1vm1 "$PYTHON" -c '
import time
from scapy.all import IP, UDP, Ether, conf
conf.verb = 0
s = conf.L2socket(iface="eth0")
for i in range(40):
    s.send(Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")
           / IP(src="10.0.0.99", dst="10.0.0.12")
           / UDP(sport=40000, dport=9999) / (b"x" * 64))
    time.sleep(0.25)'
auto_quarantined()
{
    rcli HGET "vnm:{$VNM_LAB_NAME}:quarantine" t1vm1 | "$PYTHON" -c '
import json, sys
v = json.load(sys.stdin)
assert v["by"] == "analyzer" and v["incident"].startswith("inc-"), v'
}
check -m "the analyzer quarantined t1vm1 for its ip-spoof incident" \
    wait_for 15 auto_quarantined
check -m "the agent applied it" wait_for 5 n_rules 2
check -m "t1vm1 cut off" vm1_isolated
auto_logged()
{
    rcli --json XRANGE vnm:alerts:events - + | "$PYTHON" -c '
import json, sys
evs = [dict(zip(e[1][::2], e[1][1::2])) for e in json.load(sys.stdin)]
inc = [json.loads(e["r"]) for e in evs if "r" in e
       and json.loads(e["r"]).get("type",
                                  json.loads(e["r"]).get("kind")) == "ip-spoof"]
acts = [e for e in evs if e.get("action") == "quarantine"
        and e.get("by") == "analyzer"]
assert inc and len(acts) == 1, (inc, acts)
assert acts[0]["incident"] == inc[0]["id"] and acts[0]["port"] == "t1vm1"'
}
check -m "the action is logged with the incident id, once" auto_logged
check -m "release after the automatic quarantine" vnmonctl release t1vm1
check -m "t1vm1 reaches t1vm2 again" wait_for 5 reaches t1vm1 $VM2

stop_daemon agent
stop_daemon analyzer
lab_down
