/* Text normalisation and tokenisation for matching: Unicode NFKC with case
 * folding (utf8proc), apostrophes and dashes unified, diacritics kept.
 * Tokens are runs of letters, digits and combining marks; each keeps the
 * byte offsets of its span in the ORIGINAL text, so that evidence points
 * into what the article said, not into the normalised copy. */
#ifndef NT_NORMALIZE_H
#define NT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

/* The text fields of an article that rules can scope to. */
enum nt_field {
        NT_FIELD_TITLE = 0,
        NT_FIELD_LEAD = 1, /* the summary, or the first paragraph */
        NT_FIELD_BODY = 2,
        NT_FIELD_COUNT = 3,
};

/* "title", "lead", "body". Static. */
const char *nt_field_name(enum nt_field f);

/* The plain-text fields handed to the classifier. Each is UTF-8 of the
 * given length (no NUL needed); NULL with length 0 for an absent field.
 * Borrowed for the duration of the call that takes them. */
struct nt_text_fields {
        const char *text[NT_FIELD_COUNT];
        size_t len[NT_FIELD_COUNT];
};

/* Token flags. */
#define NT_TOK_NUMBER   0x01u /* digits only (with , or . between digits) */
#define NT_TOK_LATIN    0x02u /* has a Latin letter */
#define NT_TOK_CYRILLIC 0x04u /* has a Cyrillic letter */
#define NT_TOK_OTHER    0x08u /* has a letter of another script */
#define NT_TOK_UK       0x10u /* has a letter only Ukrainian uses: і ї є ґ */
#define NT_TOK_RU       0x20u /* has a letter only Russian uses: ы э ъ ё */
#define NT_TOK_LONG     0x40u /* longer than NT_TOKEN_MAX_BYTES: not normalised */

/* Tokens longer than this (in the original text) are kept as a span but
 * not normalised: they are junk (base64, URLs without separators) that no
 * rule should match, and bounding them bounds the per-token work. */
#define NT_TOKEN_MAX_BYTES 128

struct nt_token {
        uint32_t start, end; /* byte span [start, end) in the field text */
        uint32_t norm;       /* offset of the normalised form in ->text */
        uint16_t norm_len;   /* its length in bytes (0 for NT_TOK_LONG) */
        uint8_t flags;       /* NT_TOK_* */
        uint8_t field;       /* enum nt_field */
};

/* The tokens of one article, all fields in order (title, lead, body), with
 * the normalised forms in one arena. Reused from article to article: a
 * reset keeps the memory. Caller-owned: nt_tokens_init() / _free(). */
struct nt_tokens {
        struct nt_token *tok;
        size_t n, cap;
        size_t max; /* most tokens accepted */
        size_t first[NT_FIELD_COUNT +
                     1]; /* field f is tok[first[f]..first[f+1]) */
        char *text;      /* normalised forms, back to back */
        size_t text_len, text_cap;
        int32_t *ucs; /* scratch for utf8proc */
        size_t ucs_cap;
};

/* Initialises an empty token list that accepts at most `max_tokens`. */
void nt_tokens_init(struct nt_tokens *t, size_t max_tokens);
void nt_tokens_free(struct nt_tokens *t);

/* Forgets the tokens, keeps the memory. */
void nt_tokens_reset(struct nt_tokens *t);

/* Tokenises one field's text and appends its tokens. Fields must be added
 * in order (title, lead, body); a skipped field has no tokens. Invalid
 * UTF-8 bytes count as separators. NT_ERR_LIMIT past the token limit or
 * for a text of 4 GiB or more, NT_ERR_NOMEM. */
int nt_tokens_add(struct nt_tokens *t, enum nt_field field, const char *text,
                  size_t len);

/* Tokenises all fields of an article (resets first). */
int nt_tokens_add_fields(struct nt_tokens *t, const struct nt_text_fields *in);

/* The normalised form of token i (not NUL-terminated: use norm_len). At
 * least 8 bytes of the arena are readable from its start, whatever its
 * length, so that a reader may load a word's first 8 bytes at once.
 * Borrowed; valid until the next change. */
static inline const char *nt_tokens_norm(const struct nt_tokens *t, size_t i)
{
        return t->text + t->tok[i].norm;
}

/* Sentence boundaries. sent[i] receives the sentence number of token i
 * (0-based, ascending through title, lead and body; a field always starts
 * a sentence), sent must hold t->n entries; when `first` is not NULL it
 * receives the first token of each sentence and, after the last, t->n
 * (it must hold t->n + 1 entries). Returns the number of sentences. `in`
 * must be the fields the tokens were made from. A sentence ends at "?",
 * "!", "…" and at a blank line; at "." or a single line break unless the
 * next word starts with a lower-case letter; and not at the "." of an
 * abbreviation: a single letter ("U.S.", "р.", "т.е.") or a common short
 * form ("Mr.", "Gen.", "тыс.", "обл."). Quotes and brackets after the
 * mark belong to the sentence they close. */
size_t nt_tokens_sentences(const struct nt_tokens *t,
                           const struct nt_text_fields *in, uint32_t *sent,
                           uint32_t *first);

/* Normalises a whole text: NFKC, case folding, apostrophes to ', dashes to
 * -, default-ignorable characters (soft hyphen, zero-width joiners)
 * dropped. Caller frees *out with free(); *out_len excludes the NUL.
 * NT_ERR_INVALID for invalid UTF-8, NT_ERR_NOMEM. */
int nt_normalize_text(const char *in, size_t len, char **out, size_t *out_len);

#endif
