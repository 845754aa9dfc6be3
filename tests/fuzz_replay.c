/*
 * fuzz_replay.c - runs a libFuzzer target's checks over the files named on
 * the command line (its corpus), without libFuzzer: every build compiles the
 * target, so its reference for every op (fuzz/fuzz_core.c) must compile, and
 * `make test` replays the corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) {
      fprintf(stderr, "fuzz_replay: cannot open %s\n", argv[i]);
      return 1;
    }
    uint8_t *data = NULL;
    size_t size = 0, cap = 0, got;
    do {
      if (size == cap) {
        uint8_t *more = realloc(data, cap = cap ? 2 * cap : 4096);
        if (!more) {
          free(data);
          fclose(f);
          fprintf(stderr, "fuzz_replay: out of memory\n");
          return 1;
        }
        data = more;
      }
      got = fread(data + size, 1, cap - size, f);
      size += got;
    } while (got > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    printf("ok %s (%zu bytes)\n", argv[i], size);
  }
  return 0;
}
