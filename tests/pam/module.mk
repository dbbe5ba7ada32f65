# tests/pam: PAM test drivers (pam_start_confdir with a scripted conversation).
$(BUILD)/tests/pam/pam_drive: $(BUILD)/obj/tests/pam/pam_drive.o
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ -lpam
all: $(BUILD)/tests/pam/pam_drive

# The hand-off server with a script in place of the engine (scripted_agent.c).
$(BUILD)/obj/tests/pam/scripted_agent.o: MOD_CFLAGS = -Iagent $(PCSC_CFLAGS) $(CURL_CFLAGS)
$(BUILD)/tests/esc-agent-scripted: $(BUILD)/obj/tests/pam/scripted_agent.o $(AGENT_HANDOFF_LIB) $(AGENT_ENGINE_LIB) $(COMMON_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(COMMON_LIBS)
all: $(BUILD)/tests/esc-agent-scripted
