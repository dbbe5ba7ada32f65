/* esc_err: messages and classes of the project-wide error codes. */
#include "esc_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct err_row {
    const char *name;
    const char *msg;
    enum esc_err_class cls;
};

/* Indexed by esc_err; one sentence each, written for the person at the keyboard. */
static const struct err_row rows[ESC_ERR__COUNT] = {
    [ESC_OK] = {"OK", "Success", ESC_CLASS_OK},
    [ESC_ERR_NOMEM] = {"NOMEM", "Out of memory", ESC_CLASS_SYSTEM},
    [ESC_ERR_ARG] = {"ARG", "Invalid argument", ESC_CLASS_SYSTEM},
    [ESC_ERR_IO] = {"IO", "A file or socket could not be read or written", ESC_CLASS_SYSTEM},
    [ESC_ERR_TIMEOUT] = {"TIMEOUT", "The operation did not finish in time", ESC_CLASS_SYSTEM},
    [ESC_ERR_CONF] = {"CONF", "The configuration file has an error", ESC_CLASS_SYSTEM},
    [ESC_ERR_CONF_MISSING] = {"CONF_MISSING", "The configuration file does not exist",
                              ESC_CLASS_SYSTEM},
    [ESC_ERR_INTERNAL] = {"INTERNAL", "Internal error", ESC_CLASS_SYSTEM},
    [ESC_ERR_NO_PCSCD] = {"NO_PCSCD", "The smart-card service (pcscd) is not running",
                          ESC_CLASS_ABSENT},
    [ESC_ERR_PCSCD_HUNG] = {"PCSCD_HUNG", "The smart-card service (pcscd) does not answer",
                            ESC_CLASS_ABSENT},
    [ESC_ERR_NO_READER] = {"NO_READER", "No smart-card reader is connected", ESC_CLASS_ABSENT},
    [ESC_ERR_NO_CARD] = {"NO_CARD", "No smart card is in the reader", ESC_CLASS_ABSENT},
    [ESC_ERR_CARD_MUTE] = {"CARD_MUTE",
                           "The smart card does not respond; it may be inserted the wrong way",
                           ESC_CLASS_CARD},
    [ESC_ERR_CARD_IN_USE] = {"CARD_IN_USE", "Another program is using the smart card exclusively",
                             ESC_CLASS_CARD},
    [ESC_ERR_CARD_REMOVED] = {"CARD_REMOVED", "The smart card was removed during the operation",
                              ESC_CLASS_CARD},
    [ESC_ERR_CARD_RESET] = {"CARD_RESET",
                            "The smart card was reset by another program during the operation",
                            ESC_CLASS_CARD},
    [ESC_ERR_PCSC] = {"PCSC", "The smart-card service reported an error", ESC_CLASS_CARD},
    [ESC_ERR_CARD_SHORT] = {"CARD_SHORT", "The smart card sent a reply that is too short",
                            ESC_CLASS_CARD},
    [ESC_ERR_CARD_LONG] = {"CARD_LONG", "The smart card sent a reply that is too long",
                           ESC_CLASS_CARD},
    [ESC_ERR_CARD_GARBAGE] = {"CARD_GARBAGE", "The smart card sent a malformed reply",
                              ESC_CLASS_CARD},
    [ESC_ERR_CARD_SW] = {"CARD_SW", "The smart card refused the command", ESC_CLASS_CARD},
    [ESC_ERR_NO_APPLET] = {"NO_APPLET", "The smart card has no CoolKey applet", ESC_CLASS_CARD},
    [ESC_ERR_PIN_LOCKED] = {"PIN_LOCKED", "The smart card PIN is locked", ESC_CLASS_USER},
    [ESC_ERR_PIN_INCORRECT] = {"PIN_INCORRECT", "The PIN is wrong", ESC_CLASS_USER},
    [ESC_ERR_NOT_FOUND] = {"NOT_FOUND", "The object was not found on the smart card",
                           ESC_CLASS_CARD},
    [ESC_ERR_BAD_OBJECT] = {"BAD_OBJECT", "An object on the smart card is malformed",
                            ESC_CLASS_CARD},
    [ESC_ERR_TOO_BIG] = {"TOO_BIG", "The data is larger than allowed", ESC_CLASS_CARD},
    [ESC_ERR_BAD_CERT] = {"BAD_CERT", "A certificate is malformed", ESC_CLASS_CARD},
    [ESC_ERR_UNTRUSTED_HOST] = {"UNTRUSTED_HOST", "The server is not in the list of allowed hosts",
                                ESC_CLASS_SERVER},
    [ESC_ERR_NETWORK] = {"NETWORK", "The server cannot be reached", ESC_CLASS_SERVER},
    [ESC_ERR_TLS] = {"TLS", "The server's TLS certificate could not be verified", ESC_CLASS_SERVER},
    [ESC_ERR_SERVER] = {"SERVER", "The server sent an error or a malformed reply",
                        ESC_CLASS_SERVER},
    [ESC_ERR_TPS_REFUSED] = {"TPS_REFUSED", "The token server refused the operation",
                             ESC_CLASS_SERVER},
    [ESC_ERR_AUTH_FAILED] = {"AUTH_FAILED", "The user ID or password is wrong", ESC_CLASS_USER},
    [ESC_ERR_PROTOCOL] = {"PROTOCOL", "The peer broke the message protocol", ESC_CLASS_SYSTEM},
    [ESC_ERR_AGENT_UNAVAILABLE] = {"AGENT_UNAVAILABLE",
                                   "The smart-card agent could not be reached or started",
                                   ESC_CLASS_SYSTEM},
    [ESC_ERR_CANCELLED] = {"CANCELLED", "The operation was cancelled", ESC_CLASS_USER},
    [ESC_ERR_NOT_SUPPORTED] = {"NOT_SUPPORTED", "The operation is not supported", ESC_CLASS_SYSTEM},
    [ESC_ERR_TPS_TIMEOUT] = {"TPS_TIMEOUT", "The token server did not answer in time",
                             ESC_CLASS_SERVER},
};

static const struct err_row *row(esc_err e)
{
    if ((int)e < 0 || e >= ESC_ERR__COUNT || rows[e].msg == NULL)
        return NULL;
    return &rows[e];
}

const char *esc_strerror(esc_err e)
{
    const struct err_row *r = row(e);
    return r ? r->msg : "Unknown error";
}

const char *esc_err_name(esc_err e)
{
    const struct err_row *r = row(e);
    return r ? r->name : "UNKNOWN";
}

enum esc_err_class esc_err_class(esc_err e)
{
    const struct err_row *r = row(e);
    return r ? r->cls : ESC_CLASS_SYSTEM;
}

void esc_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
