/* The archive formats replay reads: a feed document (RSS, Atom, JSON
 * Feed) by the feed parser, JSON lines of articles, WARC crawls (feed
 * responses, and with --pages the article pages, through the main-text
 * extraction), plain or gzip'd, sniffed from their first bytes. */
#include "producer/replay_internal.h"
#include "common/json_in.h"

/* ---- Formats -------------------------------------------------------- */

static int64_t mtime_ms(const char *path)
{
        struct stat st;

        if (stat(path, &st) != 0)
                return NT_FEED_NO_DATE;
        return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* A limit cut the feed: one error per limit (so the run exits 1), with
 * the parser's words for the first cut, which say where. What was kept
 * is still published. */
static void report_cuts(nt_replay_t *r, const struct nt_feed *feed,
                        const char *path, const char *where)
{
        char what[1024];
        unsigned bit;

        for (bit = 1; bit & NT_FEED_CUT_ALL; bit <<= 1)
                if (feed->cuts & bit)
                        nt_rp_report(r, path, "%s%s%s", where,
                                     *where ? ": " : "",
                                     nt_feed_cut_describe(feed, bit, what,
                                                          sizeof(what)));
}

/* The articles of a parsed feed, as the producer makes them. */
static int emit_feed(nt_replay_t *r, const struct nt_feed *feed,
                     const char *feed_url, int64_t fetched, const char *path,
                     const char *where)
{
        char errstr[512];
        size_t i;
        int err = NT_OK;

        if (!feed->wellformed && feed->n_errors > 0)
                NT_WARN("replay",
                        "%s%s%s: recovered an ill-formed feed (line "
                        "%lu: %s)",
                        path, *where ? ": " : "", where, feed->errors[0].line,
                        feed->errors[0].message);
        report_cuts(r, feed, path, where);
        for (i = 0; i < feed->n_entries && !err && !nt_rp_stopping(r); i++) {
                struct nt_article art;

                nt_article_init(&art);
                err = nt_article_from_entry(feed, &feed->entries[i], feed_url,
                                            fetched, &art, errstr,
                                            sizeof(errstr));
                if (err == NT_OK)
                        err = nt_rp_emit(r, &art, feed_url);
                nt_article_free(&art);
        }
        return err;
}

static bool contains_ci(const char *s, const char *word)
{
        size_t n = strlen(word);

        for (; *s; s++)
                if (strncasecmp(s, word, n) == 0)
                        return true;
        return false;
}

/* Content types that say "feed": *xml, rss, atom, *json. */
static bool feedish_type(const char *ct)
{
        return ct && (contains_ci(ct, "xml") || contains_ci(ct, "rss") ||
                      contains_ci(ct, "atom") || contains_ci(ct, "json"));
}

/* "record 3 at byte 1234" or "record 3 (gzip member at byte 1234)". */
static void record_where(const nt_warc_t *w, const struct nt_warc_record *rec,
                         char *buf, size_t size)
{
        if (nt_warc_is_gzip(w))
                snprintf(buf, size, "record %lu (gzip member at byte %llu)",
                         rec->number, (unsigned long long)rec->offset);
        else
                snprintf(buf, size, "record %lu at byte %llu", rec->number,
                         (unsigned long long)rec->offset);
}

/* ---- replay --pages: article pages in a WARC ------------------------ */

static bool htmlish_type(const char *ct)
{
        return ct && (strncasecmp(ct, "text/html", 9) == 0 ||
                      strncasecmp(ct, "application/xhtml+xml", 21) == 0);
}

/* Plain text as HTML the article model reads back to the same text: each
 * paragraph in <p>, &, < and > escaped. NULL for NULL. */
static char *text_as_html(const char *text, bool *oom)
{
        struct nt_buf b;
        const char *p;
        char *out = NULL;
        int err = NT_OK;

        if (!text || *oom)
                return NULL;
        /* At most 5 bytes ("&amp;") for each, and the tags. */
        nt_buf_init(&b, 5 * strlen(text) + 16);
        err = nt_buf_append_str(&b, "<p>");
        for (p = text; *p && !err; p++) {
                if (*p == '&')
                        err = nt_buf_append_str(&b, "&amp;");
                else if (*p == '<')
                        err = nt_buf_append_str(&b, "&lt;");
                else if (*p == '>')
                        err = nt_buf_append_str(&b, "&gt;");
                else if (p[0] == '\n' && p[1] == '\n')
                        err = nt_buf_append_str(&b, "</p><p>");
                else
                        err = nt_buf_append_char(&b, *p);
                if (p[0] == '\n' && p[1] == '\n')
                        p++;
        }
        if (!err)
                err = nt_buf_append_str(&b, "</p>");
        if (!err)
                out = nt_buf_detach(&b);
        if (!out)
                *oom = true;
        nt_buf_free(&b);
        return out;
}

/* An HTML response under --pages: its main text published as an article
 * of its own, built through the feed-entry path so that id and revision
 * follow the article model's rules (the id from the canonical form of
 * the WARC-Target-URI). Published: the page's date (JSON-LD, meta), else
 * the WARC-Date. */
static int warc_page(nt_replay_t *r, const struct nt_warc_record *rec,
                     const struct nt_warc_http *h, int64_t fetched)
{
        struct nt_extract_page pg;
        struct nt_feed feed;
        struct nt_feed_entry entry;
        struct nt_feed_person author;
        struct nt_article art;
        char charset[64], errstr[256];
        const char *cs = NULL;
        bool oom = false;
        int err;

        nt_extract_page_init(&pg);
        nt_feed_init(&feed);
        nt_article_init(&art);
        memset(&entry, 0, sizeof(entry));
        if (h->content_type &&
            nt_charset_from_content_type(h->content_type, charset,
                                         sizeof(charset)) == NT_OK)
                cs = charset;
        err = nt_extract(h->body, h->body_len, cs, rec->target_uri, NULL, &pg);
        if (err)
                goto out;
        if (pg.method == NT_EXTRACT_NONE) {
                r->st.pages_no_text++;
                goto out;
        }
        feed.limits = r->flim;
        feed.title = pg.site_name;
        entry.link = (char *)rec->target_uri;
        entry.title = pg.title;
        entry.summary = text_as_html(pg.description, &oom);
        entry.content = text_as_html(pg.text, &oom);
        entry.language = pg.language;
        entry.published = pg.published != INT64_MIN ? pg.published : fetched;
        entry.updated = pg.modified;
        if (pg.author) {
                memset(&author, 0, sizeof(author));
                author.name = pg.author;
                entry.authors = &author;
                entry.n_authors = 1;
        }
        if (oom) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        err = nt_article_from_entry(&feed, &entry, NULL, fetched, &art, errstr,
                                    sizeof(errstr));
        if (err)
                goto out;
        r->st.pages++;
        art.content_source = NT_ARTICLE_SOURCE_PAGE;
        err = nt_rp_emit(r, &art, NULL);
out:
        /* The feed and the entry only borrowed the page's strings. */
        feed.title = NULL;
        nt_feed_free(&feed);
        free(entry.summary);
        free(entry.content);
        nt_article_free(&art);
        nt_extract_page_free(&pg);
        return err;
}

static int warc_response(nt_replay_t *r, const char *path, nt_warc_t *w,
                         const struct nt_warc_record *rec, int64_t file_mtime)
{
        struct nt_warc_http h;
        struct nt_feed feed;
        char errstr[512], where[128];
        const char *base;
        int64_t fetched = file_mtime;
        int err;

        record_where(w, rec, where, sizeof(where));
        nt_warc_http_init(&h);
        nt_feed_init(&feed);
        err =
            nt_warc_http_parse(rec->block, rec->block_len, r->flim.max_document,
                               &h, errstr, sizeof(errstr));
        if (err == NT_ERR_NOMEM)
                goto out;
        if (err) {
                nt_rp_report(r, path, "%s: bad HTTP response: %s", where,
                             errstr);
                err = NT_OK;
                goto out;
        }
        if (h.status < 200 || h.status > 299 || !rec->target_uri) {
                r->st.not_feeds++;
                goto out;
        }
        if (rec->date && nt_date_parse(rec->date, &fetched) != NT_OK)
                fetched = file_mtime;
        if (r->o.pages && htmlish_type(h.content_type)) {
                err = warc_page(r, rec, &h, fetched);
                goto out;
        }
        base = h.content_location ? h.content_location : rec->target_uri;
        err = nt_feed_parse(h.body, h.body_len, h.content_type, base, &r->flim,
                            &feed, errstr, sizeof(errstr));
        if (err == NT_ERR_NOMEM)
                goto out;
        if (err) {
                /* A crawl holds pages besides feeds: only what claims to
                 * be a feed and is not one is an error. */
                if (feedish_type(h.content_type))
                        nt_rp_report(r, path,
                                     "%s (%s): not a readable feed: %s", where,
                                     rec->target_uri, errstr);
                else
                        r->st.not_feeds++;
                err = NT_OK;
                goto out;
        }
        err = emit_feed(r, &feed, rec->target_uri, fetched, path, where);
out:
        nt_feed_free(&feed);
        nt_warc_http_free(&h);
        return err;
}

static int replay_warc(nt_replay_t *r, const char *path, FILE *f)
{
        struct nt_warc_record rec;
        char errstr[512];
        int64_t file_mtime = mtime_ms(path);
        nt_warc_t *w;
        int err = NT_OK;

        w = nt_warc_open(f, &r->wlim, errstr, sizeof(errstr));
        if (!w)
                return NT_ERR_NOMEM;
        nt_warc_record_init(&rec);
        while (!nt_rp_stopping(r)) {
                int rc = nt_warc_next(w, &rec, errstr, sizeof(errstr));

                r->st.bytes_done = r->file_base + nt_warc_bytes_read(w);
                nt_rp_progress(r, false);
                if (rc == NT_ERR_NOTFOUND)
                        break;
                if (rc == NT_ERR_NOMEM) {
                        err = rc;
                        break;
                }
                r->st.records++;
                if (rc == NT_ERR_PARSE) {
                        nt_rp_report(r, path, "%s; skipped", errstr);
                        continue;
                }
                if (rc != NT_OK) {
                        nt_rp_report(r, path,
                                     "%s; the rest of the file is skipped",
                                     errstr);
                        break;
                }
                if (!rec.type || strcasecmp(rec.type, "response") != 0 ||
                    !rec.content_type ||
                    strncasecmp(rec.content_type, "application/http", 16) != 0)
                        continue;
                err = warc_response(r, path, w, &rec, file_mtime);
                if (err)
                        break;
        }
        nt_warc_record_free(&rec);
        nt_warc_close(w);
        return err;
}

/* Lines of a file that may be gzip'd (zlib reads plain files as they
 * are). */
struct lines {
        gzFile gz;
        char *buf;
        size_t pos, len;
        bool eof, failed;
};

#define LINES_CHUNK ((size_t)64 * 1024)

static int lines_fill(struct lines *l)
{
        int n;

        if (l->pos < l->len)
                return 1;
        if (l->eof)
                return 0;
        n = gzread(l->gz, l->buf, (unsigned)LINES_CHUNK);
        if (n < 0) {
                l->failed = true;
                l->eof = true;
                return 0;
        }
        if (n == 0) {
                l->eof = true;
                return 0;
        }
        l->pos = 0;
        l->len = (size_t)n;
        return 1;
}

/* One line (without its newline) into `line`, at most line->max bytes;
 * *too_long when more was dropped. False at the end. */
static bool lines_next(struct lines *l, struct nt_buf *line, bool *too_long)
{
        bool any = false;

        nt_buf_reset(line);
        *too_long = false;
        while (lines_fill(l)) {
                char *start = l->buf + l->pos;
                size_t avail = l->len - l->pos;
                char *nl = memchr(start, '\n', avail);
                size_t take = nl ? (size_t)(nl - start) : avail;

                any = true;
                if (!*too_long && nt_buf_append(line, start, take) != NT_OK)
                        *too_long = true;
                l->pos += nl ? take + 1 : take;
                if (nl)
                        break;
        }
        return any;
}

/* One JSON line: an article, or an enriched event whose article counts. */
static int jsonl_line(nt_replay_t *r, const char *path, unsigned long lineno,
                      const char *s, size_t len)
{
        struct nt_article art;
        json_error_t jerr;
        json_t *obj, *src;
        const char *schema;
        char errstr[512];
        int err = NT_OK;

        /* jansson's json_loadb() with its flag, read by the faster
         * scanner (common/json_in.h): the same tree, the same errors. */
        obj = nt_json_in_load_unique(s, len, &jerr);
        if (!obj) {
                nt_rp_report(r, path,
                             "line %lu: invalid JSON (column %d: %s); "
                             "skipped",
                             lineno, jerr.column, jerr.text);
                return NT_OK;
        }
        schema = json_string_value(json_object_get(obj, "schema"));
        src = obj;
        if (schema && strncmp(schema, "newstap.enriched/", 17) == 0)
                src = json_object_get(obj, "article");
        nt_article_init(&art);
        if (!json_is_object(src) ||
            nt_article_from_json(src, &art, errstr, sizeof(errstr)) != NT_OK) {
                nt_rp_report(
                    r, path,
                    "line %lu: not an article or an enriched event (%s); "
                    "skipped",
                    lineno, json_is_object(src) ? errstr : "no article");
        } else {
                err = nt_rp_emit(r, &art, art.feed_url);
        }
        nt_article_free(&art);
        json_decref(obj);
        return err;
}

static bool is_blank(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++)
                if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
                        return false;
        return true;
}

