/* The text of an article from its linked page, for feeds with content
 * "page" or "auto": robots.txt asked once per origin and cached (at most
 * producer.robots_origins origins, the least recently used forgotten
 * first), the page fetched through the same fetcher as feeds (within
 * producer.page_timeout), its main text extracted (common/extract.h),
 * and the article published once, with the page's text or, when the
 * page fails, the feed's text and the reason. A page's validators and
 * text are kept (producer.page_cache_bytes, the least recently used
 * forgotten first), so that a page wanted again (an edited entry, the
 * same link in another feed) is asked with If-None-Match /
 * If-Modified-Since and a 304 publishes the kept text. Each page's
 * outcome and each robots.txt fetch is counted (newstap_pages_total,
 * newstap_robots_fetches_total). */
#include "producer/producer_internal.h"

/* What became of an article's page: the `result` label of
 * newstap_pages_total, in the order of page_results[]. */
enum page_result {
        PAGE_OK = 0,
        PAGE_HTTP_ERROR,
        PAGE_TIMEOUT,
        PAGE_TOO_BIG,
        PAGE_FETCH_ERROR,
        PAGE_NO_MAIN_TEXT,
        PAGE_ROBOTS_DISALLOWED,
        PAGE_ROBOTS_UNREACHABLE,
        PAGE_NO_LINK,
        PAGE_QUEUE_FULL,
        PAGE_OUT_OF_MEMORY,
        PAGE_NOT_MODIFIED,
};

static const char *const page_results[] = {
    "ok",          "http_error",   "timeout",           "too_big",
    "fetch_error", "no_main_text", "robots_disallowed", "robots_unreachable",
    "no_link",     "queue_full",   "out_of_memory",     "not_modified",
};

/* The metrics of pages and robots.txt, declared with the producer's. */
static const struct nt_metric_desc page_metric_descs[] = {
    {"newstap_pages_total", "counter",
     "Article pages wanted, by result (ok, http_error, timeout, too_big, "
     "fetch_error, no_main_text, robots_disallowed, robots_unreachable, "
     "no_link, queue_full, out_of_memory, not_modified)."},
    {"newstap_robots_fetches_total", "counter",
     "robots.txt fetches by result (ok: rules read, missing: 4xx, all "
     "allowed, error: 5xx or no response, all disallowed for now)."},
    {"newstap_robots_origins", "gauge",
     "Origins whose robots.txt is kept in memory."},
};

void nt_pr_pages_describe(nt_metrics_t *m)
{
        nt_metrics_describe_all(m, page_metric_descs,
                                sizeof(page_metric_descs) /
                                    sizeof(page_metric_descs[0]));
}

/* Whether this new article's text is to come from its page: the feed's
 * "content" (else producer.content) is "page", or "auto" and the entry's
 * text (content, else summary) has fewer than producer.content_min_chars
 * characters. */
bool nt_pr_wants_page(const nt_producer_t *p, const struct pfeed *f,
                      const struct nt_article *art)
{
        int mode = f->spec.content ? f->spec.content : p->content;
        const char *text, *c;
        int64_t chars = 0;

        if (mode == NT_CONTENT_PAGE)
                return true;
        if (mode != NT_CONTENT_AUTO)
                return false;
        text = art->content && *art->content ? art->content : art->summary;
        for (c = text; c && *c && chars < p->content_min_chars; c++)
                chars += ((unsigned char)*c & 0xC0) != 0x80;
        return chars < p->content_min_chars;
}

/* The page cache and the robots.txt cache each keep their entries in a
 * list in order of use (newest last) beside their map, so that the least
 * recently used is forgotten first. Unlinks e from l. */
static void lru_unlink(struct lru *l, struct lru_link *e)
{
        if (e->older)
                e->older->newer = e->newer;
        else
                l->oldest = e->newer;
        if (e->newer)
                e->newer->older = e->older;
        else
                l->newest = e->older;
        e->older = e->newer = NULL;
}

/* Links e (not linked) as the newest of l. */
static void lru_link_newest(struct lru *l, struct lru_link *e)
{
        e->older = l->newest;
        e->newer = NULL;
        if (l->newest)
                l->newest->newer = e;
        else
                l->oldest = e;
        l->newest = e;
}

/* Moves e (linked) to the newest end of l: it was just used. */
static void lru_touch(struct lru *l, struct lru_link *e)
{
        lru_unlink(l, e);
        lru_link_newest(l, e);
}

