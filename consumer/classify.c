/* The classifier handle: a reference-counted compiled rule set and word
 * tables, plus per-handle scratch; and the JSON form of a result. */
#include "consumer/classify.h"

#include "common/buf.h"
#include "common/err.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What all forks of a classifier share; freed with the last of them. */
struct shared {
        atomic_int refs;
        nt_match_t *match;
        nt_enrich_t *enrich;
};

struct nt_classifier {
        struct shared *sh;
        nt_match_scratch_t *scratch;
        struct nt_fact_anchor *anchors;
        size_t anchors_cap;
        struct nt_fact facts[NT_CLASSIFY_MAX_FACTS];
};

static void shared_release(struct shared *sh)
{
        if (!sh || atomic_fetch_sub(&sh->refs, 1) != 1)
                return;
        nt_match_destroy(sh->match);
        nt_enrich_destroy(sh->enrich);
        free(sh);
}

static nt_classifier_t *handle_new(struct shared *sh)
{
        nt_classifier_t *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->scratch = nt_match_scratch_new(sh->match);
        if (!c->scratch) {
                free(c);
                return NULL;
        }
        atomic_fetch_add(&sh->refs, 1);
        c->sh = sh;
        return c;
}

nt_classifier_t *nt_classifier_new_from_rules(struct nt_rules *rules,
                                              char *errstr, size_t errstr_size)
{
        struct shared *sh = calloc(1, sizeof(*sh));
        nt_classifier_t *c = NULL;

        if (!sh) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        atomic_init(&sh->refs, 0);
        sh->enrich = nt_enrich_new();
        if (!sh->enrich) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto fail;
        }
        if (nt_match_compile(rules, &sh->match, errstr, errstr_size))
                goto fail;
        c = handle_new(sh);
        if (!c) {
                /* The matcher owns the rules now: take them back, as the
                 * caller still owns them on failure. */
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                nt_match_release(sh->match);
                nt_enrich_destroy(sh->enrich);
                free(sh);
        }
        return c;
fail:
        nt_enrich_destroy(sh->enrich);
        free(sh);
        return NULL;
}

nt_classifier_t *nt_classifier_new(const char *const *rule_files, size_t n,
                                   char *errstr, size_t errstr_size)
{
        struct nt_rules *rules = NULL;
        nt_classifier_t *c;

        if (nt_rules_load_files(rule_files, n, &rules, NULL, errstr,
                                errstr_size))
                return NULL;
        c = nt_classifier_new_from_rules(rules, errstr, errstr_size);
        if (!c)
                nt_rules_destroy(rules);
        return c;
}

nt_classifier_t *nt_classifier_from_paths(const char *const *paths, size_t n,
                                          char *errstr, size_t errstr_size)
{
        nt_classifier_t *c = NULL;
        char **files = NULL;
        size_t n_files = 0;

        if (nt_rules_expand_paths(paths, n, &files, &n_files, errstr,
                                  errstr_size) == NT_OK) {
                if (n_files == 0)
                        nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                "no *.rules files in %s",
                                n > 0 ? paths[0] : "(no paths)");
                else
                        c = nt_classifier_new((const char *const *)files,
                                              n_files, errstr, errstr_size);
        }
        nt_rules_free_paths(files, n_files);
        return c;
}

nt_classifier_t *nt_classifier_fork(const nt_classifier_t *c)
{
        return handle_new(c->sh);
}

void nt_classifier_destroy(nt_classifier_t *c)
{
        if (!c)
                return;
        nt_match_scratch_destroy(c->scratch);
        free(c->anchors);
        shared_release(c->sh);
        free(c);
}

const char *nt_classifier_rules_version(const nt_classifier_t *c)
{
        return nt_match_rules(c->sh->match)->version;
}

const nt_match_t *nt_classifier_matcher(const nt_classifier_t *c)
{
        return c->sh->match;
}

size_t nt_classifier_term_hits(const nt_classifier_t *c, uint32_t term)
{
        return nt_match_term_hits(c->scratch, term);
}

const struct nt_match_occ *nt_classifier_term_occ(const nt_classifier_t *c,
                                                  uint32_t term, size_t *n)
{
        return nt_match_term_occ(c->scratch, term, n);
}

int nt_classifier_match(nt_classifier_t *c, const struct nt_text_fields *in,
                        struct nt_classifier_result *out, char *errstr,
                        size_t errstr_size)
{
        const struct nt_match_result *mr = &out->match;
        size_t i, k, n = 0;
        int err;

        memset(out, 0, sizeof(*out));
        err = nt_match_run(c->sh->match, c->scratch, in, &out->match);
        if (err == NT_ERR_LIMIT)
                return nt_errf(errstr, errstr_size, err,
                               "text has more than %u words",
                               NT_MATCH_MAX_TOKENS);
        if (err)
                return nt_errf(errstr, errstr_size, err, "classifying: %s",
                               nt_err_name(err));
        /* Facts are looked for near the words of the labelled topics:
         * every occurrence of any of their terms, evidence or not. */
        for (i = 0; i < mr->n_topics; i++) {
                const struct nt_match_topic *tp = &mr->topics[i];
                const uint32_t *terms;
                size_t n_terms, t;

                if (!tp->labelled)
                        continue;
                terms = nt_match_topic_terms(c->sh->match, tp->topic, &n_terms);
                for (t = 0; t < n_terms; t++) {
                        const struct nt_match_occ *occ;
                        size_t n_occ;

                        occ = nt_match_term_occ(c->scratch, terms[t], &n_occ);
                        /* Room enough is the usual case: no call for
                         * it in this loop over every term. */
                        if (n + n_occ > c->anchors_cap &&
                            nt_array_grow(&c->anchors, &c->anchors_cap,
                                          n + n_occ, sizeof(*c->anchors)))
                                return nt_errf(errstr, errstr_size,
                                               NT_ERR_NOMEM, "out of memory");
                        for (k = 0; k < n_occ; k++) {
                                c->anchors[n].tok_start = occ[k].start;
                                c->anchors[n].tok_end = occ[k].end;
                                n++;
                        }
                }
        }
        out->n_facts =
            n ? nt_enrich_facts(c->sh->enrich, mr->tokens, c->anchors, n,
                                c->facts, NT_CLASSIFY_MAX_FACTS)
              : 0;
        out->facts = c->facts;
        nt_enrich_text(c->sh->enrich, mr->tokens, &out->language,
                       &out->fingerprint);
        return 0;
}

