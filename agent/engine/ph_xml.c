/* ph_xml: parse the phone-home ServiceInfo document (reference/tps-protocol.md §7).
 * The document comes from a server the card named, so it is hostile: no DTD, no entities, no
 * network access, a size cap, and every value checked before it is kept. */
#include "phone_home.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct slot {
    const char *name;
    size_t off, cap;
};

#define SLOT(n, field)                                                                             \
    {                                                                                              \
        n, offsetof(struct ph_profile, field), sizeof(((struct ph_profile *)0)->field)             \
    }

static const struct slot services[] = {
    SLOT("Operation", operation),
    SLOT("UI", ui),
    SLOT("EnrolledTokenBrowserURL", enrolled_browser_url),
    SLOT("EnrolledTokenURL", enrolled_url),
    SLOT("TokenType", token_type),
    SLOT("CAChainUI", ca_chain_ui),
};

/* Copy the trimmed text of `node` into out[cap]; -1 if too long or holding control chars. */
static int take_text(xmlNode *node, char *out, size_t cap)
{
    xmlChar *t = xmlNodeGetContent(node);
    int rc = -1;
    if (!t)
        return -1;
    const char *s = (const char *)t;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    if (n >= cap)
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            goto out;
    memcpy(out, s, n);
    out[n] = '\0';
    rc = 0;
out:
    xmlFree(t);
    return rc;
}

static xmlNode *child(xmlNode *parent, const char *name)
{
    for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

int ph_xml_parse(const char *buf, size_t len, struct ph_profile *p, char *err, size_t errlen)
{
    xmlDoc *doc = NULL;
    xmlNode *root, *svc, *n;
    int rc = -1;
    const char *why = "The phone-home answer is not a valid ServiceInfo document.";

    if (!buf || len == 0 || len > PH_XML_MAX) {
        why = "The phone-home answer is empty or too large.";
        goto out;
    }
    /* A phone-home document never needs a DTD; refusing one rules out entity expansion. */
    if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8)) {
        why = "The phone-home answer carries a DTD, which is not accepted.";
        goto out;
    }
    xmlInitParser();
    doc = xmlReadMemory(buf, (int)len, "phone-home.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOCDATA);
    if (!doc || doc->intSubset || doc->extSubset)
        goto out;
    root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "ServiceInfo") != 0)
        goto out;
    svc = child(root, "Services");
    if (!svc) {
        why = "The phone-home answer has no Services element.";
        goto out;
    }
    p->issuer[0] = '\0';
    if ((n = child(root, "IssuerName")) && take_text(n, p->issuer, sizeof p->issuer) < 0) {
        why = "The phone-home IssuerName is too long or not plain text.";
        goto out;
    }
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        char *dst = (char *)p + services[i].off;
        dst[0] = '\0';
        n = child(svc, services[i].name);
        if (n && take_text(n, dst, services[i].cap) < 0) {
            why = "A phone-home value is too long or not plain text.";
            goto out;
        }
    }
    rc = 0;
out:
    if (doc)
        xmlFreeDoc(doc);
    if (rc && err)
        snprintf(err, errlen, "%s", why);
    return rc;
}