/* True when the line is one JSON object with a newstap schema tag: the
 * file is JSON lines, not a JSON Feed. */
static bool looks_like_jsonl(const char *s, size_t len)
{
        json_t *obj = nt_json_in_load(s, len, NULL);
        const char *schema = json_string_value(json_object_get(obj, "schema"));
        bool yes = schema && strncmp(schema, "newstap.", 8) == 0;

        json_decref(obj);
        return yes;
}

/* A feed document: the first line already read, the rest still in `l`. */
static int replay_document(nt_replay_t *r, const char *path, struct lines *l,
                           struct nt_buf *doc)
{
        struct nt_feed feed;
        char errstr[512];
        const char *feed_url = r->o.feed_url ? r->o.feed_url : path;
        const char *base = r->o.base_url ? r->o.base_url : feed_url;
        int err = NT_OK;

        while (lines_fill(l)) {
                if (nt_buf_append(doc, l->buf + l->pos, l->len - l->pos) !=
                    NT_OK) {
                        nt_rp_report(
                            r, path,
                            "larger than producer.max_body (%zu bytes); "
                            "skipped",
                            r->flim.max_document);
                        return NT_OK;
                }
                l->pos = l->len;
        }
        if (l->failed) {
                nt_rp_report(r, path,
                             "read error (a damaged gzip file?); skipped");
                return NT_OK;
        }
        nt_feed_init(&feed);
        err = nt_feed_parse(doc->data ? doc->data : "", doc->len, NULL, base,
                            &r->flim, &feed, errstr, sizeof(errstr));
        if (err == NT_ERR_NOMEM)
                goto out;
        if (err) {
                nt_rp_report(
                    r, path,
                    "not a feed, JSON lines of articles or a WARC file "
                    "(%s); skipped",
                    errstr);
                err = NT_OK;
                goto out;
        }
        err = emit_feed(r, &feed, feed_url, mtime_ms(path), path, "");
out:
        nt_feed_free(&feed);
        return err;
}

