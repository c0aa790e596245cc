// t_matmul with every leading dimension a multiple of 4 and every batch stride too, so that v2's K-contiguous tiles
// take the float4 path wherever a row's 4 values lie inside K, and the scalar tail elsewhere (K = 1, 3, 31, 33, 77
// end in a tail); t_matmul's odd leading dimensions take the scalar path throughout.
#define TM_PAD 4
#define TM_GAP 4
#include "t_matmul.cpp"
