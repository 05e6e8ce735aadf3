/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Plugin loader and the host services table: see loader.h and
 * include/vnmon/plugin.h.
 */
#include <config.h>

#include "lib/loader.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/log.h"

VNM_LOG_MODULE(loader);

_Static_assert(sizeof(struct vnm_plugin) >= VNM_PLUGIN_SIZE_1_0,
               "struct vnm_plugin shrank below ABI 1.0");

struct vnm_loader {
    char *daemon;
    char *host_id;
    char *plugin_dir;
    unsigned kinds;
    vnm_emit_alert_func *emit;
    const struct vnm_net_ops *net; /* Lent to detectors, or null. */
    void *aux;
    struct vnm_plugin_instance **instances;
    size_t n_instances;
};

static const char *const kind_names[] = {
    [VNM_PLUGIN_DETECTOR] = "detector",
    [VNM_PLUGIN_SINK] = "sink",
    [VNM_PLUGIN_ENRICHER] = "enricher",
};

static const char *const kind_prefixes[] = {
    [VNM_PLUGIN_DETECTOR] = "detect",
    [VNM_PLUGIN_SINK] = "sink",
    [VNM_PLUGIN_ENRICHER] = "enrich",
};

const char *
vnm_plugin_kind_name(enum vnm_plugin_kind kind)
{
    return ((unsigned) kind < VNM_ARRAY_SIZE(kind_names) ? kind_names[kind]
            : NULL);
}

enum vnm_plugin_kind
vnm_plugin_kind_from_name(const char *name)
{
    for (size_t i = 0; i < VNM_ARRAY_SIZE(kind_names); i++) {
        if (kind_names[i] && !strcmp(kind_names[i], name)) {
            return (enum vnm_plugin_kind) i;
        }
    }
    return 0;
}

struct vnm_loader *
vnm_loader_create(const char *daemon, const char *host_id,
                  const char *plugin_dir, unsigned kinds,
                  vnm_emit_alert_func *emit, void *aux)
{
    struct vnm_loader *loader = xzalloc(sizeof *loader);
    const char *env = getenv("VNM_PLUGIN_DIR");

    loader->daemon = xstrdup(daemon);
    loader->host_id = xstrdup(host_id);
    loader->plugin_dir = xstrdup(plugin_dir ? plugin_dir
                                 : env && *env ? env : VNM_PKGLIBDIR);
    loader->kinds = kinds;
    loader->emit = emit;
    loader->aux = aux;
    return loader;
}

void
vnm_loader_set_net(struct vnm_loader *loader, const struct vnm_net_ops *net)
{
    loader->net = net;
}

static void
instance_free(struct vnm_plugin_instance *inst)
{
    for (size_t i = 0; i < inst->n_counters; i++) {
        free(inst->counters[i].name);
    }
    free(inst->conf_error);
    free(inst->name);
    free(inst->path);
    free(inst);
}

static void
instance_unload(struct vnm_plugin_instance *inst)
{
    inst->desc->destroy(inst->state);
    VNM_INFO("unloaded %s \"%s\"", vnm_plugin_kind_name(inst->desc->kind),
             inst->name);
    dlclose(inst->dl);
    instance_free(inst);
}

void
vnm_loader_destroy(struct vnm_loader *loader)
{
    if (!loader) {
        return;
    }
    for (size_t i = loader->n_instances; i > 0; i--) {
        instance_unload(loader->instances[i - 1]);
    }
    free(loader->instances);
    free(loader->daemon);
    free(loader->host_id);
    free(loader->plugin_dir);
    free(loader);
}

const char *
vnm_loader_plugin_dir(const struct vnm_loader *loader)
{
    return loader->plugin_dir;
}

size_t
vnm_loader_count(const struct vnm_loader *loader)
{
    return loader->n_instances;
}

struct vnm_plugin_instance *
vnm_loader_get(const struct vnm_loader *loader, size_t i)
{
    return i < loader->n_instances ? loader->instances[i] : NULL;
}

/* Host services. */

static struct vnm_plugin_instance *
instance_of(const struct vnm_host *host)
{
    return host->host_private;
}

