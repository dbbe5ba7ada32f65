/* pe_offer: the warning, the renewal offer and its "not now" memory (see pe_offer.h). */
#include "pe_offer.h"

#include <errno.h>
#include <fcntl.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY           86400
#define ROOT_STATE    "/run/pam_esc"
#define TRIES_DATA    "pam_esc_pin_tries"
#define DECLINE_NAME  "renew-declined-"
#define USER_NAME_MAX 64

void pe_offer_warn_tries(pam_handle_t *pamh, int tries, unsigned warn)
{
    if (warn == 0 || tries <= 0 || (unsigned)tries > warn)
        return;
    pam_info(pamh, "%d PIN %s left on your smart card", tries, tries == 1 ? "try" : "tries");
}

bool pe_offer_ask(pam_handle_t *pamh, const char *question)
{
    char *answer = NULL;
    bool yes;

    if (pam_prompt(pamh, PAM_PROMPT_ECHO_ON, &answer, "%s", question) != PAM_SUCCESS || !answer)
        return false;
    yes = answer[0] == 'y' || answer[0] == 'Y';
    explicit_bzero(answer, strlen(answer));
    free(answer);
    return yes;
}

bool pe_offer_renew_due(int64_t not_after, unsigned days, time_t now)
{
    return days > 0 && not_after > (int64_t)now && not_after - (int64_t)now <= (int64_t)days * DAY;
}

void pe_offer_renew_question(int64_t not_after, char *buf, size_t cap)
{
    char date[32] = "?";
    time_t t = (time_t)not_after;
    struct tm tm;

    if (gmtime_r(&t, &tm))
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    snprintf(buf, cap, "Your smart card's certificates expire on %s. Renew them now? [y/N] ", date);
}

void pe_offer_state_dir(const char *dir, const char *runtime_dir, char *out, size_t cap)
{
    out[0] = '\0';
    if (dir && dir[0])
        snprintf(out, cap, "%s", dir);
    else if (geteuid() == 0)
        snprintf(out, cap, "%s", ROOT_STATE);
    else if (runtime_dir && runtime_dir[0] == '/')
        snprintf(out, cap, "%s/pam_esc", runtime_dir);
}

bool pe_user_name_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;

    if (n == 0 || n > USER_NAME_MAX || u[0] == '.' || u[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '@'))
            return false;
    }
    return true;
}

/* The directory, if it is a real directory owned by us or root that nobody else can write. */
static int open_dir(const char *dir)
{
    struct stat st;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || (st.st_uid != geteuid() && st.st_uid != 0) ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool declined_in(const char *dir, const char *name, time_t now)
{
    struct stat st;
    bool recent = false;
    int dfd = open_dir(dir), fd;

    if (dfd < 0)
        return false;
    /* never read: a FIFO, a link or another's file in its place counts for nothing */
    fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_uid == geteuid() || st.st_uid == 0))
            recent = st.st_mtime <= now + 60 && now - st.st_mtime < DAY;
        close(fd);
    }
    close(dfd);
    return recent;
}

bool pe_offer_declined(const char *state_dir, const char *user, time_t now)
{
    char name[sizeof DECLINE_NAME + USER_NAME_MAX];

    if (!pe_user_name_ok(user))
        return false;
    snprintf(name, sizeof name, "%s%s", DECLINE_NAME, user);
    if (state_dir[0] && declined_in(state_dir, name, now))
        return true;
    return geteuid() != 0 && strcmp(state_dir, ROOT_STATE) != 0 &&
           declined_in(ROOT_STATE, name, now);
}

bool pe_offer_remember_decline(const char *state_dir, const char *user)
{
    char name[sizeof DECLINE_NAME + USER_NAME_MAX], tmp[sizeof name + 24];
    static const char note[] = "renewal declined; asked again a day after this file's time\n";
    bool ok = false;
    int dfd, fd;

    if (!state_dir[0] || !pe_user_name_ok(user))
        return false;
    /* 0711 as root: a user's lock screen may look up (not list) the greeter's answer */
    if (mkdir(state_dir, geteuid() == 0 ? 0711 : 0700) != 0 && errno != EEXIST)
        return false;
    if ((dfd = open_dir(state_dir)) < 0)
        return false;
    snprintf(name, sizeof name, "%s%s", DECLINE_NAME, user);
    snprintf(tmp, sizeof tmp, ".%s.%ld", name, (long)getpid());
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ok = write(fd, note, sizeof note - 1) == (ssize_t)(sizeof note - 1);
        ok = close(fd) == 0 && ok;
        ok = ok && renameat(dfd, tmp, dfd, name) == 0;
        if (!ok)
            unlinkat(dfd, tmp, 0);
    }
    close(dfd);
    return ok;
}

static void free_tries(pam_handle_t *pamh, void *data, int status)
{
    (void)pamh;
    (void)status;
    free(data);
}

void pe_offer_store_tries(pam_handle_t *pamh, int tries)
{
    int *p = malloc(sizeof *p);

    if (!p)
        return;
    *p = tries;
    if (pam_set_data(pamh, TRIES_DATA, p, free_tries) != PAM_SUCCESS)
        free(p);
}

int pe_offer_stored_tries(pam_handle_t *pamh)
{
    const void *p = NULL;

    if (pam_get_data(pamh, TRIES_DATA, &p) != PAM_SUCCESS || !p)
        return -1;
    return *(const int *)p;
}
