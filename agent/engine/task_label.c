/* task_label: the words a user sees for a TPS progress label. See tps_op.h. */
#include "tps_op.h"

#include <ctype.h>
#include <string.h>

void tps_task_label(const char *task, char *out, size_t cap)
{
    size_t o = 0;
    if (!cap)
        return;
    if (!task)
        task = "";
    if (strncmp(task, "PROGRESS_", 9) == 0)
        task += 9;
    for (; *task && o + 1 < cap; task++) {
        unsigned char c = (unsigned char)*task;
        if (c == '_')
            out[o++] = ' ';
        else if (isprint(c))
            out[o++] = (char)tolower(c);
    }
    out[o] = '\0';
}
