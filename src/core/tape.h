/*
 * tape.h - a traced graph compiled into flat arrays, replayed forward and
 * backward with no allocation.
 *
 * Every value lives in a slot of one array, in four blocks: the inputs (slot
 * i is input i), the captured leaves (read live from their nodes), one slot
 * per op, then the constants. Within a block, the operands of each dot and
 * sum are given consecutive slots where they can be, so that most of them
 * run as loops over two ranges with no operand indices at all.
 *
 * The code is the ops in an order where operands come first; backward runs
 * the part below the first output in reverse, which is the order the dynamic
 * backward sweeps those nodes, so the gradients are the same bits.
 */
#ifndef MG_TAPE_H
#define MG_TAPE_H

#include "engine.h"

/* Instruction codes beyond mg_op's (an instruction's op is an mg_op or one
 * of these): a sum or a dot over ranges of slots; for the forward code only,
 * MG_TAPE_DOT_GROUP, a header (the next n instructions are range dots that
 * share their x slots, their term count and whether they have a bias), and
 * MG_TAPE_MAP, a unary op over n consecutive slots; for the backward code
 * only, MG_TAPE_ACT_DOT, a range dot followed by the unary op of its only
 * user (a neuron and its activation), as one instruction. */
enum { MG_TAPE_SUM_RANGE = MG_OP_COUNT, MG_TAPE_DOT_RANGE, MG_TAPE_DOT_GROUP, MG_TAPE_MAP, MG_TAPE_ACT_DOT };

/* Instruction flags. */
enum {
  MG_TAPE_BIAS = 1,  /* a dot has a bias */
  MG_TAPE_WGRAD = 2, /* a range dot's weights want gradients (they are not constants) */
  MG_TAPE_XGRAD = 4, /* ... and so do its other operands */
  MG_TAPE_SAME = 8   /* a range dot over one range twice (w . w) */
};

/* One instruction: slot out = op(operands), the operands named per kind. */
typedef struct mg_instr {
  uint8_t op;    /* an mg_op (scalar, MG_OP_SUM, _DOT, _LOGSUMEXP) or an MG_TAPE_ code */
  uint8_t flags; /* MG_TAPE_BIAS, ... */
  uint8_t act;   /* MG_TAPE_MAP and MG_TAPE_ACT_DOT: the unary op (an mg_op) */
  uint32_t out;  /* the slot written (MG_TAPE_MAP: the first of n) */
  uint32_t n;    /* operand count; range dots: terms; MG_TAPE_DOT_GROUP: dots that follow */
  union {
    struct {
      uint32_t a, b; /* operand slots (b = a for a unary op) */
    } scalar;        /* a scalar op (UNARY or BINARY in ops.h) */
    struct {
      uint32_t first; /* the n operand slots are args[first ..], in the node's operand order */
    } list;           /* MG_OP_SUM, MG_OP_DOT (bias, w1, x1, w2, x2, ...), MG_OP_LOGSUMEXP */
    struct {
      uint32_t first; /* the operands are slots first .. first + n */
    } range;          /* MG_TAPE_SUM_RANGE; MG_TAPE_MAP (into slots out .. out + n) */
    struct {
      uint32_t bias; /* the bias's slot (with MG_TAPE_BIAS) */
      uint32_t w, x; /* term j is slot w + j times slot x + j */
      uint32_t pre;  /* MG_TAPE_ACT_DOT: the dot's own slot, the activation's operand */
    } dot;           /* MG_TAPE_DOT_RANGE, MG_TAPE_ACT_DOT */
  };
} mg_instr;

/* The operands of the n-ary rules (ops.h) on the tape: slots listed in
 * args (operand i is v[at[i]]; a dot's term j is at[2j], at[2j + 1] after
 * its bias), or ranges of slots (term j is w[j], x[j]). */
typedef struct mg_listed {
  const double *v;
  const uint32_t *at;
} mg_listed;
static inline double get_listed(const void *ops, uint32_t i) {
  const mg_listed *l = ops;
  return l->v[l->at[i]];
}
static inline double get_listed_w(const void *ops, uint32_t j) { return get_listed(ops, 2 * j); }
static inline double get_listed_x(const void *ops, uint32_t j) { return get_listed(ops, 2 * j + 1); }

typedef struct mg_ranges {
  const double *w, *x;
} mg_ranges;
static inline double get_range(const void *ops, uint32_t i) { return ((const double *)ops)[i]; }
static inline double get_range_w(const void *ops, uint32_t j) { return ((const mg_ranges *)ops)->w[j]; }
static inline double get_range_x(const void *ops, uint32_t j) { return ((const mg_ranges *)ops)->x[j]; }

