/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OVS userspace conntrack, as collector/conntrack.c reads it: a small
 * client of ovs-vswitchd's control socket (what ovs-appctl talks to) that
 * asks for "dpctl/dump-conntrack netdev@ovs-netdev", and the parser of the
 * text it returns.
 *
 * The socket is RUNDIR/ovs-vswitchd.PID.ctl, PID read from
 * RUNDIR/ovs-vswitchd.pid at each request, so that a restarted
 * ovs-vswitchd is found again.  The protocol is JSON-RPC 1.0 over a unix
 * stream socket, one request per connection:
 *
 *     {"id":0,"method":"dpctl/dump-conntrack","params":["netdev@ovs-netdev"]}
 *     {"id":0,"result":"tcp,orig=(...),...\n...","error":null}
 *
 * The datapath is named: without a name ovs-vswitchd enumerates every
 * datapath type and, where the kernel has no openvswitch module, logs a
 * warning each time.  The userspace datapath is always "ovs-netdev".
 *
 * The dump is asked without "-m": OVS then gives one TCP state per
 * connection, coalesced the way its tests compare it with the kernel's.
 * The parser accepts the verbose form too (state_orig/state_reply).
 *
 * Everything runs on the thread of the event base.
 */
#ifndef VNM_COLLECTOR_OVS_CONNTRACK_H
#define VNM_COLLECTOR_OVS_CONNTRACK_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/util.h"

struct ct_conn;
struct event_base;

/* The userspace datapath's name. */
#define OVS_CT_DATAPATH "netdev@ovs-netdev"
/* How long a request may take, in ms. */
#define OVS_CT_TIMEOUT_MS 5000
/* Largest reply accepted, in bytes (about 200 bytes per connection). */
#define OVS_CT_MAX_REPLY (256u * 1024 * 1024)

/* Parses one line of dpctl/dump-conntrack output into '*c' (source
 * CT_SRC_OVS): the protocol, the original tuple, zone, mark and TCP
 * state; other fields are ignored.  Returns NULL, or a malloc'd
 * description of what is wrong with the line. */
char *ovs_ct_parse_line(const char *line, struct ct_conn *c)
    VNM_WARN_UNUSED;

/* Maps an OVS TCP state name (CT_DPIF_TCPS_*: "CLOSED", "FIN_WAIT_2"...)
 * to an enum ct_tcp_state, with OVS's own non-verbose coalescing.
 * Returns -1 if unknown. */
int ovs_ct_tcp_state(const char *name);

/* Receives the outcome of a request: 'error' 0 and 'text' the dump (valid
 * during the call), or an errno value and 'text' a description. */
typedef void ovs_ct_reply_func(void *aux, int error, const char *text);

struct ovs_ct;

/* A client for the ovs-vswitchd of 'rundir' (copied). */
struct ovs_ct *ovs_ct_create(struct event_base *base, const char *rundir);
/* Cancels a request in flight (its callback is not called).  Accepts
 * null. */
void ovs_ct_destroy(struct ovs_ct *);

/* Starts a dump; 'cb' gets its outcome, from the loop, exactly once
 * (also when the request fails at once).  Returns false, calling nothing,
 * if a request is still in flight. */
bool ovs_ct_request(struct ovs_ct *, ovs_ct_reply_func *cb, void *aux);

/* True while a request is in flight. */
bool ovs_ct_busy(const struct ovs_ct *);

#endif /* ovs-conntrack.h */
