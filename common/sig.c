#include "common/sig.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* The process's only mutable globals (STYLE.md rule 8): written by the
 * handler, read by loops. */
static volatile sig_atomic_t sig_stop_count;
static volatile sig_atomic_t sig_stop_requested;
static volatile sig_atomic_t sig_reload;

static void on_stop(int signo)
{
        (void)signo;
        /* The first signal asks for a clean shutdown. A second one means
         * the operator does not want to wait: leave now. State files are
         * written atomically, so nothing is left half-written. */
        if (sig_stop_count > 0)
                _exit(130);
        sig_stop_count = 1;
}

static void on_hup(int signo)
{
        (void)signo;
        sig_reload = 1;
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
        return sig_stop_count == 0 && sig_stop_requested == 0;
}

void nt_sig_stop(void)
{
        /* Kept apart from the signal count: a command that ends on its own
         * still lets a first Ctrl-C wait for the clean shutdown. */
        sig_stop_requested = 1;
}

bool nt_sig_take_reload(void)
{
        if (!sig_reload)
                return false;
        sig_reload = 0;
        return true;
}
