# tests/: the rig's programs (virtual card, reference TPS), unit tests and fuzzers.
include tests/lib/module.mk
include tests/vcard/module.mk
include tests/tps/module.mk
include tests/unit/module.mk
include tests/fuzz/module.mk
include tests/fault/module.mk
include tests/bench/module.mk
include tests/pam/module.mk
