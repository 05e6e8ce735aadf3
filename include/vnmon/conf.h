/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One section of a daemon's configuration file, as a plugin sees it.
 *
 * The type is opaque: a plugin reads its keys only through the typed getters
 * of 'struct vnm_host' (plugin.h), which report errors with the file, line
 * and key, and which record what the plugin asked for so that the host can
 * refuse keys nobody knows.
 */
#ifndef VNM_CONF_H
#define VNM_CONF_H 1

#ifdef __cplusplus
extern "C" {
#endif

/* A configuration section, e.g. [detector "vlan-hop"].  Opaque. */
struct vnm_conf;

#ifdef __cplusplus
}
#endif

#endif /* conf.h */
