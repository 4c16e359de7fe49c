# SPDX-License-Identifier: BSD-3-Clause
# closetrace build: bpf/*.bpf.c -> build/bpf/*.bpf.o -> bpftool skeleton -> build/closetrace.
# Quiet by default; `make V=1` shows the commands. All output lives under build/.

BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null)
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS    ?= -O2 -g
# user/ is in layers, a folder each (ARCHITECTURE.md); headers are found by name in any
USER_DIRS := user $(sort $(dir $(wildcard user/*/*.h user/*/*.c)))
USER_DIRS := $(filter-out %/shim/,$(USER_DIRS))
USER_INC  := $(addprefix -I,$(patsubst %/,%,$(USER_DIRS)))
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Iinclude $(USER_INC) -I$(BUILD) -MMD -MP
# `make SAN=1` builds with ASan and UBSan, any report fatal; `make check-san` and
# `make test` build the unit tests that way under $(BUILD)/asan and run them.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ifeq ($(SAN),1)
override CFLAGS += $(SAN_FLAGS)
endif
LDLIBS    := -lbpf -lelf -lz -lpcap -lncursesw -lmicrohttpd -lcap-ng -lsystemd -lyaml -lcrypt \
	     -lpthread -lm

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -Ibpf -I/usr/include/$(MULTIARCH) -MMD -MP

# Debian packages: to build and run (`make deps-build`), and to test too (`make deps`).
DEB_BUILD := make gcc clang llvm pkg-config bpftool scdoc libbpf-dev libelf-dev zlib1g-dev \
	     libpcap-dev libncurses-dev libmicrohttpd-dev libcap-ng-dev libsystemd-dev libyaml-dev \
	     libcrypt-dev iproute2
DEB_TEST := $(DEB_BUILD) libcmocka-dev python3 jq tcpdump tshark ethtool tmux libclang-rt-dev curl \
	    nftables prometheus procps bsdextrautils git qemu-system-x86 busybox-static cpio \
	    openssl apache2-utils chromium

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# skeletons and objects are inputs of later builds, not throw-away intermediates
.SECONDARY:
.PHONY: all deps deps-build test check check-san unit-tests san-build demo bench clean

# a source by its name, wherever in user/ it is: $(call src,filter.c)
src = $(firstword $(wildcard user/$(1) user/*/$(1)))
MAIN_SRC  := $(call src,main.c)
MAIN_OBJ  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(MAIN_SRC))
USER_SRCS := $(filter-out $(MAIN_SRC),$(wildcard user/*.c user/*/*.c))
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
SKELS     := $(BUILD)/closetrace.skel.h $(BUILD)/resets.skel.h $(BUILD)/scan.skel.h
TEST_SKELS := $(BUILD)/vlan_meta.skel.h $(BUILD)/reject.skel.h $(BUILD)/iterprobe.skel.h

all: $(BUILD)/closetrace man

# --- BPF --------------------------------------------------------------------------------
# resets.bpf.c reads kernel structures through CO-RE with its own minimal definitions of
# the few fields it needs, not a vmlinux.h: the build does not depend on the build host's
# kernel (or on it having BTF); libbpf relocates against the running kernel's BTF at load.
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: tests/bpf/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: tests/bench/%.bpf.c | $(BUILD)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# --- user space -------------------------------------------------------------------------
$(BUILD)/user/%.o: user/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The in-process engine compiles bpf/parse.h and bpf/flow.h as they are, for replay: the
# user-space stand-in of libbpf's <bpf/bpf_helpers.h> (user/kernel/shim) is found first. The BPF
# sources' loop pragmas and fixed callback signatures are for clang's BPF target.
SHIM := $(dir $(call src,shim/bpf/bpf_helpers.h))
SHIM := $(patsubst %/bpf/,%,$(SHIM))
$(filter %/inproc.o,$(USER_OBJS)): CFLAGS += -Ibpf -I$(SHIM) -Wno-unknown-pragmas \
	-Wno-unused-parameter

$(BUILD)/closetrace: $(MAIN_OBJ) $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# --- tests ------------------------------------------------------------------------------
# Unit tests need no privileges (make check); the BPF and oracle tests load programs.
UNIT_TESTS := $(addprefix $(BUILD)/tests/,test_logic test_output test_agg test_filter \
	      test_options test_metrics test_hashtab test_owner test_zones test_diagnose \
	      test_share)
PRIV_TESTS := $(addprefix $(BUILD)/tests/,test_bpf test_bpf_random test_oracle)
TESTS := $(UNIT_TESTS) $(PRIV_TESTS)
# the unit tests again, built with the sanitizers in a tree of their own
SAN_BUILD := $(BUILD)/asan
SAN_UNIT_TESTS := $(patsubst $(BUILD)/%,$(SAN_BUILD)/%,$(UNIT_TESTS))

