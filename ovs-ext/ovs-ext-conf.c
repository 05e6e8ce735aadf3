/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ovs-ext's configuration: the [flows], [networks], [ovs] and
 * [bridge "NAME"] sections of the agent's file (see ovs-ext.h and
 * doc/configuration.md).
 */
#include <config.h>

#include "ovs-ext/ovs-ext.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "ovs-ext/flow-class.h"

static char *
read_flows(const struct vnm_conf *s, struct ovs_ext_config *c)
{
    char *error;

    if ((error = vnm_conf_get_int(s, "workers", 2, 1, 64, &c->workers))
        || (error = vnm_conf_get_int(s, "max_flows", 262144, 16, 100000000,
                                     &c->max_flows))
        || (error = vnm_conf_get_size(s, "max_memory", 512 << 20, 1 << 20,
                                      INT64_C(1) << 40, &c->max_memory))
        || (error = vnm_conf_get_duration(s, "idle_timeout", 60000, 100,
                                          86400000, &c->idle_timeout_ms))
        || (error = vnm_conf_get_duration(s, "tcp_closed_timeout", 5000, 0,
                                          3600000,
                                          &c->tcp_closed_timeout_ms))
        || (error = vnm_conf_get_duration(s, "syn_timeout", 10000, 100,
                                          3600000, &c->syn_timeout_ms))
        || (error = vnm_conf_get_duration(s, "active_timeout", 1800000,
                                          1000, INT64_C(86400000) * 7,
                                          &c->active_timeout_ms))
        || (error = vnm_conf_get_duration(s, "update_interval", 10000, 0,
                                          86400000, &c->update_interval_ms))
        || (error = vnm_conf_get_duration(s, "first_update", 1000, 0,
                                          86400000, &c->first_update_ms))
        || (error = vnm_conf_get_bool(s, "classify", true, &c->classify))
        || (error = vnm_conf_get_size(s, "snaplen", 65535, 64, 65535,
                                      &c->snaplen))
        || (error = vnm_conf_get_size(s, "ring_size", 16 << 20, 1 << 20,
                                      INT64_C(1) << 32, &c->ring_size))
        || (error = vnm_conf_get_string(s, "records_file", NULL,
                                        &c->records_file))) {
        return error;
    }
    return NULL;
}

static char *
read_networks(const struct vnm_conf *s, struct ovs_ext_config *c)
{
    static const struct {
        const char *key;
        enum flow_net net;
    } keys[] = {
        { "host", FLOW_NET_HOST },
        { "management", FLOW_NET_MGMT },
        { "underlay", FLOW_NET_UNDERLAY },
    };

    for (size_t i = 0; i < VNM_ARRAY_SIZE(keys); i++) {
        const char *list;
        char *error;

        error = vnm_conf_get_string(s, keys[i].key, "", &list);
        if (!error) {
            error = flow_classifier_add(c->networks, keys[i].net, list);
            if (error) {
                char *full = vnm_conf_error(s, keys[i].key, "%s", error);

                free(error);
                return full;
            }
        }
        if (error) {
            return error;
        }
    }
    return NULL;
}

static char *
parse_tap(const struct vnm_conf *s, const char *key, const char *value,
          enum ovs_ext_tap_kind *kind)
{
    if (!strcmp(value, "netdev")) {
        *kind = OVS_EXT_TAP_NETDEV;
    } else if (!strcmp(value, "flow")) {
        *kind = OVS_EXT_TAP_FLOW;
    } else if (!strcmp(value, "none")) {
        *kind = OVS_EXT_TAP_NONE;
    } else {
        return vnm_conf_error(s, key, "\"%s\" is not a tap (netdev, flow or "
                              "none)", value);
    }
    return NULL;
}