static void VNM_PRINTF(3, 4)
host_log(const struct vnm_host *host, enum vnm_log_level level,
         const char *format, ...)
{
    struct vnm_plugin_instance *inst = instance_of(host);
    va_list args;

    if (level != VNM_LOG_ERR && level != VNM_LOG_WARN
        && level != VNM_LOG_INFO && level != VNM_LOG_DBG) {
        level = VNM_LOG_ERR;
    }
    if (inst->log->level >= (int) level) {
        va_start(args, format);
        vnm_log_msg_valist(inst->log, level, format, args);
        va_end(args);
    }
}

/* Logs a getter's error for the plugin and keeps it for the refusal. */
static int
conf_result(const struct vnm_host *host, char *error)
{
    struct vnm_plugin_instance *inst = instance_of(host);

    if (!error) {
        return 0;
    }
    VNM_ERR("%s", error);
    free(inst->conf_error);
    inst->conf_error = error;
    return EINVAL;
}

static int
host_conf_string(const struct vnm_host *host, const struct vnm_conf *conf,
                 const char *key, const char *dflt, const char **valuep)
{
    return conf_result(host, vnm_conf_get_string(conf, key, dflt, valuep));
}

static int
host_conf_int(const struct vnm_host *host, const struct vnm_conf *conf,
              const char *key, int64_t dflt, int64_t min, int64_t max,
              int64_t *valuep)
{
    return conf_result(host, vnm_conf_get_int(conf, key, dflt, min, max,
                                              valuep));
}

static int
host_conf_double(const struct vnm_host *host, const struct vnm_conf *conf,
                 const char *key, double dflt, double min, double max,
                 double *valuep)
{
    return conf_result(host, vnm_conf_get_double(conf, key, dflt, min, max,
                                                 valuep));
}

static int
host_conf_bool(const struct vnm_host *host, const struct vnm_conf *conf,
               const char *key, bool dflt, bool *valuep)
{
    return conf_result(host, vnm_conf_get_bool(conf, key, dflt, valuep));
}

static int
host_conf_duration(const struct vnm_host *host, const struct vnm_conf *conf,
                   const char *key, int64_t dflt_ms, int64_t min_ms,
                   int64_t max_ms, int64_t *valuep)
{
    return conf_result(host, vnm_conf_get_duration(conf, key, dflt_ms,
                                                   min_ms, max_ms, valuep));
}

static uint64_t
host_now_ms(const struct vnm_host *host)
{
    return vnm_time_wall_ms();
}

static uint64_t
host_monotonic_ms(const struct vnm_host *host)
{
    return vnm_time_mono_ms();
}

static int
host_emit_alert(const struct vnm_host *host, const struct vnm_alert *alert)
{
    struct vnm_plugin_instance *inst = instance_of(host);
    struct vnm_loader *loader = inst->loader;

    if (inst->desc->kind != VNM_PLUGIN_DETECTOR || !loader->emit) {
        return EPERM;
    }
    if (!alert || !alert->kind || !alert->key || !alert->summary) {
        static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(5, 5);

        VNM_WARN_RL(&rl, "detector \"%s\" emitted an alert without kind, "
                    "key or summary (dropped)", inst->name);
        return EINVAL;
    }
    return loader->emit(loader->aux, inst, alert);
}

bool
vnm_plugin_counter_name_valid(const char *name)
{
    if (!*name) {
        return false;
    }
    for (; *name; name++) {
        if (!islower((unsigned char) *name) && !isdigit((unsigned char) *name)
            && *name != '_') {
            return false;
        }
    }
    return true;
}

static void
host_count(const struct vnm_host *host, const char *name, uint64_t delta)
{
    struct vnm_plugin_instance *inst = instance_of(host);

    for (size_t i = 0; i < inst->n_counters; i++) {
        if (!strcmp(inst->counters[i].name, name)) {
            inst->counters[i].value += delta;
            return;
        }
    }
    if (inst->n_counters < VNM_PLUGIN_MAX_COUNTERS
        && vnm_plugin_counter_name_valid(name)) {
        inst->counters[inst->n_counters].name = xstrdup(name);
        inst->counters[inst->n_counters++].value = delta;
    }
}

/* Loading. */

static bool
valid_plugin_name(const char *name)
{
    if (!name || !*name || strlen(name) > 63) {
        return false;
    }
    for (; *name; name++) {
        if (!islower((unsigned char) *name) && !isdigit((unsigned char) *name)
            && *name != '-') {
            return false;
        }
    }
    return true;
}

