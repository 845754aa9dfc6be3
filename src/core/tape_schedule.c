/*
 * tape_schedule.c - the order the forward replay runs a tape's code in.
 *
 * A neuron's dot is a chain of additions, each waiting for the one before:
 * run one dot after another and the processor mostly waits. So the forward
 * code is ordered by level (an op's level is one more than its operands'
 * highest), and within a level, the range dots that share their other
 * operands (the neurons of one layer, for one sample) are put side by side
 * behind a group header, which the replay runs several chains at a time.
 * Likewise a unary op (relu) over consecutive slots becomes one loop. The
 * backward code keeps the traced order: that order gives the bits.
 */
#include <stdlib.h>
#include <string.h>

#include "tape.h"

/* Whether in is a unary op (the op table's UNARY kind): one operand slot. */
static int is_unary(const mg_instr *in) {
  return in->op < MG_OP_COUNT && mg_op_kind_of((mg_op)in->op) == MG_KIND_UNARY;
}

/* Sort key of an instruction: level, then kind (range dots, unary ops, the
 * rest), then what makes neighbours of one kind run together. */
typedef struct entry {
  uint32_t level, kind, k1, k2, k3, index;
} entry;

enum { RANGE_DOT, UNARY, OTHER };

static int compare(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  const uint32_t ka[] = {a->level, a->kind, a->k1, a->k2, a->k3, a->index};
  const uint32_t kb[] = {b->level, b->kind, b->k1, b->k2, b->k3, b->index};
  for (int i = 0; i < 6; i++)
    if (ka[i] != kb[i]) return ka[i] < kb[i] ? -1 : 1;
  return 0;
}

static entry key(const mg_instr *in, uint32_t level, uint32_t index) {
  entry e = {level, OTHER, 0, 0, 0, index};
  if (in->op == MG_TAPE_DOT_RANGE)
    e.kind = RANGE_DOT, e.k1 = in->dot.x, e.k2 = in->n, e.k3 = in->flags & MG_TAPE_BIAS;
  else if (is_unary(in))
    e.kind = UNARY, e.k1 = in->op, e.k2 = in->scalar.a;
  return e;
}

/* How many instructions from order[i] on run together: range dots that share
 * x, n and bias, or one unary op over consecutive slots into consecutive slots. */
static uint32_t run_length(const mg_tape *t, const entry *order, uint32_t i) {
  const entry *e = &order[i];
  uint32_t k = 1;
  if (e->kind == OTHER) return 1;
  for (; i + k < t->ncode; k++) {
    const entry *f = &order[i + k];
    if (f->level != e->level || f->kind != e->kind || f->k1 != e->k1) break;
    if (e->kind == RANGE_DOT && (f->k2 != e->k2 || f->k3 != e->k3)) break;
    if (e->kind == UNARY && (f->k2 != e->k2 + k || t->code[f->index].out != t->code[e->index].out + k)) break;
  }
  return k;
}

static uint32_t max_level(const uint32_t *level, uint32_t first, uint32_t count, uint32_t m) {
  for (uint32_t j = 0; j < count; j++)
    if (level[first + j] > m) m = level[first + j];
  return m;
}

/* The highest level among instruction in's operands (code: before scheduling). */
static uint32_t operands_level(const mg_tape *t, const uint32_t *level, const mg_instr *in) {
  uint32_t m = 0;
  if (in->op == MG_TAPE_DOT_RANGE) {
    if (in->flags & MG_TAPE_BIAS) m = level[in->dot.bias];
    return max_level(level, in->dot.x, in->n, max_level(level, in->dot.w, in->n, m));
  }
  if (in->op == MG_TAPE_SUM_RANGE) return max_level(level, in->range.first, in->n, 0);
  if (mg_op_is_scalar(in->op))
    return level[in->scalar.a] > level[in->scalar.b] ? level[in->scalar.a] : level[in->scalar.b];
  for (uint32_t j = 0; j < in->n; j++) /* MG_OP_SUM, _DOT, _LOGSUMEXP */
    if (level[t->args[in->list.first + j]] > m) m = level[t->args[in->list.first + j]];
  return m;
}

/* Counts, in the grad slots, the gradients a sweep sends each slot (an
 * operand of n instructions below output 1 gets n, and output 1 one more). */
