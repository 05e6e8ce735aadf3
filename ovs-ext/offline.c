/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline reader behind `vnmon-agent --read FILE`: a capture file (pcap
 * or pcapng, read with libpcap) through the same decoder, flow table and
 * nDPI classifier as the live pipeline, on the calling thread.
 *
 * Link types other than Ethernet (raw IP, Linux cooked v1/v2, BSD loopback,
 * PPP, Cisco HDLC)
 * get a synthetic Ethernet header so that the decoder sees one kind of
 * frame.  A frame whose outermost tag is 802.1ad is taken as tapped by the
 * flow tap: its VID is the ingress port index and the tag is removed, so
 * that both directions of a flow meet in one entry.
 */
#include <config.h>

#include "ovs-ext/ovs-ext.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "ovs-ext/classify-ndpi.h"
#include "ovs-ext/decode.h"
#include "ovs-ext/flow-class.h"
#include "ovs-ext/flow-table.h"

VNM_LOG_MODULE(offline);

#define TAP_TPID 0x88a8

enum { SCRATCH_SIZE = 65536 + 64 };

struct ovs_ext_offline {
    const struct ovs_ext_config *cfg;
    bool no_tap_tag;
    ovs_ext_record_func *cb;
    void *aux;
    struct classifier *cls;     /* Null if classification is off. */
    struct ovs_ext_offline_stats stats;
    uint8_t scratch[SCRATCH_SIZE];
};

/* Flow table callbacks. */

static void
offline_resolve(void *aux, uint32_t port_id, struct vnm_attribution *out)
{
    memset(out, 0, sizeof *out);
    out->ofport = port_id ? (int32_t) port_id : -1;
}

static void
offline_record(void *off_, const struct vnm_flow *rec)
{
    struct ovs_ext_offline *off = off_;
    struct vnm_flow copy = *rec;

    copy.class = flow_class_of(off->cfg->networks, &copy);
    off->stats.n_records++;
    off->cb(off->aux, &copy);
}

/* Builds in 'scratch' an Ethernet frame carrying the L3 packet 'l3' of
 * 'len' bytes with EtherType 'type'.  Returns the frame length. */
static uint32_t
synth_ethernet(uint8_t *scratch, uint16_t type, const uint8_t *l3,
               uint32_t len)
{
    if (len > SCRATCH_SIZE - 14) {
        len = SCRATCH_SIZE - 14;
    }
    memset(scratch, 0, 12);
    scratch[12] = (uint8_t) (type >> 8);
    scratch[13] = (uint8_t) type;
    memcpy(scratch + 14, l3, len);
    return len + 14;
}

