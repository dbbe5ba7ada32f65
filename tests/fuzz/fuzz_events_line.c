/* fuzz_events_line: the event-log line reader of escctl log on arbitrary bytes; what it keeps
 * is NUL-terminated within its fields, and a line written from it reads back the same. */
#include "events.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event_rec r, r2;
    char line[EVENTS_LINE_MAX];

    if (events_parse_line((const char *)data, size, &r) != 0)
        return 0;
    if (strnlen(r.detail, sizeof r.detail) == sizeof r.detail ||
        strnlen(r.reader, sizeof r.reader) == sizeof r.reader ||
        strnlen(r.time, sizeof r.time) == sizeof r.time)
        __builtin_trap();
    struct event e = {.event = r.event,
                      .reader = r.reader[0] ? r.reader : NULL,
                      .state = r.state[0] ? r.state : NULL,
                      .cuid = r.cuid[0] ? r.cuid : NULL,
                      .code = r.code[0] ? r.code : NULL,
                      .detail = r.detail[0] ? r.detail : NULL};
    size_t n = events_format(&e, 0, line, sizeof line);
    if (n == 0 || events_parse_line(line, n - 1, &r2) != 0 || strcmp(r.event, r2.event) != 0 ||
        strcmp(r.reader, r2.reader) != 0 || strcmp(r.detail, r2.detail) != 0)
        __builtin_trap();
    return 0;
}
