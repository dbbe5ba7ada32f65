# pam_esc: top-level build. Each part adds its targets in its own module.mk;
# this file holds the shared flags, the generic compile rule and the user-facing targets.
#   make            build everything into $(BUILD)/
#   make check      install what is missing, build (gcc, clang, ASan+UBSan), run every test
#   make demo       bring the rig up and show a card enrolled at a real PAM login
#   make bench      benchmarks, written to docs/benchmarks.md
#   make lint       clang-format and cppcheck
#   make deb        Debian packages (libpam-esc, esc-agent) into build/deb/ (config/debian/README.md)
#   make check-deb  build them and test them installed in a Debian 12 chroot (part of make check)
BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
# one version: the first entry of the Debian changelog
VERSION ?= $(shell awk -F'[()]' 'NR == 1 { print $$2; exit }' config/debian/changelog)
PREFIX  ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec/pam_esc
SYSCONFDIR ?= /etc
SYSTEMDUSERDIR ?= $(PREFIX)/lib/systemd/user
AUTOSTARTDIR ?= $(SYSCONFDIR)/xdg/autostart
PAMDIR  ?= $(shell pkg-config --variable=libdir pam 2>/dev/null || echo /lib/x86_64-linux-gnu)/security

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# SAN=fuzz (with CC=clang): every object instrumented for libFuzzer; see tests/fuzz/module.mk.
ifeq ($(SAN),fuzz)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
BASE_CFLAGS := -std=c11 $(WARN) $(OPT) -fPIC -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -Icommon $(SANFLAGS) \
	-DESC_LIBEXECDIR='"$(LIBEXECDIR)"' -DESC_SYSCONFDIR='"$(SYSCONFDIR)"' -DESC_VERSION='"$(VERSION)"'
# LDFLAGS: the distribution's linker flags (config/debian/rules passes Debian's hardening ones)
BASE_LDFLAGS := $(SANFLAGS) $(LDFLAGS)

pc = $(shell pkg-config $(1) 2>/dev/null)
PCSC_CFLAGS := $(call pc,--cflags libpcsclite)
PCSC_LIBS   := $(call pc,--libs libpcsclite)
CURL_CFLAGS := $(call pc,--cflags libcurl)
CURL_LIBS   := $(call pc,--libs libcurl)
XML_CFLAGS  := $(call pc,--cflags libxml-2.0)
XML_LIBS    := $(call pc,--libs libxml-2.0)
NSS_CFLAGS  := $(call pc,--cflags nss)
NSS_LIBS    := $(call pc,--libs nss)
UDEV_LIBS   := $(call pc,--libs libudev)
SYSTEMD_LIBS := $(call pc,--libs libsystemd)
SSL_CFLAGS  := $(call pc,--cflags libcrypto)
SSL_LIBS    := $(call pc,--libs libcrypto)
ZLIB_LIBS   := $(call pc,--libs zlib)

.PHONY: all programs check check-deb deb demo bench install clean lint deps
all:
# what `make install` ships (the tests and the rig are not built for it)
programs: $(BUILD)/pam_esc.so $(BUILD)/esc-agent $(BUILD)/esc-session $(BUILD)/esc-card $(BUILD)/escctl $(BUILD)/escctl-local

# Generic compile rule; a module adds include paths with a pattern-specific
# variable, e.g.  $(BUILD)/obj/agent/%.o: MOD_CFLAGS = $(CURL_CFLAGS)
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(MOD_CFLAGS) -MMD -MP -c -o $@ $<

include common/module.mk
include pam_esc/module.mk
include agent/module.mk
include tests/module.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Installs the Debian packages the build, the tests and the demo need (root, non-interactive).
deps:
	@tests/rig/deps install

check:
	@tests/rig/deps ensure
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory all BUILD=$(BUILD)/san SAN=1
	@tests/run-tests --build $(BUILD)

demo:
	@tests/rig/deps ensure
	@$(MAKE) --no-print-directory all
	@tests/demo/run-demo --build $(BUILD)

bench:
	@tests/rig/deps ensure
	@$(MAKE) --no-print-directory all
	@tests/bench/run-bench --build $(BUILD)

lint:
	@tests/lint.sh

# Debian packages from the tracked files (config/debian/README.md): build/deb/*.deb
deb:
	@config/debian/make-deb $(BUILD)/deb

# the packages installed, enabled, used for a login on the rig, purged, in a Debian 12 chroot
check-deb:
	@tests/rig/deps ensure
	@$(MAKE) --no-print-directory all
	@tests/run-tests --build $(BUILD) checks/deb

install: programs
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSCONFDIR)/pam_esc
	install -m 0644 $(BUILD)/pam_esc.so $(DESTDIR)$(PAMDIR)/pam_esc.so
	install -m 0755 $(BUILD)/esc-agent $(DESTDIR)$(LIBEXECDIR)/esc-agent
	install -m 0755 $(BUILD)/esc-session $(DESTDIR)$(LIBEXECDIR)/esc-session
	install -m 0755 $(BUILD)/esc-card $(DESTDIR)$(LIBEXECDIR)/esc-card
	install -m 0755 $(BUILD)/escctl $(DESTDIR)$(PREFIX)/bin/escctl
	install -m 0755 $(BUILD)/escctl-local $(DESTDIR)$(LIBEXECDIR)/escctl-local
	test -e $(DESTDIR)$(SYSCONFDIR)/pam_esc/esc.conf || install -m 0644 config/esc.conf $(DESTDIR)$(SYSCONFDIR)/pam_esc/esc.conf
	@# the unprivileged account esc-agent --pam runs as at the greeter and console (agent_user)
	if [ -z "$(DESTDIR)" ] && ! getent passwd esc-agent >/dev/null; then \
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin esc-agent; fi
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 docs/escctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/escctl.1
	install -m 0644 docs/esc.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/esc.conf.5
	install -m 0644 docs/pam_esc.8 docs/esc-agent.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	@# the user's session daemon: at login (default.target) and socket-activated by the
	@# screensaver's hand-off, through systemd's user instance
	install -d $(DESTDIR)$(SYSTEMDUSERDIR)
	install -m 0644 config/systemd/esc-agent.socket $(DESTDIR)$(SYSTEMDUSERDIR)/esc-agent.socket
	sed 's#@LIBEXECDIR@#$(LIBEXECDIR)#' config/systemd/esc-agent.service.in >$(DESTDIR)$(SYSTEMDUSERDIR)/esc-agent.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUSERDIR)/esc-agent.service
	@# the session daemon at login where no systemd user instance starts it
	install -d $(DESTDIR)$(AUTOSTARTDIR)
	sed 's#@LIBEXECDIR@#$(LIBEXECDIR)#' config/autostart/esc-agent.desktop.in >$(DESTDIR)$(AUTOSTARTDIR)/esc-agent.desktop
	chmod 0644 $(DESTDIR)$(AUTOSTARTDIR)/esc-agent.desktop

clean:
	rm -rf $(BUILD)
