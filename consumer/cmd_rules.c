/* `newstap rules check | explain`: validate rule files; show why a text
 * receives its labels, or misses them. */
#include "common/buf.h"
#include "common/cli.h"
#include "consumer/commands.h"
#include "common/err.h"
#include "consumer/classify.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_RULES_DIR "config/rules"
#define MAX_TEXT_BYTES    (16u << 20)

static const char rules_help[] =
    "Usage: newstap rules check [FILE|DIR...]\n"
    "       newstap rules explain [--rules FILE|DIR]... [--title T] "
    "[--lead T]\n"
    "                             [--text T | FILE | -] [--json]\n"
    "\n"
    "check    parse and check the rule files as one set (default: the\n"
    "         *.rules files of " DEFAULT_RULES_DIR
    "); print what they define,\n"
    "         or every error as `file:line:col: message`. Exit 0 when the\n"
    "         set is valid, 2 when it is not.\n"
    "explain  classify one text with the rules and show, for each topic,\n"
    "         its score against its threshold, whether it is labelled, the\n"
    "         terms that fired and the matched spans; then the entities,\n"
    "         facts, language and fingerprint. The body is --text, or the\n"
    "         contents of FILE (\"-\" for standard input).\n"
    "\n"
    "Options:\n"
    "  --rules FILE|DIR  rule files (repeatable; a directory means its\n"
    "                    *.rules files; default " DEFAULT_RULES_DIR ")\n"
    "  --title T         the article's title\n"
    "  --lead T          the article's lead (summary or first paragraph)\n"
    "  --text T          the article's body\n"
    "  --json            print the classifier's JSON result instead\n"
    "  -h, --help        show this help\n"
    "\n"
    "The rules language is described in docs/rules.md.\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or rules error.\n";

/* Reads a whole file ("-": standard input) of at most MAX_TEXT_BYTES. */
static int read_text(const char *path, struct nt_buf *b)
{
        FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        char chunk[8192];
        size_t n;
        int err = 0;

        if (!f) {
                fprintf(stderr, "newstap rules: %s: cannot open: ", path);
                perror(NULL);
                return NT_ERR_IO;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                err = nt_buf_append(b, chunk, n);
                if (err) {
                        fprintf(stderr,
                                "newstap rules: %s: larger than %u bytes\n",
                                path, MAX_TEXT_BYTES);
                        break;
                }
        }
        if (!err && ferror(f)) {
                fprintf(stderr, "newstap rules: %s: read error\n", path);
                err = NT_ERR_IO;
        }
        if (f != stdin)
                fclose(f);
        return err;
}

/* Loads the rules from the given paths (or the default directory),
 * printing every error. Returns the set, or NULL with *code set. */
static struct nt_rules *load_rules(const char *const *in, size_t n_in,
                                   size_t *n_files, int *code)
{
        static const char *const def[] = {DEFAULT_RULES_DIR};
        struct nt_rules *rules = NULL;
        struct nt_buf diag;
        char errstr[512] = "", **paths = NULL;
        size_t n_paths = 0;
        int err;

        nt_buf_init(&diag, 1u << 20);
        if (n_in == 0) {
                in = def;
                n_in = 1;
        }
        err = nt_rules_expand_paths(in, n_in, &paths, &n_paths, errstr,
                                    sizeof(errstr));
        if (!err)
                err =
                    nt_rules_load_files((const char *const *)paths, n_paths,
                                        &rules, &diag, errstr, sizeof(errstr));
        if (err) {
                if (diag.len)
                        fputs(nt_buf_str(&diag), stderr);
                else
                        fprintf(stderr, "newstap rules: %s\n", errstr);
                *code = err == NT_ERR_NOMEM ? 1 : 2;
        }
        *n_files = n_paths;
        nt_buf_free(&diag);
        nt_rules_free_paths(paths, n_paths);
        return rules;
}

