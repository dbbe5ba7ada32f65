/* decision_file: the decision cache's names (decision_file.h). */
#include "decision_file.h"

#include "pcscd_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool decision_pcscd_id(char *id, size_t cap)
{
    const char *sock = pcscd_socket_path();
    struct stat st;
    int n;

    if (sock[0] != '/')
        sock = DECISION_PCSCD_SOCKET;
    if (strchr(sock, '\n') || stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode))
        return false;
    n = snprintf(id, cap, "%s %llu", sock, (unsigned long long)st.st_ino);
    return n > 0 && (size_t)n < cap;
}

bool decision_dir(char *dir, size_t cap)
{
    const char *rt = getenv("XDG_RUNTIME_DIR");
    int n;

    if (geteuid() == 0)
        n = snprintf(dir, cap, "/run/pam_esc");
    else if (rt && rt[0] == '/')
        n = snprintf(dir, cap, "%s/pam_esc", rt);
    else
        return false;
    return n > 0 && (size_t)n < cap;
}

bool decision_path(const char *dir, const char *pcscd_id, bool used, char *path, size_t cap)
{
    uint32_t h = 2166136261u;
    int n;

    for (const char *c = pcscd_id; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    n = snprintf(path, cap, "%s/card-%08x%s", dir, (unsigned)h, used ? DECISION_USED_SUFFIX : "");
    return n > 0 && (size_t)n < cap;
}

void decision_forget(void)
{
    char id[256], dir[256], path[300];

    if (!decision_pcscd_id(id, sizeof id) || !decision_dir(dir, sizeof dir))
        return;
    for (int used = 0; used <= 1; used++)
        if (decision_path(dir, id, used, path, sizeof path))
            unlink(path);
}
