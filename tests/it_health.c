/* The metrics and health endpoint over real HTTP on 127.0.0.1. */
#include "common/err.h"
#include "common/health.h"
#include "common/metrics.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
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

static long get(unsigned port, const char *path, struct body *b)
{
        CURL *e = curl_easy_init();
        char url[128];
        long status = 0;

        memset(b, 0, sizeof(*b));
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
        cr_assert_eq(curl_easy_perform(e), CURLE_OK, "GET %s", url);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(e);
        return status;
}

Test(health, endpoints)
{
        char errstr[256];
        nt_health_t *h = nt_health_start("127.0.0.1:0", errstr, sizeof(errstr));
        nt_metrics_t *m = nt_metrics_new(16);
        struct body b;
        unsigned port;

        cr_assert_not_null(h, "%s", errstr);
        port = nt_health_port(h);
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
