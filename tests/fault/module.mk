# tests/fault: programs linked with the fault-injection layer (fault_wrap.c): every call of the
# project's code to malloc, calloc, realloc, read, write, send, recv, poll, socket, connect and
# each PC/SC function goes through a
# wrapper that fails the Nth call when FAULT_AT=N. tests/checks/fault_walk.sh walks N.
#   fault_probe   the card probe (common/probe) as pam_esc and escctl status run it
#   escctl        escctl itself (every command, the engine included)
FAULT_SYMS := malloc calloc realloc read __read_chk write send recv __recv_chk poll socket connect \
	SCardEstablishContext SCardReleaseContext \
	SCardListReaders SCardFreeMemory SCardGetStatusChange SCardConnect SCardDisconnect SCardStatus \
	SCardBeginTransaction SCardEndTransaction SCardTransmit SCardCancel SCardReconnect
FAULT_LDFLAGS := $(foreach s,$(FAULT_SYMS),-Wl,--wrap=$(s))
$(BUILD)/obj/tests/fault/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) -Iagent

$(BUILD)/tests/fault/fault_probe: $(BUILD)/obj/tests/fault/fault_probe.o $(BUILD)/obj/tests/fault/fault_wrap.o $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) $(FAULT_LDFLAGS) -o $@ $^ $(COMMON_LIBS) -ldl
$(BUILD)/tests/fault/escctl: $(BUILD)/obj/agent/escctl/main_escctl.o $(BUILD)/obj/tests/fault/fault_wrap.o $(AGENT_ESCCTL_LIB) $(AGENT_ENGINE_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) $(FAULT_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS) -ldl
all: $(BUILD)/tests/fault/fault_probe $(BUILD)/tests/fault/escctl
