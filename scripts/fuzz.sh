#!/usr/bin/env bash
# `make fuzz`: runs every cargo-fuzz target of fuzz/ for FUZZ_MINUTES minutes each (default 1)
# and prints, per target, the executions, the rate and whether it found a crash.
#
#   FUZZ_MINUTES=10 make fuzz               ten minutes each
#   FUZZ_TARGETS="cifar idx" make fuzz      some targets only
#   FUZZ_ARGS="-jobs=2 -workers=2" make fuzz  extra libFuzzer flags
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz`). Each target reads its committed seeds (fuzz/corpus/<target>/,
# written by fuzz/examples/make_corpus.rs) and its past findings (fuzz/regressions/<target>/,
# replayed first, each also a unit test next to the code it fixed), and grows a working corpus
# in fuzz/target/corpus/<target>/ (kept between runs, not committed). A finding is written to
# fuzz/artifacts/<target>/ (not committed either) and reproduced with
#   cargo +nightly fuzz run --fuzz-dir fuzz [--features host] <target> fuzz/artifacts/<target>/<file>
# The `config` and `checkpoint` targets link the host and libtorch (feature `host`; the
# targets embed an rpath to libtorch, so LD_LIBRARY_PATH is not needed). Every target runs
# under AddressSanitizer and LeakSanitizer, with debug assertions and overflow checks, except
# that `checkpoint` runs without leak detection (see below).
# Exit status 1 when any target crashed, timed out or leaked.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${FUZZ_MINUTES:-1}
targets=${FUZZ_TARGETS:-cifar idx image npy load_state config checkpoint}
host_targets=" config checkpoint "
seconds=$(python3 -c "print(max(1, round(float('$minutes') * 60)))")

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: needs a nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: needs cargo-fuzz: cargo install cargo-fuzz" >&2
    exit 1
fi
LIBTORCH="$(python3 scripts/provision-libtorch.py)"
export LIBTORCH

logs=fuzz/target/logs
mkdir -p "$logs"
summary=()
failed=0
for t in $targets; do
    features=()
    flags=()
    asan=
    if [[ $host_targets == *" $t "* ]]; then
        features=(--features host)
    fi
    if [[ $t == checkpoint ]]; then
        # A known leak we cannot fix: libtorch's own zip reader (PyTorchStreamReader, on
        # miniz) leaks about 750 bytes when the tensors' archive is malformed: it throws from
        # its constructor after mz_zip_reader_init allocated, so mz_zip_reader_end never runs.
        # Every malformed archive would be reported as a leak, so this target alone runs with
        # leak detection off, per input (-detect_leaks=0) and at exit (ASAN_OPTIONS
        # detect_leaks=0, else the leaks add up and fail the run as it ends, with an empty
        # "crash" input); ASan's crash, overflow and use-after-free checks stay on. The
        # input is fuzz/regressions/checkpoint/libtorch-zip-reader-leak; to see the leak:
        #   fuzz/target/x86_64-unknown-linux-gnu/release/checkpoint \
        #       fuzz/regressions/checkpoint/libtorch-zip-reader-leak
        flags=(-detect_leaks=0)
        # A second one: libtorch's unpickler sizes its memo table from an index in the
        # archive's data.pkl (Unpickler::setInput), so a 3 KB checkpoint can ask for 26 GB
        # (fuzz/regressions/checkpoint/libtorch-unpickler-memo-26gb). Outside the fuzzer such a
        # request fails with std::bad_alloc, which tch returns as an error ("unreadable
        # tensors"), or, where the machine can commit it, costs that memory for a moment; here
        # it would abort as out-of-memory on every such input. So for this target only, an
        # allocation over 512 MB fails with bad_alloc instead (and the run goes on).
        asan=detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=512
    fi
    work=fuzz/target/corpus/$t
    mkdir -p "$work"
    corpora=("$work" "fuzz/corpus/$t")
    if [[ -d fuzz/regressions/$t ]]; then
        corpora+=("fuzz/regressions/$t")
    fi
    echo "fuzz: $t for ${seconds}s" >&2
    cargo +nightly fuzz build --fuzz-dir fuzz "${features[@]}" "$t" >&2
    log=$logs/$t.log
    status=0
    # shellcheck disable=SC2086
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+${asan:+:}}$asan" \
        cargo +nightly fuzz run --fuzz-dir fuzz "${features[@]}" "$t" "${corpora[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${flags[@]}" ${FUZZ_ARGS:-} \
        >"$log" 2>&1 || status=$?
    rm -rf /dev/shm/fuzzaug-fuzz-"$t"-* 2>/dev/null || true
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    if ((status == 0)); then
        result="no crash"
    else
        failed=1
        result="CRASH (exit $status): ${artifact:-see $log}"
    fi
    summary+=("$(printf '%-11s %12s executions %8s/s  %s' "$t" "${runs:-?}" "${rate:-?}" "$result")")
done

echo
echo "fuzz: ${seconds}s per target (logs in $logs/)"
printf '%s\n' "${summary[@]}"
exit $failed
