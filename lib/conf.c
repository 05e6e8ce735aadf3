/* SPDX-License-Identifier: Apache-2.0 */
/*
 * INI configuration: see conf.h.  inih does the lexing; a reader wrapper
 * counts lines so that every entry knows where it came from.
 */
#include <config.h>

#include "lib/conf.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One "key = value" line. */
struct conf_entry {
    char *key;
    char *value;
    int line;
    bool used;                  /* Asked for by a getter. */
};

/* A section.  'entries' is a separate array so that getters can mark
 * entries used through a const pointer to the section. */
struct vnm_conf {
    char *kind;
    char *name;                 /* Null for [kind]. */
    int line;
    const struct vnm_config *config;
    struct conf_entry *entries;
    size_t n_entries;
    size_t allocated;
    int scan_line;              /* First header seen by the second pass. */
};

struct vnm_config {
    char *file_name;
    struct vnm_conf **sections;
    size_t n_sections;
    int line;                   /* Line being parsed. */
    int header_line;            /* Line of the last section header read. */
    char *error;                /* First parse error. */
    char *last_header;          /* Section header as inih reported it. */
    struct vnm_conf *current;
};

/* State of the line-counting reader. */
struct reader {
    FILE *file;                 /* Reading a file, or... */
    const char *text;           /* ...a string. */
    struct vnm_config *config;
    bool too_long;
};

enum { MAX_LINE = 4096 };

static char *
conf_error(const struct vnm_config *config, int line, const char *key,
           const char *format, ...) VNM_PRINTF(4, 5);

static char *
conf_error(const struct vnm_config *config, int line, const char *key,
           const char *format, ...)
{
    va_list args;
    char *reason;
    char *error;

    va_start(args, format);
    reason = xvasprintf(format, args);
    va_end(args);
    error = (key
             ? xasprintf("%s:%d: %s: %s", config->file_name, line, key, reason)
             : xasprintf("%s:%d: %s", config->file_name, line, reason));
    free(reason);
    return error;
}

/* fgets() for inih that counts lines and notices over-long ones. */
static char *
read_line(char *buf, int size, void *reader_)
{
    struct reader *r = reader_;
    size_t len;

    if (r->file) {
        if (!fgets(buf, size, r->file)) {
            return NULL;
        }
    } else {
        const char *nl;
        size_t n;

        if (!*r->text) {
            return NULL;
        }
        nl = strchr(r->text, '\n');
        n = nl ? (size_t) (nl - r->text) + 1 : strlen(r->text);
        if (n > (size_t) size - 1) {
            n = (size_t) size - 1;
        }
        memcpy(buf, r->text, n);
        buf[n] = '\0';
        r->text += n;
    }
    r->config->line++;
    if (buf[strspn(buf, " \t")] == '[') {
        r->config->header_line = r->config->line;
    }
    len = strlen(buf);
    if (len == (size_t) size - 1 && buf[len - 1] != '\n' && !r->too_long) {
        r->too_long = true;
        if (!r->config->error) {
            r->config->error = conf_error(r->config, r->config->line, NULL,
                                          "line longer than %d bytes",
                                          size - 2);
        }
    }
    return buf;
}

static bool
valid_word(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!islower((unsigned char) *s) && !isdigit((unsigned char) *s)
            && *s != '_' && *s != '-' && *s != '.') {
            return false;
        }
    }
    return true;
}

/* Splits a header 'kind "name"' into its parts, or returns an error. */
static char *
parse_header(struct vnm_config *config, int line, const char *header,
             char **kindp, char **namep)
{
    const char *space = strchr(header, ' ');
    char *kind, *name = NULL;

    if (!space) {
        kind = xstrdup(header);
    } else {
        const char *q = space;
        size_t len;

        while (*q == ' ') {
            q++;
        }
        len = strlen(q);
        if (len < 3 || q[0] != '"' || q[len - 1] != '"') {
            return conf_error(config, line, NULL,
                              "[%s]: section name must be double-quoted, "
                              "as in [detector \"vlan-hop\"]", header);
        }
        kind = xstrndup(header, (size_t) (space - header));
        name = xstrndup(q + 1, len - 2);
        if (!valid_word(name)) {
            char *error = conf_error(config, line, NULL,
                                     "[%s]: name must match [a-z0-9_.-]+",
                                     header);
            free(kind);
            free(name);
            return error;
        }
    }
    if (!valid_word(kind)) {
        char *error = conf_error(config, line, NULL,
                                 "[%s]: section kind must match [a-z0-9_.-]+",
                                 header);
        free(kind);
        free(name);
        return error;
    }
    *kindp = kind;
    *namep = name;
    return NULL;
}

