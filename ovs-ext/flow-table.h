/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flow table: decoded frames in, flow records out.
 *
 * One table per worker thread, no locks: every function runs in the thread
 * that owns the table, and the callbacks are called in that thread.  The
 * worker decodes a frame (decode.c), hands it to flow_table_packet() with the
 * ingress port id its tap found, calls flow_table_expire() regularly (a few
 * times a second is plenty), and flow_table_flush() when it stops.  Records
 * (struct vnm_flow, include/vnmon/flow.h) go to the record callback: END
 * records when a flow ends, UPDATE records for long flows.  The caller fills
 * in what the table does not know (the flow class, enricher labels).
 *
 * Flow key: bidirectional, so both directions of a conversation are one
 * flow.  For IP: the two (address, L4 port) ends in a canonical order, the IP
 * protocol, the EtherType, and the context: the VLAN IDs of the tag stack
 * (their number included) and the tunnel type and VNI (for a tunnelled frame
 * the key is the inner frame's, in its tunnel's context).  The same 5-tuple on
 * two VLANs, or in two VNIs, is two flows.  For ICMP echo the "ports" are the
 * echo id.  Non-IP frames (LLDP, ARP too short to decode...) key on the two
 * MAC addresses, the EtherType and the same context.
 *
 * One-way flows: the protocols that vouch for addresses are keyed
 * directionally, one flow per sender, ingress port and claim, so that a
 * forged frame never merges into a genuine flow (include/vnmon/flow.h):
 * ARP (decoded, op != 0), ICMPv6 Neighbor Discovery (types 133..137) and UDP
 * with a port in 67, 68, 546, 547 (DHCP, DHCPv6).  The key holds the
 * sender's and the destination's addresses (ARP: the sender and target
 * protocol addresses), the ingress port id, and a 16-bit keyed hash of what
 * else the frame claims (its Ethernet source, and the ARP op and sender MAC;
 * the ND type, target and link-layer address option; the DHCP UDP ports):
 * two NAs of one port for two targets are two flows.  The sender is always
 * 'src'; 'dst' never sends.  The record's 'src.port'/'dst.port' are 0 for
 * ARP and ND, the first frame's UDP ports for DHCP; an ARP record's
 * 'src.ip'/'dst.ip' are the sender and target protocol addresses (family
 * 4).  Such a flow stays "probation" (below) until its 8th frame.
 *
 * Address-protocol details ('src_ctl'/'dst_ctl' of the record): each side's
 * first ICMP/ICMPv6 type and code; for the sender of a one-way flow, the
 * ARP ops (gratuitous: sender IP = target IP; sender MAC not the Ethernet
 * source), the first ARP sender MAC, the ND types, the first NA's or RA's
 * flags, the first link-layer address option and the first target, and the
 * DHCP/DHCPv6 message types.  Per incarnation, like the counters.  A
 * tunnelled flow's record has the outer addresses and UDP ports of its
 * first frame ('outer').
 *
 * Initiator ('src' of the record): the sender of the flow's first frame, or
 * its receiver if that frame is a TCP SYN+ACK.
 *
 * Fragments: a first fragment (offset 0) carries the L4 header and goes to
 * its flow like any packet; the table then remembers (source, destination,
 * protocol, fragment id, context) -> flow in a small fixed map (512 slots,
 * 30 s, a newer datagram takes an older one's slot), so that later fragments
 * are counted to the same flow and direction.  A later fragment whose first
 * fragment is not in the map is counted in 'n_frags_untracked' and belongs to
 * no flow.  Later fragments are not fed to nDPI.
 *
 * Timeouts (all measured from a flow's last frame, except the active one):
 *   - TCP flow never answered: no frame from the responder, and no ACK (an
 *     ACK means the answer went by unseen): 'syn_timeout_ms' (END_IDLE);
 *   - TCP flow after a FIN each way, or a RST: 'tcp_closed_timeout_ms' (then
 *     END_TCP); a SYN without ACK on a closed flow ends it at once and
 *     starts a new flow;
 *   - every other flow: 'idle_timeout_ms' (END_IDLE);
 *   - 'active_timeout_ms' after its start a flow ends with END_ACTIVE and
 *     restarts at once: same entry, nDPI result and TCP state kept, new id,
 *     counters from zero (an incarnation that then sees no frame ends
 *     without a record);
 *   - 'first_update_ms' after its start a flow (each incarnation) still in
 *     the table gets its first UPDATE record, so that the analyzer sees it
 *     within seconds; then every 'update_interval_ms' a flow that saw frames
 *     since its last record gets an UPDATE record (cumulative counters, same
 *     id).  A flow ended before 'first_update_ms' has only its END record;
 *     'update_interval_ms' 0 turns every UPDATE record off, the first too.
 * Each timeout is a list kept in last-frame (or start, or last-record) order,
 * so flow_table_expire() only looks at list heads: nothing due costs O(1).
 * Times come from the frames (and from flow_table_expire()'s 'now_ms'); the
 * table never lets its clock go backwards.
 *
 * Caps and eviction: before a new flow is added, and after nDPI has grown
 * its heap, flows that have timed out are ended first (with their own END
 * records), then flows are evicted until there are fewer than 'max_flows'
 * and the memory (see below) is within 'max_memory'.  Each eviction is
 * counted and gives an END_EVICTED record.  The victim is the least
 * recently seen flow of the first non-empty class in this order:
 *   1. closed TCP flows (finished anyway);
 *   2. "probation" flows: one-way (the responder never sent) with fewer than
 *      8 frames, as random-source floods make, provided probation flows are
 *      at least 1/8 of the table or nothing else is left;
 *   3. established flows: two-way, or one-way with 8 frames or more;
 *   4. probation flows.
 * Under a random-source SYN flood the spoofed flows therefore replace each
 * other in the probation share of the table, while established flows keep
 * their place (at most 7/8 of the table is theirs to keep, so that a new
 * genuine flow survives long enough for its answer to promote it).
 *
 * Memory ('memory' in the stats, checked against 'max_memory'): the table
 * (its struct and 64 KiB fragment map, 74 KiB in all, plus its hash buckets,
 * 8 bytes each, which double as flows outnumber them), every flow entry
 * (flow_table_flow_size() each, 84 bytes more if one-way or tunnelled), and
 * the classifier's whole nDPI heap (its detection module, about 6 MB, and
 * what flows allocate in it).  malloc()'s own per-block overhead is not
 * counted.  What nDPI allocates while it processes one frame may exceed the
 * cap until the evictions that follow.
 *
 * State per flow (one malloc()'d entry, flow_table_flow_size() bytes): 288
 * bytes of table state (hash chain, 3 list links, the 56-byte key, record id,
 * first/last/start/last-record times; per side: packets, bytes, TCP flags,
 * ingress port id, MAC, first ICMP type and code; the first frame's tags;
 * TCP, class and classification state) plus classifier_flow_size() (nDPI
 * 4.2's 688-byte flow struct and 16 bytes of ours): 992 bytes in all.  A
 * one-way flow (ARP, ND, DHCP) or a tunnelled one takes 84 bytes more, for
 * its sender's address-protocol details, its DHCP ports and its tunnel
 * carrier ('memory' counts them); other flows nothing.  Add what nDPI
 * allocates for the flow while it classifies it (nothing for most flows,
 * strings for HTTP and TLS, TLS reassembly buffers of up to tens of KB while
 * a certificate is in flight; 350 bytes per live flow on average over nDPI's
 * own test captures), given back as soon as its classification is done.
 * Names, labels and attributions are not stored: they are made when a
 * record is.
 *
 * Per-second accounting (optional, flow_table_set_bw()): every frame also
 * counts in its flow's tally of the current second, by the frame's own
 * timestamp.  When a frame of a later second arrives, or the owner calls
 * flow_table_tick() with a later second (from the wall clock, so that a
 * quiet worker still closes its seconds), each flow with frames in the
 * second being closed gets one delta (struct flow_bw_delta) through the
 * bw callback; a flow that ends hands over its pending delta first.  A
 * frame stamped with a second already closed counts in the current one
 * ('n_bw_late').  Costs 48 bytes per flow and, per second, one callback
 * per flow that had frames.
 *
 * Hashing: keyed SipHash-1-3 with a per-table random key (getrandom()), since
 * keys are chosen by whoever sends frames.
 */
#ifndef VNM_FLOW_TABLE_H
#define VNM_FLOW_TABLE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/flow.h"

struct classifier;
struct decoded;
struct vnm_attribution;
struct vnm_flow;

/* Defaults of struct flow_table_config (flow_table_config_init()). */
#define FLOW_TABLE_DEFAULT_MAX_FLOWS 262144
#define FLOW_TABLE_DEFAULT_MAX_MEMORY (512ULL << 20)
#define FLOW_TABLE_DEFAULT_IDLE_TIMEOUT_MS 60000
#define FLOW_TABLE_DEFAULT_TCP_CLOSED_TIMEOUT_MS 5000
#define FLOW_TABLE_DEFAULT_SYN_TIMEOUT_MS 10000
#define FLOW_TABLE_DEFAULT_ACTIVE_TIMEOUT_MS (30 * 60 * 1000)
#define FLOW_TABLE_DEFAULT_UPDATE_INTERVAL_MS 10000
#define FLOW_TABLE_DEFAULT_FIRST_UPDATE_MS 1000

/* A table's settings.  Start from flow_table_config_init(). */
struct flow_table_config {
    /* Most flows at once (> 0). */
    uint32_t max_flows;
    /* Most bytes of memory, nDPI's included (see above); evictions keep the
     * table within it.  It should leave room for many flows beyond the
     * fixed part (about 6.2 MB with a classifier, 74 KiB without). */
    uint64_t max_memory;
    /* Idle timeout of other flows (> 0). */
    uint32_t idle_timeout_ms;
    /* Idle timeout of TCP flows after a FIN each way or a RST (> 0). */
    uint32_t tcp_closed_timeout_ms;
    /* Idle timeout of TCP flows never answered (> 0). */
    uint32_t syn_timeout_ms;
    /* Age at which a flow ends (END_ACTIVE) and restarts; 0 = never. */
    uint32_t active_timeout_ms;
    /* Interval of UPDATE records for live flows; 0 = never (no first
     * UPDATE record either). */
    uint32_t update_interval_ms;
    /* Age at which a flow (an incarnation) gets its first UPDATE record;
     * 0 = after 'update_interval_ms' like the next ones. */
    uint32_t first_update_ms;
    /* Whether to classify flows with nDPI (needs a classifier). */
    bool classify;
    /* The worker's number: the top 16 bits of every record id. */
    uint32_t worker_id;
};

/* Called for each record, in the table's thread.  'rec' is borrowed: valid
 * only during the call.  The callback must not call into the table. */
typedef void flow_record_func(void *aux, const struct vnm_flow *rec);

/* One flow's frames during one second, as the per-second accounting hands
 * them over: side 0 is the initiator (a record's 'src'), side 1 the
 * responder. */
struct flow_bw_delta {
    uint64_t sec;               /* Seconds since the epoch. */
    uint32_t port[2];           /* Ingress port id of each side's first
                                 * frame; 0 if that side has not sent. */
    uint8_t mac[2][6];          /* Source MAC of each side's first frame. */
    struct vnm_addr ip[2];      /* Address of each side (family 0 if not
                                 * IP). */
    uint64_t packets[2];        /* Frames each side sent in 'sec'. */
    uint64_t bytes[2];          /* Their wire length. */
    char app[VNM_PROTO_NAME_SIZE]; /* nDPI application so far, "" if not
                                 * classified or not classifying. */
};

/* Gets each delta, in the table's thread.  'delta' is borrowed. */
typedef void flow_bw_func(void *aux, const struct flow_bw_delta *delta);

/* Fills '*out' (zeroed by the table, with 'ofport' -1) with the attribution
 * of the ingress port 'port_id' (never 0, "unknown"), in the table's
 * thread. */
typedef void flow_resolve_func(void *aux, uint32_t port_id,
                               struct vnm_attribution *out);

/* A table's counters. */
struct flow_table_stats {
    uint64_t n_flows;           /* Flows in the table now. */
    uint64_t n_created;         /* Flows started (active restarts too). */
    uint64_t n_ended;           /* Flows ended, for any reason. */
    uint64_t n_evicted;         /* Of 'n_ended': evicted by a cap. */
    uint64_t n_evicted_probation; /* Of 'n_evicted': one-way, < 8 frames. */
    uint64_t n_updates;         /* UPDATE records. */
    uint64_t n_packets;         /* Frames given to flow_table_packet(). */
    uint64_t n_bytes;           /* Their wire length. */
    uint64_t n_frags_untracked; /* Later fragments of no known flow. */
    uint64_t n_runts;           /* Frames without a whole Ethernet header
                                 * (no flow). */
    uint64_t n_classified;      /* Flows whose classification finished. */
    uint64_t n_bw_deltas;       /* Per-second deltas handed over. */
    uint64_t n_bw_late;         /* Frames stamped in a closed second. */
    uint64_t memory;            /* Bytes now (see the file comment). */
    uint64_t max_memory_seen;   /* Highest 'memory' so far. */
    uint64_t ndpi_memory;       /* Of 'memory': the classifier's heap. */
};

/* Sets '*cfg' to the defaults: 262144 flows, 512 MiB, idle 60 s, TCP closed
 * 5 s, SYN 10 s, active 30 min, updates every 10 s with the first after
 * 1 s, classify, worker 0. */
void flow_table_config_init(struct flow_table_config *cfg);

/* Creates an empty table.  'cfg' is copied.  'classifier' (may be NULL: no
 * classification) must belong to this table alone and outlive it.
 * 'record' (required) gets every record, 'resolve' (may be NULL: no
 * attribution) names ingress ports; both get 'aux'.  Aborts on allocation
 * failure. */
struct flow_table *flow_table_create(const struct flow_table_config *cfg,
                                     struct classifier *classifier,
                                     flow_record_func *record,
                                     flow_resolve_func *resolve, void *aux);

/* Frees 'table' and its flows (NULL is fine), emitting nothing. */
void flow_table_destroy(struct flow_table *table);

/* Accounts the frame 'frame', decoded into '*d', that entered on port
 * 'port_id' (0 if unknown) at 'ts_ms' (ms since the epoch).  The frame's
 * wire length counts as its size.  Every frame counts, keyed on what the
 * decoder found, malformed or not (the caller chooses what to pass), except
 * a frame without a whole Ethernet header, which is only counted.  May emit
 * records (evictions, a closed flow's port reused). */
void flow_table_packet(struct flow_table *table, const struct decoded *d,
                       const uint8_t *frame, uint32_t port_id,
                       uint64_t ts_ms);

/* Emits the END records of flows timed out at 'now_ms' and the UPDATE
 * records due, removing ended flows.  Cheap when nothing is due. */
void flow_table_expire(struct flow_table *table, uint64_t now_ms);

/* Ends every flow with an END_SHUTDOWN record (END_TCP for TCP flows
 * already closed), leaving the table empty. */
void flow_table_flush(struct flow_table *table, uint64_t now_ms);

/* Turns per-second accounting on ('bw' non-NULL, called with the table's
 * 'aux') or off.  Set it before the first frame. */
void flow_table_set_bw(struct flow_table *table, flow_bw_func *bw);

/* Closes every second before 'sec': hands over the deltas of the second
 * being accounted if it is earlier than 'sec', then accounts 'sec'.  Does
 * nothing if 'sec' is not later. */
void flow_table_tick(struct flow_table *table, uint64_t sec);

/* The second being accounted (every earlier one is closed), 0 before the
 * first frame or tick. */
uint64_t flow_table_bw_second(const struct flow_table *table);

/* Copies the table's counters into '*stats'. */
void flow_table_get_stats(const struct flow_table *table,
                          struct flow_table_stats *stats);

/* The bytes of state of one flow, nDPI's flow struct included (not what
 * nDPI allocates for it later); one-way and tunnelled flows take 84 bytes
 * more (see above). */
size_t flow_table_flow_size(const struct flow_table *table);

#endif /* flow-table.h */
