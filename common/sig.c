#include "common/sig.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/date.h"
#include "common/log.h"

/* The process's only mutable globals (STYLE.md rule 8): written by the
 * handler, read by loops. Lock-free atomics rather than volatile
 * sig_atomic_t: the handler may run on any thread (the classify workers,
 * librdkafka's) and the watchdog reads them from its own, which
 * sig_atomic_t does not cover (a data race under ThreadSanitizer). */
static atomic_int sig_stop_count;
static atomic_int sig_stop_requested;
static atomic_int sig_reload;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "a signal handler may only use lock-free atomics");

static void on_stop(int signo)
{
        (void)signo;
        /* The first signal asks for a clean shutdown. A second one means
         * the operator does not want to wait: leave now. State files are
         * written atomically, so nothing is left half-written. */
        if (atomic_exchange(&sig_stop_count, 1) > 0)
                _exit(130);
}

static void on_hup(int signo)
{
        (void)signo;
        atomic_store(&sig_reload, 1);
}

void nt_sig_install(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sa.sa_handler = on_hup;
        sigaction(SIGHUP, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

bool nt_sig_running(void)
{
        return atomic_load(&sig_stop_count) == 0 &&
               atomic_load(&sig_stop_requested) == 0;
}

void nt_sig_stop(void)
{
        /* Kept apart from the signal count: a command that ends on its own
         * still lets a first Ctrl-C wait for the clean shutdown. */
        atomic_store(&sig_stop_requested, 1);
}

bool nt_sig_take_reload(void)
{
        /* One exchange: a SIGHUP between a test and a clear is not
         * lost. */
        return atomic_exchange(&sig_reload, 0) != 0;
}

struct nt_sig_watchdog {
        pthread_t thread;
        atomic_bool ended;
        const char *component, *what, *consequence;
        long long ms;
};

static void *watchdog_main(void *arg)
{
        struct nt_sig_watchdog *w = arg;
        struct timespec nap = {0, 50 * 1000 * 1000};
        int64_t deadline = 0;

        while (!atomic_load(&w->ended)) {
                nanosleep(&nap, NULL);
                if (nt_sig_running())
                        continue;
                if (deadline == 0)
                        deadline = nt_date_mono_ms() + w->ms;
                if (nt_date_mono_ms() < deadline || atomic_load(&w->ended))
                        continue;
                NT_ERROR(w->component,
                         "%s (%lld ms) passed with librdkafka still blocked "
                         "(the broker is down or hung); exiting now: %s",
                         w->what, w->ms, w->consequence);
                _exit(0);
        }
        return NULL;
}

nt_sig_watchdog_t *nt_sig_watchdog_start(const char *component,
                                         const char *what, long long ms,
                                         const char *consequence)
{
        struct nt_sig_watchdog *w = calloc(1, sizeof(*w));

        if (!w)
                return NULL;
        atomic_init(&w->ended, false);
        w->component = component;
        w->what = what;
        w->ms = ms;
        w->consequence = consequence;
        if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
                free(w);
                return NULL;
        }
        return w;
}

void nt_sig_watchdog_end(nt_sig_watchdog_t *w)
{
        if (!w)
                return;
        atomic_store(&w->ended, true);
        pthread_join(w->thread, NULL);
        free(w);
}
