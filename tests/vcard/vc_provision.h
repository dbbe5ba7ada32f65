/* vc_provision.h: the card presets, made by the card's own provisioning code (not by a TPS)
 * in the layout a Dogtag format + enrollment leaves (coolkey-card.md §4.1, §6):
 *   blank      card manager only, no CoolKey package or applet
 *   formatted  applet installed, life cycle 07, issuer info = the phone-home URL
 *   enrolled   life cycle 0F, PIN 0 set, signing pair in key slots 2/3 with certificate c1 and
 *              encryption pair in 4/5 with c2 (both from the test CA), one zlib z0 object
 *   locked     enrolled with the PIN tries at 0
 *   expired    enrolled with both certificates past notAfter */
#ifndef ESC_VC_PROVISION_H
#define ESC_VC_PROVISION_H

#include "vc_card.h"

struct vc_provision_opts {
    const char *preset;
    const char *ca_dir;
    const char *phone_home; /* may be NULL */
    const char *user;
    const char *pin;
    const uint8_t *cuid; /* 10 bytes, NULL = a random serial */
    unsigned key_bits;   /* 1024 or 2048 */
    uint8_t pin_tries;
    int scp; /* 1 or 2 */
    /* enrolled: the certificates' notAfter this many days from now (0: a year), as a card
     * whose certificates are about to expire */
    unsigned valid_days;
    /* enrolled: PIN tries left below pin_tries (0: all of them), as after wrong PINs */
    uint8_t pin_tries_left;
};

/* Initialises `c` as the preset. 0, or -1 with a one-sentence message on stderr. */
int vc_provision(struct vc_card *c, const struct vc_provision_opts *o);

#endif
