/*
 * engine.h - the scalar autograd core: nodes, ops, backward.
 *
 * No Lua here. The caller owns node memory (the Lua binding puts each node
 * inside its Value userdata) and passes an allocator for the scratch space
 * backward needs. Nothing is global: every function works on what it is given.
 */
#ifndef MG_ENGINE_H
#define MG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "ops.h"

/* An allocator with lua_Alloc's contract: nsize 0 frees, else (re)allocates. */
typedef void *(*mg_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct mg_allocator {
  mg_alloc_fn fn;
  void *ud;
} mg_allocator;

/* Status codes returned by functions that can fail. */
enum { MG_OK = 0, MG_ENOMEM = 1, MG_ETOOBIG = 2, MG_EANOMALY = 3 };

/* The op codes mg_op (MG_OP_ADD, ...) and their rules: the op table, ops.h. */

typedef struct mg_node mg_node;

/* One operand: a node, or (node == NULL) the constant k. */
typedef struct mg_arg {
  mg_node *node;
  double k;
} mg_arg;

/* Flags. The last three are set by the caller while tracing for mg_tape_compile. */
enum {
  MG_DOT_BIAS = 1, /* a dot node's first operand is its bias */
  MG_TRACED = 2,   /* made while tracing: part of the graph to compile */
  MG_INPUT = 4,    /* a placeholder for an input of the compiled graph */
  MG_DEPENDS = 8   /* depends on an input (an input, or an op with such an operand) */
};

struct mg_node {
  double data; /* forward value */
  double grad; /* accumulated d(root)/d(this) over every backward() */
  union {
    double pass; /* 0 outside backward; this pass's d(root)/d(this) during it */
    struct {
      uint32_t slot;    /* its slot in the tape, once placed */
      uint16_t visited; /* found below an output already (or an input) */
      uint16_t placed;  /* slot is set */
    } compiled;         /* borrowed by mg_tape_compile (tape.c), which zeroes pass at its end */
  };
  uint8_t op;     /* mg_op */
  uint8_t flags;  /* MG_DOT_BIAS, ... */
  uint16_t spare; /* free for the binding (it keeps a "has label" bit here) */
  uint32_t users; /* 0 outside backward; during it, operand slots still to send a gradient here */
  uint32_t nargs; /* operand count */
  mg_arg args[];  /* nargs operands, in source order */
};

/* Bytes a node with nargs operands needs (for the caller's allocation). */
size_t mg_node_size(uint32_t nargs);

/* Largest operand count a node may have. */
#define MG_MAX_ARGS ((uint32_t)0x3fffffff)

/* Makes n a leaf holding x. */
void mg_leaf_init(mg_node *n, double x);

/* Starts an op node with nargs operands; set them with mg_set_arg/mg_set_const,
 * then call mg_forward. */
void mg_op_init(mg_node *n, mg_op op, uint32_t nargs, uint8_t flags);
void mg_set_arg(mg_node *n, uint32_t i, mg_node *operand);
void mg_set_const(mg_node *n, uint32_t i, double k);

/* Computes n->data from the operands. */
void mg_forward(mg_node *n);

/* Computes op(a, b) (b ignored by unary ops) on plain numbers, as mg_forward does. */
double mg_apply(mg_op op, double a, double b);

/* Adds 1 to root->grad and d root / d n to n->grad for every node n below root.
 * Iterative (no recursion); one scratch array (a pointer per node) comes from
 * alloc and is freed before returning. Returns MG_OK, or MG_ENOMEM or
 * MG_ETOOBIG with no grad changed. */
int mg_backward(mg_node *root, const mg_allocator *alloc);

/* The first gradient mg_backward_checked found not finite. */
typedef struct mg_anomaly {
  mg_node *node; /* the node whose backward rule sent it */
  uint32_t slot; /* to this operand slot of node (0-based) */
  double grad;   /* the gradient sent */
  double sum;    /* the operand's gradient for this pass with it added: nan or +-inf */
} mg_anomaly;

/* mg_backward for finding NaNs: the same sweep and the same grads, but it
 * stops at the first gradient whose sum into an operand's pass gradient is not
 * finite and returns MG_EANOMALY with *bad describing it. Grads change only when it
 * returns MG_OK (they are added at the end); every node is left ready for
 * the next pass whatever it returns. Slower: a second scratch array, a test per
 * gradient sent. */
int mg_backward_checked(mg_node *root, const mg_allocator *alloc, mg_anomaly *bad);

/* A growable array of node pointers, memory from alloc. */
typedef struct mg_nodes {
  const mg_allocator *alloc;
  mg_node **at;
  size_t count, cap;
} mg_nodes;

int mg_nodes_append(mg_nodes *a, mg_node *n); /* MG_OK or MG_ENOMEM */
void mg_nodes_free(mg_nodes *a);

/* The op's name as SPEC writes it ("" for a leaf, "+", "relu", ...). */
const char *mg_op_name(mg_op op);

#endif
