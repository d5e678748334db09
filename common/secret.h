/* Secret references: a feed's header values and URL credentials written
 * as "${env:NAME}" or "${file:/absolute/path}" instead of the secret
 * itself, so that a feed's spec can travel (on the feeds topic, in a
 * configuration file under version control) and the secret is looked up
 * only on the machine that fetches the feed. This module checks the
 * syntax, resolves references, and says which values must not be plain. */
#ifndef NT_SECRET_H
#define NT_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* The largest file a ${file:...} reference may name, and the largest
 * resolved value. */
#define NT_SECRET_FILE_MAX  ((size_t)64 << 10)
#define NT_SECRET_VALUE_MAX ((size_t)256 << 10)

/* Reference syntax, inside any text:
 *   ${env:NAME}        the environment variable NAME ([A-Za-z_][A-Za-z0-9_]*)
 *   ${file:/path}      the contents of an absolute path, one trailing
 *                      newline ("\n" or "\r\n") removed
 *   $${                a literal "${"
 * Any other "${" is an error, so that a typo is not sent as it is.
 *
 * Checks every reference of `text`: NT_OK (also for text without any),
 * or NT_ERR_CONFIG with the reason in errstr. */
int nt_secret_check(const char *text, char *errstr, size_t errstr_size);

/* True when `text` holds at least one reference (its syntax is not
 * checked). */
bool nt_secret_has_ref(const char *text);

/* Replaces every reference of `text` by what it names. *out is a new
 * string; caller frees it with free(). Errors name the reference, never
 * the secret: NT_ERR_CONFIG (bad syntax), NT_ERR_NOTFOUND (variable not
 * set), NT_ERR_IO (file unreadable), NT_ERR_LIMIT (file or result too
 * large), NT_ERR_INVALID (a resolved value holding a line break or NUL,
 * which would end a header line). `envp` is the environment to read
 * (NULL-terminated "K=V"); NULL means the process's own. */
int nt_secret_resolve(const char *text, char *const *envp, char **out,
                      char *errstr, size_t errstr_size);

/* True for a header whose value is a credential: Authorization,
 * Proxy-Authorization, Cookie, and every name holding "token", "key",
 * "secret", "password", "auth" or "session" (case ignored). */
bool nt_secret_header_is_sensitive(const char *name);

/* The rules for a feed that leaves this machine (the feeds topic):
 * a sensitive header's value must hold a reference ("Bearer
 * ${env:WIRE_TOKEN}" passes, "Bearer abc123" does not); a URL's userinfo
 * must hold a reference and its password part, when there is one, must be
 * references only ("https://reader:${env:WIRE_PASS}@host/" passes,
 * "https://reader:hunter2@host/" does not). A ${file:...} reference cannot
 * sit in a URL (its "/" would end the host part): use ${env:...} there,
 * or an Authorization header. NT_OK, or NT_ERR_CONFIG with the reason in
 * errstr (which never repeats the plain value). */
int nt_secret_check_header(const char *name, const char *value, char *errstr,
                           size_t errstr_size);
int nt_secret_check_url(const char *url, char *errstr, size_t errstr_size);

#endif
