/* fuzz_conf: the esc.conf parser on arbitrary bytes. */
#include "conf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esc_conf c;
    char err[256];

    conf_defaults(&c);
    (void)conf_parse((const char *)data, size, "fuzz.conf", &c, err, sizeof err);
    if (strnlen(c.phone_home_url, sizeof c.phone_home_url) == sizeof c.phone_home_url ||
        strnlen(c.reader, sizeof c.reader) == sizeof c.reader ||
        strnlen(c.login_services, sizeof c.login_services) == sizeof c.login_services ||
        strnlen(err, sizeof err) == sizeof err)
        __builtin_trap();
    /* what the parser kept is always a valid host list; the matcher on it and on raw bytes */
    if (!conf_host_list_valid(c.allowed_hosts) || !conf_host_list_valid(c.allow_http_hosts) ||
        !conf_service_list_valid(c.login_services))
        __builtin_trap();
    (void)conf_list_has(c.login_services, "login");
    (void)conf_host_in_list("a.example.com", 443, c.allowed_hosts);
    (void)conf_host_in_list("[::1]", 80, c.allow_http_hosts);
    if (size > 0 && size < 4096 && !memchr(data, 0, size)) {
        char list[4096];
        memcpy(list, data, size);
        list[size] = 0;
        (void)conf_host_list_valid(list);
        (void)conf_host_in_list("a.example.com", 443, list);
    }
    return 0;
}