static int cmd_check(int argc, char **argv)
{
        struct nt_rules *rules;
        nt_match_t *m = NULL;
        char errstr[256];
        size_t n_files = 0;
        int code = 0;

        rules = load_rules((const char *const *)argv, (size_t)argc, &n_files,
                           &code);
        if (!rules)
                return code;
        printf("OK: %zu files, %zu topics, %zu entities, %zu lists, %zu "
               "terms",
               n_files, rules->n_topics, rules->n_entities, rules->n_defines,
               rules->n_terms);
        if (nt_match_compile(rules, &m, errstr, sizeof(errstr)) == 0) {
                printf(", %zu distinct words and prefixes",
                       nt_match_lexeme_count(m));
                rules = NULL; /* the matcher owns them */
        }
        printf("; rules_version %s\n",
               m ? nt_match_rules(m)->version : rules->version);
        nt_match_destroy(m);
        nt_rules_destroy(rules);
        return 0;
}

/* Prints a span of text on one line: newlines and tabs as spaces. */
static void print_span(const char *s, size_t n)
{
        size_t i;

        putchar('"');
        for (i = 0; i < n; i++)
                putchar(s[i] == '\n' || s[i] == '\t' || s[i] == '\r' ? ' '
                                                                     : s[i]);
        putchar('"');
}

/* The sentences of the last run, for explaining: sentence of each token. */
struct sentences {
        const struct nt_tokens *toks;
        uint32_t *of; /* per token */
        size_t n;
};

/* Prints sentence k on one line, the tokens in `mark` (a flag per token)
 * in [brackets]. */
static void print_sentence(const struct sentences *ss,
                           const struct nt_text_fields *in, uint32_t k,
                           const unsigned char *mark)
{
        size_t i, first = SIZE_MAX, last = 0;
        const char *text;
        uint32_t at;

        for (i = 0; i < ss->toks->n; i++)
                if (ss->of[i] == k) {
                        if (first == SIZE_MAX)
                                first = i;
                        last = i;
                }
        if (first == SIZE_MAX)
                return;
        text = in->text[ss->toks->tok[first].field];
        at = ss->toks->tok[first].start;
        printf("    %-5s \"", nt_field_name(ss->toks->tok[first].field));
        for (i = first; i <= last; i++) {
                const struct nt_token *t = &ss->toks->tok[i];

                for (; at < t->start; at++)
                        putchar(text[at] == '\n' || text[at] == '\t' ||
                                        text[at] == '\r'
                                    ? ' '
                                    : text[at]);
                if (mark[i])
                        putchar('[');
                fwrite(text + t->start, 1, t->end - t->start, stdout);
                if (mark[i])
                        putchar(']');
                at = t->end;
        }
        printf("\"\n");
}

/* For a topic without the label: the sentence that holds the most
 * distinct terms of the topic's match, and which ones, so that a rule
 * writer sees what was missing there ("a guarantee word, no security
 * word in the same sentence"). */
static void explain_nearest_miss(const nt_classifier_t *c,
                                 const struct nt_text_fields *in,
                                 const struct sentences *ss, uint32_t topic,
                                 unsigned char *mark)
{
        const nt_match_t *m = nt_classifier_matcher(c);
        const struct nt_rules *r = nt_match_rules(m);
        const uint32_t *terms;
        size_t n_terms, i, k, n_occ, best_n = 0;
        uint32_t best = UINT32_MAX, s;
        uint32_t *count = calloc(ss->n + 1, sizeof(*count));
        uint32_t *seen = calloc(ss->n + 1, sizeof(*seen));

        if (!count || !seen)
                goto out;
        terms = nt_match_topic_terms(m, topic, &n_terms);
        for (i = 0; i < n_terms; i++) {
                const struct nt_match_occ *o =
                    nt_classifier_term_occ(c, terms[i], &n_occ);

                for (k = 0; k < n_occ; k++) {
                        s = ss->of[o[k].start];
                        if (seen[s] == i + 1)
                                continue;
                        seen[s] = (uint32_t)i + 1;
                        count[s]++;
                        if (count[s] > best_n) {
                                best_n = count[s];
                                best = s;
                        }
                }
        }
        if (best == UINT32_MAX)
                goto out;
        printf("  nearest miss, %zu of its terms in one sentence:\n", best_n);
        memset(mark, 0, ss->toks->n);
        for (i = 0; i < n_terms; i++) {
                const struct nt_match_occ *o =
                    nt_classifier_term_occ(c, terms[i], &n_occ);
                int shown = 0;

                for (k = 0; k < n_occ; k++) {
                        if (ss->of[o[k].start] != best)
                                continue;
                        for (s = o[k].start; s <= o[k].end; s++)
                                mark[s] = 1;
                        if (!shown)
                                printf("    found %s\n",
                                       r->terms[terms[i]].rule);
                        shown = 1;
                }
        }
        print_sentence(ss, in, best, mark);
        printf("    (no clause of the match holds in it)\n");
out:
        free(count);
        free(seen);
}

