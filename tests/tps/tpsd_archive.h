/* tpsd_archive: the key archive (the KRA's job in Dogtag): the encryption private key the
 * TPS generated for a user of the userKeyArchive profile, kept as <dir>/<uid>.pem (PKCS#8,
 * mode 0600, written atomically), so a replacement card for the same user gets it back. */
#ifndef TPSD_ARCHIVE_H
#define TPSD_ARCHIVE_H

#include <openssl/evp.h>

/* The archived key of `uid`, or NULL when there is none (or it cannot be read). */
EVP_PKEY *tpsd_archive_load(const char *dir, const char *uid);
/* 0 or -1. */
int tpsd_archive_store(const char *dir, const char *uid, EVP_PKEY *key);

#endif
