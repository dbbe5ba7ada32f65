/* tpsd_tls: the TLS server context. The server certificate (CN and subjectAltName
 * IP:127.0.0.1, DNS:localhost) is issued at start-up by the rig's test CA (ca.key.pem and
 * ca.cert.pem in the CA directory), so clients verify it with ca.cert.pem alone. */
#ifndef TPSD_TLS_H
#define TPSD_TLS_H

#include <openssl/ssl.h>

/* NULL (logged) on failure. `cert_out` (may be NULL) receives the server certificate in PEM. */
SSL_CTX *tpsd_tls_context(const char *ca_dir, const char *cert_out);

#endif