static bool
same_name(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static struct vnm_conf *
find_section(const struct vnm_config *config, const char *kind,
             const char *name)
{
    for (size_t i = 0; i < config->n_sections; i++) {
        struct vnm_conf *s = config->sections[i];

        if (!strcmp(s->kind, kind) && same_name(s->name, name)) {
            return s;
        }
    }
    return NULL;
}

/* Makes the section whose header inih gives as 'header' current. */
static bool
enter_section(struct vnm_config *config, const char *header)
{
    struct vnm_conf *s;
    char *kind, *name;
    char *error;

    free(config->last_header);
    config->last_header = xstrdup(header);
    config->current = NULL;
    error = parse_header(config, config->header_line, header, &kind, &name);
    if (error) {
        config->error = error;
        return false;
    }
    s = find_section(config, kind, name);
    if (s) {
        config->error = conf_error(config, config->header_line, NULL,
                                   "[%s]: duplicate section (first on line "
                                   "%d)", header, s->line);
        free(kind);
        free(name);
        return false;
    }
    s = xzalloc(sizeof *s);
    s->kind = kind;
    s->name = name;
    s->line = config->header_line;
    s->config = config;
    config->sections = xrealloc(config->sections,
                                (config->n_sections + 1)
                                * sizeof *config->sections);
    config->sections[config->n_sections++] = s;
    config->current = s;
    return true;
}

static char *
unquote(const char *value)
{
    size_t len = strlen(value);

    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
        return xstrndup(value + 1, len - 2);
    }
    return xstrdup(value);
}

/* inih's handler: called per key, with the header of its section. */
static int
handle_entry(void *config_, const char *section, const char *key,
             const char *value)
{
    struct vnm_config *config = config_;
    struct vnm_conf *s;

    if (config->error) {
        return 0;
    }
    if (section[0]
        && (!config->last_header || strcmp(config->last_header, section))) {
        if (!enter_section(config, section)) {
            return 0;
        }
    }
    s = config->current;
    if (!section[0]) {
        config->error = conf_error(config, config->line, key,
                                   "key outside of any section");
        return 0;
    }
    if (!valid_word(key)) {
        config->error = conf_error(config, config->line, key,
                                   "key must match [a-z0-9_.-]+");
        return 0;
    }
    for (size_t i = 0; i < s->n_entries; i++) {
        if (!strcmp(s->entries[i].key, key)) {
            config->error = conf_error(config, config->line, key,
                                       "duplicate key (first on line %d)",
                                       s->entries[i].line);
            return 0;
        }
    }
    if (s->n_entries == s->allocated) {
        s->allocated = s->allocated ? 2 * s->allocated : 8;
        s->entries = xrealloc(s->entries, s->allocated * sizeof *s->entries);
    }
    s->entries[s->n_entries++] = (struct conf_entry) {
        .key = xstrdup(key),
        .value = unquote(value),
        .line = config->line,
    };
    return 1;
}

/* Notes headers of sections that have no keys: inih reports none. */
static char *
scan_empty_sections(struct vnm_config *config, const char *text, FILE *file)
{
    char line[MAX_LINE];
    int lineno = 0;

    for (;;) {
        const char *p;
        char *end;

        if (file) {
            if (!fgets(line, sizeof line, file)) {
                break;
            }
        } else {
            const char *nl;
            size_t n;

            if (!*text) {
                break;
            }
            nl = strchr(text, '\n');
            n = nl ? (size_t) (nl - text) + 1 : strlen(text);
            n = n < sizeof line - 1 ? n : sizeof line - 1;
            memcpy(line, text, n);
            line[n] = '\0';
            text += n;
        }
        lineno++;
        for (p = line; isspace((unsigned char) *p); p++) {
            continue;
        }
        if (*p != '[') {
            continue;
        }
        end = strchr(p, ']');
        if (!end) {
            continue;           /* inih reports it. */
        }
        *end = '\0';
        config->line = lineno;
        if (!config->last_header || strcmp(config->last_header, p + 1)) {
            /* Only headers inih did not enter (no keys) reach here new. */
            char *kind, *name;
            char *error = parse_header(config, lineno, p + 1, &kind, &name);
            struct vnm_conf *s;

            if (error) {
                return error;
            }
            s = find_section(config, kind, name);
            if (s && s->scan_line) {
                error = conf_error(config, lineno, NULL, "[%s]: duplicate "
                                   "section (first on line %d)", p + 1,
                                   s->scan_line);
                free(kind);
                free(name);
                return error;
            } else if (s) {
                /* First header of a section with keys (inih may have
                 * entered it from a later duplicate header). */
                s->line = s->scan_line = lineno;
                free(kind);
                free(name);
            } else {
                s = xzalloc(sizeof *s);
                s->kind = kind;
                s->name = name;
                s->line = s->scan_line = lineno;
                s->config = config;
                config->sections = xrealloc(config->sections,
                                            (config->n_sections + 1)
                                            * sizeof *config->sections);
                config->sections[config->n_sections++] = s;
            }
        }
    }
    return NULL;
}

