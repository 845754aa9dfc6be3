/*
 * tape.c - compiling a traced graph into a tape, and replaying it.
 *
 * Compiling visits the graph below each output the way mg_backward does
 * (breadth-first discovery counting users, then Kahn's order from the output);
 * the reverse of that order is the code, so operands come first and the
 * backward replay adds gradients in the dynamic engine's order. Then slots are
 * laid out (see layout()), and each dot and sum whose operands ended up in
 * consecutive slots becomes a loop over ranges.
 *
 * While it runs the compiler borrows two fields of each node it visits, and
 * clears them at the end: `users` (Kahn's counts) and the bytes of `pass`,
 * as `compiled` (engine.h): whether the node is visited, and its slot.
 */
#include "tape.h"

#include <string.h>

#include "ops.h"

/* Compiled as a value only (no instruction): inputs, constants, captured nodes. */
static int is_leaf_slot(const mg_node *n) { return n->op == MG_OP_LEAF || !(n->flags & MG_TRACED); }

static int visited(const mg_node *n) { return n->compiled.visited; }
static int has_slot(const mg_node *n) { return n->compiled.placed; }
static void place(mg_node *n, uint32_t slot) { n->compiled.slot = slot, n->compiled.placed = 1; }

typedef struct compiler {
  const mg_allocator *alloc;
  mg_nodes found;     /* the current output's nodes, in discovery order, then its ready stack */
  mg_nodes order;     /* every node visited, in forward order (operands first) */
  uint32_t nbackward; /* instructions below the first output */
} compiler;

/* Discovery from root, counting users of the nodes not visited yet. */
static int discover(compiler *c, mg_node *root) {
  int rc = mg_nodes_append(&c->found, root);
  for (size_t next = 0; rc == MG_OK && next < c->found.count; next++) {
    const mg_node *n = c->found.at[next];
    if (is_leaf_slot(n)) continue;
    for (uint32_t i = 0; rc == MG_OK && i < n->nargs; i++) {
      mg_node *child = n->args[i].node;
      if (!child || visited(child)) continue;
      if (child->users == UINT32_MAX)
        rc = MG_ETOOBIG;
      else if (child->users > 0 || (rc = mg_nodes_append(&c->found, child)) == MG_OK)
        child->users++;
    }
  }
  return rc;
}

/* Kahn's order from root (as mg_backward sweeps it), appended to the order reversed. */
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
      if (child && !visited(child) && --child->users == 0) ready.at[ready.count++] = child;
    }
  }
  for (size_t i = swept.count; rc == MG_OK && i-- > 0;) {
    mg_node *n = swept.at[i];
    if (c->order.count >= UINT32_MAX - 1) rc = MG_ETOOBIG;
    if (rc == MG_OK) rc = mg_nodes_append(&c->order, n);
    if (rc == MG_OK) n->compiled.visited = 1, *instructions += !is_leaf_slot(n);
  }
  mg_nodes_free(&swept);
  return rc;
}

/* Visits the graph below root (the nodes not visited yet). */
static int compile_output(compiler *c, mg_node *root, uint32_t *instructions) {
  if (visited(root)) return MG_OK;
  c->found.count = 0;
  int rc = discover(c, root);
  if (rc == MG_OK) rc = sweep(c, root, instructions);
  /* After a failure before the sweep, the counts need undoing; after the sweep the
   * list holds (reused as the ready stack) valid nodes whose counts are 0 already. */
  for (size_t i = 0; i < c->found.count; i++) c->found.at[i]->users = 0;
  return rc;
}

/* ---- slot layout ---- */

enum { LIVE, OP, CONST, NBLOCKS };

static int block_of(const mg_node *n) {
  return !(n->flags & MG_TRACED) ? LIVE : n->op == MG_OP_LEAF ? CONST : OP;
}

/* A run of numbers placed by place_run. */
typedef struct const_run {
  const mg_node *node;
  uint32_t first, step, count, slot;
} const_run;

typedef struct slots {
  uint32_t next[NBLOCKS]; /* the next free slot of each block */
  uint32_t *arg;          /* the slot of every operand of every op, in code order */
  const_run last;         /* the last run of numbers placed */
} slots;

/* Whether operands first, first + step, ... of n are the numbers of run r. */
static int same_numbers(const const_run *r, const mg_node *n, uint32_t first, uint32_t step, uint32_t count) {
  if (!r->node || r->count != count) return 0;
  for (uint32_t k = 0; k < count; k++) {
    const mg_arg *a = &n->args[first + k * step], *b = &r->node->args[r->first + k * r->step];
    if (a->node || memcmp(&a->k, &b->k, sizeof a->k) != 0) return 0;
  }
  return 1;
}