/* The entries of the two caches from their links; NULL for NULL. */
static struct page_cached *cached_of_link(struct lru_link *l)
{
        return l ? (struct page_cached *)(void *)((char *)l -
                                                  offsetof(struct page_cached,
                                                           use))
                 : NULL;
}

static struct robots *robots_of_link(struct lru_link *l)
{
        return l ? (struct robots *)(void *)((char *)l -
                                             offsetof(struct robots, use))
                 : NULL;
}

static void pc_entry_free(struct page_cached *e)
{
        free(e->url);
        free(e->etag);
        free(e->last_modified);
        free(e->text);
        free(e);
}

/* Forgets the entry (not pinned). */
static void pc_drop(nt_producer_t *p, struct page_cached *e)
{
        lru_unlink(&p->pc_lru, &e->use);
        json_object_del(p->page_cache, e->url);
        p->pc_bytes -= e->bytes;
        pc_entry_free(e);
}

/* Forgets the least recently used entries that no page in flight asks
 * with, until at most producer.page_cache_bytes are kept (the pinned
 * ones are bounded by the fetch queue). */
static void pc_trim(nt_producer_t *p)
{
        struct page_cached *e = cached_of_link(p->pc_lru.oldest), *newer;

        for (; e && p->pc_bytes > p->pc_max; e = newer) {
                newer = cached_of_link(e->use.newer);
                if (!e->pins)
                        pc_drop(p, e);
        }
}

static struct page_cached *pc_find(nt_producer_t *p, const char *url)
{
        json_t *v = url ? json_object_get(p->page_cache, url) : NULL;

        return v ? (struct page_cached *)(intptr_t)json_integer_value(v) : NULL;
}

/* Keeps the page's validators and text under its URL, replacing what
 * was kept; a response without validators, or more than the bound,
 * forgets it instead. Out of memory keeps nothing. */
static void pc_store(nt_producer_t *p, const char *url,
                     const struct nt_fetch_result *res, const char *text)
{
        struct page_cached *e = pc_find(p, url), fresh;
        size_t bytes;

        memset(&fresh, 0, sizeof(fresh));
        bytes = sizeof(fresh) + strlen(url) + strlen(text) +
                (res->etag ? strlen(res->etag) : 0) +
                (res->last_modified ? strlen(res->last_modified) : 0);
        if ((res->etag || res->last_modified) && bytes <= p->pc_max) {
                fresh.etag = res->etag ? strdup(res->etag) : NULL;
                fresh.last_modified =
                    res->last_modified ? strdup(res->last_modified) : NULL;
                fresh.text = strdup(text);
                fresh.url = e ? NULL : strdup(url);
        }
        if (!fresh.text || (res->etag && !fresh.etag) ||
            (res->last_modified && !fresh.last_modified) ||
            (!e && !fresh.url)) {
                free(fresh.etag);
                free(fresh.last_modified);
                free(fresh.text);
                free(fresh.url);
                if (e && !e->pins)
                        pc_drop(p, e);
                else if (e) { /* useless now; dropped when unpinned */
                        free(e->etag);
                        free(e->last_modified);
                        e->etag = e->last_modified = NULL;
                }
                return;
        }
        if (!e) {
                e = malloc(sizeof(*e));
                if (!e || json_object_set_new(
                              p->page_cache, url,
                              json_integer((json_int_t)(intptr_t)e)) != 0) {
                        free(e);
                        free(fresh.etag);
                        free(fresh.last_modified);
                        free(fresh.text);
                        free(fresh.url);
                        return;
                }
                *e = fresh;
        } else {
                lru_unlink(&p->pc_lru, &e->use);
                p->pc_bytes -= e->bytes;
                free(e->etag);
                free(e->last_modified);
                free(e->text);
                e->etag = fresh.etag;
                e->last_modified = fresh.last_modified;
                e->text = fresh.text;
        }
        e->bytes = bytes;
        p->pc_bytes += bytes;
        lru_link_newest(&p->pc_lru, &e->use);
        pc_trim(p);
}

/* The page no longer asks with its entry. */
static void pc_unpin(nt_producer_t *p, struct page *pg)
{
        struct page_cached *e = pg->cached;

        if (!e)
                return;
        pg->cached = NULL;
        e->pins--;
        if (!e->pins && !e->etag && !e->last_modified)
                pc_drop(p, e);
        else if (!e->pins)
                pc_trim(p);
}