$(BUILD)/tests/%.o: tests/%.c $(SKELS) $(TEST_SKELS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(BUILD)/tests/pkt.o $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lcmocka -lpthread

# --- fuzzing: libFuzzer with ASan and UBSan (clang), run by tests/fuzz/run.sh -----------
# The user sources are compiled into the fuzzers with the sanitizers, not linked from
# build/user. run.sh finds the binaries under $(BUILD), hence the export.
export BUILD
FUZZ := $(BUILD)/fuzz/fuzz_filter $(BUILD)/fuzz/fuzz_pcap
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       -std=gnu11 -Wall -Wextra -Werror -Iinclude $(USER_INC)
FUZZ_FILTER_SRCS := tests/fuzz/fuzz_filter.c \
		    $(foreach f,filter.c classify.c record.c reasons.c text.c owner.c append.c zones.c \
				hashtab.c siphash.c numbers.c tunnel.c,$(call src,$(f)))
FUZZ_PCAP_SRCS := tests/fuzz/fuzz_pcap.c $(call src,pcapin.c)

$(BUILD)/fuzz/fuzz_filter: $(FUZZ_FILTER_SRCS) $(filter user/%,$(FUZZ_FILTER_SRCS:.c=.h)) \
			   include/closetrace.h \
			   include/ct_logic.h | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_FILTER_SRCS) -o $@

$(BUILD)/fuzz/fuzz_pcap: $(FUZZ_PCAP_SRCS) $(call src,pcapin.h) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_PCAP_SRCS) -o $@ -lpcap

$(BUILD)/fuzz:
	$(Q)mkdir -p $@

# install-pkgs PACKAGES: install those that are missing; fast when none is
define install-pkgs
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' \
			|| echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || \
		{ echo "make deps: installing$$missing failed; run as root on Debian 12" >&2; exit 1; }; \
		case " $$missing " in *" prometheus "*) \
			[ -d /run/systemd/system ] && \
				$$SUDO systemctl disable --now prometheus >/dev/null 2>&1; \
			echo "  DEPS     prometheus is for the tests: its service is left stopped";; \
		esac; \
		case " $$missing " in *" argus-server "*) \
			[ -d /run/systemd/system ] && \
				$$SUDO systemctl disable --now argus >/dev/null 2>&1; \
			echo "  DEPS     argus is a bench baseline: its service is left stopped";; \
		esac; \
	fi
endef

# --- benchmarks (never part of make test) ------------------------------------------------
# replay's baselines and what times them; the churn's kernel peer (nf_conntrack through an
# nftables rule, its table flushed between runs)
DEB_BENCH := tcptrace argus-server argus-client time nftables conntrack
$(BUILD)/tests/ctbench.o: tests/bench/ctbench.c $(SKELS) $(BUILD)/floor.skel.h \
			  $(BUILD)/gen.skel.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/ctbench: $(BUILD)/tests/ctbench.o $(BUILD)/tests/pkt.o $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lpthread

bench: deps
	$(call install-pkgs,$(DEB_BENCH))
	$(Q)$(MAKE) --no-print-directory all $(E2E) $(BUILD)/tests/ctbench
	$(Q)tests/bench/run.sh

deps-build:
	$(call install-pkgs,$(DEB_BUILD))

deps:
	$(call install-pkgs,$(DEB_TEST))

demo: deps-build
	$(Q)$(MAKE) --no-print-directory all $(E2E)
	$(Q)examples/demo.sh

# end-to-end helpers: the traffic driver, the VLAN tagger, programs named like closetrace's
# and what runs on an interface, seen apart from closetrace's code (hooks), and whether the
# kernel loads a bare map iterator (canload, iterprobe)
E2E := $(BUILD)/tests/tcpdrive $(BUILD)/tests/hooks $(BUILD)/tests/canload \
       $(BUILD)/bpf/vlan_tag.bpf.o $(BUILD)/bpf/impostor.bpf.o $(BUILD)/bpf/iterprobe.bpf.o

$(BUILD)/tests/tcpdrive: tests/e2e/tcpdrive.c | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

$(BUILD)/tests/hooks $(BUILD)/tests/canload: $(BUILD)/tests/%: tests/e2e/%.c | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -lbpf

# shell tests: the first need no privileges; the others need root
UNIT_SHELL_TESTS := tests/cli/test_cli.sh tests/cli/test_layers.sh tests/prometheus/check.sh \
		    tests/man/test_man.sh \
		    tests/pkg/test_install.sh
SHELL_TESTS := $(UNIT_SHELL_TESTS) tests/cli/test_replay.sh tests/cli/test_report.sh \
	       tests/cli/test_diagnose.sh \
	       tests/cli/test_engines.sh tests/cli/test_tunnels.sh \
	       tests/e2e/test_watch.sh \
	       tests/e2e/test_force.sh \
	       tests/e2e/test_top.sh tests/e2e/test_reasons.sh tests/e2e/test_owners.sh \
	       tests/e2e/test_viewers.sh tests/e2e/test_tunnels_live.sh \
	       tests/e2e/test_metrics.sh \
	       tests/e2e/test_flood.sh tests/e2e/test_service.sh tests/pkg/test_deb.sh \
	       tests/vm/test_iter_kernel.sh tests/fuzz/run.sh

