/* HTML named character references (&nbsp; &mdash; &eacute; ...) that
 * feeds use in XML without declaring them, and the rewrite that lets a
 * strict XML parser read such documents. */
#ifndef NT_ENTITIES_H
#define NT_ENTITIES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

/* The UTF-8 text of the named reference `name` (without & and ;, exactly
 * `len` bytes, case-sensitive as in HTML), or NULL when unknown. Covers
 * at least the 252 entities of HTML 4 plus &apos;. Static. */
const char *nt_entity_lookup(const char *name, size_t len);

/* Copies an XML document (UTF-8) into `out`, rewriting what XML would
 * reject but feeds mean: a named reference other than the five XML ones
 * (amp lt gt quot apos) becomes its numeric reference (&nbsp; ->
 * &#160;); an unknown name or a stray '&' (not starting a well-formed
 * reference) becomes &amp;. Inside CDATA sections, comments and
 * processing instructions nothing is rewritten. `*fixes` counts the
 * rewrites. Returns 0 or the nt_buf error (NT_ERR_LIMIT past out->max). */
int nt_entities_fix_xml(const char *in, size_t len, struct nt_buf *out,
                        size_t *fixes);

/* True when the reference starting at s[0] == '&' (len bytes available)
 * is one nt_entities_fix_xml() leaves as written: one of the five XML
 * names, or a well-formed numeric reference to a character XML allows.
 * A scan that finds none in a document can skip the rewrite. */
bool nt_entities_xml_ref_kept(const char *s, size_t len);

/* Decodes the character references in plain text (named, &#NNN; and
 * &#xHH;) in place-independent fashion: appends the decoded text to out.
 * Unknown references are kept as written. */
int nt_entities_decode(const char *in, size_t len, struct nt_buf *out);

#endif
