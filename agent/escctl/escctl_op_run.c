/* escctl_op_run: enroll, format, reset-pin, renew up to the engine: the command line, esc.conf,
 * the preset answers, then the session agent when there is one to use, else the caller's
 * `here` (escctl_ops.c's engine, or the thin escctl's hand-over to escctl-local). See
 * escctl_ops.h. */
#include "escctl_ops.h"

#include "conf.h"
#include "escctl_agent.h"
#include "ipc.h"
#include "log.h"
#include "ops.h"
#include "term.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static int read_secret_fd(int fd, const char *what, char *buf, size_t cap)
{
    if (term_read_fd_secret(fd, buf, cap) < 0) {
        fprintf(stderr, "%s: no %s could be read from file descriptor %d.\n",
                program_invocation_short_name, what, fd);
        return -1;
    }
    return 0;
}

int escctl_operation_run(int argc, char **argv, escctl_op_fn here)
{
    struct escctl_op_args o;
    struct esc_conf c;
    struct term_ui t;
    char pw[TPS_SECRET_MAX] = "", pin[TPS_SECRET_MAX] = "";
    int op = esc_op_parse(argv[0]);
    int code = ESCCTL_EXIT_FAIL;

    if (op < 0 || escctl_parse_op_args(argc, argv, true, &o) < 0)
        return ESCCTL_EXIT_USAGE;
    /* no core file: this process holds the password and the new PIN */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (escctl_load_conf(&o, &c) != ESC_OK)
        return ESCCTL_EXIT_CONF;
    if ((o.password_fd >= 0 && read_secret_fd(o.password_fd, "password", pw, sizeof pw) < 0) ||
        (o.pin_fd >= 0 && read_secret_fd(o.pin_fd, "PIN", pin, sizeof pin) < 0)) {
        code = ESCCTL_EXIT_USAGE;
        goto out;
    }
    term_ui_init(&t, o.quiet || o.json);
    /* The session agent runs it when there is one, unless an option only the engine here
     * knows is given (--json prints the engine's own figures). */
    if (!o.json && !o.url && !o.refresh && !o.token_type && !o.conf) {
        esc_err ae;
        char sentence[IPC_TEXT_MAX + 1];
        if (escctl_agent_op(argv[0], &o, o.password_fd >= 0 ? pw : NULL, o.pin_fd >= 0 ? pin : NULL,
                            c.operation_timeout * 1000u, &t, &ae, sentence, sizeof sentence)) {
            term_progress_done(&t);
            if (ae == ESC_OK)
                printf("%s\n", sentence);
            else
                fprintf(stderr, "%s: %s\n", program_invocation_short_name,
                        sentence[0] ? sentence : esc_strerror(ae));
            code = escctl_exit_code(ae);
            goto out;
        }
    }
    code = here(&(struct escctl_op_here){.name = argv[0],
                                         .op = op,
                                         .o = &o,
                                         .conf = &c,
                                         .pw = o.password_fd >= 0 ? pw : NULL,
                                         .pin = o.pin_fd >= 0 ? pin : NULL,
                                         .t = &t});
out:
    explicit_bzero(pw, sizeof pw);
    explicit_bzero(pin, sizeof pin);
    return code;
}