static char *
parse(struct vnm_config *config, FILE *file, const char *text)
{
    struct reader r = { .file = file, .text = text, .config = config };
    char *error;
    int ret;

#if HAVE_DECL_INI_MAX_LINE
    ini_max_line = MAX_LINE;
    ini_initial_alloc = MAX_LINE;
    ini_use_stack = false;
    ini_allow_realloc = false;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
#endif
    ret = ini_parse_stream(read_line, &r, handle_entry, config);
    if (config->error) {
        return config->error;
    }
    if (ret > 0) {
        return conf_error(config, ret, NULL,
                          "syntax error (expected [section] or key = value)");
    } else if (ret < 0) {
        return conf_error(config, 0, NULL, "out of memory while parsing");
    }

    /* Sections without keys still exist (e.g. [sink "jsonl"] with all
     * defaults): find their headers in a second pass. */
    free(config->last_header);
    config->last_header = NULL;
    if (file) {
        rewind(file);
    }
    error = scan_empty_sections(config, text, file);
    /* Keep file order: sort sections by line. */
    for (size_t i = 1; i < config->n_sections; i++) {
        for (size_t j = i; j > 0 && config->sections[j - 1]->line
                                    > config->sections[j]->line; j--) {
            struct vnm_conf *tmp = config->sections[j];

            config->sections[j] = config->sections[j - 1];
            config->sections[j - 1] = tmp;
        }
    }
    return error;
}

char *
vnm_config_load(const char *file_name, struct vnm_config **configp)
{
    struct vnm_config *config;
    char *error;
    FILE *file;

    *configp = NULL;
    file = fopen(file_name, "re");
    if (!file) {
        return xasprintf("%s: cannot open configuration (%s)", file_name,
                         strerror(errno));
    }
    config = vnm_config_create_empty(file_name);
    error = parse(config, file, NULL);
    fclose(file);
    if (error) {
        config->error = NULL;
        vnm_config_destroy(config);
        return error;
    }
    *configp = config;
    return NULL;
}

char *
vnm_config_parse_string(const char *text, const char *file_name,
                        struct vnm_config **configp)
{
    struct vnm_config *config = vnm_config_create_empty(file_name);
    char *error = parse(config, NULL, text);

    if (error) {
        config->error = NULL;
        vnm_config_destroy(config);
        *configp = NULL;
        return error;
    }
    *configp = config;
    return NULL;
}

struct vnm_config *
vnm_config_create_empty(const char *file_name)
{
    struct vnm_config *config = xzalloc(sizeof *config);

    config->file_name = xstrdup(file_name);
    return config;
}

void
vnm_config_destroy(struct vnm_config *config)
{
    if (!config) {
        return;
    }
    for (size_t i = 0; i < config->n_sections; i++) {
        struct vnm_conf *s = config->sections[i];

        for (size_t j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->kind);
        free(s->name);
        free(s);
    }
    free(config->sections);
    free(config->last_header);
    free(config->error);
    free(config->file_name);
    free(config);
}

const char *
vnm_config_file_name(const struct vnm_config *config)
{
    return config->file_name;
}

struct vnm_conf *
vnm_config_section(const struct vnm_config *config, const char *kind,
                   const char *name)
{
    return find_section(config, kind, name);
}

struct vnm_conf *
vnm_config_next(const struct vnm_config *config, const struct vnm_conf *prev)
{
    size_t i = 0;

    if (prev) {
        while (i < config->n_sections && config->sections[i] != prev) {
            i++;
        }
        i++;
    }
    return i < config->n_sections ? config->sections[i] : NULL;
}