/* Adds a new reference under key; false when either is NULL. */
static int set_new(json_t *obj, const char *key, json_t *v)
{
        return v && json_object_set_new(obj, key, v) == 0;
}

static int append_new(json_t *arr, json_t *v)
{
        return v && json_array_append_new(arr, v) == 0;
}

/* The original text of a span. Token spans are valid UTF-8 by
 * construction, but a fact's span also covers the bytes between its
 * number and its unit, which in a broken text may be invalid: such a span
 * is given as "" (its offsets still say where it is). */
static json_t *text_json(const struct nt_text_fields *in, uint8_t field,
                         uint32_t start, uint32_t end)
{
        json_t *s = json_stringn(in->text[field] + start, end - start);

        return s ? s : json_string("");
}

static json_t *number_json(double v)
{
        if (v == (double)(long long)v)
                return json_integer((json_int_t)v);
        return json_real(v);
}

static json_t *labels_json(const nt_match_t *m,
                           const struct nt_match_result *mr,
                           const struct nt_text_fields *in)
{
        const struct nt_rules *r = nt_match_rules(m);
        json_t *labels = json_array();
        size_t i, k;

        for (i = 0; labels && i < mr->n_topics; i++) {
                const struct nt_match_topic *tp = &mr->topics[i];
                const struct nt_rules_topic *rt = &r->topics[tp->topic];
                json_t *lab, *ev;

                if (!tp->labelled)
                        continue;
                lab = json_object();
                if (!append_new(labels, lab) ||
                    !set_new(lab, "topic", json_string(rt->id)) ||
                    !set_new(lab, "label", json_string(rt->label)) ||
                    !set_new(lab, "score", number_json(tp->score)) ||
                    !set_new(lab, "evidence", json_array()))
                        goto fail;
                ev = json_object_get(lab, "evidence");
                for (k = 0; k < tp->n_ev && k < NT_CLASSIFY_MAX_EVIDENCE; k++) {
                        const struct nt_match_evidence *e = &tp->ev[k];
                        json_t *o = json_object();

                        if (!append_new(ev, o) ||
                            !set_new(o, "field",
                                     json_string(nt_field_name(e->field))) ||
                            !set_new(o, "start", json_integer(e->start)) ||
                            !set_new(o, "end", json_integer(e->end)) ||
                            !set_new(
                                o, "text",
                                text_json(in, e->field, e->start, e->end)) ||
                            !set_new(o, "rule",
                                     json_string(r->terms[e->term].rule)))
                                goto fail;
                }
        }
        return labels;
fail:
        json_decref(labels);
        return NULL;
}

int nt_classifier_run(nt_classifier_t *c, const struct nt_text_fields *in,
                      json_t **result, char *errstr, size_t errstr_size)
{
        const struct nt_rules *r = nt_match_rules(c->sh->match);
        struct nt_classifier_result res;
        char hex[17];
        json_t *out = NULL, *arr;
        size_t i;
        int err;

        *result = NULL;
        err = nt_classifier_match(c, in, &res, errstr, errstr_size);
        if (err)
                return err;
        out = json_object();
        if (!out ||
            !set_new(out, "labels", labels_json(c->sh->match, &res.match, in)))
                goto nomem;
        arr = json_array();
        if (!set_new(out, "entities", arr))
                goto nomem;
        for (i = 0; i < res.match.n_entities; i++) {
                const struct nt_rules_entity *en =
                    &r->entities[res.match.entities[i].entity];
                json_t *o = json_object();

                if (!append_new(arr, o) ||
                    !set_new(o, "name", json_string(en->name)) ||
                    !set_new(o, "type",
                             json_string(nt_entity_type_name(en->type))) ||
                    !set_new(o, "count",
                             json_integer(res.match.entities[i].count)))
                        goto nomem;
        }
        arr = json_array();
        if (!set_new(out, "facts", arr))
                goto nomem;
        for (i = 0; i < res.n_facts; i++) {
                const struct nt_fact *f = &res.facts[i];
                json_t *o = json_object();

                if (!append_new(arr, o) ||
                    !set_new(o, "type",
                             json_string(nt_fact_type_name(f->type))) ||
                    !set_new(o, "value", number_json(f->value)) ||
                    !set_new(o, "unit", json_string(f->unit)) ||
                    !set_new(o, "text",
                             text_json(in, f->field, f->start, f->end)) ||
                    !set_new(o, "field", json_string(nt_field_name(f->field))))
                        goto nomem;
        }
        snprintf(hex, sizeof(hex), "%016llx",
                 (unsigned long long)res.fingerprint);
        if (!set_new(out, "language",
                     json_string(nt_lang_name(res.language))) ||
            !set_new(out, "fingerprint", json_string(hex)) ||
            !set_new(out, "rules_version", json_string(r->version)))
                goto nomem;
        *result = out;
        return 0;
nomem:
        json_decref(out);
        return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                       "building the result: out of memory");
}
