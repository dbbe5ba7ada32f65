/* vc_show.h: what `vcard show` prints about a card state (never the PIN or key material). */
#ifndef ESC_VC_SHOW_H
#define ESC_VC_SHOW_H

#include <stdio.h>

#include "vc_card.h"

void vc_show(const struct vc_card *c, FILE *f, bool json);

#endif