static void explain_topic(const nt_classifier_t *c,
                          const struct nt_text_fields *in,
                          const struct sentences *ss,
                          const struct nt_match_topic *res, uint32_t topic,
                          unsigned char *mark)
{
        const nt_match_t *m = nt_classifier_matcher(c);
        const struct nt_rules *r = nt_match_rules(m);
        const struct nt_rules_topic *tp = &r->topics[topic];
        const uint32_t *terms;
        size_t n_terms, i, k, hits;
        uint32_t last;
        char where[300];

        printf("topic %s \"%s\": %s, score %.2f / threshold %.2f\n", tp->id,
               tp->label, res && res->labelled ? "LABELLED" : "not labelled",
               res ? res->score : 0.0, tp->threshold);
        if (!res) {
                printf("  none of its terms occur\n\n");
                return;
        }
        printf("  match %s", res->matched ? "true" : "false");
        if (tp->require != NT_RULES_NONE)
                printf(", require %s", !res->matched   ? "not evaluated"
                                       : res->required ? "true"
                                                       : "false");
        if (tp->exclude != NT_RULES_NONE)
                printf(", exclude %s", !res->matched   ? "not evaluated"
                                       : res->excluded ? "true (vetoed)"
                                                       : "false");
        if (tp->veto != NT_RULES_NONE)
                printf(", %u match%s dropped by the sentence veto",
                       res->n_vetoed, res->n_vetoed == 1 ? "" : "es");
        printf("\n  terms present:\n");
        terms = nt_match_topic_terms(m, topic, &n_terms);
        for (i = 0; i < n_terms; i++) {
                int used = 0;

                hits = nt_classifier_term_hits(c, terms[i]);
                if (!hits)
                        continue;
                for (k = 0; k < res->n_ev; k++)
                        if (res->ev[k].term == terms[i])
                                used++;
                printf("    %-40s %s  %zu hit%s, %d in evidence\n",
                       r->terms[terms[i]].rule,
                       nt_rules_loc_str(r, r->terms[terms[i]].loc, where,
                                        sizeof(where)),
                       hits, hits == 1 ? "" : "s", used);
        }
        if (res->n_ev)
                printf("  evidence (field bytes text rule):\n");
        for (k = 0; k < res->n_ev; k++) {
                const struct nt_match_evidence *e = &res->ev[k];

                printf("    %-5s %u-%u ", nt_field_name(e->field), e->start,
                       e->end);
                print_span(in->text[e->field] + e->start, e->end - e->start);
                printf("  %s\n", r->terms[e->term].rule);
        }
        if (res->n_ev && ss->of) {
                /* The deciding sentences, evidence marked. Evidence is in
                 * text order, so equal sentences are adjacent. */
                printf("  deciding sentences:\n");
                memset(mark, 0, ss->toks->n);
                for (k = 0; k < res->n_ev; k++)
                        for (i = res->ev[k].tok_start; i <= res->ev[k].tok_end;
                             i++)
                                mark[i] = 1;
                last = UINT32_MAX;
                for (k = 0; k < res->n_ev; k++) {
                        uint32_t s = ss->of[res->ev[k].tok_start];

                        if (s != last)
                                print_sentence(ss, in, s, mark);
                        last = s;
                }
        }
        if (!res->labelled && res->matched)
                printf("  the match holds; %s\n",
                       !res->required  ? "require is false"
                       : res->excluded ? "exclude vetoes the article"
                                       : "the score is below the threshold");
        else if (!res->labelled && res->n_vetoed)
                printf("  every match was in a sentence the veto drops\n");
        else if (!res->labelled && ss->of)
                explain_nearest_miss(c, in, ss, topic, mark);
        putchar('\n');
}

