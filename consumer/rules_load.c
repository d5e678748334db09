/* Loading rules from disk: the files and directories named on the
 * command line or in consumer.rules, expanded to their .rules files in a
 * fixed order, read whole within NT_RULES_MAX_FILE_BYTES, then parsed. */
#include "consumer/rules.h"
#include "consumer/rules_parser.h"

#include "common/buf.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads a whole file of at most `max` bytes into a malloc'd buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len,
                     char *errstr, size_t errstr_size)
{
        FILE *f = fopen(path, "rb");
        struct nt_buf b;
        char chunk[8192];
        size_t n;
        int err = 0;

        if (!f)
                return nt_errf(errstr, errstr_size,
                               errno == ENOENT ? NT_ERR_NOTFOUND : NT_ERR_IO,
                               "%s: %s", path, strerror(errno));
        nt_buf_init(&b, max);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                err = nt_buf_append(&b, chunk, n);
                if (err) {
                        nt_errf(errstr, errstr_size, err,
                                "%s: larger than %zu bytes", path, max);
                        goto out;
                }
        }
        if (ferror(f)) {
                err = nt_errf(errstr, errstr_size, NT_ERR_IO, "%s: read error",
                              path);
                goto out;
        }
        *len = b.len;
        *out = nt_buf_detach(&b);
        if (!*out)
                err = NT_ERR_NOMEM;
out:
        nt_buf_free(&b);
        fclose(f);
        return err;
}

int nt_rules_load_files(const char *const *paths, size_t n,
                        struct nt_rules **out, struct nt_buf *diag,
                        char *errstr, size_t errstr_size)
{
        struct nt_rules_source *src;
        size_t i;
        int err = 0;

        /* Refused before any file is read. */
        err = nt_rl_begin(out, n, errstr, errstr_size);
        if (err)
                return err;
        src = calloc(n + 1, sizeof(*src));
        if (!src)
                return NT_ERR_NOMEM;
        for (i = 0; i < n; i++) {
                char *text = NULL;

                src[i].name = paths[i];
                err = read_file(paths[i], NT_RULES_MAX_FILE_BYTES, &text,
                                &src[i].len, errstr, errstr_size);
                if (err) {
                        if (diag)
                                nt_buf_printf(diag, "%s\n",
                                              errstr ? errstr : "");
                        goto out;
                }
                src[i].text = text;
        }
        err = nt_rules_parse(src, n, out, diag, errstr, errstr_size);
out:
        for (i = 0; i < n; i++)
                free((char *)src[i].text);
        free(src);
        return err;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_path(char ***paths, size_t *n, size_t *cap, const char *dir,
                     const char *name)
{
        struct nt_buf b;
        char *s;

        if (nt_array_grow(paths, cap, *n + 1, sizeof(**paths)))
                return NT_ERR_NOMEM;
        nt_buf_init(&b, 4096);
        if (dir)
                nt_buf_printf(&b, "%s/%s", dir, name);
        else
                nt_buf_append_str(&b, name);
        s = nt_buf_detach(&b);
        if (!s)
                return NT_ERR_NOMEM;
        (*paths)[(*n)++] = s;
        return 0;
}

int nt_rules_expand_paths(const char *const *in, size_t n, char ***paths,
                          size_t *n_paths, char *errstr, size_t errstr_size)
{
        size_t i, cap = *n_paths, first;
        struct stat st;
        int err = 0;

        for (i = 0; i < n && !err; i++) {
                DIR *d;
                struct dirent *de;

                if (stat(in[i], &st) != 0)
                        return nt_errf(errstr, errstr_size,
                                       errno == ENOENT ? NT_ERR_NOTFOUND
                                                       : NT_ERR_IO,
                                       "%s: %s", in[i], strerror(errno));
                if (!S_ISDIR(st.st_mode)) {
                        err = push_path(paths, n_paths, &cap, NULL, in[i]);
                        continue;
                }
                d = opendir(in[i]);
                if (!d)
                        return nt_errf(errstr, errstr_size, NT_ERR_IO, "%s: %s",
                                       in[i], strerror(errno));
                first = *n_paths;
                while (!err && (de = readdir(d)) != NULL) {
                        size_t len = strlen(de->d_name);

                        if (de->d_name[0] == '.' || len < 7 ||
                            strcmp(de->d_name + len - 6, ".rules") != 0)
                                continue;
                        err =
                            push_path(paths, n_paths, &cap, in[i], de->d_name);
                }
                closedir(d);
                if (!err && *n_paths == first)
                        return nt_errf(errstr, errstr_size, NT_ERR_NOTFOUND,
                                       "%s: no .rules files in this directory",
                                       in[i]);
                qsort(*paths + first, *n_paths - first, sizeof(**paths),
                      cmp_str);
        }
        if (err == NT_ERR_NOMEM)
                nt_errf(errstr, errstr_size, err, "out of memory");
        return err;
}

void nt_rules_free_paths(char **paths, size_t n)
{
        size_t i;

        for (i = 0; paths && i < n; i++)
                free(paths[i]);
        free(paths);
}
