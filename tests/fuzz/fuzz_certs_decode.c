/* fuzz_certs_decode: escctl certs' path for the card's certificate bytes: the DER length of a
 * (padded) object, the NSS decode and the text, JSON and PEM printers. The first byte gives
 * the length of a label (hostile too: it comes from the card's z0 record), the rest is the
 * certificate. */
#include "escctl/escctl_certs.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void *nss;
    static FILE *sink;
    static struct certs_view v;
    struct certs_obj o;
    size_t lab, len;

    if (!nss && certs_nss_open(&nss) != ESC_OK)
        __builtin_trap();
    if (!sink && !(sink = fopen("/dev/null", "w")))
        __builtin_trap();
    if (size == 0)
        return 0;
    memset(&o, 0, sizeof o);
    lab = data[0] % 32;
    if (lab > size - 1)
        lab = size - 1;
    memcpy(o.label, data + 1, lab); /* may hold NULs, control bytes, invalid UTF-8 */
    snprintf(o.id, sizeof o.id, "c1");
    o.der = (uint8_t *)(data + 1 + lab);
    o.der_len = size - 1 - lab;
    len = certs_der_len(o.der, o.der_len);
    if (len > o.der_len)
        __builtin_trap();
    certs_decode(o.der, len, (time_t)1700000000, &v);
    if (strnlen(v.subject, sizeof v.subject) >= sizeof v.subject ||
        strnlen(v.sha256, sizeof v.sha256) >= sizeof v.sha256)
        __builtin_trap();
    certs_print_text(sink, &o, &v);
    certs_print_json(sink, NULL, &o, &v);
    if (v.ok)
        certs_print_pem(sink, o.der, len);
    return 0;
}
