/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the detector plugins (analyzer/detect-*.c): address
 * formatting, one readable evidence line per flow side, incident keys, a
 * per-flow tracker that turns the cumulative counters of a flow's UPDATE
 * and END records into deltas, and an emitter that limits each incident's
 * emissions to one a second.
 *
 * Built as the convenience library analyzer/libdetect-util.la, linked into
 * every detector plugin and its unit test: a plugin links to no host
 * symbol, so each one carries its own copy.  Uses libc only.  Nothing here
 * keeps global state; a 'struct du_deltas' or 'struct du_emitter' belongs
 * to one plugin instance (one thread).
 */
#ifndef VNM_DETECT_UTIL_H
#define VNM_DETECT_UTIL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/alert.h"
#include "vnmon/flow.h"

struct du_deltas;
struct vnm_conf;
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

/* Parses severity 'name', the value of configuration key 'key', into
 * '*severityp'.  Returns 0, or EINVAL after logging the error through
 * 'host' if 'name' is not a severity (changing nothing). */
int du_check_severity(const struct vnm_host *host, const char *key,
                      const char *name, enum vnm_severity *severityp);
/* Reads severity 'key' of 'conf' (default 'dflt') into '*severityp', as
 * du_check_severity() does.  Returns 0 or a positive errno value (logged). */
int du_conf_severity(const struct vnm_host *host, const struct vnm_conf *conf,
                     const char *key, const char *dflt,
                     enum vnm_severity *severityp);
/* Returns 0 if 'host' lends a network view (host->net), else ENOTSUP after
 * logging that the detector needs one. */
int du_require_net(const struct vnm_host *host);

/* The common part of a detector's init(): reads "severity" of 'conf'
 * (default 'dflt_severity', checked as du_check_severity() does) into
 * '*severityp' and "max_flows" (default 'dflt_max_flows', 16 to
 * 10000000), checks with du_require_net() that 'host' lends a network view
 * if 'need_net', and creates a du_deltas tracker of max_flows flows in
 * '*deltasp' (the caller destroys it).  Returns 0, or a positive errno
 * value (logged, except ENOMEM) after changing nothing. */
int du_init_common(const struct vnm_host *host, const struct vnm_conf *conf,
                   const char *dflt_severity, int64_t dflt_max_flows,
                   bool need_net, enum vnm_severity *severityp,
                   struct du_deltas **deltasp);

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
/* Formats the binding of 'port' as "t1vm1 binding: IPs 10.0.0.11
 * (learned); MACs 02:00:00:00:01:01" into 'buf' of 'size' bytes (" (learned)"
 * after a learned part).  Returns 'buf'. */
char *du_port_binding(const struct vnm_port *port, char *buf, size_t size);
/* True if ports 'a' and 'b' are the same VM's (one port, or a VM with two
 * ports or moving). */
bool du_same_vm(const struct vnm_port *a, const struct vnm_port *b);
/* True if side 'src_side' of 'flow' sent something and entered on a VM's
 * port: one the network view knows as a VM's, or, if it does not know the
 * port, one the agent attributed to a VM, iface-id or tenant.  Stores the
 * network view's port (null if unknown) in '*portp'.  Needs host->net. */
bool du_from_vm(const struct vnm_host *host, const struct vnm_flow *flow,
                bool src_side, const struct vnm_port **portp);
/* True if the list 'list' (names separated by commas or spaces) holds
 * "NAME" or "HOST/NAME" for port 'name' of host 'host'. */
bool du_list_has_port(const char *list, const char *host, const char *name);

/* Why a flow side is forged: up to DU_MAX_REASONS short texts, for a
 * summary.  Initialise with { .n = 0 }. */
#define DU_MAX_REASONS 4
struct du_reasons {
    char text[DU_MAX_REASONS][128]; /* Each a short clause. */
    size_t n;                   /* Entries of 'text' used. */
};

/* Appends a reason, formatted as printf() does, to 'r' (ignored if 'r' is
 * full; truncated to 127 bytes). */