# a sanitizer report names the line it comes from, and how it got there
SAN_ENV := UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1

# the whole suite, as CI runs it: installs what it needs, runs as root
test: deps
	$(Q)$(MAKE) --no-print-directory all $(TESTS) $(E2E) $(FUZZ) $(BUILD)/tests/ctbench
	$(Q)$(MAKE) --no-print-directory san-build
	$(Q)$(SAN_ENV) tests/run.sh $(TESTS) $(SAN_UNIT_TESTS) $(SHELL_TESTS)

# the tests anyone can run at once: no root, no package installs
check: all $(UNIT_TESTS)
	$(Q)tests/run.sh $(UNIT_TESTS) $(UNIT_SHELL_TESTS)

# the unit tests under ASan and UBSan, and the fuzzers (no root either; clang's runtime)
check-san: san-build $(FUZZ)
	$(Q)$(SAN_ENV) tests/run.sh $(SAN_UNIT_TESTS) tests/fuzz/run.sh

unit-tests: $(UNIT_TESTS)

san-build:
	$(Q)$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN=1 unit-tests

$(BUILD)/bpf $(BUILD)/tests:
	$(Q)mkdir -p $@

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/user/*/*.d)

# --- man pages (scdoc): SYNOPSIS, OPTIONS and the filter fields come from the binary's help
MAN_SRCS  := $(wildcard man/*.scd.in)
MAN_PAGES := $(patsubst man/%.scd.in,$(BUILD)/man/%,$(MAN_SRCS))
.PHONY: man install uninstall deb

$(BUILD)/man/%: man/%.scd.in man/fill.sh $(BUILD)/closetrace | $(BUILD)/man
	$(call msg,MAN,$@)
	$(Q)man/fill.sh $(BUILD)/closetrace $< > $@.scd
	$(Q)scdoc < $@.scd > $@

man: $(MAN_PAGES)

$(BUILD)/man:
	$(Q)mkdir -p $@

# --- install: `make install PREFIX=/usr DESTDIR=...`; uninstall removes what install put,
# except an /etc/default/closetrace that differs from the example (it holds the admin's
# interfaces): that one stays, and uninstall says so.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/closetrace
SYSCONFDIR ?= /etc
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
EXAMPLES   := $(wildcard examples/prometheus/* examples/grafana/* examples/systemd/* \
		examples/kubernetes/*)
INSTALL    ?= install

install: all man
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/default
	$(Q)$(INSTALL) -m 0755 $(BUILD)/closetrace $(DESTDIR)$(SBINDIR)/closetrace
	$(Q)$(INSTALL) -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 $(filter %.7,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man7/
	$(Q)sed 's|/usr/sbin/closetrace|$(SBINDIR)/closetrace|g' examples/systemd/closetrace.service \
		> $(DESTDIR)$(UNITDIR)/closetrace.service.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/closetrace.service.tmp && \
		mv $(DESTDIR)$(UNITDIR)/closetrace.service.tmp $(DESTDIR)$(UNITDIR)/closetrace.service
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/default/closetrace ] || \
		$(INSTALL) -m 0644 examples/systemd/closetrace.default \
			$(DESTDIR)$(SYSCONFDIR)/default/closetrace
	$(Q)for f in $(EXAMPLES); do \
		$(INSTALL) -D -m 0644 $$f $(DESTDIR)$(DOCDIR)/$$f || exit 1; done

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/closetrace $(DESTDIR)$(UNITDIR)/closetrace.service \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES)))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(filter %.7,$(MAN_PAGES))))
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)
	$(Q)f=$(DESTDIR)$(SYSCONFDIR)/default/closetrace; \
	if cmp -s $$f examples/systemd/closetrace.default; then rm -f $$f; \
	elif [ -e $$f ]; then echo "  KEPT     $$f: changed since install"; fi

# --- Debian package: dpkg-buildpackage writes to the parent directory; the files are moved
# to $(BUILD)/deb and debian/'s build state is cleaned, leaving the tree as it was.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_ARCH    = $(shell dpkg --print-architecture)

deb:
	$(call msg,DEB,$(BUILD)/deb/closetrace_$(DEB_VERSION)_$(DEB_ARCH).deb)
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	$(Q)dpkg-buildpackage -us -uc -b > $(BUILD)/deb/build.log 2>&1 || \
		{ tail -n 30 $(BUILD)/deb/build.log; exit 1; }
	$(Q)for f in ../closetrace_$(DEB_VERSION)_$(DEB_ARCH).deb \
		../closetrace-dbgsym_$(DEB_VERSION)_$(DEB_ARCH).deb \
		../closetrace_$(DEB_VERSION)_$(DEB_ARCH).buildinfo \
		../closetrace_$(DEB_VERSION)_$(DEB_ARCH).changes; do \
		[ ! -e $$f ] || mv $$f $(BUILD)/deb/; done
	$(Q)fakeroot debian/rules clean >> $(BUILD)/deb/build.log 2>&1

# man-page and package tests: their tools
DEB_TEST += scdoc mandoc man-db groff-base debhelper lintian fakeroot dpkg-dev systemd
