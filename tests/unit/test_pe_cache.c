/* test_pe_cache: pam_esc's decision cache (pam_esc/pe_cache.h). The entry decides with no APDU
 * only for the same card still in the same reader (reader, pcscd's event counter, ATR), only
 * when CONFIRMED by a successful authentication, never at event counter 0, never past the
 * certificates' notAfter when renew is offered; a damaged, foreign or reachable file is no
 * entry at all. */
#include "check.h"
#include "pe_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCSCD "/run/pcscd/pcscd.comm 4242"

static const uint8_t ATR[] = {0x3b, 0xff, 0x14, 0x00, 0xff, 0x81, 0x31, 0xfe, 0x45};

static unsigned fnv(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static struct pe_cache_entry entry(void)
{
    struct pe_cache_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.pcscd, sizeof e.pcscd, "%s", PCSCD);
    snprintf(e.reader, sizeof e.reader, "Virtual PCD 00 00");
    e.event_count = 7;
    memcpy(e.atr, ATR, sizeof ATR);
    e.atr_len = sizeof ATR;
    e.tries = 3;
    e.not_after = 2000000000;
    e.confirmed = true;
    return e;
}

static struct pcsc_reader reader(void)
{
    struct pcsc_reader r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "Virtual PCD 00 00");
    r.card_present = true;
    r.event_count = 7;
    memcpy(r.atr, ATR, sizeof ATR);
    r.atr_len = sizeof ATR;
    return r;
}

static void test_format_parse_round_trip(void)
{
    struct pe_cache_entry e = entry(), back;
    char buf[PE_CACHE_FILE_MAX];
    size_t n = pe_cache_format(&e, buf, sizeof buf);

    EXPECT(n > 0);
    EXPECT(pe_cache_parse(buf, n, &back));
    EXPECT_STR(back.reader, e.reader);
    EXPECT_EQ(back.event_count, 7u);
    EXPECT_EQ(back.atr_len, sizeof ATR);
    EXPECT_MEM(back.atr, ATR, sizeof ATR);
    EXPECT_EQ(back.tries, 3);
    EXPECT_EQ(back.not_after, 2000000000);
    EXPECT(back.confirmed);
}

static void test_damaged_entries_refused(void)
{
    struct pe_cache_entry e = entry(), back;
    char buf[PE_CACHE_FILE_MAX], bad[PE_CACHE_FILE_MAX];
    size_t n = pe_cache_format(&e, buf, sizeof buf);

    /* every shorter prefix is refused */
    for (size_t i = 0; i < n; i++)
        EXPECT(!pe_cache_parse(buf, i, &back));
    /* trailing bytes, a bad hex digit, tries 0 (a blocked PIN is never remembered) */
    memcpy(bad, buf, n);
    bad[n] = 'x';
    EXPECT(!pe_cache_parse(bad, n + 1, &back));
    memcpy(bad, buf, n);
    *strstr(bad, "atr=") = 'A';
    EXPECT(!pe_cache_parse(bad, n, &back));
    memcpy(bad, buf, n);
    strstr(bad, "tries=3")[6] = '0';
    EXPECT(!pe_cache_parse(bad, n, &back));
    memcpy(bad, buf, n);
    strstr(bad, "confirmed=1")[10] = '2';
    EXPECT(!pe_cache_parse(bad, n, &back));
    e.tries = 0;
    EXPECT_EQ(pe_cache_format(&e, buf, sizeof buf), 0u);
}

static void test_trusted_only_for_the_same_card(void)
{
    struct pe_cache_entry e = entry();
    struct pcsc_reader r = reader();

    EXPECT(pe_cache_trusted(&e, PCSCD, &r, 1000, true));
    /* another pcscd (a new socket): its event counters are its own */
    EXPECT(!pe_cache_trusted(&e, "/run/pcscd/pcscd.comm 4343", &r, 1000, false));
    r.event_count = 9; /* removed and inserted again: maybe another card */
    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 1000, false));
    r = reader();
    r.atr[3] ^= 1;
    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 1000, false));
    r = reader();
    snprintf(r.name, sizeof r.name, "Other Reader 01 00");
    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 1000, false));
}

static void test_pending_entry_not_trusted(void)
{
    struct pe_cache_entry e = entry();
    struct pcsc_reader r = reader();

    /* written by a probe or used once: the module after pam_esc may have spent tries */
    e.confirmed = false;
    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 1000, false));
}

static void test_event_counter_zero_not_trusted(void)
{
    struct pe_cache_entry e = entry();
    struct pcsc_reader r = reader();

    /* pcscd or the reader started with a card in: another card may get the same key */
    e.event_count = 0;
    r.event_count = 0;
    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 1000, false));
}

static void test_expiry_when_renew_offered(void)
{
    struct pe_cache_entry e = entry();
    struct pcsc_reader r = reader();

    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 2000000000, true));
    EXPECT(pe_cache_trusted(&e, PCSCD, &r, 2000000000, false));
    e.not_after = 0; /* not read: renew was not offered when written */
    EXPECT(!pe_cache_trusted(&e, PCSCD, &r, 1000, true));
}

