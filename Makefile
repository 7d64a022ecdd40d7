# converge: the two commands are `make demo` (the main job) and `make test` (what CI runs).
CARGO ?= cargo
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = chunk_split change_decode column_copy document_decode cursor_decode bloom_decode dag_insert sync_message_decode sync_state_decode sync_receive doc_apply doc_load obj_id_decode

.PHONY: test lint fmt fuzz-smoke bench bench-memory demo layers sim-long oracle-long

# Everything CI checks: layering, formatting, clippy, API docs without broken links, the whole
# test suite (oracle interop and doctests included).
test: layers
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked
	$(CARGO) test --workspace --locked --release

layers:
	python3 ../shared/tools/check-layers.py

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

fmt:
	$(CARGO) fmt --all

# Each fuzz target for FUZZ_SECONDS seconds (needs `cargo install cargo-fuzz` and a nightly toolchain).
# New inputs go to fuzz/corpus/T (ignored by git); the committed seeds in fuzz/seeds/T are read.
fuzz-smoke:
	cd fuzz && for t in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$t seeds/$$t; \
		$(CARGO) +nightly fuzz run $$t corpus/$$t seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

bench:
	$(CARGO) bench -p converge-benches

# Peak RSS of each document operation, converge beside automerge (a markdown table).
bench-memory:
	bash benches/peak_memory.sh

demo:
	$(CARGO) run --release -p converge-cli -- demo

# The sync network simulations on 10,000 seeds each (make test runs 1,000).
sim-long:
	CONVERGE_SIM_SEEDS=10000 $(CARGO) test --release -p converge-sync --test protocol --test doc_simulation -- --nocapture

# The differential sweeps against automerge 0.12 (document histories, lockstep edits,
# change and document round trips, file verdicts, load options, change metadata) on fresh
# seeds; make test runs seeds below 1,500. ORACLE_SEEDS=START..END; 20,000 seeds (the
# default's count) took about 17 minutes on 2 cores on 2026-12-06 (9.5 before the sessions
# began isolating) and pass. The API-parity tests (--test api) are swept by hand: automerge's
# anonymize alone is ~47 ms a seed.
ORACLE_SEEDS ?= 2000..22000
oracle-long:
	CONVERGE_ORACLE_SEEDS=$(ORACLE_SEEDS) $(CARGO) test --release -p converge-interop \
		--test doc_oracle --test change_roundtrip --test document_roundtrip --test file_verdicts \
		--test load_options --test change_meta \
		-- --nocapture
