/* escctl_text: text from outside (card, TPS, phone-home server) as escctl writes it. */
#ifndef ESC_ESCCTL_TEXT_H
#define ESC_ESCCTL_TEXT_H

#include <stdio.h>

/* s as a JSON string: quotes and backslashes escaped, control bytes as \u00XX, valid UTF-8 as it
 * is, any other byte as U+FFFD, so the output is always valid JSON. NULL is "". */
void escctl_json_str(FILE *f, const char *s);

/* s for a terminal: control bytes (an escape sequence a card could send) shown as \xNN. */
void escctl_put_text(FILE *f, const char *s);

#endif
