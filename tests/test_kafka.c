/* Unit tests of common/kafka.c that need no broker. */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"

#include <criterion/criterion.h>

/* A default of newstap's goes into the extra properties unless the
 * user's kafka properties (here as -X gives them) name it. */
Test(kafka, extra_default_yields_to_the_user)
{
        nt_config_t *cfg = nt_config_new();
        const char *props[8];
        char errstr[256];
        size_t n = 0;

        cr_assert_not_null(cfg);
        cr_assert_eq(nt_config_set_kafka_kv(cfg, "auto.offset.reset=latest",
                                            "-X", errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        nt_kafka_extra_default(cfg, props, &n, "auto.offset.reset", "earliest");
        cr_assert_eq(n, 0, "the user's auto.offset.reset stays");
        nt_kafka_extra_default(cfg, props, &n, "statistics.interval.ms",
                               "1000");
        cr_assert_eq(n, 2, "statistics.interval.ms is not the user's");
        cr_assert_str_eq(props[0], "statistics.interval.ms");
        cr_assert_str_eq(props[1], "1000");
        nt_config_destroy(cfg);
}
