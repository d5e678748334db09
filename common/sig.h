/* Shutdown signals: SIGINT and SIGTERM ask loops to stop; a second one
 * ends the process at once. SIGHUP asks daemons to reload. Loops poll
 * nt_sig_running() between short waits. */
#ifndef NT_SIG_H
#define NT_SIG_H

#include <stdbool.h>

/* Installs the handlers (and ignores SIGPIPE: a closed socket or pipe is
 * reported by the write that meets it). */
void nt_sig_install(void);

/* False once SIGINT or SIGTERM arrived (or nt_sig_stop() was called). */
bool nt_sig_running(void);

/* Asks loops to stop, as a signal would (for commands that end on their
 * own, e.g. after --count messages). */
void nt_sig_stop(void);

/* True once per SIGHUP: returns and clears the reload request. */
bool nt_sig_take_reload(void);

#endif
