/*
 * tape.c - compiling a traced graph into a tape, and replaying it.
 *
 * Compiling visits the graph below each output the way mg_backward does
 * (breadth-first discovery counting users, then Kahn's order from the output)
 * and gives slots in the reverse of that order, so operands come first and the
 * backward replay adds gradients in the dynamic engine's order. While it runs
 * it borrows two fields of each node it visits, and clears them at the end:
 * `users` (Kahn's counts) and `pass` (slot + 1 once the node has a slot).
 */
#include "tape.h"

#include <string.h>

#include "ops.h"

/* Compiled as a value only (no instruction): inputs, constants, captured nodes. */
static int is_leaf_slot(const mg_node *n) { return n->op == MG_OP_LEAF || !(n->flags & MG_TRACED); }

static int has_slot(const mg_node *n) { return n->pass != 0; }

typedef struct compiler {
  const mg_allocator *alloc;
  mg_nodes found;     /* the current output's nodes, in discovery order, then its ready stack */
  mg_nodes order;     /* every node given a slot, in forward order */
  uint32_t nslots;    /* slots given so far */
  uint32_t nbackward; /* instructions below the first output */
} compiler;

/* Discovery from root, counting users of the nodes that have no slot yet. */
static int discover(compiler *c, mg_node *root) {
  int rc = mg_nodes_append(&c->found, root);
  for (size_t next = 0; rc == MG_OK && next < c->found.count; next++) {
    const mg_node *n = c->found.at[next];
    if (is_leaf_slot(n)) continue;
    for (uint32_t i = 0; rc == MG_OK && i < n->nargs; i++) {
      mg_node *child = n->args[i].node;
      if (!child || has_slot(child)) continue;
      if (child->users == UINT32_MAX)
        rc = MG_ETOOBIG;
      else if (child->users > 0 || (rc = mg_nodes_append(&c->found, child)) == MG_OK)
        child->users++;
    }
  }
  return rc;
}

/* Kahn's order from root (as mg_backward sweeps it), then slots in reverse. */
static int sweep(compiler *c, mg_node *root, uint32_t *instructions) {
  /* Room for every node found first: once the sweep starts it cannot fail
   * (the found list, which a failure would need to undo the counts, is gone). */
  mg_nodes swept = {c->alloc, c->alloc->fn(c->alloc->ud, NULL, 0, c->found.count * sizeof(mg_node *)), 0,
                    c->found.count};
  mg_nodes ready = {c->alloc, c->found.at, 0, c->found.cap}; /* never holds more than found did */
  int rc = MG_OK;
  if (!swept.at) return MG_ENOMEM;
  ready.at[ready.count++] = root;
  while (ready.count > 0) {
    mg_node *n = ready.at[--ready.count];
    swept.at[swept.count++] = n;
    if (is_leaf_slot(n)) continue;
    for (uint32_t i = 0; i < n->nargs; i++) {
      mg_node *child = n->args[i].node;
      if (child && !has_slot(child) && --child->users == 0) ready.at[ready.count++] = child;
    }
  }
  for (size_t i = swept.count; rc == MG_OK && i-- > 0;) {
    mg_node *n = swept.at[i];
    if (c->nslots == UINT32_MAX - 1) rc = MG_ETOOBIG;
    if (rc == MG_OK) rc = mg_nodes_append(&c->order, n);
    if (rc == MG_OK) n->pass = ++c->nslots, *instructions += !is_leaf_slot(n);
  }
  mg_nodes_free(&swept);
  return rc;
}

/* Gives slots to the graph below root (the nodes without one). */
static int compile_output(compiler *c, mg_node *root, uint32_t *instructions) {
  if (has_slot(root)) return MG_OK;
  c->found.count = 0;
  int rc = discover(c, root);
  if (rc == MG_OK) rc = sweep(c, root, instructions);
  /* After a failure before the sweep, the counts need undoing; after the sweep the
   * list holds (reused as the ready stack) valid nodes whose counts are 0 already. */
  for (size_t i = 0; i < c->found.count; i++) c->found.at[i]->users = 0;
  return rc;
}