static int explain(nt_classifier_t *c, const struct nt_text_fields *in,
                   int as_json)
{
        const struct nt_rules *r = nt_match_rules(nt_classifier_matcher(c));
        struct nt_classifier_result res;
        struct sentences ss;
        unsigned char *mark;
        char errstr[256];
        size_t i, k;
        json_t *out;

        if (as_json) {
                if (nt_classifier_run(c, in, &out, errstr, sizeof(errstr))) {
                        fprintf(stderr, "newstap rules: %s\n", errstr);
                        return 1;
                }
                json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                putchar('\n');
                json_decref(out);
                return 0;
        }
        if (nt_classifier_match(c, in, &res, errstr, sizeof(errstr))) {
                fprintf(stderr, "newstap rules: %s\n", errstr);
                return 1;
        }
        printf("rules_version %s; %zu words; language %s; fingerprint "
               "%016llx%s\n\n",
               r->version, res.match.tokens->n, nt_lang_name(res.language),
               (unsigned long long)res.fingerprint,
               res.match.truncated ? "; evaluation truncated at a limit" : "");
        ss.toks = res.match.tokens;
        ss.of = calloc(ss.toks->n + 1, sizeof(*ss.of));
        mark = calloc(ss.toks->n + 1, 1);
        if (!ss.of || !mark) {
                free(ss.of);
                free(mark);
                fprintf(stderr, "newstap rules: out of memory\n");
                return 1;
        }
        ss.n = nt_tokens_sentences(ss.toks, in, ss.of, NULL);
        for (i = 0; i < r->n_topics; i++) {
                const struct nt_match_topic *found = NULL;

                for (k = 0; k < res.match.n_topics; k++)
                        if (res.match.topics[k].topic == i)
                                found = &res.match.topics[k];
                explain_topic(c, in, &ss, found, (uint32_t)i, mark);
        }
        free(ss.of);
        free(mark);
        printf("entities:%s\n", res.match.n_entities ? "" : " none");
        for (i = 0; i < res.match.n_entities; i++) {
                const struct nt_rules_entity *en =
                    &r->entities[res.match.entities[i].entity];

                printf("  %s (%s) x%u\n", en->name,
                       nt_entity_type_name(en->type),
                       res.match.entities[i].count);
        }
        printf("facts:%s\n", res.n_facts ? "" : " none");
        for (i = 0; i < res.n_facts; i++) {
                const struct nt_fact *f = &res.facts[i];

                printf("  %s %g %s ", nt_fact_type_name(f->type), f->value,
                       f->unit);
                print_span(in->text[f->field] + f->start, f->end - f->start);
                printf(" (%s %u-%u)\n", nt_field_name(f->field), f->start,
                       f->end);
        }
        return 0;
}

/* What `rules explain` was given: the text and the output format. */
struct explain_opts {
        struct nt_text_fields in;
        bool as_json;
        int have_text; /* --text given (it may be empty) */
};

static int explain_option(struct nt_cli *cli, void *opaque, int opt,
                          const char *arg)
{
        struct explain_opts *eo = opaque;
        enum nt_field field;

        (void)cli;

        switch (opt) {
        case 't':
                field = NT_FIELD_TITLE;
                break;
        case 'l':
                field = NT_FIELD_LEAD;
                break;
        case 'b':
                field = NT_FIELD_BODY;
                eo->have_text = 1;
                break;
        default:
                return 2;
        }
        eo->in.text[field] = arg;
        eo->in.len[field] = strlen(arg);
        return 0;
}

