/*
 * tape.h - a traced graph compiled into flat arrays, replayed forward and
 * backward with no allocation.
 *
 * Every value lives in a slot of one array: the inputs first (slot i is input
 * i), then captured leaves (read live from their nodes at each forward),
 * constants, and one slot per op. The code is the ops in an order where
 * operands come first; backward runs the part below the first output in
 * reverse, which is the order the dynamic backward sweeps those nodes, so the
 * gradients are the same bits.
 */
#ifndef MG_TAPE_H
#define MG_TAPE_H

#include "engine.h"

typedef struct mg_instr {
  uint8_t op;     /* mg_op */
  uint8_t flags;  /* MG_DOT_BIAS */
  uint32_t out;   /* slot of the result */
  uint32_t nargs; /* operands: args[first .. first + nargs) */
  uint32_t first;
} mg_instr;

typedef struct mg_tape {
  mg_allocator alloc;
  uint32_t nslots, nin, nout, nlive, ncode, nbackward, nargs;
  double *val, *grad;  /* nslots each */
  uint32_t *out_slots; /* nout */
  mg_node **live;      /* nlive captured nodes, read at forward, credited at backward */
  uint32_t *live_slots;
  mg_instr *code; /* ncode; the first nbackward are the graph below output 1 */
  uint32_t *args; /* operand slots of every instruction */
} mg_tape;

/* Compiles the graph below outputs[0..nout): nodes flagged MG_TRACED are
 * compiled; inputs[i] (flagged MG_INPUT) becomes slot i; traced leaves become
 * constants; nodes not traced become captured leaves. Returns the tape, or
 * NULL with *status MG_ENOMEM or MG_ETOOBIG. The nodes are left as found. */
mg_tape *mg_tape_compile(const mg_allocator *alloc, mg_node *const *inputs, uint32_t nin,
                         mg_node *const *outputs, uint32_t nout, int *status);

void mg_tape_free(mg_tape *t);

/* Reads the captured leaves and computes every slot from the inputs in val[0..nin). */
void mg_tape_forward(mg_tape *t);

/* From the last forward: grad of every slot of d(output 1)/d(slot) times seed,
 * then adds the captured leaves' share into their nodes' grad. */
void mg_tape_backward(mg_tape *t, double seed);

#endif
