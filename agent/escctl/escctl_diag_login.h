/* escctl diag, the login check (check 9, escctl_diag_login.c): what it reads.
 *
 * escctl_diag_pamconf.c reads the files (hostile input like any other: bounded, a clear
 * sentence on error, fuzzed by tests/fuzz/fuzz_diag_pamconf.c):
 *   - pam_pkcs11.conf, OpenSC's scconf syntax: `name [value] { key = v1, v2; ... }`, `#`
 *     comments, quoted strings; the pam_pkcs11 block's use_pkcs11_module and use_mappers,
 *     the chosen pkcs11_module's ca_dir and cert_policy, each mapper block's options;
 *   - sssd.conf (INI): [pam] pam_cert_auth, pam_cert_db_path; each [certmap/DOMAIN/NAME]
 *     section's matchrule and maprule;
 *   - the PAM stack: which smart-card module /etc/pam.d's gdm-smartcard, login and
 *     common-auth call (one level of @include / include / substack followed).
 * escctl_diag_ca.c does the certificate work with OpenSSL, as pam_pkcs11 and SSSD's p11_child
 * do: the chain check against ca_dir's hash links or the CA db file, the names the mappers
 * read, and --import-ca. */
#ifndef ESC_ESCCTL_DIAG_LOGIN_H
#define ESC_ESCCTL_DIAG_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DPC_VALUE_MAX   1024
#define DPC_MAPPERS_MAX 16
#define DPC_MODULES_MAX 8
#define DPC_RULES_MAX   16
#define DPC_FILE_MAX    (256 * 1024) /* a configuration file larger than this is refused */

#define DIAG_PAM_PKCS11_CONF "/etc/pam_pkcs11/pam_pkcs11.conf"
#define DIAG_SSSD_CONF       "/etc/sssd/sssd.conf"
#define DIAG_SSSD_CA_DB      "/etc/sssd/pki/sssd_auth_ca_db.pem"
#define DIAG_PAM_DIR         "/etc/pam.d"
#define DIAG_PKCS11_CA_DIR   "/etc/pam_pkcs11/cacerts" /* pam_pkcs11's default ca_dir */

struct dpc_mapper {
    char name[64];
    char module[256]; /* "internal" or a path */
    char mapfile[DPC_VALUE_MAX];
    bool ignorecase;    /* pam_pkcs11's default: false */
    bool default_match; /* null mapper */
    char default_user[64];
    bool has_block; /* a `mapper NAME { }` block was found */
};

struct dpc_pkcs11 {
    char use_module[128];
    char ca_dir[DPC_VALUE_MAX];      /* of use_module ("" : pam_pkcs11's default) */
    char cert_policy[DPC_VALUE_MAX]; /* of use_module */
    bool module_found;               /* a pkcs11_module block named use_module */
    size_t nmappers;                 /* use_mappers, in order */
    struct dpc_mapper mappers[DPC_MAPPERS_MAX];
};

struct dpc_rule {
    char name[256]; /* "certmap/DOMAIN/NAME" */
    char matchrule[DPC_VALUE_MAX];
    char maprule[DPC_VALUE_MAX];
};

struct dpc_sssd {
    bool cert_auth;            /* [pam] pam_cert_auth */
    char ca_db[DPC_VALUE_MAX]; /* [pam] pam_cert_db_path ("" : SSSD's default) */
    size_t nrules;
    struct dpc_rule rules[DPC_RULES_MAX];
};

/* Parse the text of pam_pkcs11.conf / sssd.conf named `name`. 0, or -1 with one sentence
 * ("NAME:LINE: what") in err. */
int dpc_parse_pkcs11(const char *text, size_t len, const char *name, struct dpc_pkcs11 *out,
                     char *err, size_t errlen);
int dpc_parse_sssd(const char *text, size_t len, const char *name, struct dpc_sssd *out, char *err,
                   size_t errlen);

/* Read a whole configuration file (regular, at most DPC_FILE_MAX bytes) into a malloc'ed,
 * NUL-terminated buffer. 0, or -1 with one sentence in err. */
int dpc_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen);

/* Which smart-card module does the PAM stack in `pam_dir` call for authentication?
 * 1: found, `module` is "pam_pkcs11" or "pam_sss" and `file` the PAM file naming it;
 * 0: none. */
int dpc_detect_module(const char *pam_dir, char *module, size_t mcap, char *file, size_t fcap);

/* ---- escctl_diag_ca.c (OpenSSL) ---- */

/* Verify `der` (a certificate) as pam_pkcs11's cert_policy=ca does: a chain to a CA found
 * through `ca_dir`'s hash links (X509_LOOKUP_hash_dir), or in the PEM file `ca_file` (SSSD's
 * CA db). 1 trusted; 0 not (why: one sentence); -1 the certificate cannot be read. `hash`
 * receives the issuer's subject hash ("%08lx", the link name without ".0"). */
int dca_verify(const uint8_t *der, size_t len, const char *ca_dir, const char *ca_file, char *why,
               size_t whycap, char *hash, size_t hashcap);

/* The certificate's issuer (and subject) as RFC 2253 text, as SSSD's <ISSUER>/<SUBJECT>
 * rules read them. 0 or -1. */
int dca_names(const uint8_t *der, size_t len, char *issuer, size_t icap, char *subject,
              size_t scap);

/* Each value of a subject attribute as pam_pkcs11's cert_info reads it: what = "cn" (CN),
 * "uid" (x500UniqueIdentifier, 2.5.4.45, what an OpenSSL-built pam_pkcs11 reads as UID) or
 * "subject" (X509_NAME_oneline). Values are NUL-separated in out; returns their number. */
size_t dca_name_values(const uint8_t *der, size_t len, const char *what, char *out, size_t cap);

/* SSSD's <KU>digitalSignature / <EKU>clientAuth: does the certificate carry them? */
bool dca_has_ku(const uint8_t *der, size_t len, const char *ku);
bool dca_has_eku(const uint8_t *der, size_t len, const char *eku);

/* --import-ca: fetch `url` (https, trust-checked by the caller), keep the CA certificates that
 * certify `card_der` (every CA certificate of the answer when card_der is NULL), write each
 * into `ca_dir` (atomic, 0644) with its c_rehash-style `<hash>.N` link. `pem_out`: when not
 * NULL, the PEM of the kept certificates is written there instead (for SSSD). Returns the
 * number of certificates written or printed, -1 with one sentence in err. */
int dca_import(const char *url, const char *ca_file, long timeout_ms, const uint8_t *card_der,
               size_t card_len, const char *ca_dir, FILE *pem_out, char *report, size_t rcap,
               char *err, size_t errlen);

#endif
