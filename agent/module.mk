# agent/: esc-agent and escctl, by part (docs/architecture.md):
#   engine/   Phone Home and its cache, the trust policy, the TPS conversation and operations
#   escctl/   the command line (and the terminal's ask/progress callbacks)
#   handoff/  the pam_esc hand-off server (esc-agent --pam, --pam-serve)
#   session/  the session daemon (esc-agent --session): readers, notifications, event log
# The fronts stand on the engine and never on each other; each part is a static library, and
# the programs (main_agent.c, escctl/main_escctl.c) and the tests link the parts they use.
# Includes across parts name the part: #include "engine/tps_op.h".
AGENT_ENGINE_SRC  := $(wildcard agent/engine/*.c)
AGENT_ESCCTL_SRC  := $(filter-out agent/escctl/main_escctl%.c,$(wildcard agent/escctl/*.c))
AGENT_HANDOFF_SRC := $(wildcard agent/handoff/*.c)
AGENT_SESSION_SRC := $(filter-out agent/session/main_session.c agent/session/main_card.c,$(wildcard agent/session/*.c))
AGENT_ENGINE_LIB  := $(BUILD)/libescengine.a
AGENT_ESCCTL_LIB  := $(BUILD)/libescctl.a
AGENT_HANDOFF_LIB := $(BUILD)/libeschandoff.a
AGENT_SESSION_LIB := $(BUILD)/libescsession.a
# What the unit tests link: every part (the link pulls only what a test uses).
AGENT_LIB  := $(AGENT_SESSION_LIB) $(AGENT_ESCCTL_LIB) $(AGENT_HANDOFF_LIB) $(AGENT_ENGINE_LIB)
# libssl: the TPS connections' trust anchors go to libcurl's SSL_CTX (engine/tls_anchors.c)
AGENT_LIBS := $(CURL_LIBS) $(XML_LIBS) $(NSS_LIBS) $(call pc,--libs libssl) $(SSL_LIBS) $(UDEV_LIBS) $(SYSTEMD_LIBS) -lpthread
$(BUILD)/obj/agent/%.o: MOD_CFLAGS = -Iagent $(PCSC_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(NSS_CFLAGS)
# escctl diag's login check uses OpenSSL, the library pam_pkcs11 and SSSD check certificates with
$(BUILD)/obj/agent/escctl/escctl_diag_ca.o: MOD_CFLAGS += $(SSL_CFLAGS)

$(AGENT_ENGINE_LIB): $(AGENT_ENGINE_SRC:%.c=$(BUILD)/obj/%.o)
$(AGENT_ESCCTL_LIB): $(AGENT_ESCCTL_SRC:%.c=$(BUILD)/obj/%.o)
$(AGENT_HANDOFF_LIB): $(AGENT_HANDOFF_SRC:%.c=$(BUILD)/obj/%.o)
$(AGENT_SESSION_LIB): $(AGENT_SESSION_SRC:%.c=$(BUILD)/obj/%.o)
$(AGENT_ENGINE_LIB) $(AGENT_ESCCTL_LIB) $(AGENT_HANDOFF_LIB) $(AGENT_SESSION_LIB):
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# esc-agent: the hand-off server, the session daemon, and `--op` (one operation from a
# terminal, escctl's code)
$(BUILD)/esc-agent: $(BUILD)/obj/agent/main_agent.o $(AGENT_SESSION_LIB) $(AGENT_HANDOFF_LIB) $(AGENT_ESCCTL_LIB) $(AGENT_ENGINE_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS)
# escctl-local: the full command line, run by escctl (installed as $(LIBEXECDIR)/escctl-local)
$(BUILD)/escctl-local: $(BUILD)/obj/agent/escctl/main_escctl.o $(AGENT_ESCCTL_LIB) $(AGENT_ENGINE_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS)
# escctl: the thin front. It links libc only (no libcurl, NSS, libxml2, OpenSSL, pcsc-lite:
# loading them costs ~7 ms of CPU; of the engine it takes task_label.o only), serves the
# commands the session agent runs, and execs escctl-local for the rest (escctl/escctl_local.h).
$(BUILD)/escctl: $(BUILD)/obj/agent/escctl/main_escctl_front.o $(AGENT_ESCCTL_LIB) $(AGENT_ENGINE_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^
# esc-session: the session daemon's watcher (esc-agent --session execs it). It links libc and
# libudev only, so that an idle session holds little memory (session/session.h).
$(BUILD)/esc-session: $(BUILD)/obj/agent/session/main_session.o $(AGENT_SESSION_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(UDEV_LIBS)
# esc-card: the session daemon's worker for an inserted card (session/session.h): the probe,
# the cached profile, the event log and sd-bus; libcurl, NSS, libxml2 and OpenSSL stay out (a
# reference to them fails this link), esc-agent --session-card does what needs the network.
$(BUILD)/esc-card: $(BUILD)/obj/agent/session/main_card.o $(AGENT_SESSION_LIB) $(AGENT_ENGINE_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(SYSTEMD_LIBS) $(COMMON_LIBS)
all: $(BUILD)/esc-agent $(BUILD)/escctl $(BUILD)/escctl-local $(BUILD)/esc-session $(BUILD)/esc-card