/* EtherType of a raw IP packet, from its version nibble. */
static uint16_t
ip_ethertype(const uint8_t *p, uint32_t len)
{
    return !len ? 0 : (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
}

/* Turns the captured 'data' of link type 'dlt' into an Ethernet frame.
 * Returns false if the link type is not supported. */
static bool
to_ethernet(struct ovs_ext_offline *off, int dlt, const uint8_t **datap,
            uint32_t *caplenp, uint32_t *wirelenp)
{
    const uint8_t *p = *datap;
    uint32_t caplen = *caplenp;
    uint32_t hdr;
    uint16_t type;

    switch (dlt) {
    case DLT_EN10MB:
        return true;
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        hdr = 0;
        type = ip_ethertype(p, caplen);
        break;
    case DLT_LINUX_SLL:
        if (caplen < 16) {
            return false;
        }
        hdr = 16;
        type = (uint16_t) (p[14] << 8 | p[15]);
        break;
    case DLT_LINUX_SLL2:
        if (caplen < 20) {
            return false;
        }
        hdr = 20;
        type = (uint16_t) (p[0] << 8 | p[1]);
        break;
    case DLT_PPP:
        /* Address and control (ff 03) may be omitted; protocol 0x0021 is
         * IPv4, 0x0057 IPv6. */
        hdr = caplen >= 2 && p[0] == 0xff && p[1] == 0x03 ? 2 : 0;
        if (caplen < hdr + 2) {
            return false;
        }
        type = (uint16_t) (p[hdr] << 8 | p[hdr + 1]);
        type = type == 0x0021 ? 0x0800 : type == 0x0057 ? 0x86dd : 0;
        if (!type) {
            return false;
        }
        hdr += 2;
        break;
    case DLT_C_HDLC:
        if (caplen < 4) {
            return false;
        }
        hdr = 4;
        type = (uint16_t) (p[2] << 8 | p[3]);
        break;
    case DLT_NULL:
    case DLT_LOOP:
        if (caplen < 4) {
            return false;
        }
        hdr = 4;
        type = ip_ethertype(p + 4, caplen - 4);
        break;
    default:
        return false;
    }
    *caplenp = synth_ethernet(off->scratch, type, p + hdr, caplen - hdr);
    *wirelenp = *wirelenp >= hdr ? *wirelenp - hdr + 14 : *caplenp;
    *datap = off->scratch;
    return true;
}

/* Removes the flow tap's outer tag from '*d'; returns the port index, or 0
 * if the frame has none. */
static uint32_t
take_tap_tag(struct decoded *d)
{
    uint32_t idx;

    if (!d->n_vlan || d->vlan[0].tpid != TAP_TPID) {
        return 0;
    }
    idx = d->vlan[0].tci & 0xfff;
    memmove(&d->vlan[0], &d->vlan[1], (d->n_vlan - 1) * sizeof d->vlan[0]);
    d->n_vlan--;
    return idx;
}

struct ovs_ext_offline *
ovs_ext_offline_create(const struct ovs_ext_config *cfg, bool no_tap_tag,
                       ovs_ext_record_func *cb, void *aux)
{
    struct ovs_ext_offline *off = xzalloc(sizeof *off);

    off->cfg = cfg;
    off->no_tap_tag = no_tap_tag;
    off->cb = cb;
    off->aux = aux;
    if (cfg->classify) {
        off->cls = classifier_create();
    }
    return off;
}

void
ovs_ext_offline_destroy(struct ovs_ext_offline *off)
{
    if (off) {
        classifier_destroy(off->cls);
        free(off);
    }
}

void
ovs_ext_offline_get_stats(const struct ovs_ext_offline *off,
                          struct ovs_ext_offline_stats *stats)
{
    *stats = off->stats;
}

char *
ovs_ext_offline_read(struct ovs_ext_offline *off, const char *file)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(5, 5);
    const struct ovs_ext_config *cfg = off->cfg;
    struct ovs_ext_offline_stats *stats = &off->stats;
    char errbuf[PCAP_ERRBUF_SIZE];
    struct flow_table_config ftc;
    struct flow_table_stats fts;
    struct flow_table *ft;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    struct timespec t0, t1;
    uint64_t last_ms = 0, next_expire = 0;
    pcap_t *pcap;
    int dlt;
    int ret;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    pcap = pcap_open_offline(file, errbuf);
    if (!pcap) {
        return xasprintf("%s: cannot read capture (%s)", file, errbuf);
    }
    dlt = pcap_datalink(pcap);

    memset(&ftc, 0, sizeof ftc);
    ftc.max_flows = (uint32_t) cfg->max_flows;
    ftc.max_memory = (uint64_t) cfg->max_memory;
    ftc.idle_timeout_ms = (uint32_t) cfg->idle_timeout_ms;
    ftc.tcp_closed_timeout_ms = (uint32_t) cfg->tcp_closed_timeout_ms;
    ftc.syn_timeout_ms = (uint32_t) cfg->syn_timeout_ms;
    ftc.active_timeout_ms = (uint32_t) cfg->active_timeout_ms;
    ftc.update_interval_ms = (uint32_t) cfg->update_interval_ms;
    /* No early first record when reading captures: it is for live
     * detection latency, and would only add records here. */
    ftc.first_update_ms = 0;
    ftc.classify = off->cls != NULL;
    ftc.worker_id = 0;
    ft = flow_table_create(&ftc, off->cls, offline_record, offline_resolve,
                           off);

    stats->n_files++;
    while ((ret = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        const uint8_t *frame = data;
        uint32_t caplen = hdr->caplen, wire_len = hdr->len;
        uint64_t ts_ms = ((uint64_t) hdr->ts.tv_sec * 1000
                          + (uint64_t) hdr->ts.tv_usec / 1000);
        struct decoded d;
        uint32_t port_id;

        stats->n_frames++;
        stats->n_bytes += wire_len;
        if (!to_ethernet(off, dlt, &frame, &caplen, &wire_len)) {
            stats->n_unsupported++;
            continue;
        }
        if (!decode_frame(frame, caplen, wire_len, &d)) {
            stats->n_malformed++;
            if ((unsigned) d.error < VNM_ARRAY_SIZE(stats->decode_errors)) {
                stats->decode_errors[d.error]++;
            }
        }
        port_id = off->no_tap_tag ? 0 : take_tap_tag(&d);
        if (ts_ms < last_ms) {
            ts_ms = last_ms;    /* Captures are not always in order. */
        }
        last_ms = ts_ms;
        flow_table_packet(ft, &d, frame, port_id, ts_ms);
        if (ts_ms >= next_expire) {
            flow_table_expire(ft, ts_ms);
            next_expire = ts_ms + 1000;
        }
    }
    if (ret == PCAP_ERROR) {
        VNM_WARN_RL(&rl, "%s: read error after %llu frames (%s); keeping "
                    "what was read", file,
                    (unsigned long long) stats->n_frames, pcap_geterr(pcap));
    }
    flow_table_flush(ft, last_ms);
    flow_table_get_stats(ft, &fts);
    stats->n_flows += fts.n_created;
    stats->n_evicted += fts.n_evicted;
    if (fts.max_memory_seen > stats->peak_flow_memory) {
        stats->peak_flow_memory = fts.max_memory_seen;
    }
    flow_table_destroy(ft);
    pcap_close(pcap);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stats->seconds += ((double) (t1.tv_sec - t0.tv_sec)
                       + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return NULL;
}
