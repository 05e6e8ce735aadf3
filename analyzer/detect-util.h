/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the detector plugins (analyzer/detect-*.c): address
 * formatting, one readable evidence line per flow side, incident keys, and
 * a per-flow tracker that turns the cumulative counters of a flow's
 * UPDATE and END records into deltas.
 *
 * Built as the convenience library analyzer/libdetect-util.la, linked into
 * every detector plugin and its unit test: a plugin links to no host
 * symbol, so each one carries its own copy.  Uses libc only.  Nothing here
 * keeps global state; a 'struct du_deltas' belongs to one plugin instance
 * (one thread).
 */
#ifndef VNM_DETECT_UTIL_H
#define VNM_DETECT_UTIL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/alert.h"
#include "vnmon/flow.h"

struct vnm_host;
struct vnm_port;

/* Formats 'mac' as "02:00:00:00:01:01" into 'buf'.  Returns 'buf'. */
char *du_mac(const uint8_t mac[6], char buf[18]);

/* Formats 'a' as "10.0.0.11" or "fd00::11" into 'buf' ("-" for family 0).
 * Returns 'buf'. */
char *du_addr(const struct vnm_addr *a, char buf[46]);

/* Formats one readable line of what one side of 'f' sent into 'buf' of
 * 'size' bytes (truncated if longer; 256 bytes are plenty): the side 'src'
 * if 'src_side', else 'dst'.  E.g.
 *   "t1vm1 ofport 3 02:00:00:00:01:01 > 02:00:00:00:02:01 | 802.1Q vlan 10 |
 *    IPv4 10.0.0.11:40000 > 10.0.0.21:80 TCP [S] | 3 pkts 180 B"
 * with, where the side sent them, "ARP reply 10.0.0.21 is-at 02:...", "NA
 * target fd00::21 tll 02:...", "DHCP OFFER", and for a tunnelled flow
 * "VXLAN vni 5002 outer 10.0.0.11:4242 > 192.168.100.2:4789". */
void du_evidence(const struct vnm_flow *f, bool src_side, char *buf,
                 size_t size);

/* Formats the incident key "HOST/PORT>TARGET" into 'buf' of 'size' bytes:
 * HOST is f->host, PORT the port name in 'attacker' ("?" if it has none),
 * TARGET 'target' (the victim, or what was forged).  Returns 'buf'. */
char *du_key(const struct vnm_flow *f, const struct vnm_attribution *attacker,
             const char *target, char *buf, size_t size);

/* Parses severity 'name' ("info", "low", "medium", "high", "critical") into
 * '*severityp'.  Returns false, changing nothing, if it is none of them. */
bool du_severity(const char *name, enum vnm_severity *severityp);

/* True if 'a' is 0.0.0.0 or :: (or has no family). */
bool du_addr_is_unspecified(const struct vnm_addr *a);
/* True if 'a' is an IPv6 link-local address (fe80::/10). */
bool du_addr_is_link_local(const struct vnm_addr *a);

/* The network view's port that side 'src_side' of 'f' entered on, if that
 * side sent anything and the port is a VM's; else null.  Needs host->net
 * (check it in init()). */
const struct vnm_port *du_vm_port(const struct vnm_host *host,
                                  const struct vnm_flow *f, bool src_side);
/* The attribution to name in an alert for a side that entered with 'in' on
 * 'port' (which may be null): 'in' itself if 'port' has nothing to add,
 * else 'out', filled with a copy of 'in' whose empty members (VM, iface-id,
 * tenant, ofport) are taken from 'port'.  (Sinks find the flow side of an
 * alert's VM by comparing attributions: 'in' is best left as it is.) */
const struct vnm_attribution *du_attribution(
    const struct vnm_attribution *in, const struct vnm_port *port,
    struct vnm_attribution *out);
/* Formats the IP (MAC) binding of 'port' as "10.0.0.11, fd00::11/64"
 * ("none" if empty) into 'buf' of 'size' bytes.  Returns 'buf'. */
char *du_port_ips(const struct vnm_port *port, char *buf, size_t size);
char *du_port_macs(const struct vnm_port *port, char *buf, size_t size);
/* True if one of the prefixes of 'port''s IP binding holds 'ip' (without
 * the network view's exceptions for unspecified and link-local
 * addresses). */
bool du_port_has_ip(const struct vnm_port *port, const struct vnm_addr *ip);
/* True if the list 'list' (names separated by commas or spaces) holds
 * "NAME" or "HOST/NAME" for port 'name' of host 'host'. */
bool du_list_has_port(const char *list, const char *host, const char *name);

/* Per-flow delta tracker.
 *
 * The agent reports a flow several times with cumulative counters (UPDATE
 * records, then one END), always with the same id.  du_delta() remembers,
 * per flow (host, id and first_ms) and side, the counters it last
 * returned, and gives what was added since.  At most 'max' flows are
 * remembered: the least recently seen is forgotten first, and flows whose
 * END was seen go to the front of that queue (they stay until then, so
 * that both sides of an END record can be counted).  A forgotten flow
 * seen again counts from zero, which can count its packets twice; a
 * counter that went backwards (an agent restart reusing the id) counts
 * from zero as well. */
struct du_deltas;

/* Creates a tracker of at most 'max' flows (at least 1).  Returns null if
 * memory ran out.  Destroy with du_deltas_destroy(). */
struct du_deltas *du_deltas_create(size_t max);
/* Frees 'd'.  Accepts null. */
void du_deltas_destroy(struct du_deltas *d);
/* Stores in '*packets' and '*bytes' what side 'src_side' ('src', else
 * 'dst') of 'f' sent that no earlier call for the same flow and side
 * returned.  If memory runs out it gives the cumulative counters. */
void du_delta(struct du_deltas *d, const struct vnm_flow *f, bool src_side,
              uint64_t *packets, uint64_t *bytes);
/* Flows 'd' remembers. */
size_t du_deltas_count(const struct du_deltas *d);

#endif /* detect-util.h */
