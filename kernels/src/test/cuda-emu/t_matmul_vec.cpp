// t_matmul on the float4-load variant of matmul.cu (TC_VEC_LOADS, a candidate for bench/cuda/matmul_tune.cu): every
// leading dimension a multiple of 4 and every batch stride too, so that K-contiguous tiles take the vector path
// wherever a row's 4 values lie inside K, and the scalar tail elsewhere (K = 1, 3, 31, 33, 77 end in a tail).
#define TC_VEC_LOADS 1
#define TM_PAD 4
#define TM_GAP 4
#include "t_matmul.cpp"