/* Bytes of the tape block and where each array starts in it. */
typedef struct layout {
  size_t val, grad, live, code, out_slots, live_slots, args, total;
} layout;

static layout plan(uint32_t nslots, uint32_t nlive, uint32_t ncode, uint32_t nout, uint32_t nargs) {
  layout l;
  l.val = sizeof(mg_tape);
  l.grad = l.val + nslots * sizeof(double);
  l.live = l.grad + nslots * sizeof(double);
  l.code = l.live + nlive * sizeof(mg_node *);
  l.out_slots = l.code + ncode * sizeof(mg_instr);
  l.live_slots = l.out_slots + nout * sizeof(uint32_t);
  l.args = l.live_slots + nlive * sizeof(uint32_t);
  l.total = l.args + nargs * sizeof(uint32_t);
  return l;
}

/* Fills the tape from the slots given in c (constants get the slots after them). */
static void fill(mg_tape *t, const compiler *c, mg_node *const *outputs) {
  uint32_t next_const = c->nslots, ncode = 0, nlive = 0, nargs = 0;
  for (size_t i = 0; i < c->order.count; i++) {
    const mg_node *n = c->order.at[i];
    uint32_t slot = (uint32_t)n->pass - 1;
    t->val[slot] = n->data;
    if (is_leaf_slot(n)) {
      if (!(n->flags & MG_TRACED)) t->live[nlive] = (mg_node *)n, t->live_slots[nlive++] = slot;
      continue;
    }
    mg_instr *in = &t->code[ncode++];
    in->op = n->op, in->flags = n->flags & MG_DOT_BIAS, in->out = slot, in->nargs = n->nargs,
    in->first = nargs;
    for (uint32_t a = 0; a < n->nargs; a++) {
      const mg_arg *arg = &n->args[a];
      if (arg->node) {
        t->args[nargs++] = (uint32_t)arg->node->pass - 1;
      } else {
        t->val[next_const] = arg->k;
        t->args[nargs++] = next_const++;
      }
    }
  }
  for (uint32_t o = 0; o < t->nout; o++) t->out_slots[o] = (uint32_t)outputs[o]->pass - 1;
}

mg_tape *mg_tape_compile(const mg_allocator *alloc, mg_node *const *inputs, uint32_t nin,
                         mg_node *const *outputs, uint32_t nout, int *status) {
  compiler c = {alloc, {alloc, NULL, 0, 0}, {alloc, NULL, 0, 0}, nin, 0};
  uint32_t ninstr = 0, nlive = 0, nconst = 0, nargs = 0;
  mg_tape *t = NULL;
  int rc = MG_OK;
  for (uint32_t i = 0; i < nin; i++) inputs[i]->pass = i + 1;
  for (uint32_t o = 0; o < nout && rc == MG_OK; o++) {
    rc = compile_output(&c, outputs[o], &ninstr);
    if (o == 0) c.nbackward = ninstr;
  }
  for (size_t i = 0; rc == MG_OK && i < c.order.count; i++) {
    const mg_node *n = c.order.at[i];
    if (is_leaf_slot(n)) {
      nlive += !(n->flags & MG_TRACED);
      continue;
    }
    for (uint32_t a = 0; a < n->nargs; a++) nconst += n->args[a].node == NULL;
    if ((uint64_t)nargs + n->nargs > UINT32_MAX || (uint64_t)c.nslots + nconst >= UINT32_MAX) rc = MG_ETOOBIG;
    nargs += n->nargs;
  }
  if (rc == MG_OK) {
    layout l = plan(c.nslots + nconst, nlive, ninstr, nout, nargs);
    char *block = alloc->fn(alloc->ud, NULL, 0, l.total);
    if (!block) {
      rc = MG_ENOMEM;
    } else {
      t = (mg_tape *)block;
      t->alloc = *alloc;
      t->nslots = c.nslots + nconst, t->nin = nin, t->nout = nout, t->nlive = nlive;
      t->ncode = ninstr, t->nbackward = c.nbackward, t->nargs = nargs;
      t->val = (void *)(block + l.val), t->grad = (void *)(block + l.grad); /* aligned by plan() */
      t->live = (void *)(block + l.live), t->code = (void *)(block + l.code);
      t->out_slots = (void *)(block + l.out_slots), t->live_slots = (void *)(block + l.live_slots);
      t->args = (void *)(block + l.args);
      memset(t->grad, 0, t->nslots * sizeof(double));
      fill(t, &c, outputs);
    }
  }
  for (size_t i = 0; i < c.order.count; i++) c.order.at[i]->pass = 0, c.order.at[i]->users = 0;
  for (uint32_t i = 0; i < nin; i++) inputs[i]->pass = 0;
  mg_nodes_free(&c.found);
  mg_nodes_free(&c.order);
  *status = rc;
  return t;
}

