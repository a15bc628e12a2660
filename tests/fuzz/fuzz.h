/* What the libFuzzer harnesses share: CHECK, an invariant whose failure aborts (libFuzzer
 * then keeps the input as a crash). */
#ifndef PT_FUZZ_H
#define PT_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