static bool
in_list(const char *s, const char *const *list)
{
    for (; list && *list; list++) {
        if (!strcmp(s, *list)) {
            return true;
        }
    }
    return false;
}

char *
vnm_config_check_sections(const struct vnm_config *config,
                          const char *const *kinds,
                          const char *const *named_kinds)
{
    for (size_t i = 0; i < config->n_sections; i++) {
        const struct vnm_conf *s = config->sections[i];

        if (s->name && !in_list(s->kind, named_kinds)) {
            return conf_error(config, s->line, NULL,
                              in_list(s->kind, kinds)
                              ? "[%s \"%s\"]: this section takes no name"
                              : "[%s \"%s\"]: unknown section",
                              s->kind, s->name);
        } else if (!s->name && !in_list(s->kind, kinds)) {
            return conf_error(config, s->line, NULL,
                              in_list(s->kind, named_kinds)
                              ? "[%s]: this section needs a name, as in "
                                "[%s \"NAME\"]"
                              : "[%s]: unknown section%s", s->kind,
                              in_list(s->kind, named_kinds) ? s->kind : "");
        }
    }
    return NULL;
}

const char *
vnm_conf_kind(const struct vnm_conf *conf)
{
    return conf->kind;
}

const char *
vnm_conf_name(const struct vnm_conf *conf)
{
    return conf->name;
}

int
vnm_conf_line(const struct vnm_conf *conf)
{
    return conf->line;
}

const char *
vnm_conf_file(const struct vnm_conf *conf)
{
    return conf->config->file_name;
}

static struct conf_entry *
lookup(const struct vnm_conf *conf, const char *key)
{
    if (conf) {
        for (size_t i = 0; i < conf->n_entries; i++) {
            if (!strcmp(conf->entries[i].key, key)) {
                conf->entries[i].used = true;
                return &conf->entries[i];
            }
        }
    }
    return NULL;
}

static char *
entry_error(const struct vnm_conf *conf, const struct conf_entry *e,
            const char *format, ...) VNM_PRINTF(3, 4);

static char *
entry_error(const struct vnm_conf *conf, const struct conf_entry *e,
            const char *format, ...)
{
    va_list args;
    char *reason;
    char *error;

    va_start(args, format);
    reason = xvasprintf(format, args);
    va_end(args);
    error = conf_error(conf->config, e->line, e->key, "%s", reason);
    free(reason);
    return error;
}

char *
vnm_conf_get_string(const struct vnm_conf *conf, const char *key,
                    const char *dflt, const char **valuep)
{
    const struct conf_entry *e = lookup(conf, key);

    *valuep = e ? e->value : dflt;
    return NULL;
}

/* Parses a signed decimal integer followed by an optional suffix in
 * 'units', each of 'n_units' with a multiplier.  Returns false if
 * malformed or out of int64_t range. */
struct unit {
    const char *suffix;
    int64_t scale;
};

static bool
parse_scaled(const char *s, const struct unit *units, size_t n_units,
             int64_t *valuep)
{
    char *end;
    long long v;

    errno = 0;
    while (isspace((unsigned char) *s)) {
        s++;
    }
    if (!*s) {
        return false;
    }
    v = strtoll(s, &end, 10);
    if (errno || end == s) {
        return false;
    }
    for (size_t i = 0; i < n_units; i++) {
        if (!strcmp(end, units[i].suffix)) {
            if (v > INT64_MAX / units[i].scale
                || v < INT64_MIN / units[i].scale) {
                return false;
            }
            *valuep = (int64_t) v * units[i].scale;
            return true;
        }
    }
    return false;
}

static char *
get_scaled(const struct vnm_conf *conf, const char *key, int64_t dflt,
           int64_t min, int64_t max, int64_t *valuep,
           const struct unit *units, size_t n_units, const char *what)
{
    const struct conf_entry *e = lookup(conf, key);
    int64_t v;

    if (!e) {
        *valuep = dflt;
        return NULL;
    }
    if (!parse_scaled(e->value, units, n_units, &v)) {
        return entry_error(conf, e, "\"%s\" is not %s", e->value, what);
    }
    if (v < min || v > max) {
        return entry_error(conf, e, "%s is out of range [%"PRId64
                           ", %"PRId64"]", e->value, min, max);
    }
    *valuep = v;
    return NULL;
}

