/* HTML named references: the lookup table, the rewrite that makes feeds
 * with HTML references acceptable to expat, and decoding in plain text. */
#include "common/buf.h"
#include "common/entities.h"
#include "common/err.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <expat.h>
#include <string.h>

struct lookup_case {
        char name[16];
        char want[8]; /* "" when the name is unknown */
};

ParameterizedTestParameters(entities, lookup)
{
        static struct lookup_case cases[] = {
            {"nbsp", "\u00A0"},   {"mdash", "\u2014"}, {"eacute", "é"},
            {"hellip", "\u2026"}, {"rsquo", "\u2019"}, {"euro", "€"},
            {"apos", "'"},        {"amp", "&"},        {"lt", "<"},
            {"quot", "\""},       {"AElig", "Æ"},      {"Eacute", "É"},
            {"prime", "\u2032"},  {"Prime", "\u2033"}, {"thetasym", "ϑ"},
            {"yuml", "ÿ"},        {"Yuml", "Ÿ"},       {"lang", "\u2329"},
            {"zwj", "\u200D"},    {"diams", "\u2666"}, {"NBSP", ""},
            {"nbs", ""},          {"nbspx", ""},       {"", ""},
            {"thetasymx", ""},    {"ampersand", ""},
        };
        return cr_make_param_array(struct lookup_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct lookup_case *c, entities, lookup)
{
        const char *got = nt_entity_lookup(c->name, strlen(c->name));

        if (!c->want[0]) {
                cr_assert_null(got, "\"%s\": found, want unknown", c->name);
                return;
        }
        cr_assert_not_null(got, "\"%s\": not found", c->name);
        cr_assert_str_eq(got, c->want, "\"%s\": got \"%s\"", c->name, got);
}

/* Every HTML 4.01 name (and &apos;) must be found: a missing or
 * mis-sorted row in the table shows up here. */
Test(entities, all_html4_names)
{
        static const char *const names[] = {
            "nbsp",   "iexcl",  "cent",     "pound",   "curren", "yen",
            "brvbar", "sect",   "uml",      "copy",    "ordf",   "laquo",
            "not",    "shy",    "reg",      "macr",    "deg",    "plusmn",
            "sup2",   "sup3",   "acute",    "micro",   "para",   "middot",
            "cedil",  "sup1",   "ordm",     "raquo",   "frac14", "frac12",
            "frac34", "iquest", "Agrave",   "Aacute",  "Acirc",  "Atilde",
            "Auml",   "Aring",  "AElig",    "Ccedil",  "Egrave", "Eacute",
            "Ecirc",  "Euml",   "Igrave",   "Iacute",  "Icirc",  "Iuml",
            "ETH",    "Ntilde", "Ograve",   "Oacute",  "Ocirc",  "Otilde",
            "Ouml",   "times",  "Oslash",   "Ugrave",  "Uacute", "Ucirc",
            "Uuml",   "Yacute", "THORN",    "szlig",   "agrave", "aacute",
            "acirc",  "atilde", "auml",     "aring",   "aelig",  "ccedil",
            "egrave", "eacute", "ecirc",    "euml",    "igrave", "iacute",
            "icirc",  "iuml",   "eth",      "ntilde",  "ograve", "oacute",
            "ocirc",  "otilde", "ouml",     "divide",  "oslash", "ugrave",
            "uacute", "ucirc",  "uuml",     "yacute",  "thorn",  "yuml",
            "fnof",   "Alpha",  "Beta",     "Gamma",   "Delta",  "Epsilon",
            "Zeta",   "Eta",    "Theta",    "Iota",    "Kappa",  "Lambda",
            "Mu",     "Nu",     "Xi",       "Omicron", "Pi",     "Rho",
            "Sigma",  "Tau",    "Upsilon",  "Phi",     "Chi",    "Psi",
            "Omega",  "alpha",  "beta",     "gamma",   "delta",  "epsilon",
            "zeta",   "eta",    "theta",    "iota",    "kappa",  "lambda",
            "mu",     "nu",     "xi",       "omicron", "pi",     "rho",
            "sigmaf", "sigma",  "tau",      "upsilon", "phi",    "chi",
            "psi",    "omega",  "thetasym", "upsih",   "piv",    "bull",
            "hellip", "prime",  "Prime",    "oline",   "frasl",  "weierp",
            "image",  "real",   "trade",    "alefsym", "larr",   "uarr",
            "rarr",   "darr",   "harr",     "crarr",   "lArr",   "uArr",
            "rArr",   "dArr",   "hArr",     "forall",  "part",   "exist",
            "empty",  "nabla",  "isin",     "notin",   "ni",     "prod",
            "sum",    "minus",  "lowast",   "radic",   "prop",   "infin",
            "ang",    "and",    "or",       "cap",     "cup",    "int",
            "there4", "sim",    "cong",     "asymp",   "ne",     "equiv",
            "le",     "ge",     "sub",      "sup",     "nsub",   "sube",
            "supe",   "oplus",  "otimes",   "perp",    "sdot",   "lceil",
            "rceil",  "lfloor", "rfloor",   "lang",    "rang",   "loz",
            "spades", "clubs",  "hearts",   "diams",   "quot",   "amp",
            "lt",     "gt",     "OElig",    "oelig",   "Scaron", "scaron",
            "Yuml",   "circ",   "tilde",    "ensp",    "emsp",   "thinsp",
            "zwnj",   "zwj",    "lrm",      "rlm",     "ndash",  "mdash",
            "lsquo",  "rsquo",  "sbquo",    "ldquo",   "rdquo",  "bdquo",
            "dagger", "Dagger", "permil",   "lsaquo",  "rsaquo", "euro",
            "apos",
        };
        size_t i, n = sizeof(names) / sizeof(names[0]);

        cr_assert_eq(n, 253, "the list has %zu names", n);
        for (i = 0; i < n; i++)
                cr_assert_not_null(nt_entity_lookup(names[i], strlen(names[i])),
                                   "&%s; not found", names[i]);
}

Test(entities, lookup_uses_len_not_nul)
{
        const char *got = nt_entity_lookup("nbsp;rest", 4);

        cr_assert_not_null(got);
        cr_assert_str_eq(got, "\u00A0");
        cr_assert_null(nt_entity_lookup("nbsp", 3));
}

struct fix_case {
        char name[40];
        char in[96];
        char want[128];
        size_t fixes;
};

ParameterizedTestParameters(entities, fix_xml)
{
        static struct fix_case cases[] = {
            {"stray ampersand", "AT&T & co", "AT&amp;T &amp; co", 2},
            {"ampersand at the end", "a &", "a &amp;", 1},
            {"HTML name to number", "a&nbsp;b&mdash;c", "a&#160;b&#8212;c", 2},
            {"XML names untouched", "&amp; &lt; &gt; &quot; &apos;",
             "&amp; &lt; &gt; &quot; &apos;", 0},
            {"unknown name", "&bogus; x", "&amp;bogus; x", 1},
            {"name without semicolon", "&nbsp x", "&amp;nbsp x", 1},
            {"names are case-sensitive", "&NBSP;", "&amp;NBSP;", 1},
            {"attribute value", "<a href=\"/?a=1&b=2\">",
             "<a href=\"/?a=1&amp;b=2\">", 1},
            {"CDATA untouched", "<![CDATA[a & b &nbsp;]]>&nbsp;",
             "<![CDATA[a & b &nbsp;]]>&#160;", 1},
            {"unterminated CDATA", "<![CDATA[a & b", "<![CDATA[a & b", 0},
            {"comment untouched", "<!-- a & b &nbsp; -->&",
             "<!-- a & b &nbsp; -->&amp;", 1},
            {"processing instruction untouched", "<?pi a & b?>x&y",
             "<?pi a & b?>x&amp;y", 1},
            {"decimal reference kept", "&#123;", "&#123;", 0},
            {"hex reference kept", "&#x1F600;", "&#x1F600;", 0},
            {"tab reference kept", "&#9;", "&#9;", 0},
            {"bad hex digits", "&#xZZ;", "&#65533;", 1},
            {"no digits", "&#;", "&#65533;", 1},
            {"decimal with letters", "&#12a;", "&#65533;", 1},
            {"NUL", "&#0;", "&#65533;", 1},
            {"control character", "&#1;", "&#65533;", 1},
            {"surrogate", "&#xD800;", "&#65533;", 1},
            {"past Unicode", "&#x110000;", "&#65533;", 1},
            {"huge number", "&#99999999999999999999;", "&#65533;", 1},
            {"FFFE", "&#xFFFE;", "&#65533;", 1},
            {"upper-case X", "&#X41;", "&#65;", 1},
            {"unclosed numeric", "&#123 x", "&amp;#123 x", 1},
            {"declared entity kept",
             "<!DOCTYPE r [<!ENTITY me \"x&amp;y\">]><r>&me;&nbsp;</r>",
             "<!DOCTYPE r [<!ENTITY me \"x&amp;y\">]><r>&me;&#160;</r>", 1},
            {"non-ASCII text untouched", "Запорізька АЕС & МАГАТЕ",
             "Запорізька АЕС &amp; МАГАТЕ", 1},
        };
        return cr_make_param_array(struct fix_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fix_case *c, entities, fix_xml)
{
        struct nt_buf out;
        size_t fixes = 99;
        int err;

        nt_buf_init(&out, 1024);
        err = nt_entities_fix_xml(c->in, strlen(c->in), &out, &fixes);
        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_str_eq(nt_buf_str(&out), c->want, "%s: got \"%s\"", c->name,
                         nt_buf_str(&out));
        cr_assert_eq(fixes, c->fixes, "%s: %zu fixes, want %zu", c->name, fixes,
                     c->fixes);
        nt_buf_free(&out);
}

Test(entities, fix_xml_limit)
{
        struct nt_buf out;
        size_t fixes;

        nt_buf_init(&out, 8);
        cr_assert_eq(nt_entities_fix_xml("a & b & c", 9, &out, &fixes),
                     NT_ERR_LIMIT);
        nt_buf_free(&out);
}

/* What the rewrite is for: expat accepts a feed that uses HTML
 * references and stray ampersands, and reads the characters meant. */
struct text_collect {
        char text[256];
        size_t len;
};

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
        struct text_collect *t = ud;

        if (len > 0 && t->len + (size_t)len < sizeof(t->text)) {
                memcpy(t->text + t->len, s, (size_t)len);
                t->len += (size_t)len;
                t->text[t->len] = '\0';
        }
}

Test(entities, fixed_document_parses_with_expat)
{
        static const char doc[] =
            "<?xml version=\"1.0\"?><rss><title>AT&T &mdash; "
            "caf&eacute; &#xZZ; <![CDATA[&raw;]]> &copy;</title></rss>";
        struct text_collect t = {"", 0};
        struct nt_buf out;
        XML_Parser p;
        size_t fixes;

        nt_buf_init(&out, 4096);
        cr_assert_eq(nt_entities_fix_xml(doc, strlen(doc), &out, &fixes),
                     NT_OK);
        p = XML_ParserCreate("UTF-8");
        cr_assert_not_null(p);
        XML_SetUserData(p, &t);
        XML_SetCharacterDataHandler(p, on_text);
        cr_assert_eq(XML_Parse(p, out.data, (int)out.len, 1), XML_STATUS_OK,
                     "expat: %s in \"%s\"",
                     XML_ErrorString(XML_GetErrorCode(p)), out.data);
        cr_assert_str_eq(t.text, "AT&T \u2014 café \uFFFD &raw; ©");
        XML_ParserFree(p);
        nt_buf_free(&out);
}

struct decode_case {
        char in[64];
        char want[64];
};

ParameterizedTestParameters(entities, decode)
{
        static struct decode_case cases[] = {
            {"caf&eacute;", "café"},
            {"&#233;&#xE9;&#XE9;", "ééé"},
            {"a &lt;b&gt; &amp; &quot;c&quot; &apos;", "a <b> & \"c\" '"},
            {"&nbsp;&mdash;&hellip;", "\u00A0\u2014\u2026"},
            {"&#x1F600;", "😀"},
            {"&#146;s", "\u2019s"},
            {"&#129;", "\xC2\x81"},
            {"&#0; &#xD800; &#x110000;", "\uFFFD \uFFFD \uFFFD"},
            {"&bogus; &amp &#xZZ; &#; & x", "&bogus; &amp &#xZZ; &#; & x"},
            {"Запорізька &laquo;АЕС&raquo;", "Запорізька «АЕС»"},
            {"", ""},
        };
        return cr_make_param_array(struct decode_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct decode_case *c, entities, decode)
{
        struct nt_buf out;
        int err;

        nt_buf_init(&out, 256);
        err = nt_entities_decode(c->in, strlen(c->in), &out);
        cr_assert_eq(err, NT_OK, "\"%s\": error %d", c->in, err);
        cr_assert_str_eq(nt_buf_str(&out), c->want, "\"%s\": got \"%s\"", c->in,
                         nt_buf_str(&out));
        nt_buf_free(&out);
}
