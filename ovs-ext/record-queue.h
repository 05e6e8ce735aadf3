/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded single-producer, single-consumer queue of flow records: a
 * worker thread pushes the records its flow table produces, the agent's
 * main thread pops them.  Lock-free; when full, a record is dropped and
 * counted rather than blocking the capture path.
 */
#ifndef VNM_RECORD_QUEUE_H
#define VNM_RECORD_QUEUE_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/flow.h"

struct record_queue {
    unsigned char *slots;       /* 'size' elements, 'size' a power of 2. */
    size_t mask;
    size_t elem_size;           /* Bytes of one element. */
    _Alignas(64) atomic_size_t head; /* Next slot to pop (consumer). */
    _Alignas(64) atomic_size_t tail; /* Next slot to push (producer). */
    atomic_uint_fast64_t n_dropped;  /* Pushes refused, queue full. */
};

/* Initialises 'q' for at least 'size' records. */
void record_queue_init(struct record_queue *q, size_t size);
void record_queue_uninit(struct record_queue *q);

/* Producer: copies 'rec' in.  Returns false (and counts a drop) if full. */
bool record_queue_push(struct record_queue *q, const struct vnm_flow *rec);

/* Consumer: the oldest record, or null if empty.  Valid until
 * record_queue_pop_done(). */
const struct vnm_flow *record_queue_peek(struct record_queue *q);
void record_queue_pop_done(struct record_queue *q);

/* The same queue for elements of any type of 'elem_size' bytes. */
void record_queue_init_elem(struct record_queue *q, size_t size,
                            size_t elem_size);
bool record_queue_push_elem(struct record_queue *q, const void *elem);
const void *record_queue_peek_elem(struct record_queue *q);

/* Records dropped so far. */
uint64_t record_queue_dropped(const struct record_queue *q);

#endif /* record-queue.h */
