/* fuzz_diag_pamconf: escctl diag's readers of pam_pkcs11.conf (scconf) and sssd.conf (INI) on
 * arbitrary bytes: they end, and what they keep is NUL-terminated within its field and within
 * the array bounds. */
#include "escctl/escctl_diag_login.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(f) (strnlen((f), sizeof(f)) < sizeof(f))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dpc_pkcs11 pc;
    static struct dpc_sssd sc;
    char err[256];

    if (dpc_parse_pkcs11((const char *)data, size, "fuzz", &pc, err, sizeof err) == 0) {
        if (pc.nmappers > DPC_MAPPERS_MAX || !TERMINATED(pc.use_module) || !TERMINATED(pc.ca_dir) ||
            !TERMINATED(pc.cert_policy))
            __builtin_trap();
        for (size_t i = 0; i < pc.nmappers; i++)
            if (!TERMINATED(pc.mappers[i].name) || !TERMINATED(pc.mappers[i].mapfile) ||
                !pc.mappers[i].name[0])
                __builtin_trap();
    } else if (!TERMINATED(err)) {
        __builtin_trap();
    }
    if (dpc_parse_sssd((const char *)data, size, "fuzz", &sc, err, sizeof err) == 0) {
        if (sc.nrules > DPC_RULES_MAX || !TERMINATED(sc.ca_db))
            __builtin_trap();
        for (size_t i = 0; i < sc.nrules; i++)
            if (!TERMINATED(sc.rules[i].matchrule) || !TERMINATED(sc.rules[i].name))
                __builtin_trap();
    }
    return 0;
}
