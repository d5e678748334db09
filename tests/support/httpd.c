#include "support/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* Enough for the producer benchmark's 5,000 feeds; lookups are linear,
 * which is fine for a test server. */
#define MAX_ROUTES 8192
#define MAX_LOG    8192

struct nt_httpd {
        struct MHD_Daemon *mhd;
        char url[64];
        pthread_mutex_t lock;
        struct nt_httpd_route routes[MAX_ROUTES];
        char *bodies[MAX_ROUTES];
        size_t n_routes;
        struct nt_httpd_request log[MAX_LOG];
        size_t n_log;
        unsigned char *bomb; /* gzip of ~1 GiB of zeros, made once */
        size_t bomb_len;
};

struct slow_state {
        char *body;
        size_t len;
        int delay_ms;
};

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *buf,
                        size_t size)
{
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

        snprintf(buf, size, "%s", v ? v : "");
}

static ssize_t endless_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void)cls;
        (void)pos;
        memset(buf, 'x', max);
        return (ssize_t)max;
}

static ssize_t slow_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
        struct slow_state *st = cls;
        struct timespec d = {st->delay_ms / 1000,
                             (long)(st->delay_ms % 1000) * 1000000L};
        size_t n;

        if (pos >= st->len)
                return MHD_CONTENT_READER_END_OF_STREAM;
        /* This is the server's behaviour under test (a slow publisher),
         * not a test waiting for something. */
        nanosleep(&d, NULL);
        n = st->len - (size_t)pos;
        if (n > 64)
                n = 64;
        if (n > max)
                n = max;
        memcpy(buf, st->body + pos, n);
        return (ssize_t)n;
}

static void slow_free(void *cls)
{
        struct slow_state *st = cls;

        free(st->body);
        free(st);
}