char *
vnm_conf_get_int(const struct vnm_conf *conf, const char *key, int64_t dflt,
                 int64_t min, int64_t max, int64_t *valuep)
{
    static const struct unit units[] = { { "", 1 } };

    return get_scaled(conf, key, dflt, min, max, valuep, units,
                      VNM_ARRAY_SIZE(units), "an integer");
}

char *
vnm_conf_get_duration(const struct vnm_conf *conf, const char *key,
                      int64_t dflt_ms, int64_t min_ms, int64_t max_ms,
                      int64_t *valuep)
{
    static const struct unit units[] = {
        { "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
        { "h", 3600000 }, { "d", 86400000 },
    };
    const struct conf_entry *e = lookup(conf, key);
    int64_t v;

    if (!e) {
        *valuep = dflt_ms;
        return NULL;
    }
    if (!parse_scaled(e->value, units, VNM_ARRAY_SIZE(units), &v)) {
        return entry_error(conf, e, "\"%s\" is not a duration (e.g. 500ms, "
                           "10s, 5m, 2h, 7d)", e->value);
    }
    if (v < min_ms || v > max_ms) {
        return entry_error(conf, e, "%s is out of range [%"PRId64"ms, "
                           "%"PRId64"ms]", e->value, min_ms, max_ms);
    }
    *valuep = v;
    return NULL;
}

char *
vnm_conf_get_size(const struct vnm_conf *conf, const char *key, int64_t dflt,
                  int64_t min, int64_t max, int64_t *valuep)
{
    static const struct unit units[] = {
        { "", 1 }, { "k", 1024 }, { "K", 1024 }, { "M", 1024 * 1024 },
        { "G", 1024 * 1024 * 1024 },
    };

    return get_scaled(conf, key, dflt, min, max, valuep, units,
                      VNM_ARRAY_SIZE(units), "a size (e.g. 4096, 64k, 16M, 2G)");
}

char *
vnm_conf_get_double(const struct vnm_conf *conf, const char *key,
                    double dflt, double min, double max, double *valuep)
{
    const struct conf_entry *e = lookup(conf, key);
    char *end;
    double v;

    if (!e) {
        *valuep = dflt;
        return NULL;
    }
    errno = 0;
    v = strtod(e->value, &end);
    if (errno || end == e->value || *end || !isfinite(v)) {
        return entry_error(conf, e, "\"%s\" is not a number", e->value);
    }
    if (v < min || v > max) {
        return entry_error(conf, e, "%s is out of range [%g, %g]", e->value,
                           min, max);
    }
    *valuep = v;
    return NULL;
}

char *
vnm_conf_get_bool(const struct vnm_conf *conf, const char *key, bool dflt,
                  bool *valuep)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    const struct conf_entry *e = lookup(conf, key);

    if (!e) {
        *valuep = dflt;
        return NULL;
    }
    for (size_t i = 0; i < VNM_ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(e->value, yes[i])) {
            *valuep = true;
            return NULL;
        } else if (!strcasecmp(e->value, no[i])) {
            *valuep = false;
            return NULL;
        }
    }
    return entry_error(conf, e, "\"%s\" is not a boolean (true or false)",
                       e->value);
}

char *
vnm_conf_error(const struct vnm_conf *conf, const char *key,
               const char *format, ...)
{
    int line = conf->line;
    va_list args;
    char *reason;
    char *error;

    for (size_t i = 0; i < conf->n_entries; i++) {
        if (!strcmp(conf->entries[i].key, key)) {
            line = conf->entries[i].line;
        }
    }
    va_start(args, format);
    reason = xvasprintf(format, args);
    va_end(args);
    error = conf_error(conf->config, line, key, "%s", reason);
    free(reason);
    return error;
}

char *
vnm_conf_check_unused(const struct vnm_conf *conf)
{
    if (!conf) {
        return NULL;
    }
    for (size_t i = 0; i < conf->n_entries; i++) {
        const struct conf_entry *e = &conf->entries[i];

        if (!e->used) {
            return (conf->name
                    ? entry_error(conf, e, "unknown key in [%s \"%s\"]",
                                  conf->kind, conf->name)
                    : entry_error(conf, e, "unknown key in [%s]",
                                  conf->kind));
        }
    }
    return NULL;
}

void
vnm_conf_reset_used(struct vnm_conf *conf)
{
    for (size_t i = 0; conf && i < conf->n_entries; i++) {
        conf->entries[i].used = false;
    }
}
