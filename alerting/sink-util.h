/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the alert sink plugins (alerting/sink-*.c): a growable
 * output buffer and the "${field}" templates of the webhook and e-mail
 * sinks, rendered from the alert record's JSON.  Which incidents reach a
 * sink (tenant, min_severity, types, states) is decided by the analyzer
 * for every sink alike (analyzer/route.h), not here.
 *
 * Built as the convenience library alerting/libsink-util.la, linked into
 * every sink plugin and its unit test: a plugin links to no host symbol, so
 * each one carries its own copy.  Uses libc and jansson.  Nothing here
 * keeps global state; a 'struct su_buf' belongs to one plugin instance
 * (one thread).
 */
#ifndef VNM_SINK_UTIL_H
#define VNM_SINK_UTIL_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Output buffer. */

/* A growable output buffer, NUL-terminated once anything was appended.
 * After an allocation failure 'failed' is set and further appends do
 * nothing.  Zero-initialize; free with su_buf_destroy(). */
struct su_buf {
    char *s;
    size_t len;
    size_t allocated;
    bool failed;
};

/* Makes room for 'n' more bytes and a NUL.  Returns false (and sets
 * 'b->failed') if that fails or 'b' had already failed. */
bool su_buf_reserve(struct su_buf *b, size_t n);
/* Appends 'n' bytes at 'p'. */
void su_buf_put(struct su_buf *b, const void *p, size_t n);
/* Appends string 's'. */
void su_buf_puts(struct su_buf *b, const char *s);
/* Appends printf-formatted text. */
void su_buf_printf(struct su_buf *b, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* Empties 'b' for reuse (the empty string, 'failed' cleared), keeping its
 * memory. */
void su_buf_clear(struct su_buf *b);
/* Frees the memory of 'b' and empties it. */
void su_buf_destroy(struct su_buf *b);

/* Templates. */

/* Appends member 'value' of an alert record to 'b' as text: a string as
 * it is, a number in decimal, true / false, an array (the evidence) as its
 * elements joined with "; ", and null or an object as 'none'. */
void su_put_text(struct su_buf *b, const json_t *value, const char *none);

/* Flags of su_expand_template(). */
enum {
    /* "${field|json}" is replaced by the JSON encoding of member 'field'
     * ("null" if absent). */
    SU_TEMPLATE_JSON = 1 << 0,
};

/* Appends template 't' to 'b' with every "${field}" replaced by member
 * 'field' of 'record' as su_put_text() writes it, an absent member by
 * 'none'.  A "${" without "}" is copied as it is; a field name is cut at 63
 * bytes.  'flags' is 0 or SU_TEMPLATE_JSON. */
void su_expand_template(struct su_buf *b, const char *t,
                        const json_t *record, const char *none, int flags);

#endif /* sink-util.h */
