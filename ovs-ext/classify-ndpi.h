/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Application classification with nDPI (libndpi 4.2).
 *
 * The flow table (flow-table.c) owns one classifier per worker thread and
 * embeds each flow's classification state in its flow entry; it feeds that
 * state the IP packets of the flow (L3 header onwards, as decode.c finds it)
 * until classify_packet() says to stop, and asks for the result when it
 * builds a flow record.  classify-ndpi.c is the only file that includes
 * nDPI's headers: no nDPI type appears here.
 *
 * Feeding follows Debian's ndpiReader, so that labels agree with it: a flow
 * is fed until nDPI names its application; then, while nDPI says more packets
 * would add information (TLS certificates, DNS answers, HTTP response...),
 * it keeps being fed; a flow still unknown after 80 TCP or 24 UDP/other
 * packets is given up on (nDPI guesses from ports), as is a flow that ends
 * before it is done.
 *
 * Memory: every block nDPI allocates goes through allocation hooks that
 * charge it to the classifier whose call made it, so that the flow table's
 * memory cap can include nDPI's heap.  What nDPI allocates for a flow is
 * freed as soon as the flow is done (the result lives in the flow struct
 * itself), or by classify_flow_cleanup().  A per-flow state must be cleaned
 * up before its classifier is destroyed.
 *
 * Threading: a classifier and the flow states fed to it belong to one thread
 * at a time.  classifier_create() and classifier_destroy() may be called from
 * any thread (they serialize nDPI's non-reentrant setup).
 */
#ifndef VNM_CLASSIFY_NDPI_H
#define VNM_CLASSIFY_NDPI_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnm_flow;

/* An nDPI detection module and its heap accounting. */
struct classifier;

/* Where a flow stands in classification. */
enum classify_state {
    CLASSIFY_MORE = 0,          /* Not classified yet: keep feeding. */
    CLASSIFY_EXTRA,             /* Classified, but more packets add detail
                                 * (certificate, answers): keep feeding. */
    CLASSIFY_DONE,              /* Final: stop feeding. */
};

/* Packets fed to a flow before it is given up on (ndpiReader's limits). */
#define CLASSIFY_MAX_TCP_PACKETS 80
#define CLASSIFY_MAX_OTHER_PACKETS 24

/* Creates a detection module with every protocol enabled.  Aborts if nDPI
 * cannot allocate it (as xmalloc() does).  Never returns NULL. */
struct classifier *classifier_create(void);

/* Frees 'c' (NULL is fine).  Every flow state fed to 'c' must have been
 * cleaned up first. */
void classifier_destroy(struct classifier *c);

/* The size in bytes of a per-flow state (nDPI's flow struct plus a little
 * bookkeeping).  The caller allocates it, zeroed, aligned for any type (as
 * malloc() aligns). */
size_t classifier_flow_size(void);

/* Bytes of heap that nDPI currently holds for 'c': its detection module
 * (about 6 MB, allocated by classifier_create(), plus caches nDPI creates on
 * first use) and what the flows fed to it hold, our 16-byte block headers
 * included. */
uint64_t classifier_heap_size(const struct classifier *c);

/* Bytes of heap that nDPI currently holds in the whole process, for every
 * classifier and outside any. */
uint64_t classifier_heap_total(void);

/* Feeds the IP packet at 'l3' ('l3_len' bytes, from the IPv4 or IPv6 header
 * on), seen at 'ts_ms', to the flow whose state is 'flow_state'.  Returns
 * what to do with the flow's next packets.  Once it has returned
 * CLASSIFY_DONE, further calls do nothing and return CLASSIFY_DONE. */
enum classify_state classify_packet(struct classifier *c, void *flow_state,
                                    const uint8_t *l3, uint16_t l3_len,
                                    uint64_t ts_ms);

/* The state of 'flow_state', as the last classify_packet() returned it
 * (CLASSIFY_MORE if it was never fed). */
enum classify_state classify_get_state(const void *flow_state);

/* Ends classification of a flow that is not CLASSIFY_DONE: nDPI gives up,
 * guessing from ports if it found nothing.  Does nothing for a flow that was
 * never fed or is done. */
void classify_giveup(struct classifier *c, void *flow_state);

/* Fills the nDPI fields of 'out': app, master, category, confidence,
 * risk_score, risks and server_name (host name, TLS SNI, DNS query name).
 * Names are nDPI's.  'master' is "" unless nDPI found a protocol on top
 * of another one, so that ndpiReader's label (ndpi_protocol2name()) is
 * "MASTER.APP" when 'master' is not empty, else "APP" (e.g. master "TLS",
 * app "Google" for "TLS.Google"; app "DNS" for "DNS").  A flow that was
 * never fed gets empty names and zeroes. */
void classify_result(struct classifier *c, const void *flow_state,
                     struct vnm_flow *out);

/* Just the 'app' name of classify_result() ("" while unknown), into
 * 'app_name' ('size' bytes).  Cheaper: for per-second accounting. */
void classify_app_name(struct classifier *c, const void *flow_state,
                       char *app_name, size_t size);

/* Frees what nDPI allocated inside 'flow_state' (NULL is fine).  The state
 * may then only be freed, or zeroed and fed again. */
void classify_flow_cleanup(void *flow_state);

#endif /* classify-ndpi.h */
