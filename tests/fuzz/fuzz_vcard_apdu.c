/* fuzz_vcard_apdu: arbitrary APDU sequences into the virtual card's core. The input is a mode
 * byte then APDUs, each prefixed by its length (1 byte). Mode bit 0 opens an SCP02 channel
 * first and wraps every APDU with the host side of gp_scp, so the fuzzer reaches the secure
 * commands (GENERATE KEY, IMPORT KEY ENCRYPTED, DELETE/INSTALL/LOAD, PUT KEY...); bit 1 logs
 * in, so nonce-protected commands run with the PIN identity. The card must answer every APDU
 * with data + SW within its buffer and never crash. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>

#include "gp_scp.h"
#include "vc_card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key; /* one key pair for every run: RSA generation is slow */

static void setup(struct vc_card *c)
{
    static const uint16_t acl_priv[3] = {0x0000, 0x4000, 0x0001},
                          acl_pub[3] = {0xFFFF, 0x4000, 0xFFFF};
    static const uint16_t obj_acl[3] = {0xFFFF, 0x4000, 0x4000};
    static const uint8_t z0[4] = {'z', '0', 0, 0};
    if (!key)
        key = EVP_RSA_gen(1024);
    vc_card_init(c);
    c->package_loaded = c->applet_installed = true;
    vc_applet_wipe(c, VC_DEFAULT_MEM);
    vc_pin_set(&c->pins[0], (const uint8_t *)"1234", 4, 5);
    if (key && EVP_PKEY_up_ref(key) && EVP_PKEY_up_ref(key)) {
        vc_key_put(c, 0, key, VC_KEY_RSA_PRIVATE_CRT, 1, acl_priv);
        vc_key_put(c, 1, key, VC_KEY_RSA_PUBLIC, 0, acl_pub);
    }
    struct vc_object *o = vc_obj_add(c, z0, 300, obj_acl);
    if (o)
        memset(o->data, 0x5A, o->size);
}

static void send(struct vc_card *c, const uint8_t *a, size_t n, uint8_t *resp)
{
    size_t rl = vc_card_apdu(c, a, n, resp);
    if (rl < 2 || rl > VC_RESP_MAX)
        __builtin_trap();
}

/* Opens an SCP02 channel with the developer keys; false if the card refuses (a PUT KEY in
 * the input may have replaced them). */
static bool open_channel(struct vc_card *c, struct gp_session *s, uint8_t *resp)
{
    uint8_t iu[13] = {0x80, 0x50, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8}, hc[8], ea[21];
    struct gp_keyset k;
    size_t rl = vc_card_apdu(c, iu, sizeof(iu), resp);
    if (rl != 30)
        __builtin_trap(); /* a fresh card always answers INITIALIZE UPDATE */
    gp_keyset_developer(&k);
    gp_scp02_session(&k, resp + 12, s);
    gp_host_cryptogram(s, iu + 5, resp + 12, hc);
    gp_external_authenticate(s, GP_SEC_CMAC_CDEC, hc, ea);
    rl = vc_card_apdu(c, ea, sizeof(ea), resp);
    return resp[rl - 2] == 0x90 && resp[rl - 1] == 0x00;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vc_card c;
    struct gp_session s;
    uint8_t resp[VC_RESP_MAX], w[600];
    static const uint8_t sel[12] = {0x00, 0xA4, 0x04, 0x00, 0x07, 0x62,
                                    0x76, 0x01, 0xFF, 0x00, 0x00, 0x00};
    static const uint8_t verify[9] = {0xB0, 0x42, 0x00, 0x00, 0x04, '1', '2', '3', '4'};
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    setup(&c);
    send(&c, sel, sizeof(sel), resp);
    if (mode & 2)
        send(&c, verify, sizeof(verify), resp);
    bool chan = (mode & 1) && open_channel(&c, &s, resp);
    for (size_t i = 1; i < size;) {
        size_t n = data[i++];
        if (n > size - i)
            n = size - i;
        const uint8_t *a = data + i;
        i += n;
        if (chan && n >= 4 && a[0] == 0x84 && a[1] != 0x82) {
            size_t wn = gp_wrap(&s, a, n, mode & 4, w, sizeof(w));
            if (wn) {
                send(&c, w, wn, resp);
                continue;
            }
        }
        send(&c, a, n, resp);
        if ((mode & 1) && n >= 2 && a[1] == 0xA4) /* SELECT closed the channel: reopen */
            chan = open_channel(&c, &s, resp);
    }
    vc_card_free(&c);
    return 0;
}