static void count_uses(mg_tape *t, double *count) {
  if (t->nout > 0) count[t->out_slots[0]]++;
  for (uint32_t i = 0; i < t->nbackward; i++) {
    const mg_instr *in = &t->code[i];
    if (in->op == MG_TAPE_DOT_RANGE) {
      if (in->flags & MG_TAPE_BIAS) count[in->dot.bias]++;
      for (uint32_t j = 0; j < in->n; j++) count[in->dot.w + j]++, count[in->dot.x + j]++;
    } else if (in->op == MG_TAPE_SUM_RANGE) {
      for (uint32_t j = 0; j < in->n; j++) count[in->range.first + j]++;
    } else if (mg_op_is_scalar(in->op)) {
      count[in->scalar.a]++, count[in->scalar.b] += in->n > 1; /* x * x sends twice */
    } else {                                                   /* MG_OP_SUM, _DOT, _LOGSUMEXP */
      for (uint32_t j = 0; j < in->n; j++) count[t->args[in->list.first + j]]++;
    }
  }
}

/* The backward program: the code below output 1 in reverse, where a range
 * dot whose only user is the unary op right after it (a neuron's activation)
 * becomes one instruction; and the leaves a sweep sends more than one
 * gradient to (see mg_tape_load_grads). */
static void plan_backward(mg_tape *t) {
  double *count = t->grad; /* zero before and after */
  const mg_instr *code = t->code;
  count_uses(t, count);
  t->nshared = t->nbcode = 0;
  for (uint32_t s = t->nin; s < t->nin + t->nlive; s++)
    if (count[s] > 1) t->shared[t->nshared++] = s;
  for (uint32_t i = t->nbackward; i-- > 0;) {
    const mg_instr *in = &code[i], *dot = &code[i > 0 ? i - 1 : 0];
    if (i > 0 && dot->op == MG_TAPE_DOT_RANGE && is_unary(in) && in->scalar.a == dot->out &&
        count[dot->out] == 1) {
      mg_instr fused = *dot;
      fused.op = MG_TAPE_ACT_DOT, fused.act = in->op, fused.out = in->out, fused.dot.pre = dot->out;
      t->bcode[t->nbcode++] = fused;
      i--;
    } else {
      t->bcode[t->nbcode++] = *in;
    }
  }
  memset(count, 0, t->nslots * sizeof(double));
}

int mg_tape_schedule(mg_tape *t) {
  const mg_allocator *alloc = &t->alloc;
  size_t level_bytes = (size_t)t->nslots * sizeof(uint32_t) + 1,
         entry_bytes = (size_t)t->ncode * sizeof(entry) + 1;
  uint32_t *level = alloc->fn(alloc->ud, NULL, 0, level_bytes);
  entry *order = alloc->fn(alloc->ud, NULL, 0, entry_bytes);
  int rc = MG_OK;
  if (!level || !order) {
    rc = MG_ENOMEM;
  } else {
    for (uint32_t s = 0; s < t->nslots; s++) level[s] = 0;
    for (uint32_t i = 0; i < t->ncode; i++) {
      const mg_instr *in = &t->code[i];
      uint32_t l = operands_level(t, level, in) + 1;
      level[in->out] = l;
      order[i] = key(in, l, i);
    }
    qsort(order, t->ncode, sizeof *order, compare);
    uint32_t out = 0;
    for (uint32_t i = 0; i < t->ncode;) {
      const mg_instr *first = &t->code[order[i].index];
      uint32_t k = run_length(t, order, i);
      if (k > 1 && order[i].kind == UNARY) { /* one instruction for the run */
        mg_instr map = {.op = MG_TAPE_MAP, .act = first->op, .out = first->out, .n = k};
        map.range.first = first->scalar.a;
        t->fcode[out++] = map;
      } else {
        mg_instr header = {.op = MG_TAPE_DOT_GROUP, .n = k};
        if (k > 1) t->fcode[out++] = header;
        for (uint32_t j = 0; j < k; j++) t->fcode[out++] = t->code[order[i + j].index];
      }
      i += k;
    }
    t->nfcode = out;
    plan_backward(t);
  }
  if (level) alloc->fn(alloc->ud, level, level_bytes, 0);
  if (order) alloc->fn(alloc->ud, order, entry_bytes, 0);
  return rc;
}
