/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPSC record queue: see record-queue.h.
 */
#include <config.h>

#include "ovs-ext/record-queue.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void
record_queue_init(struct record_queue *q, size_t size)
{
    record_queue_init_elem(q, size, sizeof(struct vnm_flow));
}

void
record_queue_init_elem(struct record_queue *q, size_t size, size_t elem_size)
{
    size_t n = 16;

    while (n < size) {
        n *= 2;
    }
    q->slots = xcalloc(n, elem_size);
    q->elem_size = elem_size;
    q->mask = n - 1;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    atomic_init(&q->n_dropped, 0);
}

void
record_queue_uninit(struct record_queue *q)
{
    free(q->slots);
    q->slots = NULL;
}

bool
record_queue_push(struct record_queue *q, const struct vnm_flow *rec)
{
    return record_queue_push_elem(q, rec);
}

bool
record_queue_push_elem(struct record_queue *q, const void *elem)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);

    if (tail - head > q->mask) {
        atomic_fetch_add_explicit(&q->n_dropped, 1, memory_order_relaxed);
        return false;
    }
    memcpy(&q->slots[(tail & q->mask) * q->elem_size], elem, q->elem_size);
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return true;
}

const struct vnm_flow *
record_queue_peek(struct record_queue *q)
{
    return record_queue_peek_elem(q);
}

const void *
record_queue_peek_elem(struct record_queue *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);

    return (head == tail ? NULL
            : &q->slots[(head & q->mask) * q->elem_size]);
}

void
record_queue_pop_done(struct record_queue *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);

    atomic_store_explicit(&q->head, head + 1, memory_order_release);
}

uint64_t
record_queue_dropped(const struct record_queue *q)
{
    return atomic_load_explicit(&q->n_dropped, memory_order_relaxed);
}