void nt_pr_page_cache_free(nt_producer_t *p)
{
        struct page_cached *e;

        while ((e = cached_of_link(p->pc_lru.oldest)) != NULL) {
                e->pins = 0;
                pc_drop(p, e);
        }
        json_decref(p->page_cache);
        p->page_cache = NULL;
}

void nt_pr_page_free(nt_producer_t *p, struct page *pg)
{
        pc_unpin(p, pg);
        if (pg->prev)
                pg->prev->next = pg->next;
        else
                p->pages = pg->next;
        if (pg->next)
                pg->next->prev = pg->prev;
        nt_article_free(&pg->art);
        free(pg->path);
        free(pg);
}

/* Publishes the page's article, with the page's text (PAGE_OK, error
 * NULL) or the feed's and why not, counts the result and frees the page.
 * A failed send (only on shutdown or out of memory) leaves the article
 * unseen and the feed's validators unkept, so the next poll brings it
 * again. */
static int page_publish(nt_producer_t *p, struct page *pg,
                        enum page_result result, const char *error)
{
        struct pfeed *f = pg->f;
        int err;

        nt_metrics_add(p->metrics, "newstap_pages_total", 1.0, "result",
                       page_results[result], NULL);

        if (error) {
                const char *fields[] = {"feed",   f->label, "url", pg->art.url,
                                        "reason", error,    NULL};

                nt_log_kv(NT_LOG_INFO, "producer", fields,
                          "feed %s: page not used (%s): the feed's text is "
                          "published",
                          f->label, error);
        }
        err = nt_article_set_source(
            &pg->art, error ? NT_ARTICLE_SOURCE_FEED : NT_ARTICLE_SOURCE_PAGE,
            error);
        if (err == NT_OK)
                err = nt_pr_send_article(p, f, &pg->art);
        if (err != NT_OK) {
                json_object_del(f->pending, pg->art.id);
                f->next_validators = false;
                free(f->next_etag);
                free(f->next_last_modified);
                f->next_etag = f->next_last_modified = NULL;
                nt_pr_settle(p, f);
        }
        nt_pr_page_free(p, pg);
        return err;
}

/* The page's fetch goes to the fetcher when its origin's robots.txt
 * allows it; else its article is published with the feed's text. */
static int page_go(nt_producer_t *p, struct page *pg, const struct robots *rb)
{
        struct nt_fetch_request req;
        struct page_cached *e;

        if (rb->rule == ROBOTS_DISALLOW_ALL)
                return page_publish(p, pg, PAGE_ROBOTS_UNREACHABLE,
                                    "robots.txt unreachable");
        if (rb->rule == ROBOTS_RULES &&
            !nt_robots_allowed(rb->text, rb->len, ROBOTS_AGENT, pg->path))
                return page_publish(p, pg, PAGE_ROBOTS_DISALLOWED,
                                    "robots.txt");
        memset(&req, 0, sizeof(req));
        req.url = pg->art.url;
        req.opaque = pg;
        req.timeout_ms = p->page_timeout_ms;
        e = pc_find(p, pg->art.url);
        if (e && (e->etag || e->last_modified)) {
                req.etag = e->etag;
                req.last_modified = e->last_modified;
                lru_touch(&p->pc_lru, &e->use);
        } else {
                e = NULL;
        }
        if (nt_fetcher_add(p->fetcher, &req) != NT_OK)
                return page_publish(p, pg, PAGE_QUEUE_FULL, "fetch queue full");
        if (e) {
                e->pins++;
                pg->cached = e;
        }
        return NT_OK;
}

/* Forgets the least recently used origins whose robots.txt is not being
 * fetched, other than `keep` (the caller's, may be NULL), until at most
 * producer.robots_origins are left (those being fetched have pages
 * waiting on them and are bounded by the fetch queue). A forgotten
 * origin is asked again when a page of it is next wanted. */
static void robots_trim(nt_producer_t *p, const struct robots *keep)
{
        struct robots *rb = robots_of_link(p->robots_lru.oldest), *newer;

        for (; rb && p->n_robots > p->robots_max; rb = newer) {
                newer = robots_of_link(rb->use.newer);
                if (rb->fetching || rb == keep)
                        continue;
                lru_unlink(&p->robots_lru, &rb->use);
                json_object_del(p->robots, rb->origin);
                free(rb->origin);
                free(rb->text);
                free(rb);
                p->n_robots--;
        }
        nt_metrics_set(p->metrics, "newstap_robots_origins",
                       (double)p->n_robots, NULL);
}

