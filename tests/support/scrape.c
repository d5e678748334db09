#include "support/scrape.h"
#include "common/err.h"
#include "support/httpd.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned nt_test_free_port(void)
{
        unsigned port = nt_httpd_free_port();

        cr_assert_neq(port, 0, "no free port on 127.0.0.1");
        return port;
}

static size_t to_buf(char *p, size_t size, size_t n, void *ud)
{
        struct nt_buf *b = ud;

        return nt_buf_append(b, p, size * n) == NT_OK ? size * n : 0;
}

long nt_test_http_get(unsigned port, const char *path, struct nt_buf *out)
{
        CURL *e = curl_easy_init();
        char url[128];
        long status = 0;

        nt_buf_reset(out);
        snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_buf);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
        if (curl_easy_perform(e) == CURLE_OK)
                curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(e);
        return status;
}

bool nt_test_wait_status(unsigned port, const char *path, long want,
                         int seconds)
{
        struct timespec tick = {0, 200 * 1000 * 1000};
        time_t deadline = time(NULL) + seconds;
        struct nt_buf b;
        bool ok = false;

        nt_buf_init(&b, 1 << 20);
        while (!ok && time(NULL) < deadline) {
                ok = nt_test_http_get(port, path, &b) == want;
                if (!ok)
                        nanosleep(&tick, NULL);
        }
        nt_buf_free(&b);
        return ok;
}

double nt_test_metric(unsigned port, const char *name, const char *labels)
{
        struct nt_buf b;
        char needle[256];
        const char *at;
        double v = -1;

        nt_buf_init(&b, 4 << 20);
        snprintf(needle, sizeof(needle), "\n%s%s", name, labels);
        if (nt_test_http_get(port, "/metrics", &b) == 200 &&
            (at = strstr(nt_buf_str(&b), needle)) != NULL) {
                at = strchr(at + 1, ' ');
                if (at)
                        v = strtod(at + 1, NULL);
        }
        nt_buf_free(&b);
        return v;
}

double nt_test_wait_metric(unsigned port, const char *name, const char *labels,
                           double want, int seconds)
{
        struct timespec tick = {0, 200 * 1000 * 1000};
        time_t deadline = time(NULL) + seconds;
        double got;

        while ((got = nt_test_metric(port, name, labels)) < want &&
               time(NULL) < deadline)
                nanosleep(&tick, NULL);
        return got;
}
