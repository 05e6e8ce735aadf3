/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a detector whose init() reads the integer key "limit"
 * through host->conf_int() and returns the getter's error as is, so that
 * test-loader can check that the getter's "FILE:LINE: KEY: reason" reaches
 * the loader's refusal.  With a valid "limit" it loads normally.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>

#include "vnmon/plugin.h"

static int
bad_conf_init(const struct vnm_host *host, const struct vnm_conf *conf,
              void **statep)
{
    int64_t limit;
    int error;

    error = host->conf_int(host, conf, "limit", 10, 0, 100, &limit);
    if (error) {
        return error;
    }
    *statep = NULL;
    return 0;
}

static void
bad_conf_destroy(void *state)
{
}

static void
bad_conf_on_flow(void *state, const struct vnm_flow *flow)
{
}

static const struct vnm_detector_ops bad_conf_ops = {
    .on_flow = bad_conf_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "bad-conf",
                  .version = "1.0", .init = bad_conf_init,
                  .destroy = bad_conf_destroy, .detector = &bad_conf_ops);
