/* The rule set's data model: names of its enums, locations as text, and
 * freeing a set. */
#include "consumer/rules_model.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>

const char *nt_entity_type_name(enum nt_entity_type t)
{
        static const char *const names[] = {
            [NT_ENTITY_PERSON] = "person",
            [NT_ENTITY_PLACE] = "place",
            [NT_ENTITY_ORG] = "org",
        };

        return nt_name_of(names, NT_COUNT_OF(names), t, "?");
}

const char *nt_rules_loc_str(const struct nt_rules *r, struct nt_rules_loc loc,
                             char *buf, size_t size)
{
        snprintf(buf, size, "%s:%u:%u",
                 loc.src < r->n_src ? r->src_names[loc.src] : "?", loc.line,
                 loc.col);
        return buf;
}

void nt_rules_destroy(struct nt_rules *r)
{
        size_t i, k;

        if (!r)
                return;
        for (i = 0; i < r->n_src; i++)
                free(r->src_names[i]);
        free(r->src_names);
        for (i = 0; i < r->n_terms; i++) {
                for (k = 0; k < r->terms[i].n_words; k++)
                        if (r->terms[i].words)
                                free(r->terms[i].words[k]);
                free(r->terms[i].words);
                free(r->terms[i].prefix);
                free(r->terms[i].rule);
        }
        free(r->terms);
        free(r->nodes);
        free(r->kids);
        for (i = 0; i < r->n_defines; i++)
                free(r->defines[i].name);
        free(r->defines);
        for (i = 0; i < r->n_topics; i++) {
                free(r->topics[i].id);
                free(r->topics[i].label);
        }
        free(r->topics);
        for (i = 0; i < r->n_entities; i++)
                free(r->entities[i].name);
        free(r->entities);
        free(r);
}