/* Gives consecutive slots to the operands first, first + step, ... (count of
 * them) of op node n, whose operand slots start at arg, when they are all in
 * one block and none has a slot yet. Numbers equal to the last numbers placed
 * (the same sample's inputs to the next neuron) share their slots. Returns
 * whether it did either. */
static int place_run(slots *s, const mg_node *n, uint32_t *arg, uint32_t first, uint32_t step,
                     uint32_t count) {
  int block = -1;
  if (count > 0 && same_numbers(&s->last, n, first, step, count)) {
    for (uint32_t k = 0; k < count; k++) arg[first + k * step] = s->last.slot + k;
    return 1;
  }
  int numbers = 1;
  for (uint32_t k = 0; k < count; k++) {
    const mg_node *a = n->args[first + k * step].node;
    int b = a ? block_of(a) : CONST;
    if ((a && (a->flags & MG_INPUT)) || (a && has_slot(a)) || (block >= 0 && b != block)) return 0;
    block = b, numbers = numbers && !a;
  }
  if (numbers) s->last = (const_run){n, first, step, count, s->next[CONST]};
  for (uint32_t k = 0; k < count; k++) {
    uint32_t i = first + k * step;
    mg_node *a = n->args[i].node;
    if (!a)
      arg[i] = s->next[CONST]++;
    else if (!has_slot(a)) /* not an operand repeated in this run */
      place(a, s->next[block]++);
  }
  return count > 0;
}

/* Slots: inputs, then captured leaves, ops and constants, each its own block,
 * so that the backward clears one range and never touches the leaves. Within
 * blocks, a dot's weights, its other operands, and a sum's operands are put
 * side by side where they are not placed yet (a layer's first sample places
 * its activations; every neuron's weights, and its bias after them, are placed
 * by its first use). Everything else follows in code order. */
static void layout(const compiler *c, slots *s) {
  size_t first = 0;
  for (size_t i = 0; i < c->order.count; i++) c->order.at[i]->pass = 0; /* none visited nor placed */
  for (size_t i = 0; i < c->order.count; i++) {
    const mg_node *n = c->order.at[i];
    if (is_leaf_slot(n)) continue;
    uint32_t *arg = s->arg + first;
    if (mg_op_kind_of((mg_op)n->op) == MG_KIND_DOT) {
      uint32_t bias = n->flags & MG_DOT_BIAS ? 1 : 0, terms = (n->nargs - bias) / 2;
      mg_node *b = bias ? n->args[0].node : NULL, *w1 = terms ? n->args[bias].node : NULL;
      int placed = place_run(s, n, arg, bias, 2, terms);
      if (placed && b && w1 && !has_slot(b) && block_of(b) == block_of(w1)) /* the bias after the weights */
        place(b, s->next[block_of(b)]++);
      place_run(s, n, arg, bias + 1, 2, terms);
    } else if (mg_op_kind_of((mg_op)n->op) == MG_KIND_SUM) {
      place_run(s, n, arg, 0, 1, n->nargs);
    }
    first += n->nargs;
  }
  for (size_t i = 0; i < c->order.count; i++) { /* the rest, in code order */
    mg_node *n = c->order.at[i];
    if (!has_slot(n)) place(n, s->next[block_of(n)]++);
  }
  first = 0;
  for (size_t i = 0; i < c->order.count; i++) { /* every operand's slot */
    const mg_node *n = c->order.at[i];
    if (is_leaf_slot(n)) continue;
    for (uint32_t a = 0; a < n->nargs; a++) {
      uint32_t *slot = &s->arg[first + a];
      if (n->args[a].node)
        *slot = n->args[a].node->compiled.slot;
      else if (*slot == UINT32_MAX)
        *slot = s->next[CONST]++;
    }
    first += n->nargs;
  }
}

/* Whether count slots at arg, arg + step, ... are consecutive. */
static int consecutive(const uint32_t *arg, uint32_t step, uint32_t count) {
  for (uint32_t k = 1; k < count; k++)
    if (arg[k * step] != arg[0] + k) return 0;
  return count > 0;
}

/* The instruction for op node n with operand slots arg; its operands go to
 * args[*nargs ..] when it needs them (args NULL: only counts them). */
