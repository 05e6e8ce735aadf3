/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a well-behaved enricher that adds one configured label
 * ("key" = "value" keys of its section) to every flow record, and counts
 * the records it saw (counter "enriched").  Loaded by vnmon-agent in the
 * system tests and by test-loader.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>

#include "vnmon/plugin.h"

/* The enricher's state. */
struct static_enricher {
    const struct vnm_host *host;
    const char *key;            /* Borrowed from the host until destroy. */
    const char *value;
};

static int
static_init(const struct vnm_host *host, const struct vnm_conf *conf,
            void **statep)
{
    struct static_enricher *e;
    const char *key, *value;
    int error;

    error = host->conf_string(host, conf, "key", "site", &key);
    if (!error) {
        error = host->conf_string(host, conf, "value", "lab", &value);
    }
    if (error) {
        return error;
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        return ENOMEM;
    }
    e->host = host;
    e->key = key;
    e->value = value;
    *statep = e;
    return 0;
}

/* Adds the label to 'labels'.  'flow' is borrowed. */
static void
static_enrich(void *state, const struct vnm_flow *flow,
              struct vnm_labels *labels)
{
    struct static_enricher *e = state;

    (void) flow;
    vnm_labels_add(labels, e->key, e->value);
    e->host->count(e->host, "enriched", 1);
}

static const struct vnm_enricher_ops static_ops = {
    .enrich = static_enrich,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_ENRICHER, .name = "static",
                  .version = "1.0", .init = static_init, .destroy = free,
                  .enricher = &static_ops);
