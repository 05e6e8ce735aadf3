/* SPDX-License-Identifier: Apache-2.0 */
/*
 * inventory-driver: runs the live inventory (ovs-ext/inventory.c) against
 * an ovsdb-server and publishes it to Redis, as vnmon-agent does, for the
 * system test tests/system/test-inventory.sh.
 *
 *   inventory-driver --remote unix:DB.SOCK --redis unix:REDIS.SOCK
 *                    --host-id ID [--log FILE] [--log-level SPEC]
 *
 * Runs until SIGTERM or SIGINT.  Logs like the daemons ("|driver|LEVEL|").
 */
#include <config.h>

#include <event2/event.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"
#include "ovs-ext/ovsdb.h"

VNM_LOG_MODULE(driver);

struct driver {
    struct event_base *base;
    struct vnm_redis *redis;
    struct inventory *inv;
    uint64_t n_changes;
};

static void
on_change(void *d_)
{
    struct driver *d = d_;

    d->n_changes++;
    VNM_DBG("inventory changed: %zu interfaces",
            inventory_n_interfaces(d->inv));
}

static void
on_signal(evutil_socket_t sig, short what, void *d_)
{
    struct driver *d = d_;

    (void) what;
    VNM_INFO("signal %d: stopping", (int) sig);
    event_base_loopbreak(d->base);
}

/* Every second: keep Redis connected, as the daemons' tick does. */
static void
on_tick(evutil_socket_t fd, short what, void *d_)
{
    struct driver *d = d_;

    (void) fd;
    (void) what;
    vnm_redis_run(d->redis);
}

static void
usage(void)
{
    printf("usage: inventory-driver --remote unix:PATH|tcp:IP:PORT "
           "--redis ADDRESS\n"
           "                        --host-id ID [--log FILE] "
           "[--log-level SPEC]\n");
}

int
main(int argc, char *argv[])
{
    static const struct option long_options[] = {
        { "remote", required_argument, NULL, 'o' },
        { "redis", required_argument, NULL, 'r' },
        { "host-id", required_argument, NULL, 'H' },
        { "log", required_argument, NULL, 'l' },
        { "log-level", required_argument, NULL, 'L' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *remote = NULL, *redis = NULL, *host_id = NULL;
    const char *log = "stderr", *levels = NULL;
    struct vnm_redis_options ropts;
    struct event *sigterm, *sigint, *tick;
    struct timeval one_s = { 1, 0 };
    struct driver d;
    char *error;
    int c;

    vnm_set_program_name(argv[0]);
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case 'o':
            remote = optarg;
            break;
        case 'r':
            redis = optarg;
            break;
        case 'H':
            host_id = optarg;
            break;
        case 'l':
            log = optarg;
            break;
        case 'L':
            levels = optarg;
            break;
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 2;
        }
    }
    if (!remote || !redis || !host_id || optind != argc) {
        usage();
        return 2;
    }
    if (!ovsdb_remote_valid(remote)) {
        vnm_fatal("\"%s\" is not an OVSDB remote", remote);
    }
    if (!vnm_redis_address_valid(redis)) {
        vnm_fatal("\"%s\" is not a Redis address", redis);
    }
    if (vnm_log_open(log, "driver")) {
        vnm_fatal("cannot open log %s", log);
    }
    if (levels && (error = vnm_log_set_levels(levels))) {
        vnm_fatal("%s", error);
    }

    memset(&d, 0, sizeof d);
    d.base = event_base_new();
    if (!d.base) {
        vnm_fatal("cannot create the event loop");
    }
    memset(&ropts, 0, sizeof ropts);
    ropts.address = redis;
    ropts.timeout_ms = 2000;
    ropts.reconnect_max_ms = 1000;
    d.redis = vnm_redis_create(&ropts);
    vnm_redis_connect(d.redis);
    d.inv = inventory_create(d.base, remote, on_change, &d);
    inventory_set_publisher(d.inv, d.redis, host_id);

    sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
    sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
    tick = event_new(d.base, -1, EV_PERSIST, on_tick, &d);
    evsignal_add(sigterm, NULL);
    evsignal_add(sigint, NULL);
    event_add(tick, &one_s);
    VNM_INFO("inventory driver started: ovsdb %s, redis %s, host %s",
             remote, redis, host_id);

    event_base_dispatch(d.base);

    inventory_set_publisher(d.inv, NULL, NULL);
    inventory_destroy(d.inv);
    event_free(sigterm);
    event_free(sigint);
    event_free(tick);
    vnm_redis_destroy(d.redis);
    event_base_free(d.base);
    VNM_INFO("inventory driver stopped after %"PRIu64" changes",
             d.n_changes);
    vnm_log_close();
    return 0;
}
