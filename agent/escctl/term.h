/* term: the terminal side of an operation for escctl: prompts on /dev/tty with echo off for
 * secrets (the new PIN asked twice), a progress bar on a TTY and plain progress lines
 * otherwise, and secrets read from a file descriptor for scripts. Prompts and progress go to
 * the terminal / stderr so that stdout stays free for --json. */
#ifndef ESC_TERM_H
#define ESC_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/tps_op.h"

struct term_ui {
    bool progress_tty; /* stderr is a terminal: draw a bar */
    bool quiet;        /* no progress at all */
    int last_pct;      /* plain mode: only print changes */
    bool bar_open;     /* a bar line is on screen (needs a newline before other text) */
    char last_title[128];
};

void term_ui_init(struct term_ui *t, bool quiet);
/* The tps_op_ui callbacks; ctx is a struct term_ui. */
int term_ask(void *ctx, const struct tps_ask *q, char *out, size_t cap);
void term_progress(void *ctx, int pct, const char *task);
/* End the progress bar line if one is open. */
void term_progress_done(struct term_ui *t);

/* Read one secret line from fd (up to newline or EOF, at most cap-1 bytes; the newline is
 * dropped). 0 ok, -1 on error / empty / too long / a NUL byte. The caller wipes out. */
int term_read_fd_secret(int fd, char *out, size_t cap);

#endif
