/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake plugin host for unit tests: see fake-host.h.  The configuration
 * getters are lib/conf.h's, as in lib/loader.c, so that a plugin's unit
 * test sees the same values and error texts as the real host gives.
 */
#include <config.h>

#include "tests/unit/fake-host.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "analyzer/tenancy.h"
#include "lib/conf.h"
#include "lib/loader.h"
#include "lib/log.h"
#include "lib/util.h"

static struct fake_host *
fake_host_of(const struct vnm_host *host)
{
    return host->host_private;
}

/* Appends 'format' to the log buffer as one "LEVEL|message\n" line. */
static void
fake_host_append_log(struct fake_host *fh, const char *level,
                     const char *format, va_list args) VNM_PRINTF(3, 0);

static void
fake_host_append_log(struct fake_host *fh, const char *level,
                     const char *format, va_list args)
{
    char *msg = xvasprintf(format, args);
    size_t need = strlen(level) + 1 + strlen(msg) + 1;

    if (fh->log_len + need + 1 > fh->log_allocated) {
        fh->log_allocated = 2 * (fh->log_len + need + 1);
        fh->log = xrealloc(fh->log, fh->log_allocated);
    }
    fh->log_len += (size_t) snprintf(fh->log + fh->log_len,
                                     fh->log_allocated - fh->log_len,
                                     "%s|%s\n", level, msg);
    free(msg);
}

static void
fake_log(const struct vnm_host *host, enum vnm_log_level level,
         const char *format, ...) VNM_PRINTF(3, 4);

static void
fake_log(const struct vnm_host *host, enum vnm_log_level level,
         const char *format, ...)
{
    struct fake_host *fh = fake_host_of(host);
    va_list args;

    if (level != VNM_LOG_ERR && level != VNM_LOG_WARN
        && level != VNM_LOG_INFO && level != VNM_LOG_DBG) {
        fail_msg("plugin logged at invalid level %d", (int) level);
    }
    va_start(args, format);
    fake_host_append_log(fh, vnm_log_level_to_string(level), format, args);
    va_end(args);
}

/* Logs a getter's 'error' (if any) at ERR, keeps it, and returns EINVAL;
 * returns 0 if 'error' is null.  Takes ownership of 'error'. */
static int
fake_conf_result(const struct vnm_host *host, char *error)
{
    struct fake_host *fh = fake_host_of(host);

    if (!error) {
        return 0;
    }
    fake_log(host, VNM_LOG_ERR, "%s", error);
    free(fh->conf_error);
    fh->conf_error = error;
    return EINVAL;
}

static int
fake_conf_string(const struct vnm_host *host, const struct vnm_conf *conf,
                 const char *key, const char *dflt, const char **valuep)
{
    return fake_conf_result(host, vnm_conf_get_string(conf, key, dflt,
                                                      valuep));
}

static int
fake_conf_int(const struct vnm_host *host, const struct vnm_conf *conf,
              const char *key, int64_t dflt, int64_t min, int64_t max,
              int64_t *valuep)
{
    return fake_conf_result(host, vnm_conf_get_int(conf, key, dflt, min, max,
                                                   valuep));
}

static int
fake_conf_double(const struct vnm_host *host, const struct vnm_conf *conf,
                 const char *key, double dflt, double min, double max,
                 double *valuep)
{
    return fake_conf_result(host, vnm_conf_get_double(conf, key, dflt, min,
                                                      max, valuep));
}

static int
fake_conf_bool(const struct vnm_host *host, const struct vnm_conf *conf,
               const char *key, bool dflt, bool *valuep)
{
    return fake_conf_result(host, vnm_conf_get_bool(conf, key, dflt,
                                                    valuep));
}

static int
fake_conf_duration(const struct vnm_host *host, const struct vnm_conf *conf,
                   const char *key, int64_t dflt_ms, int64_t min_ms,
                   int64_t max_ms, int64_t *valuep)
{
    return fake_conf_result(host, vnm_conf_get_duration(conf, key, dflt_ms,
                                                        min_ms, max_ms,
                                                        valuep));
}

static uint64_t
fake_now_ms(const struct vnm_host *host)
{
    return fake_host_of(host)->now_ms;
}

static uint64_t
fake_monotonic_ms(const struct vnm_host *host)
{
    return fake_host_of(host)->mono_ms;
}

static char *
nullable_strdup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int
fake_emit_alert(const struct vnm_host *host, const struct vnm_alert *alert)
{
    struct fake_host *fh = fake_host_of(host);
    struct fake_alert *a;

    if (!alert || !alert->kind || !alert->key || !alert->summary) {
        fail_msg("plugin emitted an alert without kind, key or summary");
    }
    if (alert->n_evidence > VNM_ALERT_MAX_EVIDENCE) {
        fail_msg("plugin emitted an alert with %"PRIu32" evidence lines",
                 alert->n_evidence);
    }
    if (fh->emit_error) {
        return fh->emit_error;
    }

    fh->alerts = xrealloc(fh->alerts, (fh->n_alerts + 1) * sizeof *fh->alerts);
    a = &fh->alerts[fh->n_alerts++];
    memset(a, 0, sizeof *a);
    a->kind = xstrdup(alert->kind);
    a->severity = alert->severity;
    a->key = xstrdup(alert->key);
    a->summary = xstrdup(alert->summary);
    if (alert->vm) {
        a->has_vm = true;
        a->vm = *alert->vm;
    }
    a->target = nullable_strdup(alert->target);
    if (alert->flow) {
        a->has_flow = true;
        a->flow_id = alert->flow->id;
    }
    a->packets = alert->packets;
    a->bytes = alert->bytes;
    a->n_evidence = alert->n_evidence;
    for (uint32_t i = 0; i < alert->n_evidence; i++) {
        a->evidence[i] = nullable_strdup(alert->evidence[i]);
    }
    return 0;
}

