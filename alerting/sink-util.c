/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the alert sink plugins: see sink-util.h. */
#include <config.h>

#include "alerting/sink-util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output buffer. */

bool
su_buf_reserve(struct su_buf *b, size_t n)
{
    if (b->failed) {
        return false;
    }
    if (b->allocated - b->len < n + 1) {
        size_t allocated = b->allocated ? b->allocated : 1024;
        char *s;

        while (allocated - b->len < n + 1) {
            allocated *= 2;
        }
        s = realloc(b->s, allocated);
        if (!s) {
            b->failed = true;
            return false;
        }
        b->s = s;
        b->allocated = allocated;
    }
    return true;
}

void
su_buf_put(struct su_buf *b, const void *p, size_t n)
{
    if (su_buf_reserve(b, n)) {
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = '\0';
    }
}

void
su_buf_puts(struct su_buf *b, const char *s)
{
    su_buf_put(b, s, strlen(s));
}

void
su_buf_printf(struct su_buf *b, const char *format, ...)
{
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (n < 0 || !su_buf_reserve(b, n)) {
        return;
    }
    va_start(args, format);
    vsnprintf(b->s + b->len, n + 1, format, args);
    va_end(args);
    b->len += n;
}

void
su_buf_clear(struct su_buf *b)
{
    b->len = 0;
    b->failed = false;
    su_buf_put(b, "", 0);
}

void
su_buf_destroy(struct su_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* Templates. */

static int
dump_cb(const char *buffer, size_t size, void *b)
{
    su_buf_put(b, buffer, size);
    return 0;
}

void
su_put_text(struct su_buf *b, const json_t *value, const char *none)
{
    switch (json_typeof(value)) {
    case JSON_STRING:
        su_buf_put(b, json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
        su_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
        break;
    case JSON_REAL:
        su_buf_printf(b, "%g", json_real_value(value));
        break;
    case JSON_TRUE:
        su_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        su_buf_puts(b, "false");
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < json_array_size(value); i++) {
            if (i) {
                su_buf_puts(b, "; ");
            }
            su_put_text(b, json_array_get(value, i), none);
        }
        break;
    case JSON_NULL:
    case JSON_OBJECT:
    default:
        su_buf_puts(b, none);
        break;
    }
}

void
su_expand_template(struct su_buf *b, const char *t, const json_t *record,
                   const char *none, int flags)
{
    while (*t) {
        const char *start = strstr(t, "${");
        const char *end;
        char name[64];
        size_t len;
        bool as_json = false;
        const json_t *value;

        if (!start || !(end = strchr(start + 2, '}'))) {
            su_buf_puts(b, t);
            return;
        }
        su_buf_put(b, t, start - t);
        len = end - (start + 2);
        if (flags & SU_TEMPLATE_JSON
            && len >= 5 && !memcmp(end - 5, "|json", 5)) {
            as_json = true;
            len -= 5;
        }
        if (len >= sizeof name) {
            len = sizeof name - 1;
        }
        memcpy(name, start + 2, len);
        name[len] = '\0';
        value = json_object_get(record, name);
        if (as_json) {
            if (value) {
                json_dump_callback(value, dump_cb, b,
                                   JSON_COMPACT | JSON_ENCODE_ANY);
            } else {
                su_buf_puts(b, "null");
            }
        } else if (value) {
            su_put_text(b, value, none);
        } else {
            su_buf_puts(b, none);
        }
        t = end + 1;
    }
}
