/* How tail shows a record: the filters (--min-score, --entity, --lang,
 * --grep, --since on the published time), the pretty output with evidence
 * snippets, format strings (-f) and JSON lines. Pure: a decoded event and
 * the options in, text out; consumer/tail.c reads the records. */
#include "consumer/tail.h"
#include "common/date.h"
#include "common/err.h"
#include "consumer/enriched.h"
#include "consumer/normalize.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Characters of context shown on each side of an evidence match. */
#define SNIPPET_CONTEXT 60

/* ANSI SGR sequences of the pretty output. */
#define C_RESET "\033[0m"
#define C_TIME  "\033[2m"
#define C_LABEL "\033[1;32m"
#define C_TITLE "\033[1m"
#define C_URL   "\033[34m"
#define C_MATCH "\033[1;33;4m"

/* ---- Reading the event ---------------------------------------------- */

static const char *jstr(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* The case-folded (NFKC) form of a text, or a lower-cased copy when it
 * is not valid UTF-8. Caller frees with free(). */
static char *fold(const char *s, size_t len)
{
        char *out = NULL;
        size_t out_len, i;

        if (nt_normalize_text(s, len, &out, &out_len) == NT_OK)
                return out;
        out = malloc(len + 1);
        if (!out)
                return NULL;
        for (i = 0; i < len; i++)
                out[i] =
                    (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
        out[len] = '\0';
        return out;
}

static bool contains_folded(const char *hay, const char *needle_folded)
{
        char *h;
        bool yes;

        if (!hay)
                return false;
        h = fold(hay, strlen(hay));
        yes = h && strstr(h, needle_folded) != NULL;
        free(h);
        return yes;
}

static bool label_followed(const struct nt_tail_opts *o, const char *topic)
{
        size_t i;

        if (o->n_labels == 0)
                return true;
        for (i = 0; i < o->n_labels; i++)
                if (topic && strcmp(o->labels[i], topic) == 0)
                        return true;
        return false;
}

/* The event's time: the article's published time, else the record's;
 * -1 when neither is known. */
static int64_t event_time(const json_t *art, int64_t ts)
{
        const char *pub = jstr(art, "published");
        int64_t when;

        if (pub && nt_date_parse(pub, &when) == NT_OK)
                return when;
        return ts >= 0 ? ts : -1;
}

/* True when the event passes every filter that is set. */
static bool passes(const struct nt_tail_opts *o, const json_t *ev, int64_t ts)
{
        const json_t *art = json_object_get(ev, "article");
        size_t i;

        /* The start found by offsets for times goes by record time, which
         * is when a record was written: a replayed archive is new there.
         * What is shown goes by the time the pretty view shows. */
        if (o->since_ms != INT64_MIN) {
                int64_t when = event_time(art, ts);

                if (when >= 0 && when < o->since_ms)
                        return false;
        }

        if (o->min_score >= 0) {
                const json_t *labels = json_object_get(ev, "labels");
                bool ok = false;

                for (i = 0; i < json_array_size(labels) && !ok; i++) {
                        const json_t *l = json_array_get(labels, i);
                        ok = label_followed(o, jstr(l, "topic")) &&
                             json_number_value(json_object_get(l, "score")) >=
                                 o->min_score;
                }
                if (!ok)
                        return false;
        }
        if (o->lang) {
                const char *lang = jstr(ev, "language");
                size_t n = strlen(o->lang);

                if (!lang || strcasecmp(lang, o->lang) != 0) {
                        /* The feed's language tag, "uk-UA" for "uk". */
                        lang = jstr(art, "language");
                        if (!lang || strncasecmp(lang, o->lang, n) != 0 ||
                            (lang[n] != '\0' && lang[n] != '-' &&
                             lang[n] != '_'))
                                return false;
                }
        }
        if (o->entity) {
                const json_t *ents = json_object_get(ev, "entities");
                char *want = fold(o->entity, strlen(o->entity));
                bool ok = false;

                for (i = 0; want && i < json_array_size(ents) && !ok; i++) {
                        const char *name =
                            jstr(json_array_get(ents, i), "name");
                        char *have = name ? fold(name, strlen(name)) : NULL;
                        ok = have && strcmp(have, want) == 0;
                        free(have);
                }
                free(want);
                if (!ok)
                        return false;
        }
        if (o->grep) {
                char *want = fold(o->grep, strlen(o->grep));
                bool ok =
                    want && (contains_folded(jstr(art, "title"), want) ||
                             contains_folded(jstr(art, "summary"), want) ||
                             contains_folded(jstr(art, "lead"), want));
                free(want);
                if (!ok)
                        return false;
        }
        return true;
}

/* The label whose evidence is shown: on a label record, its own label
 * (the one that carries evidence); else the first followed one. */
static const json_t *shown_label(const struct nt_tail_opts *o, const json_t *ev)
{
        const json_t *labels = json_object_get(ev, "labels");
        const char *own = jstr(ev, "topic");
        const json_t *first = NULL;
        size_t i;

        for (i = 0; i < json_array_size(labels); i++) {
                const json_t *l = json_array_get(labels, i);
                const char *topic = jstr(l, "topic");

                if (!label_followed(o, topic))
                        continue;
                if (own && topic && strcmp(own, topic) == 0)
                        return l;
                if (!first)
                        first = l;
        }
        return first ? first : json_array_get(labels, 0);
}

/* ---- Pretty --------------------------------------------------------- */

static int put(struct nt_buf *b, const char *s)
{
        return nt_buf_append_str(b, s);
}

static int color(struct nt_buf *b, const struct nt_tail_opts *o,
                 const char *sgr)
{
        return o->color ? put(b, sgr) : NT_OK;
}

/* Appends text on one line: control characters become spaces. */
static int put_clean(struct nt_buf *b, const char *s, size_t n)
{
        size_t i;
        int err = NT_OK;

        for (i = 0; i < n && !err; i++) {
                unsigned char c = (unsigned char)s[i];
                err = nt_buf_append_char(b,
                                         c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
        return err;
}

static bool utf8_cont(unsigned char c)
{
        return (c & 0xC0) == 0x80;
}

/* The article field an evidence entry points into. */
static const char *field_text(const json_t *art, const char *field)
{
        if (!field)
                return NULL;
        if (strcmp(field, "title") == 0)
                return jstr(art, "title");
        if (strcmp(field, "lead") == 0)
                /* A label record carries the lead itself, maybe cut. */
                return jstr(art, "summary") ? jstr(art, "summary")
                                            : jstr(art, "lead");
        if (strcmp(field, "body") == 0)
                return jstr(art, "content");
        return NULL;
}

/* Finds the evidence in the article: at its offsets when they fit the
 * text, else (unless `exact`) wherever its text occurs in its field or
 * another one. */
static bool locate_in(const json_t *art, const json_t *evd, bool exact,
                      const char **text, size_t *start, size_t *end)
{
        static const char *const fields[] = {"title", "lead", "body"};
        const char *want = jstr(evd, "text");
        const char *f = field_text(art, jstr(evd, "field"));
        json_int_t s = json_integer_value(json_object_get(evd, "start"));
        json_int_t e = json_integer_value(json_object_get(evd, "end"));
        size_t i, wlen = want ? strlen(want) : 0;

        if (f && s >= 0 && e > s && (size_t)e <= strlen(f) &&
            (!want ||
             ((size_t)(e - s) == wlen && memcmp(f + s, want, wlen) == 0))) {
                *text = f;
                *start = (size_t)s;
                *end = (size_t)e;
                return true;
        }
        if (exact || !want || wlen == 0)
                return false;
        for (i = 0; i < 4; i++) {
                const char *hit;

                f = i == 0 ? field_text(art, jstr(evd, "field"))
                           : field_text(art, fields[i - 1]);
                if (f && (hit = strstr(f, want)) != NULL) {
                        *text = f;
                        *start = (size_t)(hit - f);
                        *end = *start + wlen;
                        return true;
                }
        }
        return false;
}

/* True when the evidence carries the text around it (a label record's,
 * whose article has no body to search). */
static bool has_context(const json_t *evd)
{
        return jstr(evd, "text") && jstr(evd, "before") && jstr(evd, "after");
}

/* As locate_in(); evidence that carries its context is found at its
 * offsets or not at all, so that it shows where it is, not elsewhere. */
static bool locate(const json_t *art, const json_t *evd, const char **text,
                   size_t *start, size_t *end)
{
        return locate_in(art, evd, has_context(evd), text, start, end);
}

/* Characters in s (UTF-8 lead bytes). */
static size_t n_chars(const char *s)
{
        size_t n = 0;

        for (; *s; s++)
                n += !utf8_cont((unsigned char)*s);
        return n;
}

/* The snippet of a label record's evidence, from the text it carries
 * around the match: "…" where the field goes on (before: the match does
 * not start there; after: the context has its full length). */
static int put_context(struct nt_buf *b, const struct nt_tail_opts *o,
                       const json_t *evd)
{
        const char *before = jstr(evd, "before"), *after = jstr(evd, "after");
        const char *want = jstr(evd, "text");
        json_int_t s = json_integer_value(json_object_get(evd, "start"));
        int err;

        err = put(b, s > 0 && (size_t)s > strlen(before) ? "  …" : "  ");
        if (!err)
                err = put_clean(b, before, strlen(before));
        if (!err)
                err = o->color ? put(b, C_MATCH) : put(b, "»");
        if (!err)
                err = put_clean(b, want, strlen(want));
        if (!err)
                err = o->color ? put(b, C_RESET) : put(b, "«");
        if (!err)
                err = put_clean(b, after, strlen(after));
        if (!err && n_chars(after) >= NT_ENRICHED_CONTEXT)
                err = put(b, "…");
        return err ? err : put(b, "\n");
}

static int put_snippet(struct nt_buf *b, const struct nt_tail_opts *o,
                       const json_t *art, const json_t *evd)
{
        const char *text, *want = jstr(evd, "text");
        size_t start, end, a, z, len, k;
        int err = NT_OK;

        if (!locate(art, evd, &text, &start, &end)) {
                if (has_context(evd))
                        return put_context(b, o, evd);
                if (!want)
                        return NT_OK;
                /* Only the matched words are known. */
                err = put(b, "  ");
                if (!err)
                        err = color(b, o, C_MATCH);
                if (!err)
                        err = o->color ? put_clean(b, want, strlen(want))
                                       : nt_buf_printf(b, "»%s«", want);
                if (!err)
                        err = color(b, o, C_RESET);
                return err ? err : put(b, "\n");
        }
        /* The context is counted in characters, so that Cyrillic text
         * gets as much of it as Latin text. */
        len = strlen(text);
        a = start;
        for (k = 0; a > 0 && k < SNIPPET_CONTEXT; k++) {
                a--;
                while (a > 0 && utf8_cont((unsigned char)text[a]))
                        a--;
        }
        z = end;
        for (k = 0; z < len && k < SNIPPET_CONTEXT; k++) {
                z++;
                while (z < len && utf8_cont((unsigned char)text[z]))
                        z++;
        }
        err = put(b, a > 0 ? "  …" : "  ");
        if (!err)
                err = put_clean(b, text + a, start - a);
        if (!err)
                err = o->color ? put(b, C_MATCH) : put(b, "»");
        if (!err)
                err = put_clean(b, text + start, end - start);
        if (!err)
                err = o->color ? put(b, C_RESET) : put(b, "«");
        if (!err)
                err = put_clean(b, text + end, z - end);
        if (!err && z < len)
                err = put(b, "…");
        return err ? err : put(b, "\n");
}

/* True when the evidence lies in `text` (the title, say). */
static bool evidence_in(const json_t *art, const json_t *evd, const char *text)
{
        const char *where;
        size_t start, end;

        return text && evd && locate(art, evd, &where, &start, &end) &&
               where == text;
}

/* The title, with the evidence highlighted when it lies there (then no
 * snippet line repeats it). */
static int put_title(struct nt_buf *b, const struct nt_tail_opts *o,
                     const json_t *art, const json_t *evd, const char *title)
{
        const char *where;
        size_t start, end;
        int err;

        if (!evd || !locate(art, evd, &where, &start, &end) || where != title)
                return put_clean(b, title, strlen(title));
        err = put_clean(b, title, start);
        if (!err)
                err = o->color ? put(b, C_MATCH C_TITLE) : put(b, "»");
        if (!err)
                err = put_clean(b, title + start, end - start);
        if (!err)
                err = o->color ? put(b, C_RESET C_TITLE) : put(b, "«");
        if (!err)
                err = put_clean(b, title + end, strlen(title) - end);
        return err;
}

/* "2026-01-05 10:00Z" from the published time, else the record's. */
static void shown_time(const json_t *art, int64_t ts, char *buf, size_t size)
{
        int64_t when = event_time(art, ts);
        time_t secs;
        struct tm tm;

        if (when < 0) {
                snprintf(buf, size, "%-17s", "-");
                return;
        }
        secs = (time_t)(when / 1000);
        gmtime_r(&secs, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%MZ", &tm);
}

static int render_pretty(const struct nt_tail_opts *o, const json_t *ev,
                         int64_t ts, struct nt_buf *b)
{
        const json_t *art = json_object_get(ev, "article");
        const json_t *labels = json_object_get(ev, "labels");
        const json_t *lab = shown_label(o, ev);
        const json_t *evd = json_array_get(json_object_get(lab, "evidence"), 0);
        const char *title = jstr(art, "title"), *url = jstr(art, "url");
        char when[32];
        size_t i;
        int err;

        shown_time(art, ts, when, sizeof(when));
        err = color(b, o, C_TIME);
        if (!err)
                err = put(b, when);
        if (!err)
                err = color(b, o, C_RESET);
        for (i = 0; !err && i < json_array_size(labels); i++) {
                const json_t *l = json_array_get(labels, i);
                const char *name = jstr(l, "topic");

                err = put(b, i == 0 ? "  " : "  ");
                if (!err)
                        err = color(b, o, C_LABEL);
                if (!err)
                        err = nt_buf_printf(
                            b, "%s %.1f", name ? name : "?",
                            json_number_value(json_object_get(l, "score")));
                if (!err)
                        err = color(b, o, C_RESET);
        }
        if (!err && json_array_size(labels) == 0)
                err = put(b, "  (no label)");
        if (!err)
                err = put(b, "\n  ");
        if (!err)
                err = color(b, o, C_TITLE);
        if (!err)
                err = title ? put_title(b, o, art, evd, title)
                            : put(b, "(untitled)");
        if (!err)
                err = color(b, o, C_RESET);
        if (!err)
                err = put(b, "\n");
        if (!err && url) {
                err = put(b, "  ");
                if (!err)
                        err = color(b, o, C_URL);
                if (!err)
                        err = put_clean(b, url, strlen(url));
                if (!err)
                        err = color(b, o, C_RESET);
                if (!err)
                        err = put(b, "\n");
        }
        if (!err && evd && !evidence_in(art, evd, title))
                err = put_snippet(b, o, art, evd);
        return err ? err : put(b, "\n");
}

/* ---- Format strings ------------------------------------------------- */

static bool field_token(const char *name, size_t len)
{
        static const char *const names[] = {"title", "url", "id", "labels",
                                            "published"};
        size_t i;

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
                        return true;
        return len > 6 && memcmp(name, "score:", 6) == 0;
}

int nt_tail_check_format(const char *format, char *errstr, size_t errstr_size)
{
        const char *p;

        for (p = format; *p; p++) {
                if (*p == '\\') {
                        if (p[1] == 'n' || p[1] == 't' || p[1] == '\\') {
                                p++;
                                continue;
                        }
                        continue; /* a lone backslash is itself */
                }
                if (*p != '%')
                        continue;
                p++;
                if (*p && strchr("tpokTsSh%", *p))
                        continue;
                if (*p == '{') {
                        const char *close = strchr(p, '}');
                        if (close &&
                            field_token(p + 1, (size_t)(close - p - 1))) {
                                p = close;
                                continue;
                        }
                        return nt_errf(errstr, errstr_size, NT_ERR_USAGE,
                                       "format: unknown field \"%%%.*s\" "
                                       "(known: %%{title} %%{url} %%{id} "
                                       "%%{labels} %%{published} "
                                       "%%{score:LABEL})",
                                       close ? (int)(close - p + 1) : 1, p);
                }
                return nt_errf(errstr, errstr_size, NT_ERR_USAGE,
                               "format: unknown token \"%%%c\" (known: %%t "
                               "%%p %%o %%k %%T %%s %%S %%h %%%% and "
                               "%%{...})",
                               *p ? *p : ' ');
        }
        return NT_OK;
}

static int put_field(struct nt_buf *b, const json_t *ev, const char *name,
                     size_t len)
{
        const json_t *art = json_object_get(ev, "article");
        const json_t *labels = json_object_get(ev, "labels");
        const char *s = NULL;
        size_t i;
        int err = NT_OK;

        if (len == 5 && memcmp(name, "title", 5) == 0)
                s = jstr(art, "title");
        else if (len == 3 && memcmp(name, "url", 3) == 0)
                s = jstr(art, "url");
        else if (len == 2 && memcmp(name, "id", 2) == 0)
                s = jstr(art, "id");
        else if (len == 9 && memcmp(name, "published", 9) == 0)
                s = jstr(art, "published");
        if (s)
                return put_clean(b, s, strlen(s));
        if (len == 6 && memcmp(name, "labels", 6) == 0) {
                for (i = 0; i < json_array_size(labels) && !err; i++) {
                        const char *t =
                            jstr(json_array_get(labels, i), "topic");
                        if (i > 0)
                                err = put(b, ",");
                        if (!err && t)
                                err = put(b, t);
                }
                return err;
        }
        if (len > 6 && memcmp(name, "score:", 6) == 0) {
                double score = 0;

                for (i = 0; i < json_array_size(labels); i++) {
                        const json_t *l = json_array_get(labels, i);
                        const char *t = jstr(l, "topic");
                        if (t && strlen(t) == len - 6 &&
                            memcmp(t, name + 6, len - 6) == 0)
                                score = json_number_value(
                                    json_object_get(l, "score"));
                }
                return nt_buf_printf(b, "%g", score);
        }
        return NT_OK;
}

static int render_format(const struct nt_tail_opts *o,
                         const struct nt_tail_record *rec, const json_t *ev,
                         struct nt_buf *b)
{
        const char *p;
        size_t i;
        int err = NT_OK;

        for (p = o->format; *p && !err; p++) {
                if (*p == '\\' &&
                    (p[1] == 'n' || p[1] == 't' || p[1] == '\\')) {
                        p++;
                        err = nt_buf_append_char(b, *p == 'n'   ? '\n'
                                                    : *p == 't' ? '\t'
                                                                : '\\');
                        continue;
                }
                if (*p != '%' || !p[1]) {
                        err = nt_buf_append_char(b, *p);
                        continue;
                }
                p++;
                switch (*p) {
                case 't':
                        err = put(b, rec->topic ? rec->topic : "");
                        break;
                case 'p':
                        err = nt_buf_printf(b, "%d", (int)rec->partition);
                        break;
                case 'o':
                        err = nt_buf_printf(b, "%lld", (long long)rec->offset);
                        break;
                case 'k':
                        if (rec->key)
                                err = nt_buf_append(b, rec->key, rec->key_len);
                        break;
                case 'T':
                        err = nt_buf_printf(b, "%lld",
                                            (long long)rec->timestamp_ms);
                        break;
                case 's':
                        if (rec->value)
                                err = nt_buf_append(b, rec->value,
                                                    rec->value_len);
                        break;
                case 'S':
                        err = nt_buf_printf(b, "%zu", rec->value_len);
                        break;
                case 'h':
                        for (i = 0; i < rec->n_headers && !err; i++)
                                err = nt_buf_printf(b, "%s%s=%s", i ? "," : "",
                                                    rec->headers[2 * i],
                                                    rec->headers[2 * i + 1]);
                        break;
                case '%':
                        err = nt_buf_append_char(b, '%');
                        break;
                case '{': {
                        const char *close = strchr(p, '}');
                        if (!close) {
                                err = nt_buf_append_char(b, '%');
                                p--;
                                break;
                        }
                        err = put_field(b, ev, p + 1, (size_t)(close - p - 1));
                        p = close;
                        break;
                }
                default:
                        err = nt_buf_append_char(b, '%');
                        if (!err)
                                err = nt_buf_append_char(b, *p);
                }
        }
        return err;
}

static bool filters_set(const struct nt_tail_opts *o)
{
        return o->min_score >= 0 || o->entity || o->lang || o->grep;
}

int nt_tail_render(const struct nt_tail_opts *o,
                   const struct nt_tail_record *rec, struct nt_buf *out,
                   const char **why)
{
        json_t *ev = NULL;
        size_t mark = out->len;
        int err = NT_OK, rc = 1;

        if (why)
                *why = NULL;
        if (rec->value && rec->value_len > 0)
                ev = json_loadb(rec->value, rec->value_len, 0, NULL);
        if (!json_is_object(ev) ||
            !json_is_object(json_object_get(ev, "article"))) {
                /* A format string can show any record; the rest need an
                 * enriched event. */
                if (o->output != NT_TAIL_FORMAT || filters_set(o)) {
                        if (why)
                                *why = "not an enriched event (no "
                                       "\"article\" object)";
                        rc = 0;
                        goto out;
                }
        } else if (!passes(o, ev, rec->timestamp_ms)) {
                rc = 0;
                goto out;
        }
        switch (o->output) {
        case NT_TAIL_PRETTY:
                err = render_pretty(o, ev, rec->timestamp_ms, out);
                break;
        case NT_TAIL_JSONL:
                if (memchr(rec->value, '\n', rec->value_len)) {
                        /* One event per line, whatever the producer
                         * wrote. */
                        char *line =
                            json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
                        err = line ? put(out, line) : NT_ERR_NOMEM;
                        free(line);
                } else {
                        err = nt_buf_append(out, rec->value, rec->value_len);
                }
                if (!err)
                        err = nt_buf_append_char(out, '\n');
                break;
        case NT_TAIL_FORMAT:
                err = render_format(o, rec, ev, out);
                break;
        }
out:
        json_decref(ev);
        if (err) {
                /* Leave the buffer as it was. */
                out->len = mark;
                if (out->data)
                        out->data[mark] = '\0';
                return err;
        }
        return rc;
}