static int cmd_explain(int argc, char **argv)
{
        struct explain_opts eo;
        const struct nt_cli_option options[] = {
            {.name = "rules", .kind = NT_CLI_REPEAT},
            {.name = "title", .kind = NT_CLI_CALL, .id = 't'},
            {.name = "lead", .kind = NT_CLI_CALL, .id = 'l'},
            {.name = "text", .kind = NT_CLI_CALL, .id = 'b'},
            {.name = "json", .kind = NT_CLI_FLAG, .flag = &eo.as_json},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = rules_help,
            .on_option = explain_option,
            .ctx = &eo,
            .max_args = INT_MAX, /* more than one FILE: said below */
        };
        struct nt_text_fields *in = &eo.in;
        struct nt_rules *rules = NULL;
        nt_classifier_t *c = NULL;
        struct nt_cli cli;
        struct nt_buf body;
        char errstr[512];
        size_t n_files;
        int code;

        memset(&eo, 0, sizeof(eo));
        nt_buf_init(&body, MAX_TEXT_BYTES);
        optind = 1;
        code = nt_cli_start(&cli, "rules explain", &spec, argc, argv, NULL);
        if (code != NT_CLI_GO)
                goto out;
        code = 0;
        if (optind < argc) {
                if (eo.have_text || optind + 1 < argc) {
                        code = nt_cli_fail(&cli, 2,
                                           "give the body as --text T or "
                                           "as one FILE, not both");
                        goto out;
                }
                if (read_text(argv[optind], &body)) {
                        code = 1;
                        goto out;
                }
                in->text[NT_FIELD_BODY] = nt_buf_str(&body);
                in->len[NT_FIELD_BODY] = body.len;
        }
        if (!in->len[NT_FIELD_TITLE] && !in->len[NT_FIELD_LEAD] &&
            !in->len[NT_FIELD_BODY] && optind >= argc && !eo.have_text) {
                code = nt_cli_fail(&cli, 2,
                                   "no text: give --title, --lead, --text "
                                   "or a FILE");
                goto out;
        }
        rules = load_rules(cli.values, cli.n_values, &n_files, &code);
        if (!rules)
                goto out;
        c = nt_classifier_new_from_rules(rules, errstr, sizeof(errstr));
        if (!c) {
                fprintf(stderr, "newstap rules: %s\n", errstr);
                nt_rules_destroy(rules);
                code = 1;
                goto out;
        }
        code = explain(c, in, eo.as_json);
out:
        nt_classifier_destroy(c);
        nt_buf_free(&body);
        nt_cli_free(&cli);
        return code;
}

int nt_cmd_rules(int argc, char **argv)
{
        const char *sub;

        if (argc < 2) {
                fputs(rules_help, stderr);
                return 2;
        }
        sub = argv[1];
        if (!strcmp(sub, "--help") || !strcmp(sub, "-h") ||
            !strcmp(sub, "help")) {
                fputs(rules_help, stdout);
                return 0;
        }
        if (!strcmp(sub, "check")) {
                int i;

                for (i = 2; i < argc; i++) {
                        if (!strcmp(argv[i], "--help") ||
                            !strcmp(argv[i], "-h")) {
                                fputs(rules_help, stdout);
                                return 0;
                        }
                        if (argv[i][0] == '-' && argv[i][1]) {
                                fprintf(stderr,
                                        "newstap rules check: unknown option "
                                        "\"%s\"\n",
                                        argv[i]);
                                return 2;
                        }
                }
                return cmd_check(argc - 2, argv + 2);
        }
        if (!strcmp(sub, "explain"))
                return cmd_explain(argc - 1, argv + 1);
        fprintf(stderr,
                "newstap rules: unknown subcommand \"%s\" (check, explain)\n",
                sub);
        return 2;
}