static void add_headers(struct MHD_Response *resp, const char *lines)
{
        char buf[512], *line, *save = NULL;

        snprintf(buf, sizeof(buf), "%s", lines);
        for (line = strtok_r(buf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                colon++;
                while (*colon == ' ')
                        colon++;
                MHD_add_response_header(resp, line, colon);
        }
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
        nt_httpd_t *srv = cls;
        struct nt_httpd_request req;
        struct nt_httpd_route route;
        struct MHD_Response *resp = NULL;
        char *body = NULL;
        size_t i, body_len = 0;
        int found = 0, status;
        enum MHD_Result ret;

        (void)method;
        (void)version;
        (void)upload;
        (void)upload_size;
        (void)con_cls;
        memset(&req, 0, sizeof(req));
        snprintf(req.path, sizeof(req.path), "%s", url);
        copy_header(conn, "If-None-Match", req.if_none_match,
                    sizeof(req.if_none_match));
        copy_header(conn, "If-Modified-Since", req.if_modified_since,
                    sizeof(req.if_modified_since));
        copy_header(conn, "User-Agent", req.user_agent, sizeof(req.user_agent));
        copy_header(conn, "Accept-Encoding", req.accept_encoding,
                    sizeof(req.accept_encoding));
        req.at_ms = mono_ms();

        pthread_mutex_lock(&srv->lock);
        for (i = 0; i < srv->n_routes; i++) {
                if (strcmp(srv->routes[i].path, req.path) == 0) {
                        route = srv->routes[i];
                        if (srv->bodies[i]) {
                                body_len = route.body_len;
                                body = malloc(body_len + 1);
                                if (body)
                                        memcpy(body, srv->bodies[i], body_len);
                        }
                        found = 1;
                        break;
                }
        }
        pthread_mutex_unlock(&srv->lock);

        if (!found) {
                status = 404;
                resp = MHD_create_response_from_buffer(9, (void *)"not found",
                                                       MHD_RESPMEM_PERSISTENT);
        } else if ((route.etag[0] &&
                    strcmp(req.if_none_match, route.etag) == 0) ||
                   (route.last_modified[0] && !route.etag[0] &&
                    strcmp(req.if_modified_since, route.last_modified) == 0)) {
                status = 304;
                resp = MHD_create_response_from_buffer(0, (void *)"",
                                                       MHD_RESPMEM_PERSISTENT);
        } else if (route.kind == NT_HTTPD_ENDLESS) {
                status = 200;
                resp = MHD_create_response_from_callback(
                    MHD_SIZE_UNKNOWN, 16384, endless_cb, NULL, NULL);
        } else if (route.kind == NT_HTTPD_GZIP_BOMB) {
                status = 200;
                resp = MHD_create_response_from_buffer(srv->bomb_len, srv->bomb,
                                                       MHD_RESPMEM_PERSISTENT);
                MHD_add_response_header(resp, "Content-Encoding", "gzip");
        } else if (route.kind == NT_HTTPD_SLOW) {
                struct slow_state *st = calloc(1, sizeof(*st));
                status = route.status;
                st->body = body;
                st->len = body_len;
                st->delay_ms = route.delay_ms;
                body = NULL;
                resp = MHD_create_response_from_callback(st->len, 64, slow_cb,
                                                         st, slow_free);
        } else {
                status = route.status;
                resp = MHD_create_response_from_buffer(
                    body_len, body ? body : (void *)"",
                    body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
                body = NULL;
        }
        free(body);
        if (found) {
                add_headers(resp, route.headers);
                if (route.etag[0])
                        MHD_add_response_header(resp, "ETag", route.etag);
                if (route.last_modified[0])
                        MHD_add_response_header(resp, "Last-Modified",
                                                route.last_modified);
        }
        req.status = status;
        pthread_mutex_lock(&srv->lock);
        if (srv->n_log < MAX_LOG)
                srv->log[srv->n_log++] = req;
        pthread_mutex_unlock(&srv->lock);
        ret = MHD_queue_response(conn, (unsigned)status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* gzip of 256 MiB of zeros, about 256 KiB on the wire: far past any body
 * limit once inflated. Made when a test first routes a bomb. */
static int make_bomb(nt_httpd_t *srv)
{
        static unsigned char zeros[1 << 16];
        size_t cap = 1 << 20;
        z_stream zs;
        int i, rc;

        memset(&zs, 0, sizeof(zs));
        srv->bomb = malloc(cap);
        if (!srv->bomb ||
            deflateInit2(&zs, 6, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK)
                return -1;
        zs.next_out = srv->bomb;
        zs.avail_out = (uInt)cap;
        for (i = 0; i < (1 << 12); i++) {
                zs.next_in = zeros;
                zs.avail_in = sizeof(zeros);
                rc = deflate(&zs, i == (1 << 12) - 1 ? Z_FINISH : Z_NO_FLUSH);
                if (rc == Z_STREAM_ERROR || zs.avail_out == 0) {
                        deflateEnd(&zs);
                        return -1;
                }
        }
        srv->bomb_len = cap - zs.avail_out;
        deflateEnd(&zs);
        return 0;
}

nt_httpd_t *nt_httpd_start(void)
{
        nt_httpd_t *srv = calloc(1, sizeof(*srv));
        const union MHD_DaemonInfo *info;
        struct sockaddr_in addr;

        if (!srv)
                return NULL;
        pthread_mutex_init(&srv->lock, NULL);
        memset(&addr, 0, sizeof(addr));
        addr.sin_family = AF_INET;
        addr.sin_port = 0;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        srv->mhd = MHD_start_daemon(
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
            NULL, NULL, handler, srv, MHD_OPTION_SOCK_ADDR, &addr,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
        if (!srv->mhd)
                goto fail;
        info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
        snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%u",
                 (unsigned)info->port);
        return srv;
fail:
        nt_httpd_stop(srv);
        return NULL;
}

void nt_httpd_stop(nt_httpd_t *srv)
{
        size_t i;

        if (!srv)
                return;
        if (srv->mhd)
                MHD_stop_daemon(srv->mhd);
        for (i = 0; i < srv->n_routes; i++)
                free(srv->bodies[i]);
        free(srv->bomb);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
}

const char *nt_httpd_url(const nt_httpd_t *srv)
{
        return srv->url;
}

void nt_httpd_route(nt_httpd_t *srv, const struct nt_httpd_route *r)
{
        char *body = NULL;
        size_t i;

        if (r->kind == NT_HTTPD_GZIP_BOMB && !srv->bomb && make_bomb(srv))
                abort(); /* out of memory in a test helper */
        if (r->body) {
                body = malloc(r->body_len + 1);
                if (!body)
                        abort();
                memcpy(body, r->body, r->body_len);
        }
        pthread_mutex_lock(&srv->lock);
        for (i = 0; i < srv->n_routes; i++)
                if (strcmp(srv->routes[i].path, r->path) == 0)
                        break;
        if (i == srv->n_routes) {
                if (srv->n_routes == MAX_ROUTES)
                        abort(); /* a test with this many routes is wrong */
                srv->n_routes++;
        } else {
                free(srv->bodies[i]);
        }
        srv->routes[i] = *r;
        srv->routes[i].body = NULL;
        srv->bodies[i] = body;
        pthread_mutex_unlock(&srv->lock);
}

void nt_httpd_serve(nt_httpd_t *srv, const char *path, int status,
                    const char *headers, const char *body, const char *etag)
{
        struct nt_httpd_route r;

        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "%s", path);
        r.status = status;
        snprintf(r.headers, sizeof(r.headers), "%s", headers ? headers : "");
        r.body = body;
        r.body_len = body ? strlen(body) : 0;
        if (etag)
                snprintf(r.etag, sizeof(r.etag), "%s", etag);
        nt_httpd_route(srv, &r);
}

size_t nt_httpd_requests(nt_httpd_t *srv, const char *path,
                         struct nt_httpd_request *out, size_t max)
{
        size_t i, n = 0;

        pthread_mutex_lock(&srv->lock);
        for (i = 0; i < srv->n_log; i++) {
                if (path && strcmp(srv->log[i].path, path) != 0)
                        continue;
                if (n < max)
                        out[n] = srv->log[i];
                n++;
        }
        pthread_mutex_unlock(&srv->lock);
        return n;
}

unsigned nt_httpd_free_port(void)
{
        struct sockaddr_in a;
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        unsigned port = 0;

        if (fd < 0)
                return 0;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        close(fd);
        return port;
}
