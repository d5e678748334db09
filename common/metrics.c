#include "common/metrics.h"
#include "common/err.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nt_metrics {
        json_t *series; /* "name{labels}" -> real */
        json_t *meta;   /* name -> [type, help] */
        json_t *hists;  /* name -> {"b": bounds, "c": cumulative counts,
                           "n": count, "s": sum} */
        size_t max_series;
};

nt_metrics_t *nt_metrics_new(size_t max_series)
{
        nt_metrics_t *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        m->series = json_object();
        m->meta = json_object();
        m->hists = json_object();
        m->max_series = max_series;
        if (!m->series || !m->meta || !m->hists) {
                nt_metrics_destroy(m);
                return NULL;
        }
        return m;
}

void nt_metrics_destroy(nt_metrics_t *m)
{
        if (!m)
                return;
        json_decref(m->series);
        json_decref(m->meta);
        json_decref(m->hists);
        free(m);
}

int nt_metrics_describe(nt_metrics_t *m, const char *name, const char *type,
                        const char *help)
{
        return json_object_set_new(m->meta, name, json_pack("[ss]", type, help))
                   ? NT_ERR_NOMEM
                   : NT_OK;
}

int nt_metrics_describe_all(nt_metrics_t *m, const struct nt_metric_desc *descs,
                            size_t n)
{
        size_t i;
        int err = NT_OK;

        for (i = 0; i < n && err == NT_OK; i++)
                err = nt_metrics_describe(m, descs[i].name, descs[i].type,
                                          descs[i].help);
        return err;
}

/* Label values escaped as the exposition format wants: backslash, quote
 * and newline. */
static int append_escaped(struct nt_buf *b, const char *s)
{
        int err = NT_OK;

        for (; *s && !err; s++) {
                if (*s == '\\')
                        err = nt_buf_append_str(b, "\\\\");
                else if (*s == '"')
                        err = nt_buf_append_str(b, "\\\"");
                else if (*s == '\n')
                        err = nt_buf_append_str(b, "\\n");
                else
                        err = nt_buf_append_char(b, *s);
        }
        return err;
}

static int series_key(struct nt_buf *b, const char *name, va_list ap)
{
        const char *k, *v;
        int first = 1, err;

        err = nt_buf_append_str(b, name);
        while (!err && (k = va_arg(ap, const char *)) != NULL) {
                v = va_arg(ap, const char *);
                err = nt_buf_append_str(b, first ? "{" : ",");
                if (!err)
                        err = nt_buf_printf(b, "%s=\"", k);
                if (!err)
                        err = append_escaped(b, v ? v : "");
                if (!err)
                        err = nt_buf_append_char(b, '"');
                first = 0;
        }
        if (!err && !first)
                err = nt_buf_append_char(b, '}');
        return err;
}

static int update(nt_metrics_t *m, const char *name, double value, int add,
                  va_list ap)
{
        struct nt_buf key;
        json_t *cur;
        int err;

        nt_buf_init(&key, 4096);
        err = series_key(&key, name, ap);
        if (err)
                goto out;
        cur = json_object_get(m->series, nt_buf_str(&key));
        if (!cur && json_object_size(m->series) >= m->max_series) {
                err = NT_ERR_LIMIT;
                goto out;
        }
        if (add && cur)
                value += json_real_value(cur);
        if (json_object_set_new(m->series, nt_buf_str(&key),
                                json_real(value)) != 0)
                err = NT_ERR_NOMEM;
out:
        nt_buf_free(&key);
        return err;
}

int nt_metrics_add(nt_metrics_t *m, const char *name, double delta, ...)
{
        va_list ap;
        int err;

        va_start(ap, delta);
        err = update(m, name, delta, 1, ap);
        va_end(ap);
        return err;
}

int nt_metrics_set(nt_metrics_t *m, const char *name, double value, ...)
{
        va_list ap;
        int err;

        va_start(ap, value);
        err = update(m, name, value, 0, ap);
        va_end(ap);
        return err;
}

