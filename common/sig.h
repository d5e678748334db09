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

/* A bound on a stop that librdkafka may block: some of its calls wait
 * far past their timeout while the group coordinator is down (librdkafka
 * issue 5456: send_offsets_to_transaction() and the consumer's close),
 * and no signal ends them. Once a stop is asked (nt_sig_running() false)
 * the watchdog's thread gives the process `ms` milliseconds; if it has
 * not called nt_sig_watchdog_end() by then, it logs "`what` (N ms)
 * passed with librdkafka still blocked ...; exiting now: `consequence`"
 * under `component` and ends the process with status 0 (the stop was
 * asked for). That is as safe as a SIGKILL, which the transactional
 * loops are built for. The strings must outlive the watchdog. NULL when
 * no thread could be started (the stop is then unbounded, as before). */
typedef struct nt_sig_watchdog nt_sig_watchdog_t;
nt_sig_watchdog_t *nt_sig_watchdog_start(const char *component,
                                         const char *what, long long ms,
                                         const char *consequence);

/* The process is done with librdkafka: stops and frees the watchdog.
 * NULL-safe. */
void nt_sig_watchdog_end(nt_sig_watchdog_t *w);

#endif
