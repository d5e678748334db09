/* What the elements of RSS 0.90-0.94, RSS 1.0, RSS 2.0, Atom 0.3 and
 * Atom 1.0 mean: the tables of element x context -> what it starts and of
 * field -> where its text goes, entries and people, and the expat
 * handlers that apply them. Internal to the XML reader: common/feed_xml.c
 * runs expat with these handlers over a struct xstate. */
#ifndef NT_FEED_XML_GRAMMAR_H
#define NT_FEED_XML_GRAMMAR_H

#include "common/feed_xml_text.h"

/* Sets the grammar's expat handlers (start and end tags, text, entity
 * declarations) on `p`, whose user data must be the struct xstate. */
void nt_fx_set_handlers(XML_Parser p);

/* Ends the field or the entry being read when expat stopped inside it
 * (see salvage() in common/feed_xml.c). */
void nt_fx_finish_capture(struct xstate *st);
void nt_fx_end_entry(struct xstate *st);

#endif
