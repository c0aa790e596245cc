// t_matmul on matmul.cu's v3, the cp.async pipeline (matmul_pipe_*, 3 stages, K step 32): layouts, odd sizes, K = 0 and
// K not a multiple of 32, padding and batches; leading dimensions a multiple of 4 and aligned batch strides, so
// that the 16-byte copies run where K (or the row count) allows, the 4-byte ones elsewhere.
#define T_MATMUL_PIPE 1
#define TM_PAD 4
#define TM_GAP 4
#include "t_matmul.cpp"
