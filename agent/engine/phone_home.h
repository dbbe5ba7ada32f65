/* phone_home: find the TPS for a card (reference/tps-protocol.md §7, design.md "The agent").
 *
 * GET <phone-home URL>?cuid=<CUID>, parse the ServiceInfo XML (libxml2, no network, no
 * entities, no DTD, size-capped), keep the profile per CUID in a cache file; a cached profile
 * means no request. */
#ifndef ESC_PHONE_HOME_H
#define ESC_PHONE_HOME_H

#include "esc_err.h"

struct trust_policy;

#include <stdbool.h>
#include <stddef.h>

#define PH_URL_MAX   1024
#define PH_CUID_MAX  40
#define PH_XML_MAX   65536 /* a phone-home answer larger than this is refused */
#define PH_CACHE_VER 1

/* A phone-home profile. Every string is NUL-terminated printable text ("" when absent). */
struct ph_profile {
    char cuid[PH_CUID_MAX + 1];            /* hex, as read from the card */
    char source_url[PH_URL_MAX];           /* the phone-home URL that answered */
    char issuer[256];                      /* <IssuerName> */
    char operation[PH_URL_MAX];            /* <Operation>: the TPS URL */
    char ui[PH_URL_MAX];                   /* <UI> */
    char enrolled_browser_url[PH_URL_MAX]; /* <EnrolledTokenBrowserURL> */
    char enrolled_url[PH_URL_MAX];         /* <EnrolledTokenURL> */
    char token_type[128];                  /* <TokenType> */
    char ca_chain_ui[PH_URL_MAX];          /* <CAChainUI> */
    long long fetched_at;                  /* seconds since the epoch */
};

/* Parse a ServiceInfo document into `p` (cuid, source_url and fetched_at are left alone).
 * Refuses a DTD, more than PH_XML_MAX bytes, a missing <Services>, and values that are too long
 * or hold control characters. 0 on success, -1 with one sentence in `err`. */
int ph_xml_parse(const char *buf, size_t len, struct ph_profile *p, char *err, size_t errlen);

/* Is `cuid` a plausible CUID (1..40 hex digits)? Used before it becomes a file name. */
bool ph_cuid_ok(const char *cuid);

/* ---- cache (profile_cache.c) ----
 * One file per CUID in `dir`, "<dir>/<CUID>.profile", versioned text, written atomically
 * (temp + fsync + rename) with mode 0600; `dir` is created 0700 when missing. */

/* The default cache directory: $ESC_CACHE_DIR, else $XDG_CACHE_HOME/esc, else
 * ~/.cache/esc (esc.conf cache_dir overrides). 0 or -1 (no home). */
int ph_cache_default_dir(char *out, size_t cap);
/* The cache directory in use: `configured` (esc.conf cache_dir) when set, else the default.
 * 0, or -1 with `out` empty (no directory). */
int ph_cache_dir(const char *configured, char *out, size_t cap);
/* Parse the text of a cache file (the fuzzed part of ph_cache_load). 0 or -1. */
int ph_cache_parse(const char *data, size_t len, struct ph_profile *p);
/* 0: hit, `p` filled. 1: no usable entry (missing, wrong version, corrupt: ignored). */
int ph_cache_load(const char *dir, const char *cuid, struct ph_profile *p);
/* The cache's answer for a card: 0 with `p` filled when a profile is cached for `cuid` and
 * came from `url` (NULL or "": any); 1 otherwise (ph_get then fetches). */
int ph_cache_lookup(const char *dir, const char *url, const char *cuid, struct ph_profile *p);
/* 0 or -1 with one sentence in `err`. */
int ph_cache_store(const char *dir, const struct ph_profile *p, char *err, size_t errlen);

/* ---- fetch (phone_home.c) ---- */

struct ph_opts {
    const struct trust_policy *trust; /* trust.h: the URL check and ca_file */
    long timeout_ms;                  /* whole request; 0 = 30 s */
    const char *cache_dir;            /* NULL = no cache */
    bool refresh;                     /* ignore the cache and fetch */
};

/* Choose the phone-home URL: `cli_url` (escctl phone-home --url) when given, else the card's
 * issuer info, else esc.conf phone_home_url. NULL when none. */
const char *ph_pick_url(const char *cli_url, const char *card_url, const char *conf_url);

/* One GET of `url`?cuid=`cuid`, trust checked first. Fills `p` (with source_url, cuid,
 * fetched_at). `requests` (optional) is incremented per HTTP request made. ESC_OK, or one
 * sentence in `err` and: ESC_ERR_CONF (no URL: not on the card, not in esc.conf, not given),
 * ESC_ERR_UNTRUSTED_HOST (refused by the trust policy), ESC_ERR_NETWORK (unreachable),
 * ESC_ERR_TLS (certificate not trusted), ESC_ERR_SERVER (an HTTP status other than 200, too
 * large an answer, or no usable ServiceInfo document), ESC_ERR_INTERNAL. */
esc_err ph_fetch(const char *url, const char *cuid, const struct ph_opts *o, struct ph_profile *p,
                 unsigned *requests, char *err, size_t errlen);

/* The profile for `cuid`: from the cache unless o->refresh, there is none, or it was fetched
 * from another URL than `url`; else fetched and stored. `url` may be NULL when the cache is
 * expected to answer. *from_cache tells which. A cache file that cannot be read or parsed is
 * ignored; a profile that cannot be stored is logged as one warning and still returned.
 * Returns what ph_fetch returns. */
esc_err ph_get(const char *url, const char *cuid, const struct ph_opts *o, struct ph_profile *p,
               bool *from_cache, unsigned *requests, char *err, size_t errlen);

#endif
