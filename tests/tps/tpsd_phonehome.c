/* tpsd_phonehome: ServiceInfo XML. */
#include "tpsd_phonehome.h"

#include <string.h>

struct sb {
    char *p;
    size_t len, cap;
    int err;
};

static void put(struct sb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->err || b->len + n >= b->cap) {
        b->err = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_escaped(struct sb *b, const char *s)
{
    char one[2] = {0, 0};
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            put(b, "&amp;");
            break;
        case '<':
            put(b, "&lt;");
            break;
        case '>':
            put(b, "&gt;");
            break;
        case '"':
            put(b, "&quot;");
            break;
        case '\'':
            put(b, "&apos;");
            break;
        default:
            one[0] = *s;
            put(b, one);
        }
    }
}

static void element(struct sb *b, const char *indent, const char *name, const char *value)
{
    put(b, indent);
    put(b, "<");
    put(b, name);
    put(b, ">");
    put_escaped(b, value);
    put(b, "</");
    put(b, name);
    put(b, ">\n");
}

size_t tpsd_phonehome_xml(const struct tpsd_config *c, const char *operation_url, char *out,
                          size_t cap)
{
    struct sb b = {.p = out, .cap = cap};
    if (cap)
        out[0] = '\0';
    put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServiceInfo>\n");
    element(&b, " ", "IssuerName", c->issuer_name);
    put(&b, " <Services>\n");
    element(&b, "  ", "Operation", operation_url);
    element(&b, "  ", "UI", c->ui_url ? c->ui_url : "");
    element(&b, "  ", "EnrolledTokenBrowserURL", c->enrolled_token_browser_url);
    element(&b, "  ", "EnrolledTokenURL", c->enrolled_token_url ? c->enrolled_token_url : "");
    element(&b, "  ", "TokenType", c->phone_home_token_type);
    if (c->ca_chain_url) /* optional: an administrator adds it to Dogtag's phoneHome.xml */
        element(&b, "  ", "CAChainUI", c->ca_chain_url);
    put(&b, " </Services>\n</ServiceInfo>\n");
    return b.err ? 0 : b.len;
}
