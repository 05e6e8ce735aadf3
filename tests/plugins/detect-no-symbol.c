/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a shared object that loads fine but is not a vnmon plugin:
 * it exports a descriptor under another name ("vnm_plugin_info"), and no
 * "vnm_plugin".  Built without the one-symbol export filter, so that the
 * symbol it does export is really there for test-loader to find.
 */
#include <config.h>

#include <stddef.h>

#include "vnmon/plugin.h"

/* A well-formed descriptor under the wrong name. */
VNM_EXPORT extern const struct vnm_plugin vnm_plugin_info;

static int
no_symbol_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    *statep = NULL;
    return 0;
}

static void
no_symbol_destroy(void *state)
{
}

static void
no_symbol_on_flow(void *state, const struct vnm_flow *flow)
{
}

static const struct vnm_detector_ops no_symbol_ops = {
    .on_flow = no_symbol_on_flow,
};

VNM_EXPORT const struct vnm_plugin vnm_plugin_info = {
    .abi_major = VNM_PLUGIN_ABI_MAJOR,
    .abi_minor = VNM_PLUGIN_ABI_MINOR,
    .size = sizeof(struct vnm_plugin),
    .kind = VNM_PLUGIN_DETECTOR,
    .name = "no-symbol",
    .version = "1.0",
    .init = no_symbol_init,
    .destroy = no_symbol_destroy,
    .detector = &no_symbol_ops,
};
