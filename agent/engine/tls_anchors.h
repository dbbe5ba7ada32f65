/* tls_anchors: the TLS trust anchors of the process, parsed once and kept while their files
 * stay the same (issue 12).
 *
 * libcurl builds a new SSL_CTX for every connection and, given CAINFO and CAPATH, parses the CA
 * file into it each time (a quarter of the warm agent's CPU for a PIN reset); its own cache
 * (CURLOPT_CA_CACHE_TIMEOUT) is off whenever CAPATH is set, and would key on the file's name
 * alone for 24 h. Here one X509_STORE per CA file (esc.conf's ca_file, or libcurl's system
 * bundle when there is none) plus the hashed system directory is handed to every SSL_CTX
 * through CURLOPT_SSL_CTX_FUNCTION, with the flags libcurl itself sets (TRUSTED_FIRST,
 * PARTIAL_CHAIN). Host name checking stays libcurl's.
 *
 * When the store is read again (the rule, checked at every connection: two stat calls):
 * - the file's device, inode, size, mtime or ctime differ from when it was read (an edit, a
 *   replacement by rename, a chmod), or the directory's device, inode, mtime or ctime do (a
 *   certificate added or removed by update-ca-certificates);
 * - the file or the directory had been modified (mtime) less than TLS_ANCHORS_RACY_S before
 *   it was read (a second edit of the same size within the file system's timestamp granularity
 *   would keep every stat field: such a store is read again until its files are older);
 * - it is older than TLS_ANCHORS_MAX_AGE_S (an in-place edit of one certificate inside the
 *   hashed directory changes no stat we look at).
 * Every new reading gets a new generation number; the TPS conversation drops its TLS session
 * cache when the generation changes, so a session made under a CA the admin removed is never
 * resumed. */
#ifndef ESC_TLS_ANCHORS_H
#define ESC_TLS_ANCHORS_H

#include <curl/curl.h>
#include <openssl/x509_vfy.h>
#include <stdbool.h>
#include <stddef.h>

#define TLS_ANCHORS_RACY_S    2
#define TLS_ANCHORS_MAX_AGE_S 600

struct tls_anchors;

/* The process-wide entry for ca_file (NULL or "": libcurl's system bundle). NULL when the
 * anchors cannot be handled this way (libcurl without OpenSSL, no system bundle known, too
 * many distinct files): the caller leaves CAINFO/CAPATH to libcurl as before. Entries live
 * until the process ends. */
struct tls_anchors *tls_anchors_get(const char *ca_file);

/* Read the store again if the rule above says so. 0 with *gen (optional) set to the current
 * generation; -1 (err set, one sentence) when the file cannot be read or parsed. */
int tls_anchors_refresh(struct tls_anchors *a, unsigned long *gen, char *err, size_t errlen);

/* Refresh as tls_anchors_refresh, then the current store (a reference: X509_STORE_free it)
 * and its generation. 0, or -1 with err set. */
int tls_anchors_current(struct tls_anchors *a, X509_STORE **store, unsigned long *gen, char *err,
                        size_t errlen);

/* Make h verify the peer against a's store (CURLOPT_SSL_CTX_FUNCTION; libcurl's own CAINFO
 * and CAPATH are cleared). -1 when libcurl refuses the callback: nothing was changed. */
int tls_anchors_use(CURL *h, struct tls_anchors *a);

/* For tests: does a's current store (refreshed first) verify the PEM certificate in
 * leaf_pem? 1 yes, 0 no, -1 error. */
int tls_anchors_verify_pem(struct tls_anchors *a, const char *leaf_pem);

#endif
