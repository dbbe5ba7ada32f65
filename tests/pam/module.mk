# tests/pam: PAM test drivers (pam_start_confdir with a scripted conversation).
$(BUILD)/tests/pam/pam_drive: $(BUILD)/obj/tests/pam/pam_drive.o
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $^ -lpam
all: $(BUILD)/tests/pam/pam_drive