static mg_instr encode(const mg_node *n, const uint32_t *arg, uint32_t const_base, uint32_t *args,
                       uint32_t *nargs) {
  mg_instr in = {.op = n->op, .out = n->compiled.slot, .n = n->nargs};
  mg_op_kind kind = mg_op_kind_of((mg_op)n->op);
  if (kind == MG_KIND_SUM && consecutive(arg, 1, n->nargs)) {
    in.op = MG_TAPE_SUM_RANGE, in.range.first = arg[0];
    return in;
  }
  if (kind == MG_KIND_DOT) {
    uint32_t bias = n->flags & MG_DOT_BIAS ? 1 : 0, terms = (n->nargs - bias) / 2;
    const uint32_t *w = arg + bias, *x = w + 1;
    if (consecutive(w, 2, terms) && consecutive(x, 2, terms) &&
        (w[0] == x[0] || w[0] + terms <= x[0] || x[0] + terms <= w[0])) {
      in.op = MG_TAPE_DOT_RANGE, in.n = terms;
      in.dot.bias = bias ? arg[0] : 0, in.dot.w = w[0], in.dot.x = x[0];
      in.flags = (uint8_t)((bias ? MG_TAPE_BIAS : 0) | (w[0] < const_base ? MG_TAPE_WGRAD : 0) |
                           (x[0] < const_base ? MG_TAPE_XGRAD : 0) | (w[0] == x[0] ? MG_TAPE_SAME : 0));
      return in;
    }
    in.flags = bias ? MG_TAPE_BIAS : 0;
  }
  if (kind == MG_KIND_SUM || kind == MG_KIND_DOT || kind == MG_KIND_LSE) {
    in.list.first = *nargs;
    if (args) memcpy(args + *nargs, arg, n->nargs * sizeof *arg);
    *nargs += n->nargs;
    return in;
  }
  in.scalar.a = arg[0], in.scalar.b = n->nargs > 1 ? arg[1] : arg[0];
  return in;
}

/* Bytes of the tape block and where each array starts in it. */
typedef struct plan_t {
  size_t val, grad, shared_grad, live, origin, code, fcode, bcode, out_slots, args, shared, total;
} plan_t;

static plan_t plan(uint32_t nslots, uint32_t nlive, uint32_t ncode, uint32_t nout, uint32_t nargs) {
  plan_t p;
  p.val = sizeof(mg_tape);
  p.grad = p.val + nslots * sizeof(double);
  p.shared_grad = p.grad + nslots * sizeof(double);
  p.live = p.shared_grad + nlive * sizeof(double);
  p.origin = p.live + nlive * sizeof(mg_node *);
  p.code = p.origin + ncode * sizeof(mg_node *);
  p.fcode = p.code + ncode * sizeof(mg_instr);
  p.bcode = p.fcode + MG_TAPE_FCODE_CAP((size_t)ncode) * sizeof(mg_instr);
  p.out_slots = p.bcode + ncode * sizeof(mg_instr);
  p.args = p.out_slots + nout * sizeof(uint32_t);
  p.shared = p.args + nargs * sizeof(uint32_t);
  p.total = p.shared + nlive * sizeof(uint32_t);
  return p;
}

/* Fills the tape's values, leaves and code from the laid-out graph. */
static void fill(mg_tape *t, const compiler *c, const uint32_t *arg, mg_node *const *inputs,
                 mg_node *const *outputs) {
  uint32_t ncode = 0, nargs = 0, const_base = t->nin + t->nlive + t->nops;
  size_t first = 0;
  for (uint32_t i = 0; i < t->nin; i++) t->val[i] = inputs[i]->data;
  for (size_t i = 0; i < c->order.count; i++) {
    mg_node *n = c->order.at[i];
    uint32_t slot = n->compiled.slot;
    t->val[slot] = n->data;
    if (block_of(n) == LIVE) t->live[slot - t->nin] = n;
    if (is_leaf_slot(n)) continue;
    for (uint32_t a = 0; a < n->nargs; a++)
      if (!n->args[a].node) t->val[arg[first + a]] = n->args[a].k;
    t->origin[ncode] = n;
    t->code[ncode++] = encode(n, arg + first, const_base, t->args, &nargs);
    first += n->nargs;
  }
  for (uint32_t o = 0; o < t->nout; o++) t->out_slots[o] = outputs[o]->compiled.slot;
}