/* The robots.txt entry of an origin, made (not fetched) when missing.
 * NULL when out of memory. */
static struct robots *robots_of(nt_producer_t *p, const char *origin)
{
        json_t *v = json_object_get(p->robots, origin);
        struct robots *rb;

        if (v) {
                rb = (struct robots *)(intptr_t)json_integer_value(v);
                lru_touch(&p->robots_lru, &rb->use);
                return rb;
        }
        rb = calloc(1, sizeof(*rb));
        if (!rb)
                return NULL;
        rb->kind = JOB_ROBOTS;
        rb->origin = strdup(origin);
        if (!rb->origin ||
            json_object_set_new(p->robots, origin,
                                json_integer((json_int_t)(intptr_t)rb)) != 0) {
                free(rb->origin);
                free(rb);
                return NULL;
        }
        lru_link_newest(&p->robots_lru, &rb->use);
        p->n_robots++;
        robots_trim(p, rb);
        return rb;
}

/* Starts the fetch of the origin's robots.txt. */
static int robots_fetch(nt_producer_t *p, struct robots *rb)
{
        struct nt_fetch_request req;
        char url[2048];

        snprintf(url, sizeof(url), "%s/robots.txt", rb->origin);
        memset(&req, 0, sizeof(req));
        req.url = url;
        req.opaque = rb;
        if (nt_fetcher_add(p->fetcher, &req) != NT_OK)
                return NT_ERR_LIMIT;
        rb->fetching = true;
        return NT_OK;
}

/* Takes the article: its page is fetched (after its origin's robots.txt
 * when that is not known or is stale), or, when that cannot be, the
 * article is published with the feed's text and why. Its id is pending
 * from here on. Returns NT_OK, or the error of a failed send. */
int nt_pr_start_page(nt_producer_t *p, struct pfeed *f, struct nt_article *art)
{
        struct page *pg = calloc(1, sizeof(*pg));
        struct robots *rb = NULL;
        char *origin = NULL;
        int err = NT_ERR_INVALID;

        if (!pg)
                return NT_ERR_NOMEM;
        pg->kind = JOB_PAGE;
        pg->f = f;
        pg->art = *art;
        nt_article_init(art); /* taken */
        pg->next = p->pages;
        if (p->pages)
                p->pages->prev = pg;
        p->pages = pg;
        if (json_object_set_new(f->pending, pg->art.id,
                                json_string(pg->art.revision)) != 0)
                return page_publish(p, pg, PAGE_OUT_OF_MEMORY, "out of memory");
        if (pg->art.url)
                err = nt_robots_split(pg->art.url, &origin, &pg->path);
        if (err == NT_ERR_INVALID)
                return page_publish(p, pg, PAGE_NO_LINK,
                                    "no http or https link");
        if (err == NT_OK)
                rb = robots_of(p, origin);
        free(origin);
        if (!rb)
                return page_publish(p, pg, PAGE_OUT_OF_MEMORY, "out of memory");
        if (!rb->fetching && nt_date_now_ms() >= rb->expires_ms &&
            robots_fetch(p, rb) != NT_OK)
                return page_publish(p, pg, PAGE_QUEUE_FULL, "fetch queue full");
        if (rb->fetching) {
                pg->wait_next = rb->waiting;
                rb->waiting = pg;
                return NT_OK;
        }
        return page_go(p, pg, rb);
}

/* An origin's robots.txt arrived: 2xx its rules (a day), 4xx none (a
 * day), anything else (5xx, timeout, no connection) everything
 * disallowed for now and asked again in ROBOTS_RETRY_MS; the pages that
 * waited for it go on. */