static const struct vnm_plugin_instance *
find_by_plugin_name(const struct vnm_loader *loader, const char *name)
{
    for (size_t i = 0; i < loader->n_instances; i++) {
        if (!strcmp(loader->instances[i]->desc->name, name)) {
            return loader->instances[i];
        }
    }
    return NULL;
}

/* Checks descriptor 'p' of 'path' (opened as 'dl'), loaded for 'kind'.
 * Returns NULL or the reason.  The same file may be loaded as several
 * instances (sections naming it with "plugin"), but two files may not
 * bear the same plugin name. */
static char *
check_descriptor(const struct vnm_loader *loader, const char *path,
                 const void *dl, const struct vnm_plugin *p,
                 enum vnm_plugin_kind kind)
{
    const struct vnm_plugin_instance *other;
    const char *have;

    if (p->abi_major != VNM_PLUGIN_ABI_MAJOR) {
        return xasprintf("%s: plugin ABI %"PRIu32".%"PRIu32" has major "
                         "version %"PRIu32", host ABI is %d.%d: rebuild the "
                         "plugin against this vnmon", path, p->abi_major,
                         p->abi_minor, p->abi_major, VNM_PLUGIN_ABI_MAJOR,
                         VNM_PLUGIN_ABI_MINOR);
    }
    if (p->abi_minor > VNM_PLUGIN_ABI_MINOR) {
        return xasprintf("%s: plugin ABI %"PRIu32".%"PRIu32" is newer than "
                         "host ABI %d.%d: upgrade vnmon or rebuild the "
                         "plugin", path, p->abi_major, p->abi_minor,
                         VNM_PLUGIN_ABI_MAJOR, VNM_PLUGIN_ABI_MINOR);
    }
    if (p->size < VNM_PLUGIN_SIZE_1_0) {
        return xasprintf("%s: descriptor size %"PRIu32" is smaller than ABI "
                         "1.0's %d: corrupt or not built with "
                         "VNM_PLUGIN_DEFINE()", path, p->size,
                         VNM_PLUGIN_SIZE_1_0);
    }
    if (!vnm_plugin_kind_name(p->kind)) {
        return xasprintf("%s: unknown plugin kind %d (this host knows "
                         "detector, sink and enricher)", path, (int) p->kind);
    }
    if (!(loader->kinds & (1u << p->kind))) {
        return xasprintf("%s: %s plugins cannot be loaded by vnmon-%s", path,
                         vnm_plugin_kind_name(p->kind), loader->daemon);
    }
    if (p->kind != kind) {
        return xasprintf("%s: is a %s plugin, configured as a %s", path,
                         vnm_plugin_kind_name(p->kind),
                         vnm_plugin_kind_name(kind));
    }
    if (!valid_plugin_name(p->name)) {
        return xasprintf("%s: invalid plugin name (must match [a-z0-9-]+, "
                         "at most 63 characters)", path);
    }
    if (!p->version || !p->init || !p->destroy) {
        return xasprintf("%s: plugin \"%s\" lacks version, init or destroy",
                         path, p->name);
    }
    have = (p->kind == VNM_PLUGIN_DETECTOR ? (p->detector && p->detector->on_flow
                                              ? "" : "detector->on_flow")
            : p->kind == VNM_PLUGIN_SINK ? (p->sink && p->sink->deliver
                                            ? "" : "sink->deliver")
            : (p->enricher && p->enricher->enrich ? "" : "enricher->enrich"));
    if (*have) {
        return xasprintf("%s: %s plugin \"%s\" has no %s", path,
                         vnm_plugin_kind_name(p->kind), p->name, have);
    }
    other = find_by_plugin_name(loader, p->name);
    if (other && other->dl != dl) {
        return xasprintf("%s: duplicate plugin name \"%s\" (already loaded "
                         "from %s)", path, p->name, other->path);
    }
    return NULL;
}

