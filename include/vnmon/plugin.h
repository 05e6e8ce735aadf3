/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmon plugin ABI: the contract between a daemon (the host) and a plugin.
 *
 * This header is the specification.  A plugin is a shared object that
 * exports exactly one data symbol, "vnm_plugin", a 'struct vnm_plugin'
 * written with VNM_PLUGIN_DEFINE().  It links to no symbol of the host: every
 * service it may use (logging, its configuration, the clock, alerts,
 * counters) comes through the 'struct vnm_host' table passed to init().
 *
 * Kinds
 * -----
 *   detector  Loaded by vnmon-analyzer.  Sees every flow record and a
 *             one-second tick; raises alerts with host->emit_alert().
 *   sink      Loaded by vnmon-analyzer.  Delivers each alert (incident)
 *             somewhere: a file, a webhook, e-mail, a stream.
 *   enricher  Loaded by vnmon-agent.  Adds labels to each flow record before
 *             it is published (e.g. GeoIP country of the remote end).
 *
 * Versioning
 * ----------
 * 'abi_major' and 'abi_minor' are stamped by VNM_PLUGIN_DEFINE().  The loader
 * accepts a plugin only if its major equals the host's and its minor is not
 * newer than the host's.  Appending members at the end of a struct of this
 * header (or of flow.h, alert.h) bumps VNM_PLUGIN_ABI_MINOR; any other change
 * bumps VNM_PLUGIN_ABI_MAJOR and resets the minor to 0.  Both are bumped by
 * hand, here.  'size' lets a newer host read an older plugin's descriptor:
 * members beyond 'size' are treated as absent.  In the other direction a
 * plugin must not touch a member of 'struct vnm_host' that lies beyond
 * host->size (use VNM_HOST_HAS()).
 *
 * Lifecycle
 * ---------
 *   1. The host dlopen()s the file (RTLD_NOW | RTLD_LOCAL) and checks the
 *      descriptor.  Nothing of the plugin runs yet.
 *   2. init() is called once, with the plugin's own configuration section.
 *      It reads its keys with the host's typed getters (a key the plugin
 *      never asks for is an "unknown key" startup error), allocates its state
 *      and stores it in '*statep'.  It returns 0 or a positive errno value;
 *      on failure it must have freed whatever it allocated, and the host
 *      treats it as a startup error naming the plugin.
 *   3. The kind's callbacks are called, only if init() returned 0.
 *   4. destroy() is called once, iff init() returned 0, after the last
 *      callback has returned.  Then the host dlclose()s the file.
 *
 * Threading
 * ---------
 * Each plugin instance is called from one thread at a time, always the same
 * one; a plugin needs no locking for its own state.  Callbacks must not
 * block: on_flow() and deliver() run on the daemon's event loop, so a sink
 * that does network I/O must bound it (a few seconds at most) or return
 * EAGAIN and let the host retry.  The host's services may be called from that
 * thread only, and only between init() and the return of destroy().
 *
 * Ownership
 * ---------
 * Borrow in, copy out: every pointer the host passes to a callback is valid
 * only until the callback returns; everything a plugin passes to the host is
 * copied by the host before the call returns.  Strings are NUL-terminated
 * UTF-8.  A plugin must not free anything the host gave it.
 *
 * Naming
 * ------
 * 'name' matches [a-z0-9-]+ and is what a configuration section names by
 * default: [detector "vlan-hop"].  A section may instead name the file with
 * "plugin = FILE" ([sink "ops-hook"] plugin = sink-webhook.so), so that one
 * plugin runs as several instances, each with its own section and state;
 * two different files with the same 'name' are refused.  'version' is the
 * plugin's own version string.
 */
#ifndef VNM_PLUGIN_H
#define VNM_PLUGIN_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/alert.h"
#include "vnmon/conf.h"
#include "vnmon/flow.h"
#include "vnmon/net.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VNM_PLUGIN_ABI_MAJOR 1  /* Bump on any incompatible change. */
#define VNM_PLUGIN_ABI_MINOR 1  /* Bump when members are appended. */

