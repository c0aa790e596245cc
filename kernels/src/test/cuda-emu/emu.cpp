#include "emu.h"
thread_local dim3 threadIdx;
dim3 blockIdx, blockDim, gridDim;
std::barrier<>* g_block_bar;
std::barrier<>* g_warp_bar[32];
uint64_t g_slot[1024][12];
unsigned char* emu_dyn_smem;
void emu_launch(dim3 grid, unsigned block, size_t smem, const std::function<void()>& body) {
    gridDim = grid; blockDim = dim3{block, 1, 1};
    // NaN-filled: uninitialized reads show. Exactly smem bytes (operator new aligns to 16, as __align__(16) asks),
    // so that under run.sh --sanitize a kernel reading or writing past its dynamic shared memory is a heap overflow.
    std::vector<unsigned char> dyn(smem, 0xff);
    emu_dyn_smem = dyn.data();
    for (unsigned z = 0; z < grid.z; z++) for (unsigned y = 0; y < grid.y; y++) for (unsigned x = 0; x < grid.x; x++) {
        blockIdx = dim3{x, y, z};
        std::fill(dyn.begin(), dyn.end(), (unsigned char)0xff);   // memset would get a null pointer when smem is 0
        std::barrier<> bb(block);
        g_block_bar = &bb;
        std::vector<std::unique_ptr<std::barrier<>>> wb;
        for (unsigned w = 0; w < (block + 31) / 32; w++) { wb.emplace_back(new std::barrier<>(std::min(32u, block - 32 * w))); g_warp_bar[w] = wb.back().get(); }
        std::vector<std::thread> ts;
        for (unsigned t = 0; t < block; t++)
            ts.emplace_back([t, &body] {
                threadIdx = dim3{t, 0, 0};
                body();
                g_warp_bar[t / 32]->arrive_and_drop();
                g_block_bar->arrive_and_drop();
            });
        for (auto& th : ts) th.join();
    }
}
