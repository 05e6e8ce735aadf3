/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a well-behaved detector.  It reads two keys of its section
 * through the host's getters ("threshold", an integer number of bytes, and
 * "label", a string), counts the flows it sees, raises a "big-flow" alert
 * for every flow whose bytes (both directions) exceed the threshold, and
 * logs when it is destroyed.
 *
 * Built as tests/plugins/detect-minimal.la for test-loader, and compiled
 * directly into test-fake-host, which drives it on tests/unit/fake-host.c.
 * The alert's strings live on the stack of on_flow(), so a host that keeps
 * them instead of copying them is caught by the sanitizers.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "vnmon/plugin.h"

/* A minimal detector's state. */
struct minimal {
    const struct vnm_host *host;
    int64_t threshold;          /* Bytes above which a flow is alerted. */
    const char *label;          /* Host's copy, valid until destroy(). */
    uint64_t n_flows;           /* Flows seen. */
};

static int
minimal_init(const struct vnm_host *host, const struct vnm_conf *conf,
             void **statep)
{
    struct minimal *m;
    const char *label;
    int64_t threshold;
    int error;

    error = host->conf_int(host, conf, "threshold", 1000, 0, INT64_MAX,
                           &threshold);
    if (error) {
        return error;
    }
    error = host->conf_string(host, conf, "label", "minimal", &label);
    if (error) {
        return error;
    }

    m = calloc(1, sizeof *m);
    if (!m) {
        return ENOMEM;
    }
    m->host = host;
    m->threshold = threshold;
    m->label = label;
    host->log(host, VNM_LOG_INFO, "threshold %"PRId64" bytes, label \"%s\"",
              threshold, label);
    *statep = m;
    return 0;
}

static void
minimal_destroy(void *state)
{
    struct minimal *m = state;

    m->host->log(m->host, VNM_LOG_INFO, "destroyed after %"PRIu64" flows",
                 m->n_flows);
    free(m);
}

/* Alerts on flows bigger than the threshold.  'flow' is borrowed. */
static void
minimal_on_flow(void *state, const struct vnm_flow *flow)
{
    struct minimal *m = state;
    uint64_t bytes = flow->src.bytes + flow->dst.bytes;

    m->n_flows++;
    m->host->count(m->host, "flows", 1);
    if (bytes > (uint64_t) m->threshold) {
        char key[32];
        char summary[128];
        struct vnm_alert alert = {
            .kind = "big-flow",
            .severity = VNM_SEV_LOW,
            .key = key,
            .summary = summary,
            .flow = flow,
            .packets = flow->src.packets + flow->dst.packets,
            .bytes = bytes,
        };

        snprintf(key, sizeof key, "flow-%"PRIu64, flow->id);
        snprintf(summary, sizeof summary, "%s: flow %"PRIu64" carried %"
                 PRIu64" bytes (threshold %"PRId64")", m->label, flow->id,
                 bytes, m->threshold);
        if (!m->host->emit_alert(m->host, &alert)) {
            m->host->count(m->host, "alerts", 1);
        }
    }
}

static void
minimal_on_tick(void *state, uint64_t now_ms)
{
    struct minimal *m = state;

    m->host->count(m->host, "ticks", 1);
}

static const struct vnm_detector_ops minimal_ops = {
    .on_flow = minimal_on_flow,
    .on_tick = minimal_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "minimal",
                  .version = "1.0", .init = minimal_init,
                  .destroy = minimal_destroy, .detector = &minimal_ops);
