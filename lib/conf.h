/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemons' INI configuration: parsing (with inih), typed getters whose
 * errors name file, line and key, and the check that every key present was
 * asked for by someone (so that a misspelt key is an error, not a silent
 * default).
 *
 * A file holds sections, each "[kind]" or "[kind "name"]":
 *
 *     [analyzer]
 *     host_id = hv1
 *     [detector "vlan-hop"]
 *     max_tags = 1
 *
 * Values may be double-quoted; ';' after whitespace starts a comment.  A key
 * may appear once per section, a section once per file.  A plugin gets its
 * own section only ('struct vnm_conf', opaque in vnmon/conf.h).
 *
 * Every function that can fail returns NULL on success, or a malloc'd
 * message "FILE:LINE: KEY: reason" that the caller frees.
 */
#ifndef VNM_LIB_CONF_H
#define VNM_LIB_CONF_H 1

#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"
#include "vnmon/conf.h"

struct vnm_config;

/* Parses 'file_name' into '*configp' (on success; freed with
 * vnm_config_destroy()). */
char *vnm_config_load(const char *file_name, struct vnm_config **configp)
    VNM_WARN_UNUSED;
/* Same, from the string 'text', reported as 'file_name'. */
char *vnm_config_parse_string(const char *text, const char *file_name,
                              struct vnm_config **configp) VNM_WARN_UNUSED;
/* An empty configuration, for daemons run without a file. */
struct vnm_config *vnm_config_create_empty(const char *file_name);
void vnm_config_destroy(struct vnm_config *);

/* The file name the configuration came from. */
const char *vnm_config_file_name(const struct vnm_config *);

/* The section [kind] (when 'name' is null) or [kind "name"], or null. */
struct vnm_conf *vnm_config_section(const struct vnm_config *,
                                    const char *kind, const char *name);
/* Iterates over sections in file order: pass null to get the first. */
struct vnm_conf *vnm_config_next(const struct vnm_config *,
                                 const struct vnm_conf *prev);

/* Checks that each section's kind is one of the null-terminated 'kinds' and
 * that named sections are exactly those kinds listed in 'named_kinds'.
 * Returns the first offender as "FILE:LINE: [kind]: unknown section". */
char *vnm_config_check_sections(const struct vnm_config *,
                                const char *const *kinds,
                                const char *const *named_kinds)
    VNM_WARN_UNUSED;

/* A section's kind ("detector") and name ("vlan-hop", or null). */
const char *vnm_conf_kind(const struct vnm_conf *);
const char *vnm_conf_name(const struct vnm_conf *);
/* The line of its header. */
int vnm_conf_line(const struct vnm_conf *);
/* The file it came from. */
const char *vnm_conf_file(const struct vnm_conf *);

/* Typed getters.  'conf' may be null (an absent section: every key takes
 * its default).  A present key is marked as used. */
char *vnm_conf_get_string(const struct vnm_conf *conf, const char *key,
                          const char *dflt, const char **valuep)
    VNM_WARN_UNUSED;
char *vnm_conf_get_int(const struct vnm_conf *conf, const char *key,
                       int64_t dflt, int64_t min, int64_t max,
                       int64_t *valuep) VNM_WARN_UNUSED;
char *vnm_conf_get_double(const struct vnm_conf *conf, const char *key,
                          double dflt, double min, double max,
                          double *valuep) VNM_WARN_UNUSED;
char *vnm_conf_get_bool(const struct vnm_conf *conf, const char *key,
                        bool dflt, bool *valuep) VNM_WARN_UNUSED;
/* "1500ms", "10s", "5m", "2h", "7d"; a bare number is in seconds.  In ms. */
char *vnm_conf_get_duration(const struct vnm_conf *conf, const char *key,
                            int64_t dflt_ms, int64_t min_ms, int64_t max_ms,
                            int64_t *valuep) VNM_WARN_UNUSED;
/* "4096", "64k", "16M", "2G" (powers of 1024), in bytes. */
char *vnm_conf_get_size(const struct vnm_conf *conf, const char *key,
                        int64_t dflt, int64_t min, int64_t max,
                        int64_t *valuep) VNM_WARN_UNUSED;

/* Reports the first key of 'conf' that no getter asked for, as
 * "FILE:LINE: KEY: unknown key in [section]". */
char *vnm_conf_check_unused(const struct vnm_conf *conf) VNM_WARN_UNUSED;

/* Returns "FILE:LINE: KEY: reason" for 'key' of 'conf' (its line if present,
 * else the section's), for checks the getters cannot make. */
char *vnm_conf_error(const struct vnm_conf *conf, const char *key,
                     const char *format, ...) VNM_PRINTF(3, 4) VNM_WARN_UNUSED;

/* Forgets which keys were asked for (a plugin that failed init). */
void vnm_conf_reset_used(struct vnm_conf *conf);

#endif /* lib/conf.h */
