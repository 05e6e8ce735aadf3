/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a plugin of a kind no host knows
 * (kind = 99).
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

/* Written by hand: the kind is not an enum vnm_plugin_kind member. */
VNM_EXPORT const struct vnm_plugin vnm_plugin = {
    .abi_major = VNM_PLUGIN_ABI_MAJOR,
    .abi_minor = VNM_PLUGIN_ABI_MINOR,
    .size = sizeof(struct vnm_plugin),
    .kind = (enum vnm_plugin_kind) 99,
    .name = "unknown-kind",
    .version = "1.0",
    .init = refused_init,
    .destroy = refused_destroy,
    .detector = &refused_ops,
};
