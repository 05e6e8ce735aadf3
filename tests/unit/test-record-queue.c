/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/record-queue.c: order, fullness and drops, and a
 * producer thread against a consumer with every record accounted for.
 */
#include <config.h>

#include <pthread.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ovs-ext/record-queue.h"

static void
test_fill_and_drain(void **state)
{
    struct record_queue q;
    struct vnm_flow f;
    const struct vnm_flow *p;

    memset(&f, 0, sizeof f);
    record_queue_init(&q, 10);          /* Rounded up to 16. */
    assert_null(record_queue_peek(&q));
    for (uint64_t i = 0; i < 20; i++) {
        f.id = i;
        assert_int_equal(record_queue_push(&q, &f), i < 16);
    }
    assert_int_equal(record_queue_dropped(&q), 4);
    for (uint64_t i = 0; i < 16; i++) {
        p = record_queue_peek(&q);
        assert_non_null(p);
        assert_int_equal(p->id, i);
        record_queue_pop_done(&q);
    }
    assert_null(record_queue_peek(&q));
    record_queue_uninit(&q);
}

enum { N_RECORDS = 200000 };

static void *
producer(void *q_)
{
    struct record_queue *q = q_;
    struct vnm_flow f;

    memset(&f, 0, sizeof f);
    for (uint64_t i = 0; i < N_RECORDS; i++) {
        f.id = i;
        f.src.packets = i * 3;
        while (!record_queue_push(q, &f)) {
            continue;           /* Spin: the test wants every record. */
        }
    }
    return NULL;
}

static void
test_threads(void **state)
{
    struct record_queue q;
    uint64_t next = 0;
    pthread_t t;

    record_queue_init(&q, 64);
    assert_int_equal(pthread_create(&t, NULL, producer, &q), 0);
    while (next < N_RECORDS) {
        const struct vnm_flow *p = record_queue_peek(&q);

        if (p) {
            assert_int_equal(p->id, next);
            assert_int_equal(p->src.packets, next * 3);
            record_queue_pop_done(&q);
            next++;
        }
    }
    pthread_join(t, NULL);
    assert_null(record_queue_peek(&q));
    record_queue_uninit(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_and_drain),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