typedef struct mg_tape {
  mg_allocator alloc;
  uint32_t nslots, nin, nout, nlive, nops, nconst;
  uint32_t ncode, nbackward, nargs, nshared, nfcode, nbcode;
  double *val, *grad;  /* nslots each; live leaf k is slot nin + k */
  uint32_t *out_slots; /* nout */
  mg_node **live;      /* nlive captured nodes, read at forward, credited at backward */
  mg_instr *code;      /* ncode in traced order; the first nbackward are the graph below output 1 */
  mg_node **origin;    /* ncode: the traced node of each instruction (for detect_anomaly's messages) */
  mg_instr *fcode;     /* nfcode: the code as the forward replay runs it (tape_schedule.c) */
  mg_instr *bcode;     /* nbcode: the code below output 1 as the backward replay runs it */
  uint32_t *args;      /* operand slots of the MG_OP_SUM, _DOT and _LOGSUMEXP instructions */
  /* The leaves a sweep sends more than one gradient to: the dynamic engine
   * sums those first, then adds the sum to the leaf's grad; these slots do
   * the summing and shared_grad the adding (the others add to their slot). */
  uint32_t *shared;    /* nshared slots */
  double *shared_grad; /* nshared */
} mg_tape;

/* Compiles the graph below outputs[0..nout): nodes flagged MG_TRACED are
 * compiled; inputs[i] (flagged MG_INPUT) becomes slot i; traced leaves become
 * constants; nodes not traced become captured leaves. Returns the tape, or
 * NULL with *status MG_ENOMEM or MG_ETOOBIG. The nodes are left as found. */
mg_tape *mg_tape_compile(const mg_allocator *alloc, mg_node *const *inputs, uint32_t nin,
                         mg_node *const *outputs, uint32_t nout, int *status);

void mg_tape_free(mg_tape *t);

/* Fills t->fcode, t->bcode and t->shared from t->code (for mg_tape_compile):
 * MG_OK or MG_ENOMEM. */
int mg_tape_schedule(mg_tape *t);

/* Room fcode needs: the code and at most a header per two instructions. */
#define MG_TAPE_FCODE_CAP(ncode) ((ncode) + (ncode) / 2 + 1)

/* Reads the captured leaves, then mg_tape_run. */
void mg_tape_forward(mg_tape *t);

/* Reads the captured leaves' values into their slots. */
void mg_tape_read_live(mg_tape *t);

/* Computes every op slot from the inputs in val[0..nin) and the leaves' slots. */
void mg_tape_run(mg_tape *t);

/* From the last forward: adds d(output 1)/d(leaf) times seed to each
 * captured leaf's grad, with the dynamic engine's additions in its order. */
void mg_tape_backward(mg_tape *t, double seed);

/* The parts of mg_tape_backward, for many sweeps (run_batch) between one
 * load of the leaves' grads and one store: load, then sweep and flush for
 * each sweep, then store. */
void mg_tape_load_grads(mg_tape *t);
void mg_tape_sweep(mg_tape *t, double seed);
void mg_tape_flush_grads(mg_tape *t);
void mg_tape_store_grads(mg_tape *t);

/* For detect_anomaly (tape_check.c). After a forward: whether an op made a
 * NaN from operands that are not NaN, or an infinity from finite ones; *at
 * is the first such instruction (traced order). */
int mg_tape_check_forward(const mg_tape *t, uint32_t *at);

/* Instruction at's operand values now (the first max of them, in its node's
 * operand order) into values; returns how many operands it has. */
uint32_t mg_tape_operands(const mg_tape *t, uint32_t at, double *values, uint32_t max);

/* The first gradient mg_tape_sweep_checked found not finite. */
typedef struct mg_tape_anomaly {
  uint32_t at;      /* the instruction whose backward sent it */
  uint32_t operand; /* to this operand (0-based, in its node's operand order) */
  double grad, sum; /* the gradient sent, and the operand's sum with it */
} mg_tape_anomaly;

/* mg_tape_sweep that checks every gradient it adds, op by op in the dynamic
 * engine's order; returns 1 (with *bad) at the first sum that is not finite.
 * Between mg_tape_load_grads and mg_tape_flush_grads, like mg_tape_sweep. */
int mg_tape_sweep_checked(mg_tape *t, double seed, mg_tape_anomaly *bad);

#endif