/* The size of 'struct vnm_plugin' in ABI 1.0, the smallest the loader takes. */
#define VNM_PLUGIN_SIZE_1_0 72

/* Marks the one symbol a plugin exports. */
#define VNM_EXPORT __attribute__((visibility("default")))

/* What a plugin is for; see "Kinds" above. */
enum vnm_plugin_kind {
    VNM_PLUGIN_DETECTOR = 1,    /* Flow records in, alerts out (analyzer). */
    VNM_PLUGIN_SINK = 2,        /* Alerts in, delivered somewhere (analyzer). */
    VNM_PLUGIN_ENRICHER = 3,    /* Labels added to flow records (agent). */
};

/* Severity of a log message, as syslog(3) priorities. */
enum vnm_log_level {
    VNM_LOG_ERR = 3,            /* Something failed; an operator must act. */
    VNM_LOG_WARN = 4,           /* Something is wrong but was coped with. */
    VNM_LOG_INFO = 6,           /* A normal but significant event. */
    VNM_LOG_DBG = 7,            /* Detail for developers. */
};

struct vnm_host;

/* Services the host lends to one plugin instance.  Each instance gets its own
 * table, so that what it logs and emits is attributed to it.  Every function
 * takes the table itself as its first argument. */
struct vnm_host {
    uint32_t size;              /* sizeof(struct vnm_host) in the host. */
    uint32_t abi_minor;         /* The host's VNM_PLUGIN_ABI_MINOR. */
    const char *daemon;         /* "agent" or "analyzer". */
    const char *host_id;        /* This hypervisor's id, as in Redis keys. */
    const char *plugin_name;    /* The name this instance was loaded as. */

    /* Logs one message at 'level', prefixed by the plugin's name.  Messages
     * start lowercase and carry no trailing newline.  Per-flow messages must
     * be rare: count frequent events with count() instead. */
    void (*log)(const struct vnm_host *, enum vnm_log_level level,
                const char *format, ...)
        __attribute__((format(printf, 3, 4)));

    /* Typed getters for the plugin's own configuration section 'conf'.
     * Each looks up 'key'; if it is absent, stores 'dflt' in '*valuep' and
     * returns 0; if present and valid, stores its value and returns 0; if
     * present but invalid, logs "FILE:LINE: KEY: reason" and returns EINVAL
     * (init() should then return it).  Asking for a key marks it as known:
     * keys present in the section that init() never asked for make the
     * host refuse the plugin.  Strings are valid until destroy(). */
    int (*conf_string)(const struct vnm_host *, const struct vnm_conf *conf,
                       const char *key, const char *dflt,
                       const char **valuep);
    int (*conf_int)(const struct vnm_host *, const struct vnm_conf *conf,
                    const char *key, int64_t dflt, int64_t min, int64_t max,
                    int64_t *valuep);
    int (*conf_double)(const struct vnm_host *, const struct vnm_conf *conf,
                       const char *key, double dflt, double min, double max,
                       double *valuep);
    int (*conf_bool)(const struct vnm_host *, const struct vnm_conf *conf,
                     const char *key, bool dflt, bool *valuep);
    /* A duration such as "1500ms", "10s", "5m", "2h", "7d" (a bare number is
     * in seconds), stored in milliseconds. */
    int (*conf_duration)(const struct vnm_host *, const struct vnm_conf *conf,
                         const char *key, int64_t dflt_ms, int64_t min_ms,
                         int64_t max_ms, int64_t *valuep);

    /* Wall-clock time, in milliseconds since the Unix epoch. */
    uint64_t (*now_ms)(const struct vnm_host *);
    /* Monotonic time in milliseconds, for measuring intervals. */
    uint64_t (*monotonic_ms)(const struct vnm_host *);

    /* Raises or updates an incident (detectors only; sinks and enrichers
     * get a function that returns EPERM).  The host copies 'alert', merges
     * it with the open incident of the same kind and key, and hands the
     * incident to the sinks.  Returns 0 or a positive errno value. */
    int (*emit_alert)(const struct vnm_host *, const struct vnm_alert *alert);

