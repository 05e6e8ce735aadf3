/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a detector whose init() logs why it cannot start and
 * returns EINVAL.  Its destroy() must then never be called: it logs a line
 * that test-loader checks is absent.
 */
#include <config.h>

#include <errno.h>

#include "vnmon/plugin.h"

/* The host of the last init(), for destroy() to complain through. */
static const struct vnm_host *init_fails_host;

static int
init_fails_init(const struct vnm_host *host, const struct vnm_conf *conf,
                void **statep)
{
    init_fails_host = host;
    host->log(host, VNM_LOG_ERR, "cannot start: no capture source "
              "configured (test fixture)");
    return EINVAL;
}

static void
init_fails_destroy(void *state)
{
    /* Unreachable if the loader keeps the lifecycle rules; test-loader
     * fails if it ever sees this line. */
    init_fails_host->log(init_fails_host, VNM_LOG_ERR,
                         "destroy() called although init() failed");
}

static void
init_fails_on_flow(void *state, const struct vnm_flow *flow)
{
}

static const struct vnm_detector_ops init_fails_ops = {
    .on_flow = init_fails_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "init-fails",
                  .version = "1.0", .init = init_fails_init,
                  .destroy = init_fails_destroy,
                  .detector = &init_fails_ops);