int nt_metrics_histogram(nt_metrics_t *m, const char *name,
                         const double *bounds, const uint64_t *cumulative,
                         size_t n, uint64_t count, double sum)
{
        json_t *b = json_array(), *c = json_array(), *h;
        size_t i;

        for (i = 0; b && c && i < n; i++) {
                json_array_append_new(b, json_real(bounds[i]));
                json_array_append_new(c, json_real((double)cumulative[i]));
        }
        h = json_pack("{s:o?, s:o?, s:f, s:f}", "b", b, "c", c, "n",
                      (double)count, "s", sum);
        if (!h || json_array_size(json_object_get(h, "b")) != n ||
            json_array_size(json_object_get(h, "c")) != n) {
                json_decref(h);
                return NT_ERR_NOMEM;
        }
        return json_object_set_new(m->hists, name, h) ? NT_ERR_NOMEM : NT_OK;
}

/* The histograms, each family together: buckets in bound order, +Inf,
 * sum, count. */
static int write_histograms(const nt_metrics_t *m, struct nt_buf *out)
{
        const char *name;
        json_t *h, *meta;
        int err = NT_OK;

        json_object_foreach(m->hists, name, h)
        {
                json_t *b = json_object_get(h, "b"),
                       *c = json_object_get(h, "c");
                double count = json_real_value(json_object_get(h, "n"));
                size_t i;

                meta = json_object_get(m->meta, name);
                if (meta)
                        err = nt_buf_printf(
                            out, "# HELP %s %s\n# TYPE %s histogram\n", name,
                            json_string_value(json_array_get(meta, 1)), name);
                for (i = 0; !err && i < json_array_size(b); i++)
                        err = nt_buf_printf(
                            out, "%s_bucket{le=\"%g\"} %.17g\n", name,
                            json_real_value(json_array_get(b, i)),
                            json_real_value(json_array_get(c, i)));
                if (!err)
                        err = nt_buf_printf(
                            out,
                            "%s_bucket{le=\"+Inf\"} %.17g\n"
                            "%s_sum %.17g\n%s_count %.17g\n",
                            name, count, name,
                            json_real_value(json_object_get(h, "s")), name,
                            count);
                if (err)
                        break;
        }
        return err;
}

double nt_metrics_get(const nt_metrics_t *m, const char *name, ...)
{
        struct nt_buf key;
        va_list ap;
        double v = 0;

        nt_buf_init(&key, 4096);
        va_start(ap, name);
        if (series_key(&key, name, ap) == NT_OK)
                v = json_real_value(
                    json_object_get(m->series, nt_buf_str(&key)));
        va_end(ap);
        nt_buf_free(&key);
        return v;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int nt_metrics_write(const nt_metrics_t *m, struct nt_buf *out)
{
        size_t n = json_object_size(m->series), i = 0;
        const char **keys, *key, *last_name = NULL;
        size_t last_len = 0;
        json_t *v;
        int err = NT_OK;

        if (n == 0)
                return write_histograms(m, out);
        keys = calloc(n, sizeof(*keys));
        if (!keys)
                return NT_ERR_NOMEM;
        json_object_foreach(m->series, key, v) keys[i++] = key;
        /* Sorted, so that the series of one metric are together under one
         * HELP and TYPE, as the format requires. */
        qsort(keys, n, sizeof(*keys), by_name);
        for (i = 0; i < n && !err; i++) {
                size_t len = strcspn(keys[i], "{");
                char name[256];
                json_t *meta;

                if (!last_name || len != last_len ||
                    strncmp(keys[i], last_name, len) != 0) {
                        snprintf(name, sizeof(name), "%.*s", (int)len, keys[i]);
                        meta = json_object_get(m->meta, name);
                        if (meta)
                                err = nt_buf_printf(
                                    out, "# HELP %s %s\n# TYPE %s %s\n", name,
                                    json_string_value(json_array_get(meta, 1)),
                                    name,
                                    json_string_value(json_array_get(meta, 0)));
                        last_name = keys[i];
                        last_len = len;
                }
                if (!err)
                        err = nt_buf_printf(out, "%s %.17g\n", keys[i],
                                            json_real_value(json_object_get(
                                                m->series, keys[i])));
        }
        free(keys);
        return err ? err : write_histograms(m, out);
}