static char *
read_ovs(const struct vnm_conf *s, struct ovs_ext_config *c)
{
    enum ovs_ext_tap_kind kind;
    const char *cookie;
    char *end;
    char *error;

    if ((error = vnm_conf_get_string(s, "db",
                                     "unix:/run/openvswitch/db.sock",
                                     &c->ovsdb))
        || (error = vnm_conf_get_string(s, "rundir", "/run/openvswitch",
                                        &c->rundir))
        || (error = vnm_conf_get_string(s, "tap", "netdev",
                                        &c->default_tap))
        || (error = vnm_conf_get_string(s, "flow_tap_cookie",
                                        "0x766e6d6f6e000000", &cookie))
        || (error = vnm_conf_get_int(s, "flow_tap_priority", 0, 0, 65535,
                                     &c->flow_tap_priority))
        || (error = vnm_conf_get_string(s, "flow_tap_reg_bit",
                                        "NXM_NX_REG15[31]",
                                        &c->flow_tap_reg_bit))) {
        return error;
    }
    if (strncmp(c->ovsdb, "unix:", 5) && strncmp(c->ovsdb, "tcp:", 4)) {
        return vnm_conf_error(s, "db", "\"%s\" is not unix:PATH or "
                              "tcp:IP:PORT", c->ovsdb);
    }
    error = parse_tap(s, "tap", c->default_tap, &kind);
    if (error) {
        return error;
    }
    c->flow_tap_cookie = strtoull(cookie, &end, 0);
    if (!*cookie || *end || !c->flow_tap_cookie) {
        return vnm_conf_error(s, "flow_tap_cookie", "\"%s\" is not a "
                              "non-zero 64-bit number", cookie);
    }
    if (!strstr(c->flow_tap_reg_bit, "[") || !strstr(c->flow_tap_reg_bit, "]")
        || strpbrk(c->flow_tap_reg_bit, " ,()")) {
        return vnm_conf_error(s, "flow_tap_reg_bit", "\"%s\" is not one "
                              "register bit such as NXM_NX_REG15[31]",
                              c->flow_tap_reg_bit);
    }
    return NULL;
}

char *
ovs_ext_config_read(const struct vnm_config *config, struct ovs_ext_config *c)
{
    const struct vnm_conf *s;
    char *error;

    memset(c, 0, sizeof *c);
    c->networks = flow_classifier_create();
    if ((error = read_flows(vnm_config_section(config, "flows", NULL), c))
        || (error = read_networks(vnm_config_section(config, "networks",
                                                     NULL), c))
        || (error = read_ovs(vnm_config_section(config, "ovs", NULL), c))) {
        return error;
    }
    for (s = vnm_config_next(config, NULL); s; s = vnm_config_next(config, s)) {
        struct ovs_ext_bridge_config *b;
        const char *tap;

        if (strcmp(vnm_conf_kind(s), "bridge")) {
            continue;
        }
        error = vnm_conf_get_string(s, "tap", c->default_tap, &tap);
        if (error) {
            return error;
        }
        c->bridges = xrealloc(c->bridges,
                              (c->n_bridges + 1) * sizeof *c->bridges);
        b = &c->bridges[c->n_bridges++];
        b->name = xstrdup(vnm_conf_name(s));
        error = parse_tap(s, "tap", tap, &b->tap);
        if (error) {
            return error;
        }
        if ((error = vnm_conf_check_unused(s))) {
            return error;
        }
    }
    if ((error = vnm_conf_check_unused(vnm_config_section(config, "flows",
                                                          NULL)))
        || (error = vnm_conf_check_unused(vnm_config_section(config,
                                                             "networks",
                                                             NULL)))
        || (error = vnm_conf_check_unused(vnm_config_section(config, "ovs",
                                                             NULL)))) {
        return error;
    }
    return NULL;
}

void
ovs_ext_config_uninit(struct ovs_ext_config *c)
{
    for (size_t i = 0; i < c->n_bridges; i++) {
        free(c->bridges[i].name);
    }
    free(c->bridges);
    flow_classifier_destroy(c->networks);
    memset(c, 0, sizeof *c);
}
