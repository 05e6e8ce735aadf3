/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a well-behaved alert sink that delivers nowhere and counts
 * its deliveries (counter "delivered") for test-loader.  Its section may
 * set "fail" (a boolean) to make every delivery fail with EIO instead
 * (counter "failed").
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "vnmon/plugin.h"

/* The sink's state. */
struct good_sink {
    const struct vnm_host *host;
    bool fail;                  /* Fail every delivery. */
};

static int
good_sink_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    struct good_sink *s;
    bool fail;
    int error;

    error = host->conf_bool(host, conf, "fail", false, &fail);
    if (error) {
        return error;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        return ENOMEM;
    }
    s->host = host;
    s->fail = fail;
    *statep = s;
    return 0;
}

/* Counts 'alert' as delivered.  'alert' is borrowed. */
static int
good_sink_deliver(void *state, const struct vnm_alert *alert)
{
    struct good_sink *s = state;

    if (s->fail) {
        s->host->count(s->host, "failed", 1);
        return EIO;
    }
    s->host->log(s->host, VNM_LOG_DBG, "delivered %s alert \"%s\"",
                 alert->kind, alert->key);
    s->host->count(s->host, "delivered", 1);
    return 0;
}

static const struct vnm_sink_ops good_sink_ops = {
    .deliver = good_sink_deliver,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "good", .version = "1.0",
                  .init = good_sink_init, .destroy = free,
                  .sink = &good_sink_ops);