    /* Adds 'delta' to the plugin's counter 'name' ([a-z0-9_]+, static
     * storage or copied), shown by `vnmonctl status`.  At most 32 counters
     * per plugin; further names are ignored. */
    void (*count)(const struct vnm_host *, const char *name, uint64_t delta);

    void *host_private;         /* The host's; a plugin must not touch it. */

    /* Appended in ABI 1.1. */
    /* The virtual network and its policy (vnmon/net.h); lent to detectors
     * by the analyzer, null elsewhere. */
    const struct vnm_net_ops *net;
};

/* True if the host table 'h' has member 'member' (it may be older). */
#define VNM_HOST_HAS(h, member)                                     \
    ((h)->size >= offsetof(struct vnm_host, member) + sizeof (h)->member)

/* Callbacks of a detector. */
struct vnm_detector_ops {
    /* Called for every flow record: periodic updates of a long flow and its
     * end.  'flow' is borrowed.  Must not block. */
    void (*on_flow)(void *state, const struct vnm_flow *flow);
    /* Called about once per second with the wall-clock time; may be null.
     * Time-window detectors close their windows here. */
    void (*on_tick)(void *state, uint64_t now_ms);
};

/* Callbacks of an alert sink. */
struct vnm_sink_ops {
    /* Delivers one incident (a new one or an update of an open one: see
     * alert->n_updates).  Returns 0 if delivered, EAGAIN if it could not be
     * delivered now and should be retried later (the host spools it), or
     * another positive errno value if it never will be (the host logs and
     * counts it).  'alert' is borrowed. */
    int (*deliver)(void *state, const struct vnm_alert *alert);
    /* Called about once per second; may be null. */
    void (*on_tick)(void *state, uint64_t now_ms);
};

/* Callbacks of a flow enricher. */
struct vnm_enricher_ops {
    /* Adds labels to 'labels' (which may already hold others') for the flow
     * record 'flow', with vnm_labels_add().  Runs on the agent's publishing
     * thread for every record, so it must be fast and must not block. */
    void (*enrich)(void *state, const struct vnm_flow *flow,
                   struct vnm_labels *labels);
};

/* A plugin's descriptor, exported as the data symbol "vnm_plugin". */
struct vnm_plugin {
    uint32_t abi_major;         /* VNM_PLUGIN_ABI_MAJOR at build time. */
    uint32_t abi_minor;         /* VNM_PLUGIN_ABI_MINOR at build time. */
    uint32_t size;              /* sizeof(struct vnm_plugin) at build time. */
    enum vnm_plugin_kind kind;  /* What the plugin is. */
    const char *name;           /* Unique, [a-z0-9-]+, static storage. */
    const char *version;        /* The plugin's own version, static. */

    /* Creates the plugin's state from its section 'conf'; see "Lifecycle".
     * 'host' stays valid until destroy() returns. */
    int (*init)(const struct vnm_host *host, const struct vnm_conf *conf,
                void **statep);
    /* Frees 'state'.  Once, iff init() returned 0, after the last
     * callback. */
    void (*destroy)(void *state);

    const struct vnm_detector_ops *detector; /* Non-null iff DETECTOR. */
    const struct vnm_sink_ops *sink;         /* Non-null iff SINK. */
    const struct vnm_enricher_ops *enricher; /* Non-null iff ENRICHER. */
};

/* Every plugin defines this, with VNM_PLUGIN_DEFINE(), and nothing else
 * non-static. */
VNM_EXPORT extern const struct vnm_plugin vnm_plugin;

/* Defines the descriptor with its ABI fields filled in, e.g.
 *
 *   VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "jsonl",
 *                     .version = "1.0", .init = jsonl_init,
 *                     .destroy = jsonl_destroy, .sink = &jsonl_ops);
 */
#define VNM_PLUGIN_DEFINE(...)                                \
    VNM_EXPORT const struct vnm_plugin vnm_plugin = {         \
        .abi_major = VNM_PLUGIN_ABI_MAJOR,                    \
        .abi_minor = VNM_PLUGIN_ABI_MINOR,                    \
        .size = sizeof(struct vnm_plugin), __VA_ARGS__ }

#ifdef __cplusplus
}
#endif

#endif /* plugin.h */
