#include "common/secret.h"
#include "common/buf.h"
#include "common/err.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

/* One piece of a text: literal characters, or a reference's argument
 * (the variable name or the path). */
struct seg {
        enum { SEG_TEXT, SEG_ENV, SEG_FILE } kind;
        const char *p;
        size_t n;
};

/* The next piece of the text at *pos: 1 with *s, 0 at the end, or
 * NT_ERR_CONFIG with the reason. */
static int next_seg(const char **pos, struct seg *s, char *errstr,
                    size_t errstr_size)
{
        const char *p = *pos, *arg, *close;
        size_t i;

        if (!*p)
                return 0;
        if (strncmp(p, "$${", 3) == 0) {
                s->kind = SEG_TEXT;
                s->p = p + 1;
                s->n = 2;
                *pos = p + 3;
                return 1;
        }
        if (strncmp(p, "${", 2) != 0) {
                const char *q = p;

                while (*q && strncmp(q, "${", 2) != 0 &&
                       strncmp(q, "$${", 3) != 0)
                        q++;
                s->kind = SEG_TEXT;
                s->p = p;
                s->n = (size_t)(q - p);
                *pos = q;
                return 1;
        }
        close = strchr(p, '}');
        if (strncmp(p + 2, "env:", 4) == 0) {
                s->kind = SEG_ENV;
                arg = p + 6;
        } else if (strncmp(p + 2, "file:", 5) == 0) {
                s->kind = SEG_FILE;
                arg = p + 7;
        } else {
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%.*s\" is not a reference: expected "
                               "${env:NAME} or ${file:/path} ($${ for a "
                               "literal ${)",
                               close ? (int)(close - p + 1) : 2, p);
        }
        if (!close || close < arg)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%.*s...\": the reference has no closing }",
                               (int)(arg - p), p);
        s->p = arg;
        s->n = (size_t)(close - arg);
        if (s->kind == SEG_ENV) {
                bool ok = s->n > 0 && !isdigit((unsigned char)arg[0]);

                for (i = 0; ok && i < s->n; i++)
                        ok = isalnum((unsigned char)arg[i]) || arg[i] == '_';
                if (!ok)
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "\"%.*s\": a variable name is letters, "
                                       "digits and _, not starting with a "
                                       "digit",
                                       (int)(close - p + 1), p);
        } else if (s->n < 2 || arg[0] != '/') {
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%.*s\": a file reference takes an absolute "
                               "path",
                               (int)(close - p + 1), p);
        }
        *pos = close + 1;
        return 1;
}

int nt_secret_check(const char *text, char *errstr, size_t errstr_size)
{
        const char *pos = text ? text : "";
        struct seg s;
        int r;

        while ((r = next_seg(&pos, &s, errstr, errstr_size)) == 1)
                ;
        return r;
}

bool nt_secret_has_ref(const char *text)
{
        const char *pos = text ? text : "";
        struct seg s;

        while (next_seg(&pos, &s, NULL, 0) == 1)
                if (s.kind != SEG_TEXT)
                        return true;
        /* A malformed reference still marks the text as meant to hold
         * one; nt_secret_check() says what is wrong with it. */
        return text && strstr(text, "${") != NULL;
}

static const char *env_get(char *const *envp, const char *name, size_t n)
{
        size_t i;

        for (i = 0; envp && envp[i]; i++)
                if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
                        return envp[i] + n + 1;
        return NULL;
}

/* Appends the contents of the file `path` (one trailing newline
 * removed). */
static int append_file(struct nt_buf *out, const char *path, char *errstr,
                       size_t errstr_size)
{
        char chunk[4096];
        struct nt_buf body;
        size_t n;
        int err = NT_OK;
        FILE *f = fopen(path, "rb");

        if (!f)
                return nt_errf(errstr, errstr_size, NT_ERR_IO,
                               "${file:%s}: cannot open: %s", path,
                               strerror(errno));
        nt_buf_init(&body, NT_SECRET_FILE_MAX);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                if (nt_buf_append(&body, chunk, n) != NT_OK) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                      "${file:%s}: larger than %zu bytes", path,
                                      NT_SECRET_FILE_MAX);
                        goto out;
                }
        }
        if (ferror(f)) {
                err = nt_errf(errstr, errstr_size, NT_ERR_IO,
                              "${file:%s}: cannot read", path);
                goto out;
        }
        n = body.len;
        if (n > 0 && nt_buf_str(&body)[n - 1] == '\n')
                n--;
        if (n > 0 && nt_buf_str(&body)[n - 1] == '\r')
                n--;
        if (memchr(nt_buf_str(&body), '\0', n))
                err = nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                              "${file:%s}: holds a NUL byte", path);
        else if (nt_buf_append(out, nt_buf_str(&body), n) != NT_OK)
                err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                              "resolved value larger than %zu bytes",
                              NT_SECRET_VALUE_MAX);
out:
        nt_buf_free(&body);
        fclose(f);
        return err;
}