mg_tape *mg_tape_compile(const mg_allocator *alloc, mg_node *const *inputs, uint32_t nin,
                         mg_node *const *outputs, uint32_t nout, int *status) {
  compiler c = {alloc, {alloc, NULL, 0, 0}, {alloc, NULL, 0, 0}, 0};
  uint32_t ninstr = 0, count[NBLOCKS] = {0, 0, 0}, nargs = 0, nindexed = 0;
  slots s = {{0, 0, 0}, NULL, {NULL, 0, 0, 0, 0}};
  mg_tape *t = NULL;
  int rc = MG_OK;
  for (uint32_t i = 0; i < nin; i++) inputs[i]->compiled.visited = 1, place(inputs[i], i);
  for (uint32_t o = 0; o < nout && rc == MG_OK; o++) {
    rc = compile_output(&c, outputs[o], &ninstr);
    if (o == 0) c.nbackward = ninstr;
  }
  for (size_t i = 0; rc == MG_OK && i < c.order.count; i++) {
    const mg_node *n = c.order.at[i];
    count[block_of(n)]++;
    if (is_leaf_slot(n)) continue;
    for (uint32_t a = 0; a < n->nargs; a++) count[CONST] += n->args[a].node == NULL;
    if ((uint64_t)nargs + n->nargs > UINT32_MAX / 2 ||
        (uint64_t)nin + count[LIVE] + count[OP] + count[CONST] >= UINT32_MAX / 2)
      rc = MG_ETOOBIG;
    nargs += n->nargs;
  }
  if (rc == MG_OK) {
    s.arg = alloc->fn(alloc->ud, NULL, 0, (size_t)nargs * sizeof *s.arg + 1);
    if (!s.arg) rc = MG_ENOMEM;
  }
  if (rc == MG_OK) {
    memset(s.arg, 0xff, (size_t)nargs * sizeof *s.arg);
    s.next[LIVE] = nin, s.next[OP] = nin + count[LIVE], s.next[CONST] = nin + count[LIVE] + count[OP];
    layout(&c, &s);
    uint32_t nslots = s.next[CONST]; /* numbers that share a slot leave fewer than counted */
    count[CONST] = nslots - (nin + count[LIVE] + count[OP]);
    size_t first = 0;
    for (size_t i = 0; i < c.order.count; i++) { /* how many operand slots the code keeps */
      const mg_node *n = c.order.at[i];
      if (is_leaf_slot(n)) continue;
      encode(n, s.arg + first, nin + count[LIVE] + count[OP], NULL, &nindexed);
      first += n->nargs;
    }
    plan_t p = plan(nslots, count[LIVE], ninstr, nout, nindexed);
    char *block = alloc->fn(alloc->ud, NULL, 0, p.total);
    if (!block) {
      rc = MG_ENOMEM;
    } else {
      t = (mg_tape *)block;
      t->alloc = *alloc;
      t->nslots = nslots, t->nin = nin, t->nout = nout;
      t->nlive = count[LIVE], t->nops = count[OP], t->nconst = count[CONST];
      t->ncode = ninstr, t->nbackward = c.nbackward, t->nargs = nindexed;
      t->val = (void *)(block + p.val), t->grad = (void *)(block + p.grad); /* aligned by plan() */
      t->live = (void *)(block + p.live), t->code = (void *)(block + p.code);
      t->out_slots = (void *)(block + p.out_slots), t->args = (void *)(block + p.args);
      t->shared = (void *)(block + p.shared), t->shared_grad = (void *)(block + p.shared_grad);
      t->fcode = (void *)(block + p.fcode), t->bcode = (void *)(block + p.bcode);
      t->origin = (void *)(block + p.origin);
      memset(t->grad, 0, nslots * sizeof(double));
      fill(t, &c, s.arg, inputs, outputs);
      rc = mg_tape_schedule(t);
      if (rc != MG_OK) mg_tape_free(t), t = NULL;
    }
  }
  if (s.arg) alloc->fn(alloc->ud, s.arg, (size_t)nargs * sizeof *s.arg + 1, 0);
  for (size_t i = 0; i < c.order.count; i++) c.order.at[i]->pass = 0, c.order.at[i]->users = 0;
  for (uint32_t i = 0; i < nin; i++) inputs[i]->pass = 0;
  mg_nodes_free(&c.found);
  mg_nodes_free(&c.order);
  *status = rc;
  return t;
}

void mg_tape_free(mg_tape *t) {
  if (!t) return;
  plan_t p = plan(t->nslots, t->nlive, t->ncode, t->nout, t->nargs);
  mg_allocator a = t->alloc;
  a.fn(a.ud, t, p.total, 0);
}
