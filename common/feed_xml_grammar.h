/* What the elements of RSS 0.90-0.94, RSS 1.0, RSS 2.0, Atom 0.3 and
 * Atom 1.0 mean: the tables of element x context -> what it starts and of
 * field -> where its text goes, entries and people, and the expat
 * handlers that apply them. Internal to the XML reader: common/feed_xml.c
 * runs expat with these handlers over a struct xstate. */
#ifndef NT_FEED_XML_GRAMMAR_H
#define NT_FEED_XML_GRAMMAR_H

#include "common/feed_xml_text.h"

/* The expat handlers; user data is the struct xstate. */
void XMLCALL nt_fx_on_end(void *ud, const XML_Char *name);
void XMLCALL nt_fx_on_entity_decl(void *ud, const XML_Char *entity_name,
                                  int is_parameter_entity,
                                  const XML_Char *value, int value_length,
                                  const XML_Char *base,
                                  const XML_Char *system_id,
                                  const XML_Char *public_id,
                                  const XML_Char *notation_name);
void XMLCALL nt_fx_on_start(void *ud, const XML_Char *name,
                            const XML_Char **atts);
void XMLCALL nt_fx_on_text(void *ud, const XML_Char *s, int len);

/* Ends the field or the entry being read when expat stopped inside it
 * (see salvage() in common/feed_xml.c). */
void nt_fx_finish_capture(struct xstate *st);
void nt_fx_end_entry(struct xstate *st);

#endif
