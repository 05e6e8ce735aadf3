/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What vnmon-agent and vnmon-analyzer have in common: command line,
 * configuration file, logging, pid file, detaching, signals, the libevent
 * loop, the Redis connection, the plugin loader, and the status record
 * (heartbeat, plugins, counters) published to Redis for `vnmonctl status`.
 *
 * A daemon describes itself with a 'struct vnm_daemon_spec' and hands
 * control to vnm_daemon_main(), which calls back:
 *
 *   configure()  with the parsed file, to read the daemon's own keys;
 *   start()      once plugins are loaded, to add its own events;
 *   tick()       every second, on the loop;
 *   status()     at each heartbeat, to add its fields to the status record;
 *   stop()       on SIGTERM/SIGINT, before plugins are unloaded.
 *
 * Signals: SIGTERM and SIGINT stop cleanly (pid file removed); SIGHUP
 * reopens the log file.  Everything runs on the one loop thread; a daemon's
 * worker threads talk to it through their own queues.
 *
 * Redis keys written (see doc/redis-keys.md):
 *   vnm:{HOST}:daemon:NAME   hash: the status record;
 *   vnm:daemons              set of "HOST/NAME".
 */
#ifndef VNM_DAEMON_H
#define VNM_DAEMON_H 1

#include <stdbool.h>
#include <stdint.h>

#include "lib/loader.h"
#include "lib/util.h"

struct event_base;
struct json_t;
struct vnm_config;
struct vnm_daemon;
struct vnm_redis;

/* A daemon's description and callbacks.  'aux' is passed back to each. */
struct vnm_daemon_spec {
    const char *name;           /* "agent", "analyzer". */
    const char *summary;        /* One line for --help. */
    const char *const *sections; /* Extra [kind] sections it reads. */
    const char *const *named_sections; /* [kind "name"] sections, incl.
                                        * plugin kinds. */
    unsigned plugin_kinds;      /* Bits 1u << enum vnm_plugin_kind. */
    vnm_emit_alert_func *emit;  /* host->emit_alert() of detectors. */
    const struct vnm_net_ops *net; /* host->net of detectors, or null. */

    /* Reads the daemon's own keys from 'config' (its [NAME] section holds
     * the common keys too).  Returns NULL or a malloc'd error. */
    char *(*configure)(void *aux, struct vnm_daemon *,
                       const struct vnm_config *config);
    /* Starts the daemon's own work.  Returns NULL or a malloc'd error. */
    char *(*start)(void *aux, struct vnm_daemon *);
    /* Called about once per second. */
    void (*tick)(void *aux, struct vnm_daemon *, uint64_t now_ms);
    /* Adds the daemon's own fields to the status object 'status'. */
    void (*status)(void *aux, struct vnm_daemon *, struct json_t *status);
    /* Stops the daemon's own work. */
    void (*stop)(void *aux, struct vnm_daemon *);
};

/* Runs the daemon described by 'spec': parses 'argv', loads the
 * configuration and plugins, detaches if asked, and runs the loop until a
 * stop signal.  Returns the process exit status. */
int vnm_daemon_main(const struct vnm_daemon_spec *spec, void *aux, int argc,
                    char *argv[]);

/* Accessors, valid from configure() until stop() returns. */
struct event_base *vnm_daemon_event_base(const struct vnm_daemon *);
struct vnm_redis *vnm_daemon_redis(const struct vnm_daemon *);
struct vnm_loader *vnm_daemon_loader(const struct vnm_daemon *);
const char *vnm_daemon_host_id(const struct vnm_daemon *);

/* Asks the loop to stop, as SIGTERM does. */
void vnm_daemon_exit(struct vnm_daemon *);

/* The key of a daemon's status record: "vnm:{HOST}:daemon:NAME" (malloc'd). */
char *vnm_daemon_status_key(const char *host_id, const char *name);

#endif /* daemon.h */
