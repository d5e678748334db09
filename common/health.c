#include "common/health.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/log.h"
#include "common/num.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SNAPSHOT_MAX ((size_t)64 << 20)

/* How long a scrape waits for the loop to render the registry: the
 * loops publish once a second; a loop that does not come in this time is
 * stuck, and the scrape gets the last snapshot. */
#define SCRAPE_WAIT_MS 3000

/* The registry is the loop's own (not thread-safe), so the loop renders
 * it, but only for a scrape: rendering every series each second, scraped
 * or not, was most of an idle producer's CPU at 50,000 feeds (50,000
 * series and more). A publish renders when a scrape asked for it (or the
 * first time); otherwise it marks the snapshot stale. A scrape of a fresh
 * snapshot is answered at once; of a stale one, it asks and waits for the
 * next publish. What /metrics shows is the registry at that publish,
 * rendered as before. Each connection has its own thread, so a waiting
 * scrape holds up no /healthz. */
struct nt_health {
        struct MHD_Daemon *mhd;
        unsigned port;
        pthread_mutex_t lock; /* guards the members below */
        pthread_cond_t rendered;
        char *snapshot; /* rendered metrics */
        size_t snapshot_len;
        bool published; /* a loop has published at least once */
        bool stale;     /* publishes were skipped since the snapshot */
        bool wanted;    /* a scrape waits for a render */
        bool stopping;
        uint64_t renders;
        bool ready;
        char reason[256];
};

/* Under h->lock: until a publish renders the registry (after a wait for
 * a stale snapshot), the server stops, or the wait times out. */
static void wait_for_render(nt_health_t *h)
{
        struct timespec until;
        uint64_t seen = h->renders;

        if (!h->published || !h->stale)
                return;
        h->wanted = true;
        until = nt_date_mono_deadline(SCRAPE_WAIT_MS);
        while (h->renders == seen && !h->stopping) {
                if (pthread_cond_timedwait(&h->rendered, &h->lock, &until))
                        break;
        }
}

int nt_health_parse_listen(const char *listen, char *host, size_t host_size,
                           unsigned *port)
{
        return nt_config_parse_listen(listen, host, host_size, port, NULL, 0)
                   ? NT_ERR_INVALID
                   : NT_OK;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
                             const char *type, const char *body, size_t len)
{
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(len, (void *)body,
                                               MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", type);
        ret = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
        nt_health_t *h = cls;
        enum MHD_Result ret;
        char msg[300];

        (void)version;
        (void)upload;
        (void)upload_size;
        (void)con_cls;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                return reply(conn, 405, "text/plain", "method not allowed\n",
                             19);
        if (strcmp(url, "/healthz") == 0)
                return reply(conn, 200, "text/plain", "ok\n", 3);
        if (strcmp(url, "/readyz") == 0) {
                bool ready;

                pthread_mutex_lock(&h->lock);
                ready = h->ready;
                snprintf(msg, sizeof(msg), "%s\n", ready ? "ready" : h->reason);
                pthread_mutex_unlock(&h->lock);
                return reply(conn, ready ? 200 : 503, "text/plain", msg,
                             strlen(msg));
        }
        if (strcmp(url, "/metrics") == 0) {
                /* Copied out under the lock by MHD_RESPMEM_MUST_COPY. */
                pthread_mutex_lock(&h->lock);
                wait_for_render(h);
                ret = reply(conn, 200, "text/plain; version=0.0.4",
                            h->snapshot ? h->snapshot : "", h->snapshot_len);
                pthread_mutex_unlock(&h->lock);
                return ret;
        }
        return reply(conn, 404, "text/plain", "not found\n", 10);
}

nt_health_t *nt_health_start(const char *listen, char *errstr,
                             size_t errstr_size)
{
        struct sockaddr_in addr;
        const union MHD_DaemonInfo *info;
        char host[128], reason[256];
        unsigned port;
        nt_health_t *h;

        /* The same check as `config check`, so that both agree. */
        if (nt_config_parse_listen(listen, host, sizeof(host), &port, reason,
                                   sizeof(reason))) {
                nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                        "metrics.listen: %s", reason);
                return NULL;
        }
        memset(&addr, 0, sizeof(addr));
        addr.sin_family = AF_INET;
        addr.sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0)
                addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else
                inet_pton(AF_INET, host, &addr.sin_addr);
        h = calloc(1, sizeof(*h));
        if (!h) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&h->lock, NULL);
        if (nt_date_cond_init(&h->rendered)) {
                pthread_mutex_destroy(&h->lock);
                free(h);
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        snprintf(h->reason, sizeof(h->reason), "starting");
        h->mhd = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                MHD_USE_ERROR_LOG,
            0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, &addr,
            MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT,
            10u, MHD_OPTION_END);
        if (!h->mhd) {
                nt_errf(errstr, errstr_size, NT_ERR_IO,
                        "cannot listen on %s (address in use?)", listen);
                nt_health_stop(h);
                return NULL;
        }
        info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
        h->port = info ? info->port : port;
        return h;
}

void nt_health_stop(nt_health_t *h)
{
        if (!h)
                return;
        /* Waiting scrapes answer now, with what there is. */
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_cond_broadcast(&h->rendered);
        pthread_mutex_unlock(&h->lock);
        if (h->mhd)
                MHD_stop_daemon(h->mhd);
        free(h->snapshot);
        pthread_cond_destroy(&h->rendered);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

unsigned nt_health_port(const nt_health_t *h)
{
        return h->port;
}

int nt_health_publish(nt_health_t *h, const nt_metrics_t *m)
{
        struct nt_buf b;
        size_t len;
        char *old;
        int err;
        bool render;

        pthread_mutex_lock(&h->lock);
        render = h->wanted || !h->published;
        if (!render)
                h->stale = true;
        pthread_mutex_unlock(&h->lock);
        if (!render)
                return NT_OK;
        nt_buf_init(&b, SNAPSHOT_MAX);
        err = nt_metrics_write(m, &b);
        if (err) {
                nt_buf_free(&b);
                return err;
        }
        len = b.len;
        pthread_mutex_lock(&h->lock);
        old = h->snapshot;
        h->snapshot = nt_buf_detach(&b);
        h->snapshot_len = h->snapshot ? len : 0;
        h->published = true;
        h->stale = false;
        h->wanted = false;
        h->renders++;
        pthread_cond_broadcast(&h->rendered);
        pthread_mutex_unlock(&h->lock);
        free(old);
        return NT_OK;
}

void nt_health_set_ready(nt_health_t *h, bool ready, const char *reason)
{
        pthread_mutex_lock(&h->lock);
        h->ready = ready;
        snprintf(h->reason, sizeof(h->reason), "%s",
                 reason ? reason : (ready ? "ready" : "not ready"));
        pthread_mutex_unlock(&h->lock);
}

nt_health_t *nt_health_from_config(const nt_config_t *cfg,
                                   const char *component,
                                   const char *default_listen, bool daemon,
                                   int *err, char *errstr, size_t errstr_size)
{
        const char *enabled = nt_config_str(cfg, "metrics.enabled");
        const char *listen = nt_config_str(cfg, "metrics.listen");
        nt_health_t *h;

        *err = NT_OK;
        if (strcmp(enabled, "on") != 0 &&
            !(strcmp(enabled, "auto") == 0 && daemon))
                return NULL;
        h = nt_health_start(*listen ? listen : default_listen, errstr,
                            errstr_size);
        if (!h)
                *err = NT_ERR_IO;
        else
                NT_INFO(component, "metrics and health on port %u", h->port);
        return h;
}
