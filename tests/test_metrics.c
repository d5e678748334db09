/* The metrics registry: counters, gauges, label escaping, the series
 * limit and the Prometheus text format. */
#include "common/err.h"
#include "common/metrics.h"

#include <criterion/criterion.h>
#include <string.h>

Test(metrics, counters_gauges_and_exposition)
{
        nt_metrics_t *m = nt_metrics_new(100);
        struct nt_buf out;

        nt_metrics_describe(m, "nt_fetches_total", "counter",
                            "Fetches by feed and status.");
        cr_assert_eq(nt_metrics_add(m, "nt_fetches_total", 1, "feed",
                                    "https://a/\"x\"", "status", "200", NULL),
                     NT_OK);
        nt_metrics_add(m, "nt_fetches_total", 2, "feed", "https://a/\"x\"",
                       "status", "200", NULL);
        nt_metrics_add(m, "nt_fetches_total", 1, "feed", "b", "status", "304",
                       NULL);
        nt_metrics_set(m, "nt_inflight", 7, NULL);
        nt_metrics_set(m, "nt_inflight", 5, NULL);
        cr_assert_float_eq(nt_metrics_get(m, "nt_fetches_total", "feed",
                                          "https://a/\"x\"", "status", "200",
                                          NULL),
                           3.0, 1e-9);
        cr_assert_float_eq(nt_metrics_get(m, "nt_inflight", NULL), 5.0, 1e-9);
        cr_assert_float_eq(nt_metrics_get(m, "nt_absent", NULL), 0.0, 1e-9);

        nt_buf_init(&out, 1 << 16);
        cr_assert_eq(nt_metrics_write(m, &out), NT_OK);
        cr_assert_str_eq(
            nt_buf_str(&out),
            "# HELP nt_fetches_total Fetches by feed and status.\n"
            "# TYPE nt_fetches_total counter\n"
            "nt_fetches_total{feed=\"b\",status=\"304\"} 1\n"
            "nt_fetches_total{feed=\"https://a/\\\"x\\\"\",status=\"200\"}"
            " 3\n"
            "nt_inflight 5\n");
        nt_buf_free(&out);
        nt_metrics_destroy(m);
}

Test(metrics, series_limit)
{
        nt_metrics_t *m = nt_metrics_new(2);

        cr_assert_eq(nt_metrics_add(m, "a", 1, NULL), NT_OK);
        cr_assert_eq(nt_metrics_add(m, "b", 1, NULL), NT_OK);
        cr_assert_eq(nt_metrics_add(m, "c", 1, NULL), NT_ERR_LIMIT,
                     "a third series is refused");
        cr_assert_eq(nt_metrics_add(m, "a", 1, NULL), NT_OK,
                     "existing series still count");
        cr_assert_float_eq(nt_metrics_get(m, "a", NULL), 2.0, 1e-9);
        nt_metrics_destroy(m);
        nt_metrics_destroy(NULL);
}

/* A histogram is one family: buckets in bound order (not in the string
 * order of their bounds), +Inf, sum and count, under one TYPE. */
Test(metrics, histogram_exposition)
{
        static const double bounds[] = {0.5, 2.5, 10};
        static const uint64_t le[] = {3, 5, 6};
        nt_metrics_t *m = nt_metrics_new(10);
        struct nt_buf out;

        nt_metrics_describe(m, "nt_latency_seconds", "histogram", "Latency.");
        cr_assert_eq(nt_metrics_histogram(m, "nt_latency_seconds", bounds, le,
                                          3, 7, 12.5),
                     NT_OK);
        nt_metrics_set(m, "nt_build_info", 1, "version", "1.2", NULL);
        nt_buf_init(&out, 1 << 16);
        cr_assert_eq(nt_metrics_write(m, &out), NT_OK);
        cr_assert_str_eq(nt_buf_str(&out),
                         "nt_build_info{version=\"1.2\"} 1\n"
                         "# HELP nt_latency_seconds Latency.\n"
                         "# TYPE nt_latency_seconds histogram\n"
                         "nt_latency_seconds_bucket{le=\"0.5\"} 3\n"
                         "nt_latency_seconds_bucket{le=\"2.5\"} 5\n"
                         "nt_latency_seconds_bucket{le=\"10\"} 6\n"
                         "nt_latency_seconds_bucket{le=\"+Inf\"} 7\n"
                         "nt_latency_seconds_sum 12.5\n"
                         "nt_latency_seconds_count 7\n");
        nt_buf_free(&out);
        nt_metrics_destroy(m);
}

Test(metrics, describe_all_declares_every_row)
{
        static const struct nt_metric_desc descs[] = {
            {"nt_b_total", "counter", "A counter."},
            {"nt_a", "gauge", "A gauge."},
        };
        nt_metrics_t *m = nt_metrics_new(10);
        struct nt_buf out;
        const char *text;

        cr_assert_eq(nt_metrics_describe_all(m, descs, 2), NT_OK);
        nt_metrics_add(m, "nt_b_total", 1, NULL);
        nt_metrics_set(m, "nt_a", 2, NULL);
        nt_buf_init(&out, 1 << 16);
        cr_assert_eq(nt_metrics_write(m, &out), NT_OK);
        text = nt_buf_str(&out);
        cr_assert_not_null(strstr(text, "# HELP nt_b_total A counter.\n"
                                        "# TYPE nt_b_total counter\n"
                                        "nt_b_total 1\n"),
                           "the first row is declared: %s", text);
        cr_assert_not_null(strstr(text, "# HELP nt_a A gauge.\n"
                                        "# TYPE nt_a gauge\n"
                                        "nt_a 2\n"),
                           "the last row is declared: %s", text);
        nt_buf_free(&out);
        nt_metrics_destroy(m);
}
