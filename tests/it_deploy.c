/* The deployment files (docker-compose.yml, Dockerfile, systemd units)
 * agree with the code: scripts/check-deploy validates the compose file
 * with docker-compose (no engine needed) and checks every command, path
 * and NEWSTAP_ variable they name against this build of newstap. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

Test(deploy, files_match_the_code, .timeout = 120)
{
        const char *src = getenv("NT_SOURCE_DIR");
        char script[512], *out, *err;
        char *argv[3];
        int status;

        cr_assert_not_null(src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(script, sizeof(script), "%s/scripts/check-deploy", src);
        argv[0] = script;
        argv[1] = (char *)nt_test_bin();
        argv[2] = NULL;
        status = nt_run(argv, NULL, &out, &err, 100000);
        cr_assert_eq(status, 0, "check-deploy exited %d:\n%s%s", status, out,
                     err);
        free(out);
        free(err);
}
