/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake 'struct vnm_host' for unit tests that compile a plugin's .c into
 * the test binary and drive it through vnm_plugin.init/.../destroy without
 * the loader (lib/loader.c lends the real table).
 *
 * The fake host keeps everything where a test can look at it: what the
 * plugin logs goes into a text buffer, one "LEVEL|message\n" line per call;
 * its configuration getters read a section parsed from a string with
 * lib/conf.h and report errors as the real host does ("FILE:LINE: KEY:
 * reason", logged at ERR, EINVAL); its clocks return what the test set;
 * emit_alert() records deep copies of the alerts; count() keeps counters;
 * 'net' is the analyzer's real tenancy module (analyzer/tenancy.c) built
 * from the same text's [tenancy], [policy], [protected "NAME"] and [allow
 * "NAME"] sections, with ports from fake_host_set_inventory().
 *
 * It is stricter than the real host where the real one copes with a plugin
 * bug: an alert without kind, key or summary, more than
 * VNM_ALERT_MAX_EVIDENCE evidence lines, a counter name that is not
 * [a-z0-9_]+, a 33rd counter, or a log level outside enum vnm_log_level
 * fails the current cmocka test.
 *
 * A typical test:
 *
 *     struct fake_host *fh = fake_host_create("detector", "vlan-hop",
 *                                             "[detector \"vlan-hop\"]\n"
 *                                             "max_tags = 1\n");
 *     void *state;
 *
 *     assert_int_equal(vnm_plugin.init(&fh->host, fh->conf, &state), 0);
 *     vnm_plugin.detector->on_flow(state, &flow);
 *     assert_int_equal(fh->n_alerts, 1);
 *     vnm_plugin.destroy(state);
 *     fake_host_destroy(fh);
 *
 * Not thread-safe, as plugins call their host from one thread.
 */
#ifndef VNM_TESTS_FAKE_HOST_H
#define VNM_TESTS_FAKE_HOST_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/plugin.h"

struct vnm_config;

/* Counters a plugin may create, as in the real host. */
#define VNM_FAKE_HOST_MAX_COUNTERS 32

/* An alert as the fake emit_alert() recorded it: strings are copies owned
 * by the fake host, null where the plugin passed null. */
struct fake_alert {
    char *kind;
    enum vnm_severity severity;
    char *key;
    char *summary;
    bool has_vm;                /* The alert named a VM... */
    struct vnm_attribution vm;  /* ...this one. */
    char *target;
    bool has_flow;              /* The alert pointed to a flow... */
    uint64_t flow_id;           /* ...with this id. */
    uint64_t packets;
    uint64_t bytes;
    uint32_t n_evidence;        /* Entries of 'evidence'. */
    char *evidence[VNM_ALERT_MAX_EVIDENCE];
};

/* A counter kept by the fake count(). */
struct fake_counter {
    char *name;                 /* Copy of the plugin's name. */
    uint64_t value;
};

/* The fake host.  Tests read the members directly and may set 'now_ms',
 * 'mono_ms' and 'emit_error' at any time. */
struct fake_host {
    struct vnm_host host;       /* What to hand to init(). */
    char *name;                 /* The instance name, host.plugin_name. */
    struct vnm_config *config;  /* Parsed from the creation text. */
    const struct vnm_conf *conf; /* The plugin's section, or null. */

    char *log;                  /* "LEVEL|message\n" lines, NUL-ended. */
    size_t log_len;             /* strlen(log). */
    size_t log_allocated;

    uint64_t now_ms;            /* Returned by host.now_ms(). */
    uint64_t mono_ms;           /* Returned by host.monotonic_ms(). */

    int emit_error;             /* If nonzero, emit_alert() records
                                 * nothing and returns it. */
    struct fake_alert *alerts;  /* Recorded alerts, in emission order. */
    size_t n_alerts;

    struct fake_counter counters[VNM_FAKE_HOST_MAX_COUNTERS];
    size_t n_counters;

    char *conf_error;           /* Last getter error, or null. */

    struct tenancy *tenancy;    /* host.net: analyzer/tenancy.c, configured
                                 * from the creation text. */
};

/* Creates a fake host for plugin instance 'name' of kind 'kind'
 * ("detector", "sink", "enricher"), whose section is [kind "name"] of the
 * configuration 'text' (parsed as file "test.conf"; null for none, in which
 * case the plugin sees no section and every key takes its default).  A
 * parse error fails the current cmocka test.  Destroy with
 * fake_host_destroy(). */
struct fake_host *fake_host_create(const char *kind, const char *name,
                                   const char *text);
/* Loads inventory file text 'text' (analyzer/tenancy.h) into the fake
 * host's network view; a parse error fails the current test. */
void fake_host_set_inventory(struct fake_host *fh, const char *text);

/* Frees 'fh' and everything it recorded.  Accepts null. */
void fake_host_destroy(struct fake_host *fh);

/* The value of counter 'name', or 0 if the plugin never counted it. */
uint64_t fake_host_counter(const struct fake_host *fh, const char *name);
/* True if the log buffer contains 's'. */
bool fake_host_log_contains(const struct fake_host *fh, const char *s);
/* Forgets the log and the recorded alerts (not the counters). */
void fake_host_clear(struct fake_host *fh);

/* Reports the first key of the plugin's section that init() never asked
 * for, as the loader would after init(): returns null or a malloc'd
 * "FILE:LINE: KEY: unknown key in [kind "name"]" that the caller frees. */
char *fake_host_check_unused(const struct fake_host *fh);

#endif /* fake-host.h */