static void test_store_load_in_private_dir(void)
{
    char tmpl[] = "/tmp/test_pe_cache.XXXXXX", dir[PE_CACHE_DIR_MAX], path[512];
    struct pe_cache_entry e = entry(), back;
    char *base = mkdtemp(tmpl);

    EXPECT(base != NULL);
    setenv("XDG_RUNTIME_DIR", base, 1);
    if (geteuid() == 0) {
        /* root's cache lives in /run/pam_esc: only the file functions here */
        snprintf(dir, sizeof dir, "%s/pam_esc", base);
        EXPECT(mkdir(dir, 0700) == 0);
    } else {
        EXPECT(pe_cache_dir(dir, sizeof dir));
    }
    EXPECT(pe_cache_store(dir, &e));
    EXPECT(pe_cache_load(dir, PCSCD, &back));
    EXPECT(back.confirmed && back.event_count == 7);
    /* readable by others: not ours to trust */
    snprintf(path, sizeof path, "%s/card-%08x", dir, fnv(PCSCD));
    EXPECT(chmod(path, 0644) == 0);
    EXPECT(!pe_cache_load(dir, PCSCD, &back));
    /* a symlink in its place is not followed */
    EXPECT(unlink(path) == 0);
    EXPECT(symlink("/etc/hostname", path) == 0);
    EXPECT(!pe_cache_load(dir, PCSCD, &back));
    EXPECT(unlink(path) == 0);
    EXPECT(pe_cache_store(dir, &e));
    pe_cache_forget(dir, PCSCD);
    EXPECT(!pe_cache_load(dir, PCSCD, &back));
    EXPECT(rmdir(dir) == 0);
    EXPECT(rmdir(base) == 0);
}

/* A used entry is set aside, never trusted again, and only read back for its tries count;
 * forget removes both files. */
static void test_used_entry_set_aside(void)
{
    char tmpl[] = "/tmp/test_pe_cache.XXXXXX", dir[PE_CACHE_DIR_MAX];
    struct pe_cache_entry e = entry(), back, other = entry();
    char *base = mkdtemp(tmpl);

    EXPECT(base != NULL);
    snprintf(dir, sizeof dir, "%s/pam_esc", base);
    EXPECT(mkdir(dir, 0700) == 0);
    EXPECT(pe_cache_store(dir, &e));
    pe_cache_retire(dir, PCSCD);
    EXPECT(!pe_cache_load(dir, PCSCD, &back));
    EXPECT(pe_cache_load_used(dir, PCSCD, &back));
    EXPECT_EQ(back.tries, 3);
    EXPECT(pe_cache_same_card(&back, &e));
    other.event_count = 8; /* the card went out and in again */
    EXPECT(!pe_cache_same_card(&back, &other));
    other = entry();
    other.event_count = 0; /* counter 0: never the same card */
    EXPECT(!pe_cache_same_card(&other, &other));
    /* writing the entry again takes the used one away (the next set-aside replaces nothing) */
    EXPECT(pe_cache_store(dir, &e));
    EXPECT(!pe_cache_load_used(dir, PCSCD, &back));
    pe_cache_retire(dir, PCSCD);
    EXPECT(pe_cache_load_used(dir, PCSCD, &back));
    pe_cache_forget(dir, PCSCD);
    EXPECT(!pe_cache_load_used(dir, PCSCD, &back));
    EXPECT(rmdir(dir) == 0);
    EXPECT(rmdir(base) == 0);
}

static void test_no_cache_without_private_runtime_dir(void)
{
    char tmpl[] = "/tmp/test_pe_cache.XXXXXX", dir[PE_CACHE_DIR_MAX];
    char *base = mkdtemp(tmpl);

    if (geteuid() == 0)
        SKIP("root's cache is /run/pam_esc, not $XDG_RUNTIME_DIR");
    EXPECT(base != NULL);
    EXPECT(chmod(base, 0755) == 0); /* others can enter: not a runtime directory */
    setenv("XDG_RUNTIME_DIR", base, 1);
    EXPECT(!pe_cache_dir(dir, sizeof dir));
    unsetenv("XDG_RUNTIME_DIR");
    EXPECT(!pe_cache_dir(dir, sizeof dir));
    EXPECT(rmdir(base) == 0);
}

int main(void)
{
    RUN(test_format_parse_round_trip);
    RUN(test_damaged_entries_refused);
    RUN(test_trusted_only_for_the_same_card);
    RUN(test_pending_entry_not_trusted);
    RUN(test_event_counter_zero_not_trusted);
    RUN(test_expiry_when_renew_offered);
    RUN(test_store_load_in_private_dir);
    RUN(test_used_entry_set_aside);
    RUN(test_no_cache_without_private_runtime_dir);
    return check_status();
}
