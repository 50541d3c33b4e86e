/* libmacp.a and another Rust static library in one program (run.sh):
 * examples/decision.c, compiled with -Dmain=decision_main, runs after the
 * other library has caught its panics. */
#include <stdio.h>

int other_catch_panics(int times);
int decision_main(int argc, char **argv);

int main(int argc, char **argv) {
  int caught = other_catch_panics(3);
  printf("the other Rust library caught %d of 3 panics\n", caught);
  if (caught != 3) return 1;
  return decision_main(argc, argv);
}
