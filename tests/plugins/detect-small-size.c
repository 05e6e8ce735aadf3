/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a descriptor whose 'size' (8) is smaller
 * than ABI 1.0's struct vnm_plugin, as a corrupt or hand-made one would
 * be.
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

/* Written by hand: VNM_PLUGIN_DEFINE() would stamp the right size. */
VNM_EXPORT const struct vnm_plugin vnm_plugin = {
    .abi_major = VNM_PLUGIN_ABI_MAJOR,
    .abi_minor = VNM_PLUGIN_ABI_MINOR,
    .size = 8,
    .kind = VNM_PLUGIN_DETECTOR,
    .name = "small-size",
    .version = "1.0",
    .init = refused_init,
    .destroy = refused_destroy,
    .detector = &refused_ops,
};
