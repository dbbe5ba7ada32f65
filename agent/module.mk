# agent/: esc-agent (session daemon and PAM-time helper) and escctl.
# Every agent/*.c except the two main_*.c files goes into one static library
# that both programs and the unit tests link.
AGENT_CORE_SRC := $(filter-out agent/main_%.c,$(wildcard agent/*.c))
AGENT_CORE_OBJ := $(AGENT_CORE_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_LIB  := $(BUILD)/libescagent.a
AGENT_LIBS := $(CURL_LIBS) $(XML_LIBS) $(NSS_LIBS) $(UDEV_LIBS)
$(BUILD)/obj/agent/%.o: MOD_CFLAGS = $(PCSC_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(NSS_CFLAGS)

$(AGENT_LIB): $(AGENT_CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/esc-agent: $(BUILD)/obj/agent/main_agent.o $(AGENT_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS)
$(BUILD)/escctl: $(BUILD)/obj/agent/main_escctl.o $(AGENT_LIB) $(COMMON_LIB)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS)
all: $(BUILD)/esc-agent $(BUILD)/escctl
