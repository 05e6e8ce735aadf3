/* SPDX-License-Identifier: Apache-2.0 */
/* Tenancy and policy: see tenancy.h.  (Being written: this is the
 * interface only, every lookup finds nothing yet.) */
#include <config.h>

#include "analyzer/tenancy.h"

#include <stdlib.h>

#include "lib/conf.h"

struct tenancy {
    int dummy;
};

static struct tenancy *current;

struct tenancy *
tenancy_create(void)
{
    return xzalloc(sizeof(struct tenancy));
}

void
tenancy_destroy(struct tenancy *t)
{
    if (current == t) {
        current = NULL;
    }
    free(t);
}

char *
tenancy_configure(struct tenancy *t, const struct vnm_config *config)
{
    return NULL;
}

char *
tenancy_load_inventory(struct tenancy *t, const char *file_name,
                       const char *text)
{
    return NULL;
}

void
tenancy_update_inventory(struct tenancy *t, const char *host_id,
                         const struct json_t *snapshot, uint64_t now_ms)
{
}

bool
tenancy_learn(struct tenancy *t, const struct vnm_flow *flow, uint64_t now_ms)
{
    return false;
}

struct json_t *
tenancy_learned_to_json(const struct tenancy *t, const char *host_id)
{
    return NULL;
}

void
tenancy_learned_from_json(struct tenancy *t, const char *host_id,
                          const struct json_t *learned)
{
}

size_t
tenancy_n_hosts(const struct tenancy *t)
{
    return 0;
}

const char *
tenancy_host(const struct tenancy *t, size_t i)
{
    return NULL;
}

static const struct vnm_port *
net_port(const struct vnm_host *h, const char *host_id, const char *name)
{
    return NULL;
}

static const struct vnm_port *
net_port_by_ip(const struct vnm_host *h, const char *host_id,
               const struct vnm_addr *ip)
{
    return NULL;
}

static const struct vnm_port *
net_port_by_mac(const struct vnm_host *h, const char *host_id,
                const uint8_t mac[6])
{
    return NULL;
}

static size_t
net_ports(const struct vnm_host *h, const char *host_id,
          const struct vnm_port *const **portsp)
{
    *portsp = NULL;
    return 0;
}

static const char *
net_protected(const struct vnm_host *h, const struct vnm_addr *ip)
{
    return NULL;
}

static bool
net_host_service(const struct vnm_host *h, const struct vnm_addr *ip,
                 uint8_t ip_proto, uint16_t port)
{
    return false;
}

static bool
net_tenants_allowed(const struct vnm_host *h, const char *from,
                    const char *to, uint8_t ip_proto, uint16_t port)
{
    return false;
}

static bool
net_mac_allowed(const struct vnm_host *h, const struct vnm_port *port,
                const uint8_t mac[6])
{
    return true;
}

static bool
net_ip_allowed(const struct vnm_host *h, const struct vnm_port *port,
               const struct vnm_addr *ip)
{
    return true;
}

static const struct vnm_net_ops net_ops = {
    .port = net_port,
    .port_by_ip = net_port_by_ip,
    .port_by_mac = net_port_by_mac,
    .ports = net_ports,
    .protected_net = net_protected,
    .host_service = net_host_service,
    .tenants_allowed = net_tenants_allowed,
    .mac_allowed = net_mac_allowed,
    .ip_allowed = net_ip_allowed,
};

const struct vnm_net_ops *
tenancy_net_ops(struct tenancy *t)
{
    current = t;
    return &net_ops;
}
