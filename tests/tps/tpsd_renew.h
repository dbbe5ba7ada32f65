/* tpsd_renew: renewal of a token's certificates inside an enrollment (tpsd_renew.c). */
#ifndef TPSD_RENEW_H
#define TPSD_RENEW_H

#include <stddef.h>
#include <stdint.h>

#include "tpsd_config.h"
#include "tpsd_op.h"
#include "tpsd_z0read.h"

struct z0_cert;

/* Is a certificate with `left` seconds to its notAfter (negative: expired) inside the grace
 * period (TPSEnrollProcessor.isCertWithinRenewalGracePeriod)? Always when grace_enable is off;
 * a bound <= 0 is no limit. */
int tpsd_renew_in_grace(const struct tpsd_renewal *r, long long left);

/* For each certificate of z (z->n_certs entries of certs/der): re-issued for its key when
 * renewal of its key type is enabled and it is inside the grace period (der[i] = the new
 * certificate, malloc'd; free it), kept as it is otherwise (der[i] = NULL). *n_renewed counts
 * the renewed ones. 0, or TPSD_ST_RENEWAL_FAILED (37) when a certificate cannot be renewed. */
int tpsd_renew_certs(struct tpsd_op *op, const struct tpsd_z0 *z, struct z0_cert *certs,
                     uint8_t **der, size_t *n_renewed);

#endif