void mg_tape_free(mg_tape *t) {
  if (!t) return;
  layout l = plan(t->nslots, t->nlive, t->ncode, t->nout, t->nargs);
  mg_allocator a = t->alloc;
  a.fn(a.ud, t, l.total, 0);
}

void mg_tape_forward(mg_tape *t) {
  double *v = t->val;
  for (uint32_t i = 0; i < t->nlive; i++) v[t->live_slots[i]] = t->live[i]->data;
  for (uint32_t i = 0; i < t->ncode; i++) {
    const mg_instr *in = &t->code[i];
    const uint32_t *a = t->args + in->first;
    uint32_t j = 0, n = in->nargs;
    double acc;
    switch (in->op) {
    case MG_OP_SUM: /* a1 + a2 + ... left to right */
      acc = n > 0 ? v[a[0]] : 0;
      for (j = 1; j < n; j++) acc += v[a[j]];
      break;
    case MG_OP_DOT: /* [bias +] w1 x1 + w2 x2 + ... left to right */
      if (in->flags & MG_DOT_BIAS)
        acc = v[a[0]], j = 1;
      else if (n >= 2)
        acc = v[a[0]] * v[a[1]], j = 2;
      else
        acc = 0, j = n;
      for (; j + 1 < n; j += 2) acc += v[a[j]] * v[a[j + 1]];
      break;
    default: acc = mg_op_forward((mg_op)in->op, v[a[0]], n > 1 ? v[a[1]] : 0);
    }
    v[in->out] = acc;
  }
}

void mg_tape_backward(mg_tape *t, double seed) {
  const double *v = t->val;
  double *g = t->grad;
  memset(g, 0, t->nslots * sizeof(double));
  if (t->nout == 0) return;
  g[t->out_slots[0]] = seed;
  for (uint32_t i = t->nbackward; i-- > 0;) {
    const mg_instr *in = &t->code[i];
    const uint32_t *a = t->args + in->first;
    uint32_t j = 0, n = in->nargs;
    double gn = g[in->out], ga, gb;
    switch (in->op) {
    case MG_OP_SUM:
      if (gn == 0) break; /* it would add only zeros */
      for (j = 0; j < n; j++) g[a[j]] += gn;
      break;
    case MG_OP_DOT:
      /* A zero gradient (an inactive relu above) would add only zeros, unless an
       * operand is infinite or NaN (0 * inf is NaN): then the value is not finite. */
      if (gn == 0 && isfinite(v[in->out])) break;
      if (in->flags & MG_DOT_BIAS) g[a[0]] += gn, j = 1;
      for (; j + 1 < n; j += 2) {
        g[a[j]] += v[a[j + 1]] * gn;
        g[a[j + 1]] += v[a[j]] * gn;
      }
      break;
    default:
      mg_op_backward((mg_op)in->op, v[a[0]], n > 1 ? v[a[1]] : 0, v[in->out], gn, &ga, &gb);
      g[a[0]] += ga;
      if (n > 1) g[a[1]] += gb;
    }
  }
  for (uint32_t i = 0; i < t->nlive; i++) t->live[i]->grad += g[t->live_slots[i]];
}
