/* fault_wrap: a linker --wrap layer that fails the Nth call on purpose (as Yubico pam-u2f's
 * fuzz/wrap.c does), so that every error path of the product is walked, not just read.
 *
 * A program linked with -Wl,--wrap=SYM for each SYM below has every call to SYM from the
 * project's own code (not from shared libraries) routed through __wrap_SYM here. Each call
 * counts, in one sequence over all the wrapped functions:
 *   FAULT_AT=N       the Nth call fails (malloc/calloc/realloc: NULL and ENOMEM; read/write,
 *                    send/recv: -1 and EIO; poll: -1 and ENOMEM; socket: -1 and EMFILE;
 *                    connect: -1 and ECONNREFUSED; PC/SC: SCARD_E_NO_MEMORY for calls that
 *                    return a code); the others go through. Unset or 0: nothing fails.
 * The socket calls are pcscd's protocol as common/pcscd_card speaks it (every probe and card
 * operation since it replaced libpcsclite there) and the TPS conversation's plain-HTTP loop.
 *   FAULT_TRACE=FILE one line per call, "N FUNCTION OFFSET", OFFSET the caller's address in
 *                    the executable (the call site; tests/fault/fault_walk.sh names it with
 *                    addr2line), and "FAILED N FUNCTION OFFSET" for the call that was failed.
 * The trace is written with the real write(2) from a fixed buffer: the layer itself neither
 * allocates nor counts its own calls. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <winscard.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);

static unsigned long fail_at;
static unsigned long calls;
static int trace_fd = -2; /* -2: not initialised yet, -1: no trace */

