# turncell: one Makefile, explicit groups.
#
#   make            build bin/turncell, bin/turncell-worker, bin/mock-portal
#   make check      build and run every TAP test with prove
#   make check-asan the integration tests against ASan+UBSan binaries
#   make check-sbxdebug the integration tests with a trapping worker filter
#   make run        install what is missing, build, start a local relay
#   make deps       install the Debian packages of contrib/deps.sh
#   make fuzz       build the libFuzzer harnesses (clang, ASan+UBSan)
#   make fuzz-run   run each harness for FUZZ_SECONDS (default 60)
#   make fuzz-long  the same for 30 minutes per harness
#   make bench      turncell and coturn side by side (figures, not tests)
#   make bench-scale the same at 10,000 allocations
#   make bench-xdp  the same through a veth between two network namespaces,
#                   with turncell --xdp as a third server (root)
#   make xdp-pass   build/test/xdp-pass (built by make too): attaches an
#                   XDP_PASS program to the far side of a test veth
#   make install    bin/turncell and bin/turncell-worker into $(BINDIR), the
#                   manual page and the systemd unit (PREFIX, DESTDIR)
#
# Purity is enforced by linking: the core (common/*.c except the I/O
# helpers log.c and msg_io.c) is built into libcore.a, and the unit tests
# t/[0-3]?-*.c link only libcore.a, t/tap.c and the pure test helpers
# (t/tstun.c, t/tengine.c: no I/O). Unit tests are built with ASan and
# UBSan.
#
# CFLAGS and LDFLAGS are the user's (make CFLAGS=-O0 works); the flags the
# project needs (TC_CFLAGS: standard, warnings, include path, version) are
# always added in front of them.

VERSION	?= 0.1.0
CLANG	?= clang

WARN	 = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
CFLAGS	?= -O2 -g
TC_CFLAGS = -std=gnu11 $(WARN) -DTURNCELL_VERSION='"$(VERSION)"' -Icommon
# _FORTIFY_SOURCE needs the optimiser: without it glibc warns on every file
FORTIFY	 = $(if $(filter -O0,$(CFLAGS)),,-D_FORTIFY_SOURCE=2)
HARDEN	 = -fstack-protector-strong $(FORTIFY) -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
# the worker is linked statically (a PIE still, for ASLR): one process per
# allocation, and each dynamic one had private copies of ld.so's, libc's
# and libev's relocated data (some 40 KiB) and the start-up cost of the
# loader. It needs libc only; its loop is plain epoll. The libc is musl
# (Debian's musl-tools), not glibc: glibc's start-up asks the CPU for its
# features and cache sizes, some 50 cpuid instructions, each a trap to the
# hypervisor on a virtual machine, and an exec of an empty static glibc
# binary costs 0.4-0.5 ms of CPU on the development VM, one of musl 0.13 ms
# (README.md, "Performance"). musl's static start-up leaves the RELRO
# pages writable; the worker protects them itself (worker/wrk_relro.c).
# musl has no _FORTIFY_SOURCE. WRK_LIBC=glibc builds it as before.
WRK_LIBC ?= musl
WRK_LD	 = -static-pie -Wl,-z,relro,-z,now $(LDFLAGS)
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer

CORE_LIBS = -lnettle -lz -lcjson
SUP_LIBS  = -lev -lwebsockets -lcjson -lbpf $(CORE_LIBS)
WRK_LIBS  = $(CORE_LIBS)