static void
fake_count(const struct vnm_host *host, const char *name, uint64_t delta)
{
    struct fake_host *fh = fake_host_of(host);

    for (size_t i = 0; i < fh->n_counters; i++) {
        if (!strcmp(fh->counters[i].name, name)) {
            fh->counters[i].value += delta;
            return;
        }
    }
    if (!vnm_plugin_counter_name_valid(name)) {
        fail_msg("plugin counted \"%s\", not a valid counter name", name);
    }
    if (fh->n_counters >= VNM_FAKE_HOST_MAX_COUNTERS) {
        fail_msg("plugin created more than %d counters",
                 VNM_FAKE_HOST_MAX_COUNTERS);
    }
    fh->counters[fh->n_counters].name = xstrdup(name);
    fh->counters[fh->n_counters++].value = delta;
}

/* Creates a fake host; see fake-host.h. */
struct fake_host *
fake_host_create(const char *kind, const char *name, const char *text)
{
    struct fake_host *fh = xzalloc(sizeof *fh);

    if (text) {
        char *error = vnm_config_parse_string(text, "test.conf",
                                              &fh->config);

        if (error) {
            fail_msg("fake host configuration: %s", error);
        }
        fh->conf = vnm_config_section(fh->config, kind, name);
    }
    fh->tenancy = tenancy_create();
    if (fh->config) {
        char *error = tenancy_configure(fh->tenancy, fh->config);

        if (error) {
            fail_msg("fake host network view: %s", error);
        }
    }
    fh->name = xstrdup(name);
    fh->log = xzalloc(1);
    fh->log_allocated = 1;
    fh->host = (struct vnm_host) {
        .size = sizeof fh->host,
        .abi_minor = VNM_PLUGIN_ABI_MINOR,
        .daemon = "test",
        .host_id = "test-host",
        .plugin_name = fh->name,
        .log = fake_log,
        .conf_string = fake_conf_string,
        .conf_int = fake_conf_int,
        .conf_double = fake_conf_double,
        .conf_bool = fake_conf_bool,
        .conf_duration = fake_conf_duration,
        .now_ms = fake_now_ms,
        .monotonic_ms = fake_monotonic_ms,
        .emit_alert = fake_emit_alert,
        .net = tenancy_net_ops(fh->tenancy),
        .count = fake_count,
        .host_private = fh,
    };
    return fh;
}

static void
fake_host_free_alerts(struct fake_host *fh)
{
    for (size_t i = 0; i < fh->n_alerts; i++) {
        struct fake_alert *a = &fh->alerts[i];

        free(a->kind);
        free(a->key);
        free(a->summary);
        free(a->target);
        for (uint32_t j = 0; j < a->n_evidence; j++) {
            free(a->evidence[j]);
        }
    }
    free(fh->alerts);
    fh->alerts = NULL;
    fh->n_alerts = 0;
}

/* Frees 'fh'; see fake-host.h. */
void
fake_host_destroy(struct fake_host *fh)
{
    if (!fh) {
        return;
    }
    fake_host_free_alerts(fh);
    for (size_t i = 0; i < fh->n_counters; i++) {
        free(fh->counters[i].name);
    }
    free(fh->conf_error);
    free(fh->log);
    free(fh->name);
    vnm_config_destroy(fh->config);
    tenancy_destroy(fh->tenancy);
    free(fh);
}

/* Loads inventory text; see fake-host.h. */
void
fake_host_set_inventory(struct fake_host *fh, const char *text)
{
    char *error = tenancy_load_inventory(fh->tenancy, "inventory.conf", text);

    if (error) {
        fail_msg("fake host inventory: %s", error);
    }
}

/* Returns counter 'name'; see fake-host.h. */
uint64_t
fake_host_counter(const struct fake_host *fh, const char *name)
{
    for (size_t i = 0; i < fh->n_counters; i++) {
        if (!strcmp(fh->counters[i].name, name)) {
            return fh->counters[i].value;
        }
    }
    return 0;
}

/* Searches the log; see fake-host.h. */
bool
fake_host_log_contains(const struct fake_host *fh, const char *s)
{
    return strstr(fh->log, s) != NULL;
}

/* Forgets the log and the alerts; see fake-host.h. */
void
fake_host_clear(struct fake_host *fh)
{
    fh->log[0] = '\0';
    fh->log_len = 0;
    fake_host_free_alerts(fh);
}

/* Checks for keys nobody asked for; see fake-host.h. */
char *
fake_host_check_unused(const struct fake_host *fh)
{
    return vnm_conf_check_unused(fh->conf);
}
