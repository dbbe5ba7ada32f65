/* vc_state.h: the card's persistent state (its "EEPROM") in a text file, one item per line,
 * binary values in hex. Written atomically (temp file, fsync, rename), mode 0600: it holds
 * private keys and the PIN like a real card does. */
#ifndef ESC_VC_STATE_H
#define ESC_VC_STATE_H

#include "vc_card.h"

/* 0 on success; -1 with a one-sentence message on stderr. */
int vc_state_save(const struct vc_card *c, const char *path);
/* Initialises `c` from the file; 0 on success, -1 with a message (c is then a fresh card). */
int vc_state_load(struct vc_card *c, const char *path);
/* Parses state text (the fuzzer and the loader share it). */
int vc_state_parse(struct vc_card *c, char *text);

#endif
