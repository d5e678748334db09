/* SIGHUP: the feed list read again and matched to the running one by
 * URL (a hash, not a search per feed): new feeds added and polled at
 * once, changed ones updated, removed ones taken off the schedule and
 * freed once idle. */
#include "producer/producer_internal.h"

void nt_pr_reload_feeds(nt_producer_t *p, nt_producer_reload_cb *reload,
                        void *ctx)
{
        struct nt_feed_list fresh;
        char errstr[1024];
        size_t i, added = 0, removed = 0;

        nt_feed_list_init(&fresh);
        if (reload(ctx, &fresh, errstr, sizeof(errstr)) != NT_OK) {
                NT_ERROR("producer",
                         "reload failed, keeping the old feed "
                         "list: %s",
                         errstr);
                nt_feed_list_free(&fresh);
                return;
        }
        for (i = 0; i < p->n_feeds; i++) {
                struct pfeed *f = p->feeds[i];
                /* One pass, the fresh list indexed by URL (feeds.h). */
                struct nt_feed_spec *s = nt_feed_list_find(&fresh, f->spec.url);

                if (!s) {
                        /* Not polled again; freed by nt_pr_reap_removed() once
                         * its fetch, articles and state are done with. */
                        removed += !f->removed;
                        f->removed = true;
                        nt_timer_heap_remove(&p->due, &f->due);
                        if (!f->on_removed) {
                                f->on_removed = true;
                                p->removed[p->n_removed++] = f;
                        }
                        continue;
                }
                /* Known feed: take all its new settings (name, headers,
                 * tags, interval), keep its URL string (work in flight
                 * refers to it), its state and its work. */
                if (f->removed) {
                        /* Back before it was freed: its schedule goes on. */
                        f->removed = false;
                        nt_pr_requeue(p, f);
                }
                {
                        struct nt_feed_spec old = f->spec;

                        f->spec = *s;
                        f->spec.url = old.url;
                        old.url = s->url;
                        memset(s, 0, sizeof(*s)); /* url NULL: handled */
                        nt_feed_spec_free(&old);
                }
                f->label = f->spec.name ? f->spec.name : f->spec.url;
                f->hints.interval_ms = f->spec.interval_ms;
        }
        for (i = 0; i < fresh.n; i++) {
                if (!fresh.feeds[i].url)
                        continue;
                if (nt_pr_add_feed(p, &fresh.feeds[i]) == NT_OK)
                        added++;
        }
        nt_feed_list_free(&fresh);
        NT_INFO("producer", "reloaded the feed list: %zu added, %zu removed",
                added, removed);
}

/* Frees removed feeds that have nothing in flight (the removed list
 * only: empty but after a reload that removed feeds). */
void nt_pr_reap_removed(nt_producer_t *p)
{
        size_t i = 0;

        while (i < p->n_removed) {
                struct pfeed *f = p->removed[i];

                if (f->removed &&
                    (f->fetching || json_object_size(f->pending) > 0 ||
                     f->dirty)) {
                        i++;
                        continue;
                }
                p->removed[i] = p->removed[--p->n_removed];
                f->on_removed = false;
                if (!f->removed)
                        continue; /* listed again by a later reload */
                p->feeds[f->idx] = p->feeds[--p->n_feeds];
                p->feeds[f->idx]->idx = f->idx;
                nt_pr_pfeed_free(f);
        }
}
