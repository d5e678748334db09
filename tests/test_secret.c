/* Secret references: their syntax, their resolution from the environment
 * and from files, and the rules that keep plain credentials off the
 * feeds topic. */
#include "common/err.h"
#include "common/secret.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ref_case {
        char name[40];
        char text[64];
        int want; /* nt_secret_check() */
};

ParameterizedTestParameters(secret, check)
{
        static struct ref_case cases[] = {
            {"plain text", "Bearer abc", NT_OK},
            {"env", "Bearer ${env:WIRE_TOKEN}", NT_OK},
            {"file", "${file:/run/secrets/wire}", NT_OK},
            {"two refs", "${env:A}:${env:B_2}", NT_OK},
            {"escaped", "$${env:A}", NT_OK},
            {"lone dollar", "cost: $5", NT_OK},
            {"unknown kind", "${vault:x}", NT_ERR_CONFIG},
            {"bare braces", "${HOME}", NT_ERR_CONFIG},
            {"unclosed", "${env:A", NT_ERR_CONFIG},
            {"empty name", "${env:}", NT_ERR_CONFIG},
            {"name with dash", "${env:A-B}", NT_ERR_CONFIG},
            {"name with digit first", "${env:1A}", NT_ERR_CONFIG},
            {"relative path", "${file:run/x}", NT_ERR_CONFIG},
        };
        return cr_make_param_array(struct ref_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ref_case *c, secret, check)
{
        char err[256] = "";

        cr_assert_eq(nt_secret_check(c->text, err, sizeof(err)), c->want,
                     "%s: \"%s\": %s", c->name, c->text, err);
        if (c->want != NT_OK)
                cr_assert_neq(err[0], '\0', "%s: no reason given", c->name);
}

Test(secret, resolve_env_and_escape)
{
        char *const env[] = {"WIRE_TOKEN=t0k3n", "OTHER=x", NULL};
        char err[256], *out = NULL;

        cr_assert_eq(nt_secret_resolve("Bearer ${env:WIRE_TOKEN}", env, &out,
                                       err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_str_eq(out, "Bearer t0k3n");
        free(out);
        cr_assert_eq(nt_secret_resolve("$${env:WIRE_TOKEN}", env, &out, err,
                                       sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_str_eq(out, "${env:WIRE_TOKEN}", "$${ is a literal ${");
        free(out);
        cr_assert_eq(nt_secret_resolve("no refs", env, &out, err, sizeof(err)),
                     NT_OK);
        cr_assert_str_eq(out, "no refs");
        free(out);
}

Test(secret, resolve_errors_name_the_reference_not_the_secret)
{
        char *const env[] = {"WIRE_TOKEN_X=secretvalue", "NL=a\nb", NULL};
        char err[256], *out = (char *)"untouched";

        cr_assert_eq(
            nt_secret_resolve("${env:WIRE_TOKEN}", env, &out, err, sizeof(err)),
            NT_ERR_NOTFOUND, "a prefix of another name is not it");
        cr_assert_null(out);
        cr_assert_not_null(strstr(err, "${env:WIRE_TOKEN}"), "%s", err);
        cr_assert_null(strstr(err, "secretvalue"), "%s", err);
        cr_assert_eq(
            nt_secret_resolve("${env:NL}", env, &out, err, sizeof(err)),
            NT_ERR_INVALID, "a line break would end the header");
        cr_assert_eq(nt_secret_resolve("${file:/nonexistent/x}", env, &out, err,
                                       sizeof(err)),
                     NT_ERR_IO);
        cr_assert_not_null(strstr(err, "/nonexistent/x"), "%s", err);
        cr_assert_eq(nt_secret_resolve("${nope}", env, &out, err, sizeof(err)),
                     NT_ERR_CONFIG);
}

static void write_file(const char *path, const char *data, size_t n)
{
        FILE *f = fopen(path, "wb");

        cr_assert_not_null(f);
        cr_assert_eq(fwrite(data, 1, n, f), n);
        fclose(f);
}

Test(secret, resolve_file)
{
        char path[] = "/tmp/nt-secret-XXXXXX", ref[64], err[256], *out;
        char *big;
        int fd = mkstemp(path);

        cr_assert_geq(fd, 0);
        close(fd);
        snprintf(ref, sizeof(ref), "Bearer ${file:%s}", path);
        write_file(path, "s3cret\n", 7);
        cr_assert_eq(nt_secret_resolve(ref, NULL, &out, err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_str_eq(out, "Bearer s3cret", "one trailing newline goes");
        free(out);
        write_file(path, "s3cret\r\n", 8);
        cr_assert_eq(nt_secret_resolve(ref, NULL, &out, err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_str_eq(out, "Bearer s3cret", "and a CRLF");
        free(out);
        write_file(path, "two\nlines\n", 10);
        cr_assert_eq(nt_secret_resolve(ref, NULL, &out, err, sizeof(err)),
                     NT_ERR_INVALID);
        big = malloc(NT_SECRET_FILE_MAX + 1);
        cr_assert_not_null(big);
        memset(big, 'a', NT_SECRET_FILE_MAX + 1);
        write_file(path, big, NT_SECRET_FILE_MAX + 1);
        free(big);
        cr_assert_eq(nt_secret_resolve(ref, NULL, &out, err, sizeof(err)),
                     NT_ERR_LIMIT, "%s", err);
        unlink(path);
}

struct header_case {
        char name[24];
        char value[48];
        int want;
};

ParameterizedTestParameters(secret, header_rules)
{
        static struct header_case cases[] = {
            {"Authorization", "Bearer abc123", NT_ERR_CONFIG},
            {"authorization", "Bearer ${env:T}", NT_OK},
            {"Proxy-Authorization", "Basic dXNlcg==", NT_ERR_CONFIG},
            {"Cookie", "sid=abc", NT_ERR_CONFIG},
            {"Cookie", "sid=${file:/run/secrets/sid}", NT_OK},
            {"X-Api-Key", "k-123", NT_ERR_CONFIG},
            {"X-Auth-Token", "tok-9f3a", NT_ERR_CONFIG},
            {"X-Session", "sess-77q", NT_ERR_CONFIG},
            {"X-Client-Secret", "cs-0x41", NT_ERR_CONFIG},
            {"Accept", "application/rss+xml", NT_OK},
            {"User-Agent", "wire-reader", NT_OK},
            {"Accept", "${bad}", NT_ERR_CONFIG},
        };
        return cr_make_param_array(struct header_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct header_case *c, secret, header_rules)
{
        char err[512] = "";

        cr_assert_eq(
            nt_secret_check_header(c->name, c->value, err, sizeof(err)),
            c->want, "%s: \"%s\": %s", c->name, c->value, err);
        /* A plain credential is never repeated; a malformed reference
         * is, to show what is wrong with it. */
        if (c->want != NT_OK && !strstr(c->value, "${"))
                cr_assert_null(strstr(err, c->value),
                               "%s: the error repeats the value: %s", c->name,
                               err);
}

struct url_case {
        char url[72];
        int want;
};

ParameterizedTestParameters(secret, url_rules)
{
        static struct url_case cases[] = {
            {"https://wire.example/feed", NT_OK},
            {"https://${env:U}:${env:P}@wire.example/feed", NT_OK},
            {"https://reader:${env:P}@wire.example/feed", NT_OK},
            {"https://${env:TOKEN}@wire.example/feed", NT_OK},
            {"https://reader:hunter2@wire.example/feed", NT_ERR_CONFIG},
            {"https://reader@wire.example/feed", NT_ERR_CONFIG},
            {"https://reader:x${env:P}@wire.example/", NT_ERR_CONFIG},
            {"https://u:${file:/run/s}@wire.example/", NT_ERR_CONFIG},
            {"https://wire.example/a@b", NT_OK},
        };
        return cr_make_param_array(struct url_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct url_case *c, secret, url_rules)
{
        char err[512] = "";

        cr_assert_eq(nt_secret_check_url(c->url, err, sizeof(err)), c->want,
                     "%s: %s", c->url, err);
        if (c->want != NT_OK)
                cr_assert_null(strstr(err, "hunter2"), "%s", err);
}