static void init(void)
{
    const char *at = getenv("FAULT_AT"), *tr = getenv("FAULT_TRACE");
    fail_at = at ? strtoul(at, NULL, 10) : 0;
    trace_fd = tr && *tr ? open(tr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
}

/* Count one call of `name` from `site`; true if this one is to fail. */
static int hit(const char *name, void *site)
{
    if (__atomic_load_n(&trace_fd, __ATOMIC_ACQUIRE) == -2)
        init();
    unsigned long n = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    int fail = fail_at && n == fail_at;
    if (trace_fd >= 0) {
        Dl_info info;
        uintptr_t off = (uintptr_t)site;
        if (dladdr(site, &info) && info.dli_fbase)
            off -= (uintptr_t)info.dli_fbase;
        char line[128];
        /* snprintf of integers and strings does not allocate */
        int len = snprintf(line, sizeof line, "%s%lu %s %#lx\n", fail ? "FAILED " : "", n, name,
                           (unsigned long)off);
        if (len > 0 && (size_t)len < sizeof line)
            (void)!__real_write(trace_fd, line, (size_t)len);
    }
    return fail;
}

#define SITE __builtin_extract_return_addr(__builtin_return_address(0))

void *__wrap_malloc(size_t n)
{
    if (hit("malloc", SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (hit("calloc", SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (hit("realloc", SITE)) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, n);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (hit("read", SITE)) {
        errno = EIO;
        return -1;
    }
    return __real_read(fd, buf, n);
}

/* _FORTIFY_SOURCE turns read() into a buffer a size is known of into __read_chk */
ssize_t __real___read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __wrap___read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __wrap___read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (hit("read", SITE)) {
        errno = EIO;
        return -1;
    }
    return __real___read_chk(fd, buf, n, buflen);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (hit("write", SITE)) {
        errno = EIO;
        return -1;
    }
    return __real_write(fd, buf, n);
}

/* A system call of the project's code: the failed one returns -1 with errno set to err. */
#define SYS_WRAP(type, name, label, err, params, args)                                             \
    type __real_##name params;                                                                     \
    type __wrap_##name params;                                                                     \
    type __wrap_##name params                                                                      \
    {                                                                                              \
        if (hit(label, SITE)) {                                                                    \
            errno = err;                                                                           \
            return -1;                                                                             \
        }                                                                                          \
        return __real_##name args;                                                                 \
    }

SYS_WRAP(ssize_t, send, "send", EIO, (int fd, const void *buf, size_t n, int flags),
         (fd, buf, n, flags))
SYS_WRAP(ssize_t, recv, "recv", EIO, (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags))
/* _FORTIFY_SOURCE: recv() into a buffer of known size */
SYS_WRAP(ssize_t, __recv_chk, "recv", EIO, (int fd, void *buf, size_t n, size_t len, int flags),
         (fd, buf, n, len, flags))
SYS_WRAP(int, poll, "poll", ENOMEM, (struct pollfd * p, nfds_t n, int ms), (p, n, ms))
SYS_WRAP(int, socket, "socket", EMFILE, (int domain, int type, int proto), (domain, type, proto))
SYS_WRAP(int, connect, "connect", ECONNREFUSED, (int fd, const struct sockaddr *a, socklen_t len),
         (fd, a, len))

/* PC/SC: every call the project makes. A failed call returns SCARD_E_NO_MEMORY, a code that
 * means nothing about the card, so the only right outcome is an error. */
#define PCSC_WRAP(name, params, args)                                                              \
    LONG __real_##name params;                                                                     \
    LONG __wrap_##name params;                                                                     \
    LONG __wrap_##name params                                                                      \
    {                                                                                              \
        if (hit(#name, SITE))                                                                      \
            return (LONG)SCARD_E_NO_MEMORY;                                                        \
        return __real_##name args;                                                                 \
    }

PCSC_WRAP(SCardEstablishContext, (DWORD s, LPCVOID r1, LPCVOID r2, LPSCARDCONTEXT c),
          (s, r1, r2, c))
PCSC_WRAP(SCardReleaseContext, (SCARDCONTEXT c), (c))
PCSC_WRAP(SCardListReaders, (SCARDCONTEXT c, LPCSTR g, LPSTR r, LPDWORD n), (c, g, r, n))
/* pcsc-lite's SCardFreeMemory frees whatever it returns: model a failure reported after the
 * memory was released, or the wrapper itself would leak the reader list. */
LONG __real_SCardFreeMemory(SCARDCONTEXT c, LPCVOID m);
LONG __wrap_SCardFreeMemory(SCARDCONTEXT c, LPCVOID m);
LONG __wrap_SCardFreeMemory(SCARDCONTEXT c, LPCVOID m)
{
    LONG r = __real_SCardFreeMemory(c, m);
    return hit("SCardFreeMemory", SITE) ? (LONG)SCARD_E_INVALID_HANDLE : r;
}
PCSC_WRAP(SCardGetStatusChange, (SCARDCONTEXT c, DWORD t, SCARD_READERSTATE *s, DWORD n),
          (c, t, s, n))
PCSC_WRAP(SCardConnect, (SCARDCONTEXT c, LPCSTR r, DWORD sm, DWORD pp, LPSCARDHANDLE h, LPDWORD ap),
          (c, r, sm, pp, h, ap))
PCSC_WRAP(SCardDisconnect, (SCARDHANDLE h, DWORD d), (h, d))
PCSC_WRAP(SCardStatus,
          (SCARDHANDLE h, LPSTR r, LPDWORD rl, LPDWORD st, LPDWORD pr, LPBYTE a, LPDWORD al),
          (h, r, rl, st, pr, a, al))
PCSC_WRAP(SCardBeginTransaction, (SCARDHANDLE h), (h))
PCSC_WRAP(SCardEndTransaction, (SCARDHANDLE h, DWORD d), (h, d))
PCSC_WRAP(SCardTransmit,
          (SCARDHANDLE h, const SCARD_IO_REQUEST *sp, LPCBYTE sb, DWORD sl, SCARD_IO_REQUEST *rp,
           LPBYTE rb, LPDWORD rl),
          (h, sp, sb, sl, rp, rb, rl))
PCSC_WRAP(SCardCancel, (SCARDCONTEXT c), (c))
PCSC_WRAP(SCardReconnect, (SCARDHANDLE h, DWORD sm, DWORD pp, DWORD in, LPDWORD ap),
          (h, sm, pp, in, ap))
