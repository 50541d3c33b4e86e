#!/usr/bin/env bash
# The C++ API (include/macp.hpp): every program of tests/cpp and
# examples/decision.cpp compiled with g++ and clang++ at -std=c++17 and
# -std=c++20 (-Wall -Wextra -Wpedantic -Werror; test_nothrow.cpp with
# -fno-exceptions), then run, each against its own fresh runtime:
#   - g++ -std=c++17 builds under valgrind (memcheck, definite leaks fail);
#   - clang++ -std=c++20 builds with AddressSanitizer and UBSan;
#   - the other two combinations are compile checks only (2 cores);
#   - the interop test: the C++ agent, a C agent and macp-sdk-python in one
#     Decision (tests/cpp/interop.sh).
# Needs scripts/setup.sh (clang, valgrind, macp-runtime, .venv).
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in g++ clang++ valgrind; do
  command -v "$tool" >/dev/null || { echo "tests/cpp: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done

cargo build --quiet
lib=target/debug/libmacp.a
libs=(-lpthread -ldl -lm)
warn=(-Wall -Wextra -Wpedantic -Werror -g -Iinclude)
out=build/cpp
mkdir -p "$out"

tests=(test_modes test_watch test_errors test_handles test_nothrow test_ops)
flags_of() { if [ "$1" = test_nothrow ]; then echo -fno-exceptions; fi; }

# Compile every source once per compiler and standard; link two of them.
for combo in g++:17 g++:20 clang++:17 clang++:20; do
  cxx=${combo%%:*} std=${combo##*:}
  dir="$out/$cxx-c++$std"
  mkdir -p "$dir"
  extra=()
  link=no
  if [ "$combo" = g++:17 ]; then link=yes; fi
  if [ "$combo" = clang++:20 ]; then link=yes; extra=(-fsanitize=address,undefined -fno-sanitize-recover=all); fi
  for t in "${tests[@]}" interop_agent; do
    # shellcheck disable=SC2046
    "$cxx" -std=c++$std "${warn[@]}" "${extra[@]}" $(flags_of "$t") -c "tests/cpp/$t.cpp" -o "$dir/$t.o"
  done
  "$cxx" -std=c++$std "${warn[@]}" "${extra[@]}" -c examples/decision.cpp -o "$dir/decision.o"
  if [ $link = yes ]; then
    for t in "${tests[@]}" interop_agent decision; do
      "$cxx" "${extra[@]}" "$dir/$t.o" "$lib" "${libs[@]}" -o "$dir/$t"
    done
  fi
  echo "tests/cpp: compiled with $cxx -std=c++$std"
done
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude tests/cpp/interop_participant.c "$lib" "${libs[@]}" \
   -o "$out/interop_participant"

vg=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite)
# ASan's leak checker is left to valgrind: the library's shared runtime lives
# until the process exits.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run() {  # name, command...
  local name=$1 log
  shift
  log="$out/$name.log"
  if ! scripts/with-runtime.sh "$@" >"$log" 2>&1; then
    cat "$log"
    echo "tests/cpp: $name failed" >&2
    exit 1
  fi
  echo "tests/cpp: $name: $(tail -n 1 "$log")"
}

for t in "${tests[@]}"; do
  run "$t-g++17-valgrind" "${vg[@]}" "$out/g++-c++17/$t"
  run "$t-clang++20-asan" "$out/clang++-c++20/$t"
done
run "decision-example-g++17-valgrind" "${vg[@]}" "$out/g++-c++17/decision"
run "decision-example-clang++20-asan" "$out/clang++-c++20/decision"
run "interop-g++17" tests/cpp/interop.sh "$out/g++-c++17/interop_agent" "$out/interop_participant"
run "interop-clang++20-asan" tests/cpp/interop.sh "$out/clang++-c++20/interop_agent" "$out/interop_participant"
echo "tests/cpp: all passed"