/* Feed files and JSON lines, gzip'd or not. */
static int replay_stream(nt_replay_t *r, const char *path)
{
        struct lines l;
        struct nt_buf line;
        unsigned long lineno = 0;
        bool too_long, first = true;
        int err = NT_OK;

        memset(&l, 0, sizeof(l));
        nt_buf_init(&line, r->flim.max_document);
        l.buf = malloc(LINES_CHUNK);
        if (strcmp(path, "-") == 0) {
                int fd = dup(STDIN_FILENO);

                l.gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
                if (!l.gz && fd >= 0)
                        close(fd);
        } else {
                l.gz = gzopen(path, "rb");
        }
        if (!l.buf || !l.gz) {
                if (l.buf)
                        nt_rp_report(r, path, "cannot open: %s",
                                     strerror(errno));
                else
                        err = NT_ERR_NOMEM;
                goto out;
        }
        while (!nt_rp_stopping(r) && lines_next(&l, &line, &too_long)) {
                const char *s = line.data ? line.data : "";

                lineno++;
                if (first && !too_long && is_blank(s, line.len))
                        continue; /* blank lines before the first decide
                                     nothing */
                if (first) {
                        const char *p = s;
                        size_t n = line.len;

                        first = false;
                        /* A byte order mark and blank space may lead. */
                        if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
                                p += 3;
                                n -= 3;
                        }
                        while (n > 0 && (*p == ' ' || *p == '\t')) {
                                p++;
                                n--;
                        }
                        if (strcmp(path, "-") == 0 && n >= 5 &&
                            memcmp(p, "WARC/", 5) == 0) {
                                nt_rp_report(r, path,
                                             "a WARC file on standard input: "
                                             "give it as a file (its records "
                                             "are read by offset)");
                                goto out;
                        }
                        if (too_long || n == 0 || *p != '{' ||
                            !looks_like_jsonl(p, n)) {
                                /* Not JSON lines: the whole file is one
                                 * feed document. */
                                if (too_long) {
                                        nt_rp_report(r, path,
                                                     "larger than "
                                                     "producer.max_body (%zu "
                                                     "bytes); skipped",
                                                     r->flim.max_document);
                                        goto out;
                                }
                                if (nt_buf_append_char(&line, '\n') != NT_OK) {
                                        nt_rp_report(
                                            r, path,
                                            "larger than "
                                            "producer.max_body; skipped");
                                        goto out;
                                }
                                err = replay_document(r, path, &l, &line);
                                goto out;
                        }
                }
                r->st.bytes_done = r->file_base + (uint64_t)gzoffset(l.gz);
                nt_rp_progress(r, false);
                if (too_long) {
                        r->st.records++;
                        nt_rp_report(r, path,
                                     "line %lu: longer than %zu bytes; skipped",
                                     lineno, r->flim.max_document);
                        continue;
                }
                if (is_blank(s, line.len))
                        continue;
                r->st.records++;
                err = jsonl_line(r, path, lineno, s, line.len);
                if (err)
                        break;
        }
        if (l.failed && !err)
                nt_rp_report(r, path,
                             "read error after line %lu (a damaged gzip "
                             "file?); the rest is skipped",
                             lineno);
