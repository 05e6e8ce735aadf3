/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl topology`: each host's bridges, ports, VMs, tenants and
 * tunnels, from the agents' inventories ("vnm:{HOST}:inventory"), and the
 * VM-to-VM (and VM-to-address) traffic edges observed over a range, from
 * the top pairs the agents write per minute and per hour
 * ("vnm:{HOST}:bw:pairs:{m,h}:START", lib/bw-series.h).  `vnmonctl report`
 * reads its "top pairs" through ctl_topology_read() too.
 *
 * Edges.  A pair field "SRC>DST" counts the bytes SRC sent to DST; an
 * endpoint is "vm:UUID", or "ip:ADDRESS" when the agent did not know the
 * address's VM (a VM of another host, say).  Such an address is resolved
 * to a VM by the inventories' addresses: the observing host's VMs first,
 * else the one VM of any other host that has it (an address that several
 * VMs of other hosts have, as overlapping tenant networks allow, stays an
 * address).  Traffic between VMs of two hosts is seen by both agents: an
 * edge sums the bins of each observing host, and takes the largest of the
 * hosts' sums, rather than counting the traffic twice.
 *
 * Bins.  Up to a day, the minute bins whose start lies in the range are
 * read; beyond, the hour bins, each hour whose bin the agent has not
 * written (the current one) from its minute bins.  The range is so rounded
 * out to whole bins.
 */
#ifndef VNM_TOOLS_CTL_TOPOLOGY_H
#define VNM_TOOLS_CTL_TOPOLOGY_H 1

#include <stdint.h>

struct json_t;
struct vnm_redis;

/* Reads the topology of 'host' (NULL: every host of "vnm:inventory:hosts"
 * and "vnm:bw:hosts") with the edges observed in [from, to) (seconds since
 * the epoch) into '*topop', a new JSON object:
 *
 *   {"from", "to", "hosts": [{"host", "inventory" (false if none was
 *    published), "connected", "synced", "published_ms", "bridges", "ports",
 *    "vms", "tenants", "tunnels"}], "edges": [{"src", "dst", "src_vm",
 *    "dst_vm", "src_tenant", "dst_tenant", "src_host", "dst_host", "bytes",
 *    "packets", "observed_by"}]}
 *
 * (doc/vnmonctl.md describes each member).  Edges are sorted by bytes,
 * largest first.  Returns 0, or an errno value after printing why on
 * stderr. */
int ctl_topology_read(struct vnm_redis *r, const char *host, uint64_t from,
                      uint64_t to, struct json_t **topop);

#endif /* ctl-topology.h */
