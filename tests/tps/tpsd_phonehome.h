/* tpsd_phonehome: the ServiceInfo XML answered to GET /tps/phoneHome (tps-protocol.md §7). */
#ifndef TPSD_PHONEHOME_H
#define TPSD_PHONEHOME_H

#include <stddef.h>

#include "tpsd_config.h"

/* Renders the document; returns its length, 0 if cap is too small. */
size_t tpsd_phonehome_xml(const struct tpsd_config *c, const char *operation_url, char *out,
                          size_t cap);

#endif