void nt_pr_handle_robots(nt_producer_t *p, struct robots *rb,
                         const struct nt_fetch_result *res)
{
        int64_t now = nt_date_now_ms();
        struct page *pg, *next;
        const char *result = "error";

        rb->fetching = false;
        free(rb->text);
        rb->text = NULL;
        rb->len = 0;
        if (res->err == NT_OK && res->status >= 200 && res->status < 300) {
                rb->len = res->body_len < NT_ROBOTS_MAX_BYTES
                              ? res->body_len
                              : NT_ROBOTS_MAX_BYTES;
                rb->text = malloc(rb->len + 1);
                if (rb->text) {
                        memcpy(rb->text, res->body, rb->len);
                        rb->text[rb->len] = '\0';
                }
                rb->rule = rb->text ? ROBOTS_RULES : ROBOTS_DISALLOW_ALL;
                rb->expires_ms =
                    now + (rb->text ? ROBOTS_TTL_MS : ROBOTS_RETRY_MS);
                if (rb->text)
                        result = "ok";
        } else if (res->err == NT_OK && res->status >= 400 &&
                   res->status < 500) {
                rb->rule = ROBOTS_ALLOW_ALL;
                rb->expires_ms = now + ROBOTS_TTL_MS;
                result = "missing";
        } else {
                char why[300];

                if (res->err == NT_OK)
                        snprintf(why, sizeof(why), "HTTP %ld", res->status);
                else
                        snprintf(why, sizeof(why), "%s", res->errstr);
                rb->rule = ROBOTS_DISALLOW_ALL;
                rb->expires_ms = now + ROBOTS_RETRY_MS;
                NT_WARN("producer",
                        "%s/robots.txt: %s; no page of it is fetched for "
                        "%d min",
                        rb->origin, why, (int)(ROBOTS_RETRY_MS / 60000));
        }
        nt_metrics_add(p->metrics, "newstap_robots_fetches_total", 1.0,
                       "result", result, NULL);
        pg = rb->waiting;
        rb->waiting = NULL;
        for (; pg; pg = next) {
                next = pg->wait_next;
                pg->wait_next = NULL;
                page_go(p, pg, rb);
        }
        /* The origins fetched meanwhile may have passed the bound. */
        robots_trim(p, NULL);
}

/* The page of a waiting article arrived (or failed): the article goes
 * out once, with the page's main text as its content, or with the
 * feed's text and why not. */
void nt_pr_handle_page(nt_producer_t *p, struct page *pg,
                       const struct nt_fetch_result *res)
{
        struct nt_extract_page ex;
        char why[300], charset[64];
        const char *error = NULL;
        enum page_result result = PAGE_OK;

        nt_extract_page_init(&ex);
        if (res->err != NT_OK) {
                if (res->body_too_big) {
                        result = PAGE_TOO_BIG;
                        error = "too big";
                } else if (res->err == NT_ERR_TIMEOUT) {
                        result = PAGE_TIMEOUT;
                        error = "timeout";
                } else {
                        snprintf(why, sizeof(why), "fetch: %s", res->errstr);
                        nt_url_scrub_userinfo(why);
                        result = PAGE_FETCH_ERROR;
                        error = why;
                }
        } else if (res->status == 304 && pg->cached && pg->cached->text) {
                /* Unchanged since it was kept: its text, as a 200 would
                 * have given it; a validator the 304 sends replaces the
                 * kept one, the other is kept. */
                result = PAGE_NOT_MODIFIED;
                ex.text = strdup(pg->cached->text);
                if (!ex.text) {
                        result = PAGE_OUT_OF_MEMORY;
                        error = "out of memory";
                } else if (res->etag || res->last_modified) {
                        struct nt_fetch_result v;

                        memset(&v, 0, sizeof(v));
                        v.etag = res->etag ? res->etag : pg->cached->etag;
                        v.last_modified = res->last_modified
                                              ? res->last_modified
                                              : pg->cached->last_modified;
                        pc_store(p, pg->art.url, &v, ex.text);
                }
        } else if (res->status != 200) {
                snprintf(why, sizeof(why), "HTTP %ld", res->status);
                result = PAGE_HTTP_ERROR;
                error = why;
        } else {
                charset[0] = '\0';
                if (res->content_type)
                        nt_charset_from_content_type(res->content_type, charset,
                                                     sizeof(charset));
                if (nt_extract(res->body, res->body_len,
                               charset[0] ? charset : NULL, res->final_url,
                               NULL, &ex) != NT_OK) {
                        result = PAGE_OUT_OF_MEMORY;
                        error = "out of memory";
                } else if (ex.method == NT_EXTRACT_NONE || !ex.text ||
                           !*ex.text) {
                        result = PAGE_NO_MAIN_TEXT;
                        error = "no main text";
                } else if (pg->art.url) {
                        pc_store(p, pg->art.url, res, ex.text);
                }
        }
        if (!error) {
                free(pg->art.content);
                pg->art.content = ex.text;
                ex.text = NULL;
        }
        nt_extract_page_free(&ex);
        page_publish(p, pg, result, error);
}
