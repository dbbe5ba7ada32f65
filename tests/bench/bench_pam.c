/* bench_pam [-x | -P PIN] SERVICE USER CONFDIR: one pam_authenticate of SERVICE from a private PAM
 * directory (pam_start_confdir), timed in microseconds, as a login program runs it once.
 * Prints one line: "<rc> <auth_us> <prompt_us|-> <prompts> <first prompt text|->"
 *   auth_us    pam_authenticate's whole time ("-" with -x when a prompt came)
 *   prompt_us  from the start of pam_authenticate to the first PROMPT_ECHO_OFF reaching the
 *              conversation (the moment a user would see "PIN:"); "-" if there was none
 * The conversation answers no prompt: the first PROMPT_ECHO_OFF or PROMPT_ECHO_ON fails it
 * (PAM_CONV_ERR), so no PIN is ever sent to a card and no try is spent. With -x the process
 * prints its line and exits at the first PROMPT_ECHO_OFF instead: pam_pkcs11 0.6.12 reads the
 * missing PIN after a failed conversation and sometimes crashes (a measured prompt would be
 * lost), and what follows the prompt is not measured anyway. One run per process:
 * pam_pkcs11 does not survive a second pam_start in the same process.
 * With -P PIN the first PROMPT_ECHO_OFF is answered with PIN instead (a whole card login, as
 * a user unlocking: the PIN is right, so no try is spent) and after a successful
 * authentication pam_setcred(PAM_ESTABLISH_CRED) runs, as login and GDM call it. */
#include <security/pam_appl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long t_start, t_prompt = -1;
static int nprompts;
static char first_prompt[128] = "-";
static int exit_at_prompt;
static const char *pin;

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    long long t = now_us();
    (void)data;
    *resp = NULL;
    for (int i = 0; i < n; i++) {
        int style = msg[i]->msg_style;
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON)
            continue; /* INFO / ERROR: shown, nothing to answer */
        if (nprompts++ == 0) {
            snprintf(first_prompt, sizeof first_prompt, "%s", msg[i]->msg ? msg[i]->msg : "");
            /* one word for the output line */
            for (char *p = first_prompt; *p; p++)
                if (*p == ' ' || *p == '\n' || *p == '\t')
                    *p = '_';
        }
        if (style == PAM_PROMPT_ECHO_OFF && t_prompt < 0) {
            t_prompt = t - t_start;
            if (exit_at_prompt) {
                printf("- - %lld %d %s\n", t_prompt, nprompts, first_prompt);
                fflush(stdout);
                _exit(0);
            }
        }
        if (pin && style == PAM_PROMPT_ECHO_OFF && nprompts == 1) {
            *resp = calloc((size_t)n, sizeof **resp);
            if (!*resp || !((*resp)[i].resp = strdup(pin))) {
                free(*resp);
                *resp = NULL;
                return PAM_BUF_ERR;
            }
            return PAM_SUCCESS;
        }
        return PAM_CONV_ERR;
    }
    /* informational messages only: an empty answer array */
    *resp = calloc((size_t)n, sizeof **resp);
    return *resp ? PAM_SUCCESS : PAM_BUF_ERR;
}

int main(int argc, char **argv)
{
    struct pam_conv c = {conv, NULL};
    pam_handle_t *h = NULL;
    long long auth;
    int rv;

    if (argc > 1 && strcmp(argv[1], "-x") == 0) {
        exit_at_prompt = 1;
        argv++;
        argc--;
    } else if (argc > 2 && strcmp(argv[1], "-P") == 0) {
        pin = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: bench_pam [-x | -P PIN] SERVICE USER CONFDIR\n");
        return 2;
    }
    rv = pam_start_confdir(argv[1], argv[2], &c, argv[3], &h);
    if (rv != PAM_SUCCESS) {
        fprintf(stderr, "bench_pam: pam_start_confdir: %d\n", rv);
        return 2;
    }
    t_start = now_us();
    rv = pam_authenticate(h, 0);
    auth = now_us() - t_start;
    if (pin && rv == PAM_SUCCESS)
        pam_setcred(h, PAM_ESTABLISH_CRED);
    pam_end(h, rv);
    if (t_prompt >= 0)
        printf("%d %lld %lld %d %s\n", rv, auth, t_prompt, nprompts, first_prompt);
    else
        printf("%d %lld - %d %s\n", rv, auth, nprompts, first_prompt);
    return 0;
}