char *
vnm_loader_load(struct vnm_loader *loader, const char *path, const char *name,
                enum vnm_plugin_kind kind, const struct vnm_conf *conf)
{
    const struct vnm_plugin *p;
    struct vnm_plugin_instance *inst;
    char *error;
    void *dl;
    int retval;

    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        return xasprintf("%s: cannot load (%s)", path, dlerror());
    }
    dlerror();
    p = dlsym(dl, "vnm_plugin");
    if (!p) {
        dlclose(dl);
        return xasprintf("%s: no \"vnm_plugin\" symbol: not a vnmon plugin "
                         "(define it with VNM_PLUGIN_DEFINE())", path);
    }
    error = check_descriptor(loader, path, dl, p, kind);
    if (error) {
        dlclose(dl);
        return error;
    }

    inst = xzalloc(sizeof *inst);
    inst->name = xstrdup(name);
    inst->path = xstrdup(path);
    inst->dl = dl;
    inst->desc = p;
    inst->conf = conf;
    inst->loader = loader;
    inst->log = vnm_log_module_get(name);
    inst->host = (struct vnm_host) {
        .size = sizeof inst->host,
        .abi_minor = VNM_PLUGIN_ABI_MINOR,
        .daemon = loader->daemon,
        .host_id = loader->host_id,
        .plugin_name = inst->name,
        .log = host_log,
        .conf_string = host_conf_string,
        .conf_int = host_conf_int,
        .conf_double = host_conf_double,
        .conf_bool = host_conf_bool,
        .conf_duration = host_conf_duration,
        .now_ms = host_now_ms,
        .monotonic_ms = host_monotonic_ms,
        .emit_alert = host_emit_alert,
        .count = host_count,
        .host_private = inst,
        .net = kind == VNM_PLUGIN_DETECTOR ? loader->net : NULL,
    };

    retval = p->init(&inst->host, conf, &inst->state);
    if (retval) {
        error = (inst->conf_error
                 ? xasprintf("%s: init of %s \"%s\" failed: %s", path,
                             vnm_plugin_kind_name(kind), name,
                             inst->conf_error)
                 : xasprintf("%s: init of %s \"%s\" failed (%s)", path,
                             vnm_plugin_kind_name(kind), name,
                             retval > 0 ? strerror(retval)
                             : "invalid return value"));
        dlclose(dl);
        instance_free(inst);
        return error;
    }
    error = vnm_conf_check_unused(conf);
    if (error) {
        char *full = xasprintf("%s: %s", path, error);

        free(error);
        p->destroy(inst->state);
        dlclose(dl);
        instance_free(inst);
        return full;
    }

    loader->instances = xrealloc(loader->instances,
                                 (loader->n_instances + 1)
                                 * sizeof *loader->instances);
    loader->instances[loader->n_instances++] = inst;
    VNM_INFO("loaded %s \"%s\" %s (ABI %"PRIu32".%"PRIu32") from %s%s%s%s",
             vnm_plugin_kind_name(kind), p->name, p->version, p->abi_major,
             p->abi_minor, path, strcmp(name, p->name) ? " as \"" : "",
             strcmp(name, p->name) ? name : "",
             strcmp(name, p->name) ? "\"" : "");
    return NULL;
}

char *
vnm_loader_load_section(struct vnm_loader *loader,
                        const struct vnm_conf *conf)
{
    enum vnm_plugin_kind kind = vnm_plugin_kind_from_name(vnm_conf_kind(conf));
    const char *name = vnm_conf_name(conf);
    const char *file;
    char *path;
    char *error;

    if (!kind || !name) {
        return xasprintf("%s:%d: [%s]: not a plugin section",
                         vnm_conf_file(conf), vnm_conf_line(conf),
                         vnm_conf_kind(conf));
    }
    error = vnm_conf_get_string(conf, "plugin", NULL, &file);
    if (error) {
        return error;
    }
    if (!file) {
        path = xasprintf("%s/%s-%s.so", loader->plugin_dir,
                         kind_prefixes[kind], name);
    } else if (file[0] == '/') {
        path = xstrdup(file);
    } else {
        path = xasprintf("%s/%s", loader->plugin_dir, file);
    }
    error = vnm_loader_load(loader, path, name, kind, conf);
    free(path);
    return error;
}

char *
vnm_loader_load_config(struct vnm_loader *loader,
                       const struct vnm_config *config)
{
    const struct vnm_conf *s;

    for (s = vnm_config_next(config, NULL); s;
         s = vnm_config_next(config, s)) {
        enum vnm_plugin_kind kind
            = vnm_plugin_kind_from_name(vnm_conf_kind(s));

        if (kind && (loader->kinds & (1u << kind))) {
            char *error = vnm_loader_load_section(loader, s);

            if (error) {
                return error;
            }
        }
    }
    return NULL;
}