IO_SRC	 = $(wildcard common/log.c common/msg_io.c common/udp_batch.c)
CORE_SRC = $(filter-out $(IO_SRC), $(wildcard common/*.c))
SUP_SRC	 = $(wildcard supervisor/*.c)
WRK_SRC	 = $(wildcard worker/*.c)
WRK_LIB_SRC = $(filter-out worker/main.c, $(WRK_SRC))
MOCK_SRC = $(wildcard contrib/mock_portal*.c)
TUTIL_SRC = $(wildcard t/tutil*.c)
TPURE_SRC = $(wildcard t/tstun.c t/tengine.c)

O	 = build/obj
S	 = build/san
CORE_OBJ = $(CORE_SRC:%.c=$(O)/%.o)
CORE_SAN = $(CORE_SRC:%.c=$(S)/%.o)
IO_OBJ	 = $(IO_SRC:%.c=$(O)/%.o)
SUP_OBJ	 = $(SUP_SRC:%.c=$(O)/%.o)
WRK_LIB_OBJ = $(WRK_LIB_SRC:%.c=$(O)/%.o)
MOCK_OBJ = $(MOCK_SRC:%.c=$(O)/%.o)
TUTIL_OBJ = $(TUTIL_SRC:%.c=$(O)/%.o)
TPURE_SAN = $(TPURE_SRC:%.c=$(S)/%.o)

UNIT_SRC = $(wildcard t/[0-3][0-9]-*.c)
SBX_SRC	 = $(wildcard t/4[0-9]-*.c)
INT_SRC	 = $(wildcard t/[5-9][0-9]-*.c)
UNIT_T	 = $(UNIT_SRC:%.c=%.t)
SBX_T	 = $(SBX_SRC:%.c=%.t)
INT_T	 = $(INT_SRC:%.c=%.t)
TESTS	 = $(UNIT_T) $(SBX_T) $(INT_T)

BINS	 = bin/turncell $(if $(WRK_SRC),bin/turncell-worker) \
	   $(if $(MOCK_SRC),bin/mock-portal)

FUZZ_SRC = $(wildcard contrib/fuzz/fuzz_*.c)
FUZZ_BIN = $(FUZZ_SRC:contrib/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 60

.PHONY: all xdp-pass check test run fuzz fuzz-run bench bench-scale bench-xdp \
	clean deps install uninstall check-asan check-sbxdebug fuzz-long
.SECONDARY:

all: $(BINS) build/test/xdp-pass

# The XDP fast path (supervisor/bpf/): C for the BPF target, compiled by
# clang whatever CC is, without the user's CFLAGS (they are for the host).
# The kernel headers' asm/ directory is under the multiarch include path.
MULTIARCH ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || \
	     gcc -dumpmachine)
BPF_CFLAGS = -O2 -g -target bpf -I/usr/include/$(MULTIARCH) $(WARN)
BPF_OBJ	 = build/bpf/xdp_relay.bpf.o

$(BPF_OBJ): supervisor/bpf/xdp_relay.bpf.c supervisor/bpf/xdp_relay.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

# sup_xdp.c embeds the object (.incbin, a path from the top directory)
$(O)/supervisor/sup_xdp.o: $(BPF_OBJ)

# build/test/xdp-pass IFACE: a veth delivers frames its peer sends with
# XDP_TX only when it has an XDP program itself; the XDP tests and make
# bench-xdp attach this pass-everything one to the client and peer side
xdp-pass: build/test/xdp-pass

build/test/xdp-pass: contrib/bpf/xdp-pass.c
	@mkdir -p $(@D)
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(HARDEN) $(LDHARDEN) -o $@ $< -lbpf

build/libcore.a: $(CORE_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

build/libcore-san.a: $(CORE_SAN)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(O)/%.o: %.c $(wildcard common/*.h supervisor/*.h supervisor/bpf/*.h worker/*.h \
    t/*.h contrib/*.h)
	@mkdir -p $(@D)
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(HARDEN) -c -o $@ $<

$(S)/%.o: %.c $(wildcard common/*.h t/*.h)
	@mkdir -p $(@D)
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(SANFLAGS) -c -o $@ $<

bin/turncell: $(SUP_OBJ) $(IO_OBJ) build/libcore.a
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -o $@ $(SUP_OBJ) $(IO_OBJ) build/libcore.a $(SUP_LIBS)

# The worker and its test builds: every source compiled for the worker's
# libc, one object directory per variant (W/rel, W/hostile, ...). The core
# files it needs are listed; the others need nettle, cJSON or zlib, which
# are not built for musl (a file missing here is an undefined symbol).
W	 = build/wrk-$(WRK_LIBC)
WRK_CORE_SRC = $(addprefix common/, addr.c buf.c cdata.c msg.c msg_conf.c \
	   peer.c qdelay.c relay.c tbucket.c)
WRK_ALL_SRC = $(WRK_SRC) $(IO_SRC) $(WRK_CORE_SRC)
WRK_HDR	 = $(wildcard common/*.h worker/*.h)
# build/wrk-libc holds the WRK_LIBC of the last build, rewritten when it
# changes: the worker binaries depend on it, so they are linked again
# from the other libc's objects (secondary: missing ones are built then)
WRK_INC	 = $(W)/inc/.ok build/wrk-libc
ifneq ($(shell cat build/wrk-libc 2>/dev/null),$(WRK_LIBC))
$(shell mkdir -p build && echo $(WRK_LIBC) >build/wrk-libc)
endif
ifeq ($(WRK_LIBC),glibc)
WRK_CC	 = $(CC) $(TC_CFLAGS) $(CFLAGS) $(HARDEN) -Iworker
WRK_LINK = $(CC) $(WRK_LD) -o $@ $(filter %.o,$^)
else
# musl-gcc compiles against musl's headers only: the kernel's (linux/,
# asm/) come from links in W/inc. It cannot link a static PIE (its specs
# replace the link line), so $(CC) links with musl's start files: rcrt1.o
# relocates the PIE, crti/crtn and crtbeginS/crtendS frame it.
MUSL_CC	?= musl-gcc
MUSL_LIB = /usr/lib/$(MULTIARCH:%-gnu=%-musl)
WRK_CC	 = $(MUSL_CC) $(TC_CFLAGS) $(CFLAGS) -fstack-protector-strong -fPIE \
	   -Iworker -isystem $(W)/inc
WRK_LINK = $(CC) -static-pie -nostdlib -Wl,-z,relro,-z,now $(LDFLAGS) -o $@ \
	   $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o \
	   $(shell $(CC) -print-file-name=crtbeginS.o) $(filter %.o,$^) \
	   $(MUSL_LIB)/libc.a \
	   $(shell $(CC) -print-libgcc-file-name) \
	   $(shell $(CC) -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o
endif

$(W)/inc/.ok: build/wrk-libc
	@mkdir -p $(@D)
ifneq ($(WRK_LIBC),glibc)
	@command -v $(MUSL_CC) >/dev/null || { echo "$(MUSL_CC) not found:" \
	    "make deps installs musl-tools (or make WRK_LIBC=glibc)"; exit 1; }
	ln -sfn /usr/include/linux $(@D)/linux
	ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)/asm $(@D)/asm
endif
	touch $@

$(W)/rel/%.o: %.c $(WRK_HDR) $(W)/inc/.ok
	@mkdir -p $(@D)
	$(WRK_CC) -c -o $@ $<

$(W)/hostile/%.o: %.c $(WRK_HDR) $(W)/inc/.ok
	@mkdir -p $(@D)
	$(WRK_CC) -DWRK_HOSTILE -c -o $@ $<

$(W)/hostile-sbxdebug/%.o: %.c $(WRK_HDR) $(W)/inc/.ok
	@mkdir -p $(@D)
	$(WRK_CC) -DWRK_HOSTILE -DWRK_SANDBOX_DEBUG -c -o $@ $<

$(W)/sbxdebug/%.o: %.c $(WRK_HDR) $(W)/inc/.ok
	@mkdir -p $(@D)
	$(WRK_CC) -DWRK_SANDBOX_DEBUG -c -o $@ $<

bin/turncell-worker: $(WRK_ALL_SRC:%.c=$(W)/rel/%.o) $(WRK_INC)
	@mkdir -p $(@D)
	$(WRK_LINK)

bin/mock-portal: $(MOCK_OBJ) $(IO_OBJ) build/libcore.a
	@mkdir -p $(@D)
	$(CC) $(LDHARDEN) -o $@ $(MOCK_OBJ) $(IO_OBJ) build/libcore.a $(SUP_LIBS)

# unit tests: the core, tap and the pure test helpers, under ASan+UBSan
$(UNIT_T): t/%.t: t/%.c t/tap.c $(TPURE_SAN) build/libcore-san.a
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $< t/tap.c \
	    $(TPURE_SAN) build/libcore-san.a $(CORE_LIBS)

# sandbox tests: the worker's library part (not its main)
$(SBX_T): t/%.t: t/%.c t/tap.c $(WRK_LIB_OBJ) $(IO_OBJ) build/libcore.a
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(LDFLAGS) -Iworker -o $@ $< t/tap.c \
	    $(WRK_LIB_OBJ) $(IO_OBJ) build/libcore.a $(WRK_LIBS)

# integration tests: real binaries, real sockets (libbpf: the XDP tests
# load the program object themselves)
$(INT_T): t/%.t: t/%.c t/tap.c $(TUTIL_OBJ) build/libcore.a $(BINS) \
    $(BPF_OBJ) build/test/xdp-pass
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(LDFLAGS) -It -o $@ $< t/tap.c \
	    $(TUTIL_OBJ) build/libcore.a $(CORE_LIBS) -lbpf

# test-only worker that misbehaves on purpose after READY (t/53-hostile.c)
HOSTILE_WRK = $(if $(WRK_SRC),build/test/turncell-worker-hostile)

build/test/turncell-worker-hostile: $(WRK_ALL_SRC:%.c=$(W)/hostile/%.o) \
    $(WRK_INC)
	@mkdir -p $(@D)
	$(WRK_LINK)

# the same with the sandbox debug switch (t/81-sbxdebug.c)
build/test/turncell-worker-hostile-sbxdebug: \
    $(WRK_ALL_SRC:%.c=$(W)/hostile-sbxdebug/%.o) $(WRK_INC)
	@mkdir -p $(@D)
	$(WRK_LINK)

$(INT_T): $(HOSTILE_WRK) \
    $(if $(WRK_SRC),build/test/turncell-worker-hostile-sbxdebug)

check: $(BINS) $(TESTS)
	prove -e '' $(PROVE_FLAGS) $(TESTS) $(wildcard t/*.sh)

# make check-sbxdebug: the integration tests with a worker whose filter
# traps instead of killing (-DWRK_SANDBOX_DEBUG): a call it does not allow
# comes back as the worker log line "syscall N", and the test launcher
# fails the running test with it. Test builds only: bin/ keeps the kill.
SBXD	 = build/sbxdebug/bin

$(SBXD)/turncell-worker: $(WRK_ALL_SRC:%.c=$(W)/sbxdebug/%.o) $(WRK_INC)
	@mkdir -p $(@D)
	$(WRK_LINK)

# copies, not links: the supervisor runs the worker next to its own path
$(SBXD)/turncell $(SBXD)/mock-portal: $(SBXD)/%: bin/%
	@mkdir -p $(@D)
	cp $< $@

check-sbxdebug: $(SBXD)/turncell $(SBXD)/turncell-worker \
    $(SBXD)/mock-portal $(INT_T)
	TU_BIN_DIR=$(CURDIR)/$(SBXD) TU_SBXDEBUG=1 \
	    prove -e '' $(PROVE_FLAGS) $(INT_T)

# make check-asan: supervisor, worker and mock portal under ASan+UBSan,
# the integration tests against them. The workers run without their
# sandbox (-DWRK_NO_SANDBOX, which does not compile without ASan) and the
# tests skip the checks of it (TU_NO_SANDBOX). The sanitizers write their
# reports under build/asan/reports (contrib/asan/asan_options.c): any
# report fails the run. Run by .ci/run, not by make check (time).
ASAN	 = build/asan
ASAN_LOG = $(CURDIR)/$(ASAN)/reports/san
ASAN_IO	 = $(IO_SRC:%.c=$(ASAN)/obj/%.o) \
	   $(ASAN)/obj/contrib/asan/asan_options.o
ASAN_BIN = $(ASAN)/bin/turncell $(ASAN)/bin/turncell-worker \
	   $(ASAN)/bin/mock-portal

$(ASAN)/obj/supervisor/sup_xdp.o: $(BPF_OBJ)

$(ASAN)/obj/%.o: %.c $(wildcard common/*.h supervisor/*.h supervisor/bpf/*.h \
    worker/*.h contrib/*.h)
	@mkdir -p $(@D)
	$(CC) $(TC_CFLAGS) $(CFLAGS) $(SANFLAGS) -fPIE -DWRK_NO_SANDBOX \
	    -DTC_SAN_LOG='"$(ASAN_LOG)"' -c -o $@ $<

$(ASAN)/bin/turncell: $(SUP_SRC:%.c=$(ASAN)/obj/%.o) $(ASAN_IO) \
    build/libcore-san.a
$(ASAN)/bin/turncell-worker: $(WRK_SRC:%.c=$(ASAN)/obj/%.o) $(ASAN_IO) \
    build/libcore-san.a
$(ASAN)/bin/mock-portal: $(MOCK_SRC:%.c=$(ASAN)/obj/%.o) $(ASAN_IO) \
    build/libcore-san.a
$(ASAN)/bin/turncell $(ASAN)/bin/mock-portal:
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -pie $(LDFLAGS) -o $@ $^ $(SUP_LIBS)
$(ASAN)/bin/turncell-worker:
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -pie $(LDFLAGS) -o $@ $^ $(WRK_LIBS)

check-asan: $(ASAN_BIN) $(INT_T)
	rm -rf $(ASAN)/reports && mkdir -p $(ASAN)/reports && \
	    chmod 1777 $(ASAN)/reports
	@rc=0; TU_BIN_DIR=$(CURDIR)/$(ASAN)/bin TU_NO_SANDBOX=1 \
	    prove -e '' $(PROVE_FLAGS) $(INT_T) || rc=$$?; \
	if [ -n "$$(ls -A $(ASAN)/reports)" ]; then \
	    head -n 60 $(ASAN)/reports/*; \
	    echo "check-asan: sanitizer reports in $(ASAN)/reports"; exit 1; \
	fi; exit $$rc

test: check

run: 
	@sh contrib/run.sh

deps:
	@sh contrib/deps.sh
	@sh contrib/test-deps.sh

build/fuzz/%: contrib/fuzz/%.c $(CORE_SRC) $(wildcard common/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(TC_CFLAGS) -O1 -g \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(CORE_SRC) $(CORE_LIBS)

fuzz: $(FUZZ_BIN)

fuzz-run: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do \
	    n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	    seeds=contrib/fuzz/seeds/$$n; [ -d $$seeds ] || seeds=; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -max_len=4096 build/fuzz/corpus-$$n $$seeds \
	        2>build/fuzz/$$n.log || { tail -50 build/fuzz/$$n.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units|stat::peak_rss' build/fuzz/$$n.log; \
	done

# for humans: half an hour per target, the corpora kept in build/fuzz
fuzz-long: $(FUZZ_BIN)
	$(MAKE) fuzz-run FUZZ_SECONDS=1800

# the load generator of make bench (contrib/bench/tcload.c): always
# optimised, whatever CFLAGS says, so that it is not the bottleneck
BENCH_SRC = contrib/bench/tcload.c contrib/bench/tcload_stun.c \
	    contrib/bench/tcload_proc.c

build/bench/tcload: $(BENCH_SRC) contrib/bench/tcload.h build/libcore.a
	@mkdir -p $(@D)
	$(CC) $(TC_CFLAGS) $(CFLAGS) -O2 $(LDFLAGS) -o $@ $(BENCH_SRC) \
	    build/libcore.a $(CORE_LIBS)

bench: $(BINS) build/bench/tcload
	python3 contrib/bench/bench.py

bench-scale: $(BINS) build/bench/tcload
	python3 contrib/bench/bench.py --scale

bench-xdp: $(BINS) build/bench/tcload build/test/xdp-pass
	python3 contrib/bench/bench.py --veth

# The supervisor runs the worker found next to its own binary, so both go
# to BINDIR. The unit's ExecStart names the installed supervisor.
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system

install: bin/turncell bin/turncell-worker
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 bin/turncell bin/turncell-worker $(DESTDIR)$(BINDIR)/
	install -m 0644 supervisor/turncell.8 $(DESTDIR)$(MANDIR)/man8/
	sed 's|/usr/local/bin/|$(BINDIR)/|g' contrib/turncell.service \
	    >$(DESTDIR)$(UNITDIR)/turncell.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/turncell.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/turncell $(DESTDIR)$(BINDIR)/turncell-worker \
	    $(DESTDIR)$(MANDIR)/man8/turncell.8 \
	    $(DESTDIR)$(UNITDIR)/turncell.service

clean:
	rm -rf build bin t/*.t