int nt_secret_resolve(const char *text, char *const *envp, char **out,
                      char *errstr, size_t errstr_size)
{
        const char *pos = text ? text : "";
        struct nt_buf b;
        struct seg s;
        char path[4096];
        int r, err = NT_OK;

        *out = NULL;
        if (!envp)
                envp = environ;
        nt_buf_init(&b, NT_SECRET_VALUE_MAX);
        while (err == NT_OK &&
               (r = next_seg(&pos, &s, errstr, errstr_size)) == 1) {
                const char *v;

                switch (s.kind) {
                case SEG_TEXT:
                        if (nt_buf_append(&b, s.p, s.n) != NT_OK)
                                err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                              "value larger than %zu bytes",
                                              NT_SECRET_VALUE_MAX);
                        break;
                case SEG_ENV:
                        v = env_get(envp, s.p, s.n);
                        if (!v)
                                err = nt_errf(errstr, errstr_size,
                                              NT_ERR_NOTFOUND,
                                              "${env:%.*s}: the variable is "
                                              "not set",
                                              (int)s.n, s.p);
                        else if (nt_buf_append_str(&b, v) != NT_OK)
                                err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                              "resolved value larger than %zu "
                                              "bytes",
                                              NT_SECRET_VALUE_MAX);
                        break;
                case SEG_FILE:
                        if (s.n >= sizeof(path)) {
                                err =
                                    nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                            "${file:...}: path too long");
                                break;
                        }
                        memcpy(path, s.p, s.n);
                        path[s.n] = '\0';
                        err = append_file(&b, path, errstr, errstr_size);
                        break;
                }
        }
        if (err == NT_OK && r < 0)
                err = r;
        /* A header value or a URL ends at a line break: a secret holding
         * one would smuggle a second header into the request. */
        if (err == NT_OK && strpbrk(nt_buf_str(&b), "\r\n"))
                err = nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                              "a resolved value holds a line break");
        if (err == NT_OK) {
                *out = nt_buf_detach(&b);
                if (!*out)
                        err = nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                                      "out of memory");
        }
        nt_buf_free(&b);
        return err;
}

bool nt_secret_header_is_sensitive(const char *name)
{
        static const char *const exact[] = {"authorization",
                                            "proxy-authorization", "cookie"};
        static const char *const parts[] = {"token",    "key",  "secret",
                                            "password", "auth", "session"};
        char lower[256];
        size_t i;

        for (i = 0; name[i] && i + 1 < sizeof(lower); i++)
                lower[i] = (char)tolower((unsigned char)name[i]);
        lower[i] = '\0';
        for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
                if (strcmp(lower, exact[i]) == 0)
                        return true;
        for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
                if (strstr(lower, parts[i]))
                        return true;
        return false;
}

int nt_secret_check_header(const char *name, const char *value, char *errstr,
                           size_t errstr_size)
{
        int err = nt_secret_check(value, errstr, errstr_size);

        if (err)
                return err;
        if (nt_secret_header_is_sensitive(name) && !nt_secret_has_ref(value))
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "header %s carries a credential in plain text: "
                               "write it as a reference, e.g. \"Bearer "
                               "${env:NAME}\" or \"${file:/run/secrets/"
                               "NAME}\", resolved where the feed is fetched",
                               name);
        return NT_OK;
}

int nt_secret_check_url(const char *url, char *errstr, size_t errstr_size)
{
        const char *auth = strstr(url, "://"), *at = NULL, *p, *pos, *colon;
        struct nt_buf mask;
        struct seg s;
        char *ui;
        int r, err = NT_OK;

        if (!auth)
                return NT_OK;
        auth += 3;
        /* The authority ends at the first "/", "?" or "#" outside a
         * reference; its userinfo at the last "@" in it. */
        for (p = auth; *p; p++) {
                if (strncmp(p, "${", 2) == 0 && strchr(p, '}')) {
                        if (strncmp(p + 2, "file:", 5) == 0)
                                return nt_errf(
                                    errstr, errstr_size, NT_ERR_CONFIG,
                                    "a ${file:...} reference cannot sit in a "
                                    "URL (its / ends the host part): use "
                                    "${env:NAME}, or an Authorization header");
                        p = strchr(p, '}');
                        continue;
                }
                if (strchr("/?#", *p))
                        break;
                if (*p == '@')
                        at = p;
        }
        if (!at)
                return NT_OK;
        /* The userinfo with every reference as \1: what is left in plain
         * text shows. */
        ui = strndup(auth, (size_t)(at - auth));
        if (!ui)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        nt_buf_init(&mask, (size_t)(at - auth) + 1);
        pos = ui;
        while ((r = next_seg(&pos, &s, errstr, errstr_size)) == 1) {
                if (s.kind == SEG_TEXT)
                        nt_buf_append(&mask, s.p, s.n);
                else
                        nt_buf_append_char(&mask, '\1');
        }
        if (r < 0)
                err = r;
        if (err == NT_OK) {
                const char *m = nt_buf_str(&mask);

                colon = strchr(m, ':');
                if (colon && colon[1] &&
                    strspn(colon + 1, "\1") != strlen(colon + 1))
                        err = nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                      "the URL's password is in plain text: "
                                      "write it as a reference, e.g. "
                                      "https://user:${env:PASS}@host/feed");
                else if (!strchr(m, '\1'))
                        err = nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                      "the URL carries credentials in plain "
                                      "text: write them as references, e.g. "
                                      "https://${env:USER}:${env:PASS}@host/"
                                      "feed");
        }
        nt_buf_free(&mask);
        free(ui);
        return err;
}
