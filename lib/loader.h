/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin loader: finds, checks, initialises and unloads the plugins a
 * daemon's configuration names, and provides each with its 'struct
 * vnm_host' services table.
 *
 * A section [detector "NAME"], [sink "NAME"] or [enricher "NAME"] loads
 * PLUGIN_DIR/detect-NAME.so, sink-NAME.so or enrich-NAME.so, or the file its
 * key "plugin" names (a relative path is taken from PLUGIN_DIR).  The plugin
 * directory is the configured one, else $VNM_PLUGIN_DIR, else the install
 * directory.  One file may be loaded by several sections, as instances with
 * their own state and configuration ([sink "ops-hook"] and [sink
 * "tenant1-hook"], both with plugin = sink-webhook.so); two different files
 * may not bear the same plugin name.
 *
 * A refused plugin gives one line naming the file and the reason; daemons
 * treat it as a startup error.  Not thread-safe: one loader per daemon, used
 * from its main thread.
 */
#ifndef VNM_LOADER_H
#define VNM_LOADER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "vnmon/plugin.h"

struct vnm_conf;
struct vnm_config;
struct vnm_log_module;

#define VNM_PLUGIN_MAX_COUNTERS 32

/* A counter kept for a plugin with host->count(). */
struct vnm_plugin_counter {
    char *name;
    uint64_t value;
};

/* One loaded and initialised plugin. */
struct vnm_plugin_instance {
    char *name;                 /* Section name (the instance's name). */
    char *path;                 /* File it was loaded from. */
    void *dl;                   /* dlopen() handle. */
    const struct vnm_plugin *desc; /* Its descriptor, in the plugin. */
    void *state;                /* What init() returned. */
    struct vnm_host host;       /* Services lent to it. */
    const struct vnm_conf *conf; /* Its section (may be null). */
    struct vnm_log_module *log; /* Its logging module. */
    struct vnm_loader *loader;  /* Owner. */
    char *conf_error;           /* Last getter error, for the refusal. */
    struct vnm_plugin_counter counters[VNM_PLUGIN_MAX_COUNTERS];
    size_t n_counters;
};

/* Called for host->emit_alert() of a detector: 'inst' is the detector. */
typedef int vnm_emit_alert_func(void *aux, struct vnm_plugin_instance *inst,
                                const struct vnm_alert *alert);

/* Creates a loader for daemon 'daemon' ("agent", "analyzer") on host
 * 'host_id', loading from 'plugin_dir' (null: $VNM_PLUGIN_DIR or the
 * install directory).  Only kinds in 'kinds' (a bit per enum
 * vnm_plugin_kind, 1u << kind) may be loaded.  'emit' and 'aux' back
 * host->emit_alert(); 'emit' may be null. */
struct vnm_loader *vnm_loader_create(const char *daemon, const char *host_id,
                                     const char *plugin_dir, unsigned kinds,
                                     vnm_emit_alert_func *emit, void *aux);
/* Lends 'net' (static storage, or null) as host->net to the detectors
 * loaded after this call. */
void vnm_loader_set_net(struct vnm_loader *, const struct vnm_net_ops *net);

/* Destroys every instance (destroy(), then dlclose(), in reverse load
 * order) and the loader.  Accepts null. */
void vnm_loader_destroy(struct vnm_loader *);

/* The plugin directory in use. */
const char *vnm_loader_plugin_dir(const struct vnm_loader *);

/* Loads and initialises the plugin of section 'conf' (which must be a
 * [KIND "NAME"] section of a known kind).  Returns NULL, or a malloc'd
 * one-line reason that names the file. */
char *vnm_loader_load_section(struct vnm_loader *, const struct vnm_conf *conf)
    VNM_WARN_UNUSED;

/* Loads the plugin file 'path' as instance 'name' of kind 'kind', with
 * section 'conf' (may be null).  Returns NULL or a malloc'd reason. */
char *vnm_loader_load(struct vnm_loader *, const char *path, const char *name,
                      enum vnm_plugin_kind kind, const struct vnm_conf *conf)
    VNM_WARN_UNUSED;

/* Loads every plugin section of 'config' whose kind this loader takes, in
 * file order.  Stops at the first failure and returns its reason. */
char *vnm_loader_load_config(struct vnm_loader *,
                             const struct vnm_config *config)
    VNM_WARN_UNUSED;

/* Number of loaded instances, and the 'i'th in load order. */
size_t vnm_loader_count(const struct vnm_loader *);
struct vnm_plugin_instance *vnm_loader_get(const struct vnm_loader *,
                                           size_t i);

/* True if 'name' is a valid plugin counter name, [a-z0-9_]+. */
bool vnm_plugin_counter_name_valid(const char *name);

/* "detector", "sink", "enricher", or null for an unknown kind. */
const char *vnm_plugin_kind_name(enum vnm_plugin_kind);
/* The kind for a section kind name, or 0. */
enum vnm_plugin_kind vnm_plugin_kind_from_name(const char *);

#endif /* loader.h */
