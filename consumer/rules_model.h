/* The rules language's data model: a parsed rule set as a read-only
 * syntax tree (terms, nodes, @define lists, topics, entities) with the
 * source location of each part, and its limits. Built by the parser
 * (consumer/rules.h), compiled by the matcher (consumer/match.h). */
#ifndef NT_RULES_MODEL_H
#define NT_RULES_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/normalize.h"

/* Limits of a rule set; past them loading fails with a message. */
#define NT_RULES_MAX_FILE_BYTES  (4u << 20) /* per source */
#define NT_RULES_MAX_SOURCES     256
#define NT_RULES_MAX_DEPTH       64   /* nesting of (, NOT and prefixes */
#define NT_RULES_MAX_NEAR        1000 /* largest n of NEAR/n */
#define NT_RULES_MAX_ERRORS      50   /* errors reported before giving up */
#define NT_RULES_MIN_PREFIX      3    /* characters before a trailing '*' */
#define NT_RULES_MAX_SENT_WINDOW 3    /* largest n of sentence/n: */

/* One rules source: a file's name and its text (need not be NUL-ended). */
struct nt_rules_source {
        const char *name;
        const char *text;
        size_t len;
};

/* A position in the sources, for messages. */
struct nt_rules_loc {
        uint32_t src;       /* index into nt_rules.src_names */
        uint32_t line, col; /* 1-based; col counts characters */
};

/* A search term: a word, a word prefix (trailing '*') or a phrase of them,
 * normalised as text is (consumer/normalize.h). */
struct nt_rules_term {
        char *rule;   /* as written, with the list it came from:
                         `@PLANT:"nuclear power plant"`, `zaporizh*` */
        char **words; /* normalised words */
        bool *prefix; /* words[i] is a prefix */
        size_t n_words;
        struct nt_rules_loc loc;
};

enum nt_rules_op {
        NT_RULES_TERM,   /* .term */
        NT_RULES_OR,     /* kids: any */
        NT_RULES_AND,    /* kids: all */
        NT_RULES_NOT,    /* kids[0] absent */
        NT_RULES_NEAR,   /* kids[0], kids[1] within .dist words, any order */
        NT_RULES_ONEAR,  /* kids[0] then kids[1] within .dist words */
        NT_RULES_EXCEPT, /* kids[0]'s places that no place of kids[1] overlaps
                          */
        NT_RULES_FIELD,  /* kids[0] counted only in the fields of .fields */
        NT_RULES_REF,    /* the expression of define .ref */
        NT_RULES_SENT,   /* kids[0] true within one sentence, or within
                            .dist adjacent sentences */
};

/* A node of an expression. Nodes live in nt_rules.nodes and refer to each
 * other by index; kids are nt_rules.kids[kid0 .. kid0 + n_kids). */
struct nt_rules_node {
        enum nt_rules_op op;
        uint32_t kid0, n_kids;
        uint32_t term;   /* TERM */
        uint32_t ref;    /* REF */
        uint32_t dist;   /* NEAR, ONEAR; SENT: sentences in the window */
        unsigned fields; /* FIELD: bit (1 << enum nt_field) */
        struct nt_rules_loc loc;
};

/* `@define NAME = expr;` */
struct nt_rules_define {
        char *name;
        uint32_t expr;
        struct nt_rules_loc loc;
};

#define NT_RULES_NONE UINT32_MAX /* no expression (an absent exclude) */

/* `topic ID { ... }` */
struct nt_rules_topic {
        char *id;                      /* [a-z0-9][a-z0-9._-]* */
        char *label;                   /* human label */
        double threshold;              /* labelled when score >= threshold */
        double weight[NT_FIELD_COUNT]; /* per occurrence in each field */
        double cap;       /* most one term adds (default: 2 x largest weight) */
        uint32_t match;   /* scored expression */
        uint32_t require; /* unscored condition, or NONE */
        uint32_t exclude; /* veto of the article, or NONE */
        uint32_t veto;    /* veto of a sentence, or NONE */
        struct nt_rules_loc loc;
};

enum nt_entity_type {
        NT_ENTITY_PERSON = 0,
        NT_ENTITY_PLACE = 1,
        NT_ENTITY_ORG = 2,
};

/* "person", "place", "org". Static. */
const char *nt_entity_type_name(enum nt_entity_type t);

/* `entity "Name" type = alternatives;` */
struct nt_rules_entity {
        char *name;
        enum nt_entity_type type;
        uint32_t expr; /* an OR of terms (checked) */
        struct nt_rules_loc loc;
};

/* A parsed and checked rule set. Read-only once loaded; several threads may
 * read it. */
struct nt_rules {
        char **src_names;
        size_t n_src;
        char version[17]; /* XXH3_64 of the sources, 16 hex digits */
        struct nt_rules_term *terms;
        size_t n_terms, cap_terms;
        struct nt_rules_node *nodes;
        size_t n_nodes, cap_nodes;
        uint32_t *kids;
        size_t n_kids, cap_kids;
        struct nt_rules_define *defines;
        size_t n_defines, cap_defines;
        struct nt_rules_topic *topics;
        size_t n_topics, cap_topics;
        struct nt_rules_entity *entities;
        size_t n_entities, cap_entities;
};

/* Frees a rule set. NULL-safe. */
void nt_rules_destroy(struct nt_rules *r);

/* "file:line:col" of a location into buf. Returns buf. */
const char *nt_rules_loc_str(const struct nt_rules *r, struct nt_rules_loc loc,
                             char *buf, size_t size);

#endif
