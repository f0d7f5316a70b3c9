# weir - build, run and test. See README.md.
#
#   make            build weir, weirctl and the demo backend (build/rel/)
#   make run        install what is missing, build, start the demo
#   make test       install what is missing, build, run every test
#   make bench      run the benchmarks in bench/ (long; not part of test)
#   make fuzz       run every fuzz driver for FUZZ_SECONDS each (default 60)
#   make bpf-fixtures  the XDP/tc programs' packet fixtures (root; part of test)
#   make layers     the folders include only their layer and those below,
#                   without a circle (scripts/layers.py; part of test)

CC       ?= gcc
# llhttp, from Debian's node-llhttp, built into weir (third-party code: its
# own warnings are not ours to fix)
LLHTTP_DIR := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp
LLHTTP_SRC := $(wildcard $(LLHTTP_DIR)/*.c)
CSTD     := -std=c11 -D_GNU_SOURCE
# snprintf into bounded message buffers truncates on purpose: no -Wformat-truncation.
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wno-format-truncation
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
WARN     := $(filter-out -Wno-format-truncation,$(WARN))  # clang has no such warning
endif
# build/bpf: the BPF skeletons and vmlinux.h; bpf/: the structs both sides share
INCS     := -Isrc -I$(LLHTTP_INC) -Ibuild/bpf -Ibpf
CFLAGS_REL  := $(CSTD) $(WARN) $(INCS) -O2 -g -pthread
CFLAGS_ASAN := $(CSTD) $(WARN) $(INCS) -O1 -g -pthread -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDLIBS   := -pthread -lm -lbpf -lelf -lz -lmaxminddb

LIB_SRC  := $(shell find src -name '*.c' ! -name main.c | sort)
UNIT_SRC := $(shell find tests/unit -name '*.c' | sort)
FUZZ_SRC := $(wildcard fuzz/*.c)
BENCH_C  := $(wildcard bench/*.c)

REL  := build/rel
ASAN := build/asan
FUZZ := build/fuzz

.DELETE_ON_ERROR:
.PHONY: all run test unit integration fuzz fuzz-quick bench deps clean asan bpf bpf-fixtures \
        layers
all: bpf $(REL)/weir $(REL)/weirctl $(REL)/weir-backend $(REL)/sched-predict $(REL)/dgram-echo

# --- the XDP and tc programs (clang -target bpf, libbpf CO-RE, skeletons) ----
# vmlinux.h comes from the running kernel's BTF; each bpf/NAME.bpf.c becomes
# build/bpf/NAME.bpf.o and the skeleton build/bpf/NAME.skel.h (struct NAME).
BPF_OUT    := build/bpf
# -mcpu=v3: atomic fetch-and-add (the shared rr cursor); kernels >= 5.12
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I$(BPF_OUT) -Ibpf -Wall -Werror
BPF_SKELS  := $(BPF_OUT)/weir_xdp.skel.h $(BPF_OUT)/tc_decap.skel.h
bpf: $(BPF_SKELS)
$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(BPF_OUT)
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@
$(BPF_OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_OUT)/vmlinux.h
	clang $(BPF_CFLAGS) -MMD -MP -c $< -o $@
$(BPF_OUT)/%.bpf.o: bench/%.bpf.c $(BPF_OUT)/vmlinux.h
	clang $(BPF_CFLAGS) -MMD -MP -c $< -o $@
$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	bpftool gen skeleton $< name $* > $@
.SECONDARY: $(BPF_SKELS:.skel.h=.bpf.o) $(BPF_OUT)/xdp_cost.bpf.o
# whatever includes a skeleton waits for it (the .d files know after one build)
XDP_SRC := $(wildcard src/xdp/*.c)
$(patsubst %.c,$(REL)/obj/%.o,$(XDP_SRC)) $(patsubst %.c,$(ASAN)/obj/%.o,$(XDP_SRC)): $(BPF_SKELS)

# --- the dashboard page (ctl/dash.h): one HTML file with uPlot inlined, as C
# uPlot comes from npm (package.json, installed by scripts/deps.sh)
GEN      := build/gen
UPLOT    := node_modules/uplot/dist
DASH_C   := $(GEN)/dash_page.c
$(DASH_C): src/ctl/dash.html scripts/embed.py $(UPLOT)/uPlot.iife.min.js $(UPLOT)/uPlot.min.css
	@mkdir -p $(GEN)
	scripts/embed.py src/ctl/dash.html $(UPLOT)/uPlot.iife.min.js $(UPLOT)/uPlot.min.css > $@
$(UPLOT)/%:
	@echo "weir's dashboard embeds uPlot from npm: run scripts/deps.sh (it runs npm ci)" >&2; exit 1

# --- objects, one tree per flavour -------------------------------------------
$(REL)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -MMD -MP -c $< -o $@
$(ASAN)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -MMD -MP -c $< -o $@
$(REL)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g -w -I$(LLHTTP_INC) -c $< -o $@
$(ASAN)/obj/llhttp/%.o: $(LLHTTP_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O1 -g -w -I$(LLHTTP_INC) -fsanitize=address,undefined -c $< -o $@
LLHTTP_OBJ = $(patsubst $(LLHTTP_DIR)/%.c,$(1)/obj/llhttp/%.o,$(LLHTTP_SRC))

define flavour
$(1)/libweir.a: $$(patsubst %.c,$(1)/obj/%.o,$$(LIB_SRC) $$(DASH_C)) $$(call LLHTTP_OBJ,$(1))
	@rm -f $$@
	ar rcs $$@ $$^
$(1)/weir: $(1)/obj/src/main.o $(1)/libweir.a
	$$(CC) $(2) -o $$@ $$^ $$(LDLIBS)
$(1)/weirctl: $$(patsubst %.c,$(1)/obj/%.o,$$(wildcard cli/*.c)) $(1)/libweir.a
	$$(CC) $(2) -o $$@ $$^ $$(LDLIBS)
$(1)/weir-backend: $$(patsubst %.c,$(1)/obj/%.o,$$(wildcard demo/*.c)) $(1)/libweir.a
	$$(CC) $(2) -o $$@ $$^ $$(LDLIBS)
$(1)/sched-predict: $(1)/obj/tests/tools/sched_predict.o $(1)/libweir.a
	$$(CC) $(2) -o $$@ $$^ $$(LDLIBS)
# the datagram listener as a UDP echo server, for real clients (test_dgram.py)
$(1)/dgram-echo: $(1)/obj/tests/tools/dgram_echo.o $(1)/libweir.a
	$$(CC) $(2) -o $$@ $$^ $$(LDLIBS)
endef
LDFLAGS_REL  := -g -pthread
LDFLAGS_ASAN := -g -pthread -fsanitize=address,undefined
$(eval $(call flavour,$(REL),$$(LDFLAGS_REL)))
$(eval $(call flavour,$(ASAN),$$(LDFLAGS_ASAN)))

$(ASAN)/obj/tests/unit/%.o: CFLAGS_ASAN += -Itests/unit

$(ASAN)/unit: $(patsubst %.c,$(ASAN)/obj/%.o,$(UNIT_SRC)) $(ASAN)/libweir.a
	$(CC) $(LDFLAGS_ASAN) -o $@ $^ $(LDLIBS)

asan: $(ASAN)/weir $(ASAN)/weirctl $(ASAN)/weir-backend $(ASAN)/unit $(ASAN)/dgram-echo

# --- fuzzing (clang + libFuzzer) ---------------------------------------------
FUZZ_CFLAGS := $(CSTD) $(filter-out -Wno-format-truncation,$(WARN)) $(INCS) -O1 -g -fsanitize=fuzzer,address,undefined
$(FUZZ)/llhttp.a: $(LLHTTP_SRC)
	@mkdir -p $(FUZZ)/llhttp
	cd $(FUZZ)/llhttp && clang -std=c11 -O1 -g -w -I$(LLHTTP_INC) -fsanitize=fuzzer-no-link,address,undefined -c $(LLHTTP_SRC)
	ar rcs $@ $(FUZZ)/llhttp/*.o
$(FUZZ)/%: fuzz/%.c $(LIB_SRC) $(DASH_C) $(shell find src -name '*.h') $(FUZZ)/llhttp.a $(BPF_SKELS)
	@mkdir -p $(FUZZ)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(DASH_C) $(FUZZ)/llhttp.a $(LDLIBS)

FUZZ_BINS := $(patsubst fuzz/%.c,$(FUZZ)/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); \
	  mkdir -p build/corpus/$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 build/corpus/$$n fuzz/corpus/$$n || exit 1; done
fuzz-quick: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); \
	  mkdir -p build/corpus/$$n; \
	  echo "fuzz $$n"; \
	  $$f -max_total_time=$${FUZZ_QUICK_SECONDS:-10} -print_final_stats=0 build/corpus/$$n fuzz/corpus/$$n \
	    > build/corpus/$$n.log 2>&1 || { tail -50 build/corpus/$$n.log; exit 1; }; done

# --- the two commands of the README ------------------------------------------
deps:
	@scripts/deps.sh

run: deps all
	@scripts/demo.sh

unit: $(ASAN)/unit
	$(ASAN)/unit

# --- BPF packet fixtures (BPF_PROG_TEST_RUN in a network namespace of their own)
FIXTURE_SRC := $(wildcard tests/bpf/*.c)
# (dns.c links user space's DNS answers from libweir.a: the fixtures' oracle)
$(ASAN)/bpf-fixtures: $(patsubst %.c,$(ASAN)/obj/%.o,$(FIXTURE_SRC)) $(ASAN)/libweir.a
	$(CC) $(LDFLAGS_ASAN) -o $@ $^ $(LDLIBS)
$(patsubst %.c,$(ASAN)/obj/%.o,$(FIXTURE_SRC)): $(BPF_SKELS)
$(ASAN)/obj/tests/bpf/%.o: CFLAGS_ASAN += -Itests/bpf
bpf-fixtures: $(ASAN)/bpf-fixtures
	$(ASAN)/bpf-fixtures

integration: asan all
	WEIR_BUILD=$(ASAN) scripts/pytest.sh tests/integration

layers:
	scripts/layers.py -v

test: deps
	scripts/layers.py -v
	$(MAKE) all asan
	$(MAKE) bpf-fixtures
	$(ASAN)/unit
	WEIR_BUILD=$(ASAN) scripts/pytest.sh tests/integration
	$(MAKE) fuzz-quick

bench: deps all $(REL)/xdp-cost $(REL)/xdp-lc-sim
	bench/run.sh

# how close the data path's connection-count scheduling comes to IPVS's
$(REL)/xdp-lc-sim: $(REL)/obj/bench/xdp_lc_sim.o $(REL)/libweir.a
	$(CC) $(LDFLAGS_REL) -o $@ $^ $(LDLIBS)

# ns per packet of weir_xdp (bench/xdp_cost.c), in the fixtures' namespace
$(REL)/xdp-cost: $(REL)/obj/bench/xdp_cost.o $(REL)/obj/tests/bpf/harness.o $(REL)/obj/tests/bpf/pkt.o
	$(CC) $(LDFLAGS_REL) -o $@ $^ $(LDLIBS)
$(REL)/obj/bench/xdp_cost.o: $(BPF_SKELS) $(BPF_OUT)/xdp_cost.skel.h
$(REL)/obj/bench/xdp_cost.o: CFLAGS_REL += -Itests/bpf
$(REL)/obj/tests/bpf/harness.o: $(BPF_SKELS)

# packets per second through one director core (bench/xdp_pps.sh): the
# generator and the sink's XDP program
$(REL)/blaster: $(REL)/obj/bench/blaster.o
	$(CC) $(LDFLAGS_REL) -o $@ $^ $(LDLIBS)
$(REL)/obj/bench/blaster.o: $(BPF_OUT)/xdp_pps_gen.skel.h
.SECONDARY: $(BPF_OUT)/xdp_pps_gen.bpf.o
# a few long UDP flows through the UDP proxies (bench/udp_proxy.sh)
$(REL)/udp-blast: $(REL)/obj/bench/udp_blast.o
	$(CC) $(LDFLAGS_REL) -o $@ $^

# per-session vs pooled upstream sockets (bench/udp_sockcost.c; the UDP
# proxy's design choice, in bench/RESULTS.md)
$(REL)/udp-sockcost: $(REL)/obj/bench/udp_sockcost.o
	$(CC) $(CFLAGS_REL) -o $@ $^

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
