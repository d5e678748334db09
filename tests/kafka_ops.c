/* Operating both daemons: `newstap produce` and `newstap classify` on the
 * real broker with their metrics endpoints. The counters move as articles
 * flow, the classifier's lag returns to zero, and both /readyz go to 503
 * while the broker is down and back to 200 after. */
// ctest-suites: real
#include "common/buf.h"
#include "common/err.h"
#include "support/archive.h"
#include "support/httpd.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"
#include "support/scrape.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *feed_of(int n)
{
        struct nt_buf b;
        int i;

        nt_buf_init(&b, 1 << 20);
        nt_buf_append_str(&b,
                          "<rss version=\"2.0\"><channel><title>Ops</title>");
        for (i = 1; i <= n; i++)
                nt_buf_printf(&b,
                              "<item><title>Talks on security guarantees "
                              "for Ukraine, round %d</title>"
                              "<link>http://ops.example/%d</link>"
                              "<description>Allies discussed a 15-year "
                              "commitment.</description></item>",
                              i, i);
        nt_buf_append_str(&b, "</channel></rss>");
        return nt_buf_detach(&b);
}

static struct nt_child start(const char *config, unsigned port, const char *cmd)
{
        char *argv[] = {(char *)nt_test_bin(), (char *)cmd, "-c",
                        (char *)config, NULL};
        char listen[64];
        struct nt_child c;

        snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
        setenv("NEWSTAP_METRICS_LISTEN", listen, 1);
        cr_assert_eq(nt_child_start(&c, argv), 0, "cannot start %s", cmd);
        unsetenv("NEWSTAP_METRICS_LISTEN");
        return c;
}

/* Polls a metric until it satisfies cmp against want (at most 90 s). */
static double wait_metric(unsigned port, const char *name, int at_least,
                          double want)
{
        struct timespec tick = {0, 200 * 1000 * 1000};
        time_t deadline = time(NULL) + 90;
        double v;

        for (;;) {
                v = nt_test_metric(port, name, "");
                if (at_least ? v >= want : (v >= 0 && v <= want))
                        return v;
                if (time(NULL) >= deadline)
                        return v;
                nanosleep(&tick, NULL);
        }
}

TestSuite(real, .fini = nt_test_kafka_restore);

Test(real, metrics_lag_and_readiness_of_both_daemons, .timeout = 400)
{
        const char *bootstrap = nt_test_kafka_bootstrap();
        const char *src = getenv("NT_SOURCE_DIR");
        char dir[64], config[128], name[96], cmd[160];
        struct nt_child prod, cls;
        unsigned pport = nt_test_free_port(), cport;
        nt_httpd_t *srv = nt_httpd_start();
        char *body = feed_of(20);
        double v;

        cr_assert_not_null(srv);
        cr_assert_not_null(src);
        nt_httpd_serve(srv, "/ops.xml", 200, NULL, body, NULL);
        free(body);

        snprintf(dir, sizeof(dir), "/tmp/nt-ops-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(config, sizeof(config), "%s/newstap.json", dir);
        nt_test_unique_name("ops", name, sizeof(name));
        nt_test_printf_file(
            config,
            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
            " \"topics\": {\"raw\": \"%s.raw\", \"enriched\": \"%s.enr\","
            " \"label_prefix\": \"%s.topic.\", \"dlq\": \"%s.dlq\"},"
            " \"producer\": {\"state_dir\": \"%s\", \"interval\": \"1s\", "
            "\"min_interval\": \"1s\","
            " \"summary_interval\": 0, \"feeds\": [{\"url\": \"%s/ops.xml\"}]},"
            " \"consumer\": {\"rules\": \"%s/config/rules\","
            " \"group_id\": \"%s\", \"transactional_id\": \"%s-tx\"}}\n",
            bootstrap, name, name, name, name, dir, nt_httpd_url(srv), src,
            name, name);

        /* Ports are chosen one after the other, so they differ. */
        cport = nt_test_free_port();
        cr_assert_neq(pport, cport);
        cls = start(config, cport, "classify");
        prod = start(config, pport, "produce");

        cr_assert(nt_test_wait_status(pport, "/readyz", 200, 90),
                  "produce never ready");
        cr_assert(nt_test_wait_status(cport, "/readyz", 200, 90),
                  "classify never ready");
        v = wait_metric(pport, "newstap_published_total", 1, 20);
        cr_assert_geq(v, 20, "produce published %g of 20", v);
        v = wait_metric(cport, "newstap_classify_inputs_total", 1, 20);
        cr_assert_geq(v, 20, "classify took in %g of 20", v);
        v = wait_metric(cport, "newstap_classify_events_total", 1, 20);
        cr_assert_geq(v, 20, "classify wrote %g events", v);
        v = wait_metric(cport, "newstap_kafka_consumer_lag", 0, 0);
        cr_assert_eq(v, 0, "the lag did not return to zero: %g", v);

        cr_assert_eq(nt_test_kafka_local("down"), 0);
        cr_assert(nt_test_wait_status(pport, "/readyz", 503, 90),
                  "produce still ready with the broker down");
        cr_assert(nt_test_wait_status(cport, "/readyz", 503, 90),
                  "classify still ready with the broker down");
        cr_assert_eq(nt_test_kafka_local("up"), 0);
        cr_assert(nt_test_wait_status(pport, "/readyz", 200, 120),
                  "produce not ready again");
        cr_assert(nt_test_wait_status(cport, "/readyz", 200, 120),
                  "classify not ready again");

        cr_assert_eq(nt_child_stop(&prod, SIGTERM, 60000), 0);
        cr_assert_eq(nt_child_stop(&cls, SIGTERM, 60000), 0);
        nt_httpd_stop(srv);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        cr_assert_eq(system(cmd), 0);
}
