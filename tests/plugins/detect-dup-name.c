/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a second good detector whose descriptor
 * is named "minimal", like detect-minimal.so: loading both must fail with
 * a duplicate-name refusal.
 *
 * Otherwise a complete detector, so that the loader can refuse it for that
 * reason only.  The loader must refuse it before init() runs.
 */
#include <config.h>

#include <stddef.h>

#include "vnmon/plugin.h"

static int
refused_init(const struct vnm_host *host, const struct vnm_conf *conf,
             void **statep)
{
    *statep = NULL;
    return 0;
}

static void
refused_destroy(void *state)
{
}

static void
refused_on_flow(void *state, const struct vnm_flow *flow)
{
}

static const struct vnm_detector_ops refused_ops = {
    .on_flow = refused_on_flow,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "minimal",
                  .version = "2.0", .init = refused_init,
                  .destroy = refused_destroy, .detector = &refused_ops);
