/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ovs-ext, as the agent sees it: its configuration, the live pipeline
 * (OVSDB inventory, taps, worker threads with decoder, flow table and nDPI)
 * and the offline reader (`vnmon-agent --read FILE`).
 *
 * Flow records leave ovs-ext through one callback, 'ovs_ext_record_func',
 * called on the agent's main thread with each record complete (class
 * computed, attribution resolved); the collector consumes them.
 */
#ifndef VNM_OVS_EXT_H
#define VNM_OVS_EXT_H 1

#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"
#include "vnmon/flow.h"

struct event_base;
struct json_t;
struct vnm_config;
struct vnm_redis;
struct flow_classifier;

/* How a bridge's ports are tapped. */
enum ovs_ext_tap_kind {
    OVS_EXT_TAP_NONE,
    OVS_EXT_TAP_NETDEV,         /* AF_PACKET on the VM-facing netdevs. */
    OVS_EXT_TAP_FLOW,           /* OpenFlow clone rules to a monitor port. */
};

/* One [bridge "NAME"] section. */
struct ovs_ext_bridge_config {
    char *name;
    enum ovs_ext_tap_kind tap;
};

/* Everything ovs-ext reads from the agent's configuration file:
 * [flows], [networks], [ovs], [bridge "NAME"] (doc/configuration.md). */
struct ovs_ext_config {
    /* [flows] */
    int64_t workers;            /* Worker threads (live). */
    int64_t max_flows;          /* Per worker. */
    int64_t max_memory;         /* Bytes, per worker. */
    int64_t idle_timeout_ms;
    int64_t tcp_closed_timeout_ms;
    int64_t syn_timeout_ms;
    int64_t active_timeout_ms;
    int64_t update_interval_ms;
    int64_t first_update_ms;    /* First UPDATE record, 0 = after
                                 * 'update_interval_ms'. */
    bool classify;              /* nDPI. */
    int64_t snaplen;            /* Bytes captured per frame. */
    int64_t ring_size;          /* Bytes of capture ring per worker. */
    const char *records_file;   /* JSON lines of every record, or null. */

    /* [networks] */
    struct flow_classifier *networks;

    /* [ovs] */
    const char *ovsdb;          /* "unix:/run/openvswitch/db.sock". */
    const char *rundir;         /* Where BRIDGE.mgmt sockets live. */
    const char *default_tap;    /* For bridges without a section. */
    uint64_t flow_tap_cookie;
    int64_t flow_tap_priority;
    const char *flow_tap_reg_bit; /* e.g. "NXM_NX_REG15[31]". */

    /* [bridge "NAME"] */
    struct ovs_ext_bridge_config *bridges;
    size_t n_bridges;
};

/* Reads 'config' into '*c' (strings point into 'config').  Returns NULL or
 * a malloc'd "FILE:LINE: KEY: reason". */
char *ovs_ext_config_read(const struct vnm_config *config,
                          struct ovs_ext_config *c) VNM_WARN_UNUSED;
/* Frees what ovs_ext_config_read() allocated. */
void ovs_ext_config_uninit(struct ovs_ext_config *c);

/* Receives each finished flow record on the main thread.  'rec' is
 * borrowed. */
typedef void ovs_ext_record_func(void *aux, const struct vnm_flow *rec);

/* Statistics of an offline run. */
struct ovs_ext_offline_stats {
    uint64_t n_files;
    uint64_t n_frames;
    uint64_t n_bytes;
    uint64_t n_records;
    uint64_t n_malformed;       /* Frames the decoder flagged. */
    uint64_t n_unsupported;     /* Frames of link types not decoded. */
    uint64_t n_flows;           /* Flows created. */
    uint64_t n_evicted;
    uint64_t peak_flow_memory;  /* Highest flow table memory (bytes). */
    uint64_t decode_errors[64]; /* By enum decode_error. */
    double seconds;             /* Processing time, file reading included,
                                 * set-up (nDPI initialisation) excluded. */
};

/* An offline run: one nDPI module for all its files, a flow table per
 * file.  Single-threaded. */
struct ovs_ext_offline;

/* Creates an offline run with configuration 'cfg' (borrowed until destroy)
 * handing each record to 'cb'.  An outer 802.1ad tag is taken as the flow
 * tap's port tag (the port index goes to in.ofport and the tag is removed)
 * unless 'no_tap_tag'. */
struct ovs_ext_offline *ovs_ext_offline_create(
    const struct ovs_ext_config *cfg, bool no_tap_tag,
    ovs_ext_record_func *cb, void *aux);
void ovs_ext_offline_destroy(struct ovs_ext_offline *);

/* Processes the pcap or pcapng file 'file' through decoder, flow table and
 * nDPI, ending every flow at the end of the file.  Adds to the run's
 * statistics.  Returns NULL or a malloc'd error. */
char *ovs_ext_offline_read(struct ovs_ext_offline *, const char *file)
    VNM_WARN_UNUSED;

/* The run's statistics so far. */
void ovs_ext_offline_get_stats(const struct ovs_ext_offline *,
                               struct ovs_ext_offline_stats *);

#endif /* ovs-ext.h */
