/* escctl_local: the thin escctl (main_escctl_front.c) hands a command to escctl-local, the full
 * program (main_escctl.c), by exec with the argv it was given, unchanged.
 *
 * Why two programs: the full one links libcurl, NSS, libxml2 and OpenSSL, and the dynamic
 * loader's relocations of those ~46 shared objects cost ~7 ms of CPU before main(); the thin
 * one links libc only, so a command the session agent serves (status, list, enroll, format,
 * reset-pin, renew) costs the client well under a millisecond (docs/architecture.md).
 *
 * Where escctl-local is: next to this program when it is there (the build tree: build/escctl
 * and build/escctl-local, as esc-agent finds esc-session), else ESC_LIBEXECDIR/escctl-local
 * (installed: escctl in bin/, escctl-local private). The directory comes from /proc/self/exe,
 * never from argv[0], $PATH or the environment: only who can write next to escctl itself (and
 * so could replace it) decides which program runs. */
#ifndef ESC_ESCCTL_LOCAL_H
#define ESC_ESCCTL_LOCAL_H

#include "escctl_ops.h"

#include <stdbool.h>
#include <stddef.h>

#define ESCCTL_LOCAL_NAME "escctl-local"

/* The argv escctl-local gets: main's, set once by main. */
extern char **escctl_local_argv;

/* escctl-local's path into out: 0, or -1 when it does not fit. */
int escctl_local_path(char *out, size_t cap);

/* Exec escctl-local. agent_tried: the session agent was tried and is not to be used, so that
 * escctl-local runs the command in-process at once (ESC_NO_AGENT=1 in its environment).
 * Returns only when the exec failed, after saying why on stderr: the exit code. */
int escctl_local_exec(bool agent_tried);

/* The hooks of escctl_status_run and escctl_operation_run when the agent did not serve the
 * command: escctl-local does it. The probe hook never returns (it exits when the exec fails);
 * the operation hook first puts the answers it read back on --password-fd / --pin-fd (a pipe
 * in their place, same numbers), since escctl-local reads them again. */
size_t escctl_local_probe(const struct probe_opts *o, struct probe_facts *f, size_t max);
int escctl_local_op(const struct escctl_op_here *h);

#endif