void du_reason_add(struct du_reasons *r, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the reasons of 'r' as " REASON; REASON" to the string of 'len'
 * chars in 'buf' of 'size' bytes (nothing if 'len' is negative or does not
 * fit, truncated if the reasons do not). */
void du_reasons_append(const struct du_reasons *r, char *buf, size_t size,
                       int len);

/* Hashing (32-bit FNV-1a), for the detectors' hash tables. */

/* The hash of the 'size' bytes at 'p'. */
uint32_t du_hash_bytes(const void *p, size_t size);
/* The hash of the string "HOST/PORT": a port 'port' of hypervisor 'host'. */
uint32_t du_hash_port(const char *host, const char *port);

/* Recency list.
 *
 * An intrusive doubly linked list from the most to the least recently used
 * entry, which decides what a bounded table forgets first: embed a 'struct
 * du_lru_node' in each entry and get the entry back with DU_LRU_ENTRY().
 * Zero-initialised list and nodes are empty and unlinked. */
struct du_lru_node {
    struct du_lru_node *newer;  /* Neighbours, null at the ends or when */
    struct du_lru_node *older;  /* not in a list. */
};

/* A recency list. */
struct du_lru {
    struct du_lru_node *newest; /* Null iff the list is empty. */
    struct du_lru_node *oldest;
};

/* The entry of type TYPE whose member MEMBER is the node NODE (not
 * null). */
#define DU_LRU_ENTRY(NODE, TYPE, MEMBER) \
    ((TYPE *) (void *) ((char *) (NODE) - offsetof(TYPE, MEMBER)))

/* Takes 'node' out of 'lru', if it is in it. */
void du_lru_remove(struct du_lru *lru, struct du_lru_node *node);
/* Puts 'node', which is in no list, at the newest (oldest) end of 'lru'. */
void du_lru_push_newest(struct du_lru *lru, struct du_lru_node *node);
void du_lru_push_oldest(struct du_lru *lru, struct du_lru_node *node);

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

/* Emission rate limiter.
 *
 * Emits each incident (alert kind and key) at most once per DU_EMIT_MS of
 * the host clock.  The first emission of an incident goes to the host at
 * once; later ones within DU_EMIT_MS of the previous are merged into a
 * pending one (packets and bytes added; the latest summary, target, VM and
 * at most DU_EMIT_EVIDENCE evidence lines kept; the highest severity),
 * which the next emission or a tick delivers once DU_EMIT_MS have passed.
 * At most DU_EMIT_MAX incidents are remembered: the least recently emitted
 * one is flushed and forgotten first; one not emitted for DU_EMIT_IDLE_MS
 * is flushed and forgotten at a tick.  If memory runs out an alert is
 * delivered unmerged.  A 'struct du_emitter' belongs to one plugin
 * instance (one thread). */
#define DU_EMIT_MS 1000         /* Least time between emissions. */
#define DU_EMIT_MAX 1024        /* Incidents remembered. */
#define DU_EMIT_IDLE_MS 60000   /* Forgotten after this long unseen. */
#define DU_EMIT_EVIDENCE 4      /* Evidence lines kept per incident. */

struct du_emitter;

/* Creates an emitter that delivers through 'host''s emit_alert() and reads
 * its now_ms() ('host' is borrowed and must outlive it).  Returns null if
 * memory ran out.  Destroy with du_emitter_destroy(). */
struct du_emitter *du_emitter_create(const struct vnm_host *host);
/* Frees 'e' and what it remembers, delivering nothing pending.  Accepts
 * null. */
void du_emitter_destroy(struct du_emitter *e);
/* Emits 'alert' (borrowed; copied as needed) now, or merges it into its
 * incident's pending emission if that incident was emitted less than
 * DU_EMIT_MS ago. */
void du_emitter_emit(struct du_emitter *e, const struct vnm_alert *alert);
/* Delivers the pending emissions that are due at 'now_ms', and forgets
 * (after delivering what they have pending) the incidents not emitted for
 * DU_EMIT_IDLE_MS.  Call it from the detector's on_tick(). */
void du_emitter_tick(struct du_emitter *e, uint64_t now_ms);
/* Incidents 'e' remembers. */
size_t du_emitter_count(const struct du_emitter *e);

#endif /* detect-util.h */
