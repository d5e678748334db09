/* ThreadSanitizer cannot see librdkafka's locks: Debian's librdkafka is
 * built on glibc's C11 threads (thrd_create, mtx_lock, cnd_wait, ...),
 * which libtsan does not intercept, so every hand-off between its threads
 * and ours (a message queue, a delivery report) would look like a race.
 * This file, linked into every executable of the TSan build only
 * (NT_TSAN), defines those functions over the pthread calls libtsan does
 * intercept; an executable's definitions take precedence over glibc's for
 * the libraries it loads. glibc's mtx_t, cnd_t, once_flag and thrd_t have
 * the layout of the pthread types they wrap, which the casts rely on. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) >= sizeof(pthread_mutex_t), "mtx_t layout");
_Static_assert(sizeof(cnd_t) >= sizeof(pthread_cond_t), "cnd_t layout");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once layout");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t layout");

/* C11's codes from a pthread call's. */
static int thrd_code(int err)
{
        switch (err) {
        case 0:
                return thrd_success;
        case ETIMEDOUT:
                return thrd_timedout;
        case EBUSY:
                return thrd_busy;
        case ENOMEM:
                return thrd_nomem;
        default:
                return thrd_error;
        }
}

struct start {
        thrd_start_t fn;
        void *arg;
};

static void *trampoline(void *opaque)
{
        struct start s = *(struct start *)opaque;

        free(opaque);
        return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
        struct start *s = malloc(sizeof(*s));
        int err;

        if (!s)
                return thrd_nomem;
        s->fn = fn;
        s->arg = arg;
        err = pthread_create((pthread_t *)thr, NULL, trampoline, s);
        if (err)
                free(s);
        return thrd_code(err);
}

int thrd_join(thrd_t thr, int *res)
{
        void *ret = NULL;
        int err = pthread_join((pthread_t)thr, &ret);

        if (!err && res)
                *res = (int)(intptr_t)ret;
        return thrd_code(err);
}

int thrd_detach(thrd_t thr)
{
        return thrd_code(pthread_detach((pthread_t)thr));
}

thrd_t thrd_current(void)
{
        return (thrd_t)pthread_self();
}

int mtx_init(mtx_t *m, int type)
{
        pthread_mutexattr_t attr;
        int err;

        pthread_mutexattr_init(&attr);
        if (type & mtx_recursive)
                pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        err = pthread_mutex_init((pthread_mutex_t *)m, &attr);
        pthread_mutexattr_destroy(&attr);
        return thrd_code(err);
}

int mtx_lock(mtx_t *m)
{
        return thrd_code(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
        return thrd_code(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
        return thrd_code(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m)
{
        return thrd_code(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
        pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
        return thrd_code(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
        return thrd_code(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
        return thrd_code(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
        return thrd_code(
            pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

/* C11 waits on the wall clock (TIME_UTC), as a default pthread
 * condition variable does. */
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                  const struct timespec *restrict ts)
{
        return thrd_code(pthread_cond_timedwait((pthread_cond_t *)c,
                                                (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c)
{
        pthread_cond_destroy((pthread_cond_t *)c);
}

void call_once(once_flag *flag, void (*fn)(void))
{
        pthread_once((pthread_once_t *)flag, fn);
}
