/* test_ph_cache: the phone-home profile cache round-trips, is private (0600), atomic, and a
 * corrupt or foreign file is ignored rather than trusted. */
#include "check.h"
#include "engine/phone_home.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void sample(struct ph_profile *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->cuid, "40906145C76224192D2B");
    strcpy(p->source_url, "http://tps.example.com/tps/phoneHome");
    strcpy(p->issuer, "Example Corp");
    strcpy(p->operation, "https://tps.example.com:8443/tps/tps");
    strcpy(p->token_type, "userKey");
    strcpy(p->enrolled_browser_url, "http://example.com/?a=b&c=d");
    p->fetched_at = 1700000000;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_roundtrip_private(void)
{
    struct ph_profile a, b;
    char err[256], path[256];
    struct stat st;
    sample(&a);
    EXPECT_EQ(ph_cache_store(dir, &a, err, sizeof err), 0);
    EXPECT_EQ(ph_cache_load(dir, a.cuid, &b), 0);
    EXPECT_STR(b.operation, a.operation);
    EXPECT_STR(b.enrolled_browser_url, a.enrolled_browser_url);
    EXPECT_STR(b.issuer, "Example Corp");
    EXPECT_STR(b.ui, "");
    EXPECT_EQ(b.fetched_at, 1700000000LL);
    snprintf(path, sizeof path, "%s/%s.profile", dir, a.cuid);
    EXPECT_EQ(stat(path, &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    /* no temp file left behind */
    snprintf(path, sizeof path, "test $(ls -A %s | wc -l) -eq 1", dir);
    EXPECT(system(path) == 0);
}

static void test_miss_and_corrupt_ignored(void)
{
    struct ph_profile a, b;
    char err[256];
    EXPECT_EQ(ph_cache_load(dir, "0011223344", &b), 1);
    write_file("00AA.profile", "pam_esc-profile 1\ncuid=00AA\noperation=x\n"); /* no fetched_at */
    EXPECT_EQ(ph_cache_load(dir, "00AA", &b), 1);
    write_file("00AB.profile", "pam_esc-profile 2\ncuid=00AB\nfetched_at=1\n"); /* version */
    EXPECT_EQ(ph_cache_load(dir, "00AB", &b), 1);
    write_file("00AC.profile", "pam_esc-profile 1\ncuid=00AC\nbogus=1\nfetched_at=1\n");
    EXPECT_EQ(ph_cache_load(dir, "00AC", &b), 1);
    write_file("00AD.profile", "pam_esc-profile 1\ncuid=FFFF\nfetched_at=1\n"); /* other card */
    EXPECT_EQ(ph_cache_load(dir, "00AD", &b), 1);
    write_file("00AE.profile", "garbage\x01\x02");
    EXPECT_EQ(ph_cache_load(dir, "00AE", &b), 1);
    /* rewritten by the next store */
    sample(&a);
    strcpy(a.cuid, "00AE");
    EXPECT_EQ(ph_cache_store(dir, &a, err, sizeof err), 0);
    EXPECT_EQ(ph_cache_load(dir, "00AE", &b), 0);
    EXPECT_STR(b.token_type, "userKey");
}

static void test_bad_cuid_and_symlink(void)
{
    struct ph_profile a, b;
    char err[256], path[256];
    sample(&a);
    strcpy(a.cuid, "../../etc/passwd");
    EXPECT_EQ(ph_cache_store(dir, &a, err, sizeof err), -1);
    EXPECT_EQ(ph_cache_load(dir, "../x", &b), 1);
    snprintf(path, sizeof path, "%s/00BB.profile", dir);
    EXPECT_EQ(symlink("/etc/hostname", path), 0);
    EXPECT_EQ(ph_cache_load(dir, "00BB", &b), 1);
    /* a value with a newline cannot be stored (it would forge a line) */
    sample(&a);
    strcpy(a.issuer, "x\noperation=http://evil/");
    EXPECT_EQ(ph_cache_store(dir, &a, err, sizeof err), -1);
}

/* A symlink planted as the cache file is replaced, never written through; a cache directory
 * that is a symlink or that others can write to is refused, and so is a profile file that is
 * writable by others (it could name a rogue TPS). */
static void test_symlinks_not_followed(void)
{
    struct ph_profile a, b;
    char err[256], path[256], target[256], link[256], text[64] = "";
    struct stat st;
    sample(&a);
    strcpy(a.cuid, "00CC");
    snprintf(target, sizeof target, "%s/../victim", dir);
    write_file("../victim", "untouched\n");
    snprintf(path, sizeof path, "%s/00CC.profile", dir);
    EXPECT_EQ(symlink(target, path), 0);
    EXPECT_EQ(ph_cache_store(dir, &a, err, sizeof err), 0);
    EXPECT_EQ(lstat(path, &st), 0);
    EXPECT(S_ISREG(st.st_mode));
    FILE *f = fopen(target, "r");
    EXPECT(f && fgets(text, sizeof text, f));
    if (f)
        fclose(f);
    EXPECT_STR(text, "untouched\n");

    snprintf(link, sizeof link, "%s/../linkdir", dir);
    EXPECT_EQ(symlink(dir, link), 0);
    EXPECT_EQ(ph_cache_store(link, &a, err, sizeof err), -1);
    EXPECT(strstr(err, "could not be written") != NULL);

    snprintf(path, sizeof path, "%s/../shared", dir);
    EXPECT_EQ(mkdir(path, 0700), 0);
    EXPECT_EQ(chmod(path, 0777), 0);
    EXPECT_EQ(ph_cache_store(path, &a, err, sizeof err), -1);
    EXPECT(strstr(err, "Operation not permitted") != NULL);

    EXPECT_EQ(ph_cache_load(dir, "00CC", &b), 0);
    snprintf(path, sizeof path, "%s/00CC.profile", dir);
    EXPECT_EQ(chmod(path, 0620), 0);
    EXPECT_EQ(ph_cache_load(dir, "00CC", &b), 1);
}

static void test_default_dir(void)
{
    char out[256];
    setenv("ESC_CACHE_DIR", "/tmp/x", 1);
    EXPECT_EQ(ph_cache_default_dir(out, sizeof out), 0);
    EXPECT_STR(out, "/tmp/x");
    unsetenv("ESC_CACHE_DIR");
    setenv("XDG_CACHE_HOME", "/c", 1);
    EXPECT_EQ(ph_cache_default_dir(out, sizeof out), 0);
    EXPECT_STR(out, "/c/esc");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    EXPECT_EQ(ph_cache_default_dir(out, sizeof out), 0);
    EXPECT_STR(out, "/home/u/.cache/esc");
}

int main(void)
{
    char tmpl[] = "/tmp/test_ph_cache_XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(dir, sizeof dir, "%s/sub", tmpl); /* created by the first store */
    RUN(test_roundtrip_private);
    RUN(test_miss_and_corrupt_ignored);
    RUN(test_bad_cuid_and_symlink);
    RUN(test_symlinks_not_followed);
    RUN(test_default_dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
    if (system(cmd) != 0)
        return 1;
    return check_status();
}
