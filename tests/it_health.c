/* The metrics and health endpoint over real HTTP on 127.0.0.1. */
#include "common/err.h"
#include "common/health.h"
#include "common/metrics.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body {
        char data[8192];
        size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
        struct body *b = ud;
        size_t len = size * n;

        if (b->len + len >= sizeof(b->data))
                return 0;
        memcpy(b->data + b->len, p, len);
        b->len += len;
        b->data[b->len] = '\0';
        return len;
}

/* GET http://127.0.0.1:port/path into b (emptied first), the HTTP
 * status into *status; curl's result. No assertion here: threads other
 * than the test's call it too. */
static CURLcode http_get(unsigned port, const char *path, struct body *b,
                         long *status)
{
        CURL *e = curl_easy_init();
        char url[128];
        CURLcode rc;

        memset(b, 0, sizeof(*b));
        *status = 0;
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
        rc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
        curl_easy_cleanup(e);
        return rc;
}

/* http_get() that must get an answer; its status. */
static long get(unsigned port, const char *path, struct body *b)
{
        long status;

        cr_assert_eq(http_get(port, path, b, &status), CURLE_OK, "GET %s",
                     path);
        return status;
}

/* An endpoint on 127.0.0.1 on a port of its own, which must start; its
 * port into *port. */
static nt_health_t *start_health(unsigned *port)
{
        char errstr[256];
        nt_health_t *h = nt_health_start("127.0.0.1:0", errstr, sizeof(errstr));

        cr_assert_not_null(h, "%s", errstr);
        *port = nt_health_port(h);
        return h;
}

Test(health, endpoints)
{
        unsigned port;
        nt_health_t *h = start_health(&port);
        nt_metrics_t *m = nt_metrics_new(16);
        struct body b;

        cr_assert_gt(port, 0);
        cr_assert_eq(get(port, "/healthz", &b), 200);
        cr_assert_eq(get(port, "/readyz", &b), 503, "not ready at start");
        cr_assert_str_eq(b.data, "starting\n");
        nt_health_set_ready(h, false, "Kafka unreachable");
        cr_assert_eq(get(port, "/readyz", &b), 503);
        cr_assert_str_eq(b.data, "Kafka unreachable\n");
        nt_health_set_ready(h, true, NULL);
        cr_assert_eq(get(port, "/readyz", &b), 200);

        cr_assert_eq(get(port, "/metrics", &b), 200);
        cr_assert_eq(b.len, 0, "nothing published yet");
        nt_metrics_describe(m, "newstap_up", "gauge", "Always 1.");
        nt_metrics_set(m, "newstap_up", 1, NULL);
        cr_assert_eq(nt_health_publish(h, m), NT_OK);
        cr_assert_eq(get(port, "/metrics", &b), 200);
        cr_assert_not_null(strstr(b.data, "# TYPE newstap_up gauge\n"
                                          "newstap_up 1\n"),
                           "%s", b.data);
        cr_assert_eq(get(port, "/nope", &b), 404);
        nt_metrics_destroy(m);
        nt_health_stop(h);
}

/* A scrape from another thread, as Prometheus would: no assertion
 * there (Criterion's belong to the test's thread). */
struct scrape {
        unsigned port;
        struct body body;
        CURLcode rc;
        atomic_bool done;
};

static void *scrape_thread(void *arg)
{
        struct scrape *s = arg;
        long status;

        s->rc = http_get(s->port, "/metrics", &s->body, &status);
        atomic_store(&s->done, true);
        return NULL;
}

/* The registry is rendered for a scrape, not at every publish: a publish
 * nobody scraped after leaves the snapshot as it was (marked stale); a
 * scrape of a stale snapshot gets the registry as the next publish finds
 * it, or the last snapshot when no publish comes. */
Test(health, metrics_rendered_for_a_scrape)
{
        unsigned port;
        nt_health_t *h = start_health(&port);
        nt_metrics_t *m = nt_metrics_new(16);
        struct scrape s;
        struct body b;
        pthread_t t;

        nt_metrics_describe(m, "newstap_up", "gauge", "A value.");
        nt_metrics_set(m, "newstap_up", 1, NULL);
        cr_assert_eq(nt_health_publish(h, m), NT_OK);
        cr_assert_eq(get(port, "/metrics", &b), 200);
        cr_assert_not_null(strstr(b.data, "newstap_up 1\n"),
                           "the first publish is rendered: %s", b.data);

        /* Published once more, then changed: the scrape waits for a
         * publish, which renders what the registry holds then. */
        nt_metrics_set(m, "newstap_up", 2, NULL);
        cr_assert_eq(nt_health_publish(h, m), NT_OK);
        nt_metrics_set(m, "newstap_up", 3, NULL);
        memset(&s, 0, sizeof(s));
        s.port = port;
        atomic_init(&s.done, false);
        cr_assert_eq(pthread_create(&t, NULL, scrape_thread, &s), 0);
        while (!atomic_load(&s.done)) {
                /* The loop's publishes; rendered once the scrape asks. */
                cr_assert_eq(nt_health_publish(h, m), NT_OK);
                sched_yield();
        }
        pthread_join(t, NULL);
        cr_assert_eq(s.rc, CURLE_OK);
        cr_assert_not_null(strstr(s.body.data, "newstap_up 3\n"), "%s",
                           s.body.data);

        /* Published (4) and changed (5) with nobody scraping, then a
         * scrape and no publish: after its wait it gets the last render,
         * 3 (the publish of 4 rendered nothing). */
        nt_metrics_set(m, "newstap_up", 4, NULL);
        cr_assert_eq(nt_health_publish(h, m), NT_OK);
        nt_metrics_set(m, "newstap_up", 5, NULL);
        cr_assert_eq(get(port, "/metrics", &b), 200);
        cr_assert_not_null(strstr(b.data, "newstap_up 3\n"), "%s", b.data);
        cr_assert_eq(get(port, "/healthz", &b), 200);
        nt_metrics_destroy(m);
        nt_health_stop(h);
}

Test(health, listen_errors)
{
        char errstr[256], busy[32];
        nt_health_t *a, *b;

        cr_assert_null(nt_health_start("nonsense", errstr, sizeof(errstr)));
        cr_assert_not_null(strstr(errstr, "HOST:PORT"), "%s", errstr);
        cr_assert_null(
            nt_health_start("example.org:80", errstr, sizeof(errstr)));
        a = nt_health_start("127.0.0.1:0", errstr, sizeof(errstr));
        cr_assert_not_null(a, "%s", errstr);
        snprintf(busy, sizeof(busy), "127.0.0.1:%u", nt_health_port(a));
        b = nt_health_start(busy, errstr, sizeof(errstr));
        cr_assert_null(b, "a second server on the same port");
        cr_assert_not_null(strstr(errstr, busy), "%s", errstr);
        nt_health_stop(a);
        nt_health_stop(NULL);
}
