/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the OVSDB JSON-RPC reader (ovs-ext/ovsdb.c) and the
 * inventory built on it (ovs-ext/inventory.c): the input is what a pretend
 * ovsdb-server sends over successive connections, separated by NUL bytes
 * (never valid in the JSON stream).  Each connection's bytes are fed in
 * pieces to an inventory without a socket (stream splitting, dispatch,
 * echo, monitor replies, update application, rebuild); a protocol error
 * drops the rest of that connection, and the NUL between two connections
 * is itself a protocol error, which restarts the stream as a reconnection
 * does, so that the next monitor reply is a full resync.  At the end every
 * lookup is checked against iteration and the snapshot is built.
 *
 * The Redis layer is stubbed out: the target never publishes.
 */
#include <config.h>

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/redis.h"
#include "ovs-ext/inventory.h"
#include "ovs-ext/ovsdb.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Redis stubs (inventory.c's publisher is never armed here). */
int
vnm_redis_append_argv(struct vnm_redis *r, int argc, const char **argv,
                      const size_t *argvlen)
{
    (void) r;
    (void) argc;
    (void) argv;
    (void) argvlen;
    return ENOTCONN;
}

int
vnm_redis_flush(struct vnm_redis *r)
{
    (void) r;
    return ENOTCONN;
}

bool
vnm_redis_is_connected(const struct vnm_redis *r)
{
    (void) r;
    return false;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *error = vnm_log_set_levels("err");

    (void) argc;
    (void) argv;
    free(error);
    return 0;
}

/* Every interface must be found again by each of its keys. */
static void
check_lookups(const struct inventory *inv)
{
    size_t n = inventory_n_interfaces(inv);

    for (size_t i = 0; i < n; i++) {
        const struct inv_interface *iface = inventory_interface(inv, i);
        const struct inv_interface *found;
        struct vnm_attribution a;

        found = inventory_find_by_name(inv, iface->name);
        if (!found || strcmp(found->name, iface->name)) {
            abort();
        }
        if (iface->ifindex > 0) {
            found = inventory_find_by_ifindex(inv, iface->ifindex);
            if (!found || found->ifindex != iface->ifindex) {
                abort();
            }
        }
        if (iface->ofport > 0) {
            found = inventory_find_by_ofport(inv, iface->bridge,
                                             iface->ofport);
            if (!found || found->ofport != iface->ofport
                || strcmp(found->bridge, iface->bridge)) {
                abort();
            }
        }
        for (size_t j = 0; j < iface->n_ips; j++) {
            found = inventory_find_by_ip(inv, &iface->ips[j]);
            if (!found) {
                abort();
            }
        }
        inventory_attribution(iface, &a);
    }
    if (inventory_interface(inv, n)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct inventory *inv = inventory_create(NULL, NULL, NULL, NULL);
    /* Pieces of 1 to 512 bytes, varying with the input's size, so that
     * messages are also split at odd places. */
    size_t piece = 1 + (size_t) ((size * 2654435761u) >> 7) % 512;
    const uint8_t *end = data + size;
    struct inventory_stats st;
    json_t *snap;

    for (const uint8_t *conn = data; conn < end;) {
        const uint8_t *nul = memchr(conn, '\0', (size_t) (end - conn));
        const uint8_t *conn_end = nul ? nul + 1 : end;

        for (const uint8_t *p = conn; p < conn_end; p += piece) {
            size_t n = ((size_t) (conn_end - p) < piece
                        ? (size_t) (conn_end - p) : piece);

            if (inventory_receive(inv, p, n)) {
                break;
            }
        }
        conn = conn_end;
    }
    check_lookups(inv);
    inventory_get_stats(inv, &st);
    if (st.n_interfaces != inventory_n_interfaces(inv)) {
        abort();
    }
    /* json_pack() fails on a null value, such as json_string() of
     * invalid UTF-8: a complete snapshot is a serialisable one. */
    snap = inventory_to_json(inv);
    if (!json_is_object(snap)
        || json_array_size(json_object_get(snap, "interfaces"))
           != st.n_interfaces) {
        abort();
    }
    json_decref(snap);
    inventory_destroy(inv);
    return 0;
}