out:
        if (l.gz)
                gzclose(l.gz);
        free(l.buf);
        nt_buf_free(&line);
        return err;
}

/* The first bytes of the file's content, decompressed when gzip'd. */
static size_t sniff(FILE *f, unsigned char *buf, size_t size, bool *gz)
{
        unsigned char raw[SNIFF_BYTES];
        size_t n = fread(raw, 1, sizeof(raw), f), got = 0;
        z_stream zs;

        *gz = n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
        if (!*gz) {
                memcpy(buf, raw, n < size ? n : size);
                return n < size ? n : size;
        }
        memset(&zs, 0, sizeof(zs));
        if (inflateInit2(&zs, 15 + 32) != Z_OK)
                return 0;
        zs.next_in = raw;
        zs.avail_in = (uInt)n;
        zs.next_out = buf;
        zs.avail_out = (uInt)size;
        inflate(&zs, Z_SYNC_FLUSH);
        got = size - zs.avail_out;
        inflateEnd(&zs);
        return got;
}

int nt_rp_replay_file(nt_replay_t *r, const char *path)
{
        unsigned char head[64];
        size_t n, i = 0;
        bool gz;
        FILE *f;
        int err = NT_OK;

        /* Standard input cannot be read twice: it is read as a stream of
         * JSON lines or one feed document, as it comes. */
        if (strcmp(path, "-") == 0)
                return replay_stream(r, path);
        f = fopen(path, "rb");
        if (!f) {
                nt_rp_report(r, path, "cannot open: %s", strerror(errno));
                return NT_OK;
        }
        n = sniff(f, head, sizeof(head), &gz);
        if (n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
                i = 3;
        while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' ||
                         head[i] == '\n'))
                i++;
        if (n - i >= 5 && memcmp(head + i, "WARC/", 5) == 0) {
                rewind(f);
                err = replay_warc(r, path, f);
                fclose(f);
                return err;
        }
        fclose(f);
        return replay_stream(r, path);
}
