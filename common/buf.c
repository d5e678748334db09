#include "common/buf.h"
#include "common/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nt_buf_init(struct nt_buf *b, size_t max)
{
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        b->max = max;
}

void nt_buf_free(struct nt_buf *b)
{
        if (!b)
                return;
        free(b->data);
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
}

void nt_buf_reset(struct nt_buf *b)
{
        b->len = 0;
        if (b->data)
                b->data[0] = '\0';
}

int nt_buf_reserve(struct nt_buf *b, size_t extra)
{
        size_t need, cap;
        char *p;

        if (extra > b->max || b->len > b->max - extra)
                return NT_ERR_LIMIT;
        need = b->len + extra + 1;
        if (need <= b->cap)
                return NT_OK;
        cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        /* Never allocate much beyond what the maximum allows. */
        if (cap > b->max + 1)
                cap = b->max + 1;
        p = realloc(b->data, cap);
        if (!p)
                return NT_ERR_NOMEM;
        b->data = p;
        b->cap = cap;
        return NT_OK;
}

int nt_buf_append(struct nt_buf *b, const void *p, size_t n)
{
        int err = nt_buf_reserve(b, n);

        if (err)
                return err;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return NT_OK;
}

int nt_buf_append_str(struct nt_buf *b, const char *s)
{
        return nt_buf_append(b, s, strlen(s));
}

int nt_buf_append_char(struct nt_buf *b, char c)
{
        return nt_buf_append(b, &c, 1);
}

int nt_buf_vprintf(struct nt_buf *b, const char *fmt, va_list ap)
{
        va_list ap2;
        int n, err;

        va_copy(ap2, ap);
        n = vsnprintf(NULL, 0, fmt, ap2);
        va_end(ap2);
        if (n < 0)
                return NT_ERR_INVALID;
        err = nt_buf_reserve(b, (size_t)n);
        if (err)
                return err;
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return NT_OK;
}

int nt_buf_printf(struct nt_buf *b, const char *fmt, ...)
{
        va_list ap;
        int err;

        va_start(ap, fmt);
        err = nt_buf_vprintf(b, fmt, ap);
        va_end(ap);
        return err;
}

const char *nt_buf_str(const struct nt_buf *b)
{
        return b->data ? b->data : "";
}

char *nt_buf_detach(struct nt_buf *b)
{
        char *p = b->data;

        if (!p)
                p = calloc(1, 1);
        b->data = NULL;
        b->len = 0;
        b->cap = 0;
        return p;
}

char *nt_strdup_n(const char *s, size_t n)
{
        char *d = malloc(n + 1);

        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

int nt_array_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
        void **p = pp;
        size_t c = *cap ? *cap : 16;
        void *q;

        if (need <= *cap)
                return NT_OK;
        while (c < need) {
                if (c > SIZE_MAX / 2)
                        return NT_ERR_NOMEM;
                c *= 2;
        }
        if (elem && c > SIZE_MAX / elem)
                return NT_ERR_NOMEM;
        q = realloc(*p, c * elem);
        if (!q)
                return NT_ERR_NOMEM;
        *p = q;
        *cap = c;
        return NT_OK;
}

const char *nt_name_of(const char *const *names, size_t n, long value,
                       const char *fallback)
{
        if (value < 0 || (unsigned long)value >= n || !names[value])
                return fallback;
        return names[value];
}

long nt_name_find(const char *const *names, size_t n, const char *name)
{
        size_t i;

        for (i = 0; name && i < n; i++)
                if (names[i] && strcmp(names[i], name) == 0)
                        return (long)i;
        return -1;
}
