/* tpsd_archive: per-user archived encryption keys. */
#include "tpsd_archive.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

static pthread_mutex_t archive_lock = PTHREAD_MUTEX_INITIALIZER;

/* <dir>/<uid escaped to [A-Za-z0-9_-] and %XX>.pem */
static int key_path(const char *dir, const char *uid, char *out, size_t cap)
{
    char name[400];
    size_t n = 0;
    if (!uid[0])
        return -1;
    for (const char *p = uid; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-') {
            if (n + 1 >= sizeof(name))
                return -1;
            name[n++] = (char)c;
        } else {
            if (n + 3 >= sizeof(name))
                return -1;
            snprintf(name + n, 4, "%%%02X", c);
            n += 3;
        }
    }
    name[n] = '\0';
    return snprintf(out, cap, "%s/%s.pem", dir, name) < (int)cap ? 0 : -1;
}

EVP_PKEY *tpsd_archive_load(const char *dir, const char *uid)
{
    char path[4096];
    EVP_PKEY *key = NULL;
    FILE *fp;
    if (!dir || key_path(dir, uid, path, sizeof(path)) < 0)
        return NULL;
    pthread_mutex_lock(&archive_lock);
    fp = fopen(path, "re");
    if (fp) {
        key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
        fclose(fp);
    }
    pthread_mutex_unlock(&archive_lock);
    return key;
}

int tpsd_archive_store(const char *dir, const char *uid, EVP_PKEY *key)
{
    char path[4096], tmp[4200];
    int fd, rc = -1;
    FILE *fp;
    if (!dir || key_path(dir, uid, path, sizeof(path)) < 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    pthread_mutex_lock(&archive_lock);
    mkdir(dir, 0700);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        goto out;
    }
    if (PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) != 1 || fflush(fp) != 0 ||
        fsync(fileno(fp)) != 0) {
        fclose(fp);
        goto out;
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0)
        goto out;
    rc = 0;
out:
    if (rc)
        unlink(tmp);
    pthread_mutex_unlock(&archive_lock);
    return rc;
}
