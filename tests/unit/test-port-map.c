/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/port-map.c: stable ids, lookups by ifindex and
 * OpenFlow port, and epoch-based reclamation: a retired map is freed only
 * once every worker has been quiescent since, including with a reader
 * thread hammering the current map (run under ASan in CI).
 */
#include <config.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "ovs-ext/port-map.h"

static struct port_info
info(const char *bridge, const char *name, int32_t ifindex, int32_t ofport)
{
    struct port_info p;

    memset(&p, 0, sizeof p);
    vnm_strlcpy(p.bridge, bridge, sizeof p.bridge);
    vnm_strlcpy(p.attr.port, name, sizeof p.attr.port);
    p.attr.ofport = ofport;
    p.ifindex = ifindex;
    return p;
}

static void
test_registry_and_lookups(void **state)
{
    struct port_registry *r = port_registry_create();
    struct port_info infos[3];
    uint32_t ids[3];
    struct port_map *map;

    ids[0] = port_registry_id(r, "br0", "t1vm1");
    ids[1] = port_registry_id(r, "br0", "t1vm2");
    ids[2] = port_registry_id(r, "br1", "t1vm1");
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    assert_int_equal(port_registry_id(r, "br0", "t1vm2"), 2);

    infos[0] = info("br0", "t1vm1", 7, 1);
    infos[1] = info("br0", "t1vm2", 9, 2);
    infos[2] = info("br1", "t1vm1", -1, 1);
    map = port_map_build(ids, infos, 3);
    assert_int_equal(port_map_by_ifindex(map, 7), 1);
    assert_int_equal(port_map_by_ifindex(map, 9), 2);
    assert_int_equal(port_map_by_ifindex(map, 8), 0);
    assert_int_equal(port_map_by_ifindex(map, -1), 0);
    assert_int_equal(port_map_by_ifindex(map, 100000), 0);
    assert_int_equal(port_map_by_ofport(map, "br1", 1), 3);
    assert_int_equal(port_map_by_ofport(map, "br0", 1), 1);
    assert_int_equal(port_map_by_ofport(map, "br0", 5), 0);
    assert_string_equal(port_map_get(map, 2)->attr.port, "t1vm2");
    assert_null(port_map_get(map, 0));
    assert_null(port_map_get(map, 4));
    assert_null(port_map_get(NULL, 1));
    port_map_free(map);
    port_registry_destroy(r);
}

static void
test_reclamation(void **state)
{
    struct port_map_rcu rcu;
    struct port_info p = info("br0", "a", 1, 1);
    uint32_t id = 1;
    const struct port_map *held;

    port_map_rcu_init(&rcu, 2);
    port_map_publish(&rcu, port_map_build(&id, &p, 1));
    held = port_map_current(&rcu);          /* Worker 0 holds map 1. */
    port_map_quiesce(&rcu, 1);

    port_map_publish(&rcu, port_map_build(&id, &p, 1));
    assert_ptr_equal(rcu.retired, held);    /* Not freed: worker 0. */
    port_map_quiesce(&rcu, 1);
    port_map_reclaim(&rcu);
    assert_ptr_equal(rcu.retired, held);
    port_map_quiesce(&rcu, 0);              /* Worker 0 lets go. */
    port_map_reclaim(&rcu);
    assert_null(rcu.retired);
    port_map_rcu_uninit(&rcu);
}

struct reader {
    struct port_map_rcu *rcu;
    atomic_bool stop;
    uint64_t n_reads;
};

static void *
reader_main(void *r_)
{
    struct reader *r = r_;

    while (!atomic_load(&r->stop)) {
        const struct port_map *map = port_map_current(r->rcu);
        const struct port_info *p = port_map_get(map, 1);

        /* Touch the map: ASan reports a use after free if it was freed. */
        if (p && p->attr.port[0] != 'a') {
            abort();
        }
        r->n_reads++;
        port_map_quiesce(r->rcu, 0);
    }
    return NULL;
}

static void
test_concurrent_reader(void **state)
{
    struct port_map_rcu rcu;
    struct port_info p = info("br0", "a", 1, 1);
    struct reader r = { .rcu = &rcu };
    uint32_t id = 1;
    pthread_t t;

    port_map_rcu_init(&rcu, 1);
    atomic_init(&r.stop, false);
    port_map_publish(&rcu, port_map_build(&id, &p, 1));
    assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
    for (int i = 0; i < 20000; i++) {
        port_map_publish(&rcu, port_map_build(&id, &p, 1));
    }
    atomic_store(&r.stop, true);
    pthread_join(t, NULL);
    assert_true(r.n_reads > 0);
    port_map_rcu_uninit(&rcu);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_and_lookups),
        cmocka_unit_test(test_reclamation),
        cmocka_unit_test(test_concurrent_reader),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
